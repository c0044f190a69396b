// backend_ops.h: the op list of Backend (backend.h), one entry per op, in one place:
//   SAC_BACKEND_OP(name, (parameters), (the parameters' names, as a call passes them))
// An X-macro list with no include guard: each place that lists the ops defines SAC_BACKEND_OP,
// includes this file and undefines it: backend.h (the pure virtual methods), cpu_backend.h/.cpp
// (the forwards to each family's `_cpu` twin), cuda_backend.cu (the forwards to each family's
// `launch_` launcher) and tracing_backend.h/.cpp (launch counts and lane-hazard accesses, then
// the forward to the traced backend). A new op is one entry here, its twin and launcher in its
// family's files, and its accesses in tracing_backend.cpp.
// Every op takes a leading members dimension E where it has one, works on memory the backend
// allocated and never allocates; matrices are row-major.
#ifndef SAC_BACKEND_OP
#error "define SAC_BACKEND_OP(name, params, args) before including sac/backend_ops.h"
#endif

// ---- networks
/// Y[e] = act(X[e] W[e]^T + b[e]) for e < E; X[e] starts at X + e * x_member_stride
/// (stride 0 feeds the same input to every member). X: B x in, W: out x in, Y: B x out.
/// `relu_mask` (nullable; relu_mask_bytes(E, B, out) bytes) receives the ReLU's bit-mask for
/// linear_grad_input where the backend keeps one (CUDA's fused epilogue); one launch.
SAC_BACKEND_OP(linear_forward,
               (int E, int B, int in, int out, const float* X, size_t x_member_stride,
                const float* W, const float* b, float* Y, Activation act, uint32_t* relu_mask),
               (E, B, in, out, X, x_member_stride, W, b, Y, act, relu_mask))

/// Weight gradients of linear_forward from dZ (the gradient before the activation,
/// E x B x out): dW[e] = dZ[e]^T X[e] and db[e] = sum_b dZ[e] (fixed order), one launch.
SAC_BACKEND_OP(linear_grad_weights,
               (int E, int B, int in, int out, const float* X, size_t x_member_stride,
                const float* dZ, float* dW, float* db),
               (E, B, in, out, X, x_member_stride, dZ, dW, db))

/// Input gradient of linear_forward from dZ: dX[e] = dZ[e] W[e] (E x B x in), one launch.
/// With x_act = kRelu, X was the output of a ReLU layer (X_relu, E x B x in, and its
/// relu_mask when the backend wrote one) and dX is masked where X_relu <= 0: the result is
/// the dZ of the layer below.
SAC_BACKEND_OP(linear_grad_input,
               (int E, int B, int in, int out, const float* dZ, const float* W, Activation x_act,
                const float* X_relu, const uint32_t* relu_mask, float* dX),
               (E, B, in, out, dZ, W, x_act, X_relu, relu_mask, dX))

/// Backward of linear_forward given its output Y and dY (overwritten with the gradient
/// before the activation). Writes dW = dZ^T X, db = sum_b dZ and dX = dZ W; each of dW, db,
/// dX may be null to skip it. dX is E x B x in (one per member, even when X was shared).
SAC_BACKEND_OP(linear_backward,
               (int E, int B, int in, int out, const float* X, size_t x_member_stride,
                const float* W, const float* Y, float* dY, float* dX, float* dW, float* db,
                Activation act),
               (E, B, in, out, X, x_member_stride, W, Y, dY, dX, dW, db, act))

/// out[r] = [a[r], b[r]] for r < rows; a is rows x na, b is rows x nb.
SAC_BACKEND_OP(concat_columns,
               (int rows, int na, const float* a, int nb, const float* b, float* out),
               (rows, na, a, nb, b, out))

// ---- tanh-Gaussian policy head; head holds B x 2A rows [mean, raw log-std]
/// Reparameterised sample a = tanh(mean + exp(log_std) eps) and its log-density for S seeds
/// of B rows each (head, eps and logp seed-stacked: S x B rows). Action rows are `action_ld`
/// floats apart (A: packed; O + A at action = critic input + O writes the action columns of a
/// critic input), and each seed's block is written `copies` times: row r of seed s, copy c,
/// goes to action + ((s * copies + c) * B + r) * action_ld (the critics' replicated inputs;
/// copies = 1 and S = 1 is one packed block).
SAC_BACKEND_OP(tanh_gaussian_sample,
               (int S, int B, int A, const float* head, const float* eps, float log_std_min,
                float log_std_max, float* action, int action_ld, int copies, float* logp),
               (S, B, A, head, eps, log_std_min, log_std_max, action, action_ld, copies, logp))
/// Deterministic action tanh(mean).
SAC_BACKEND_OP(tanh_gaussian_mean,
               (int B, int A, const float* head, float* action),
               (B, A, head, action))
/// Gradient with respect to head, given dL/daction (B x A, nullable: zero) and
/// dL/dlogp = logp_scale * exp(*d_log_alpha) per sample.
SAC_BACKEND_OP(tanh_gaussian_backward,
               (int B, int A, const float* head, const float* eps, const float* action,
                const float* grad_action, const float* d_log_alpha, float logp_scale,
                float log_std_min, float log_std_max, float* grad_head),
               (B, A, head, eps, action, grad_action, d_log_alpha, logp_scale, log_std_min,
                log_std_max, grad_head))

// ---- losses (reductions in a fixed order: same inputs, same bits)
/// y = r + gamma (1 - terminated) (min_e q_target[e] - alpha logp_next).
SAC_BACKEND_OP(soft_targets,
               (int E, int B, const float* q_target, const float* logp_next, const float* reward,
                const float* terminated, float gamma, const float* d_log_alpha, float* y),
               (E, B, q_target, logp_next, reward, terminated, gamma, d_log_alpha, y))
/// loss = sum_e mean_b (q[e] - y)^2, dq = d loss / dq.
SAC_BACKEND_OP(critic_loss,
               (int E, int B, const float* q, const float* y, float* dq, float* loss),
               (E, B, q, y, dq, loss))
/// loss = mean_b (alpha logp - min_e q[e]); dq is -1/B on each row's minimising member.
SAC_BACKEND_OP(actor_loss,
               (int E, int B, const float* q, const float* logp, const float* d_log_alpha,
                float* dq, float* loss),
               (E, B, q, logp, d_log_alpha, dq, loss))
/// grad_action[b] = sum_e dX[e][b][skip:skip+A], where dX rows are `width` wide.
SAC_BACKEND_OP(sum_member_columns,
               (int E, int B, int width, int skip, int A, const float* dX, float* grad_action),
               (E, B, width, skip, A, dX, grad_action))
/// loss = mean_b -log_alpha (logp + target_entropy); grad is d loss / d log_alpha.
SAC_BACKEND_OP(alpha_loss,
               (int B, const float* logp, const float* d_log_alpha, float target_entropy,
                float* grad, float* loss),
               (B, logp, d_log_alpha, target_entropy, grad, loss))

// ---- the fused ops of the update (each one launch whatever S; each equals, bit for bit on
// the CPU, the composition of the ops above that it replaces, once per seed). They take S
// seeds of C critics each: critic outputs are S*C x B, ordered [seed][critic]; per-seed rows
// (logp, reward, terminated, y) are S x B; seed s's alpha is exp(d_log_alpha[s]) and its
// losses and gradients go to index s of each output.
/// Per seed: soft_targets over its own C critics (into y), then critic_loss of q against y.
SAC_BACKEND_OP(critic_loss_soft_targets,
               (int S, int C, int B, const float* q_target, const float* logp_next,
                const float* reward, const float* terminated, float gamma, const float* d_log_alpha,
                const float* q, float* y, float* dq, float* loss),
               (S, C, B, q_target, logp_next, reward, terminated, gamma, d_log_alpha, q, y, dq,
                loss))
/// Per seed: actor_loss (into dq, actor_loss[s]), then alpha_loss (alpha_grad[s],
/// alpha_loss[s]).
SAC_BACKEND_OP(actor_alpha_loss,
               (int S, int C, int B, const float* q, const float* logp, const float* d_log_alpha,
                float target_entropy, float* dq, float* actor_loss, float* alpha_grad,
                float* alpha_loss),
               (S, C, B, q, logp, d_log_alpha, target_entropy, dq, actor_loss, alpha_grad,
                alpha_loss))
/// Per seed: sum_member_columns of its own C critics' input gradients dX (S*C x B x width, the
/// action in columns skip..skip+A), then tanh_gaussian_backward with that as dL/daction and
/// its own alpha. head, eps and grad_head are S x B rows; seed s's action rows start at
/// action + s * action_seed_stride, action_ld floats apart.
SAC_BACKEND_OP(tanh_gaussian_backward_critics,
               (int S, int B, int A, const float* head, const float* eps, const float* action,
                int action_ld, size_t action_seed_stride, int C, int width, int skip,
                const float* dX, const float* d_log_alpha, float logp_scale, float log_std_min,
                float log_std_max, float* grad_head),
               (S, B, A, head, eps, action, action_ld, action_seed_stride, C, width, skip, dX,
                d_log_alpha, logp_scale, log_std_min, log_std_max, grad_head))
/// adam on `online`, then polyak of `target` towards the new values (n each).
SAC_BACKEND_OP(adam_polyak,
               (size_t n, float* online, const float* grads, float* m, float* v, float lr,
                float beta1, float beta2, float eps, const int64_t* d_step, float* target,
                float tau),
               (n, online, grads, m, v, lr, beta1, beta2, eps, d_step, target, tau))
/// adam on each of `count` (<= 4) tensors, with their own lr, in one launch.
SAC_BACKEND_OP(adam_multi,
               (int count, const AdamTensor* tensors, float beta1, float beta2, float eps,
                const int64_t* d_step),
               (count, tensors, beta1, beta2, eps, d_step))
/// For each of S seeds: draws B rows of its ring rings[s] and both noise blocks (as
/// sample_indices and fill_normal with draws[s]) and gathers them into `out`'s layouts,
/// seed-stacked (seed s's rows follow seed s-1's in every layout; the critic inputs hold
/// `copies` copies of each seed's rows, copy c of seed s at member s * copies + c), in one
/// launch. S <= kMaxSeeds.
SAC_BACKEND_OP(sample_minibatch,
               (int S, int B, int O, int A, int copies, const RingView* rings,
                const MinibatchDraws* draws, const MinibatchLayout& out),
               (S, B, O, A, copies, rings, draws, out))

// ---- ops of SAC's follow-ups (REDQ, TQC, CrossQ), not yet part of any update
/// REDQ's target minimum: for each of E members with N critics each (q: E*N x B, ordered
/// [member][critic]), q_min[e][b] = min over a random subset of M of member e's N critics
/// (1 <= M <= N <= 32, E <= kMaxSeeds). The subset is drawn without replacement from Philox
/// (keys[e], stream) at draw block *d_counter: one per member shared by its B rows (per_row
/// false, as REDQ draws one per update), or one per row. `chosen` (nullable) receives the
/// subsets, E x M (or E x B x M per row). keys: host memory. One launch.
SAC_BACKEND_OP(subset_min,
               (int E, int N, int M, int B, bool per_row, const float* q, const uint64_t* keys,
                uint64_t stream, const int64_t* d_counter, float* q_min, int32_t* chosen),
               (E, N, M, B, per_row, q, keys, stream, d_counter, q_min, chosen))
/// Batch renormalisation over E members x B rows x F features (x, y: E*B x F, member e's
/// rows at e*B; scale, bias, running_mean, running_var: E x F). Training (B >= 2): each
/// member's features normalised with their batch mean and unbiased variance, corrected by
/// the clipped r and d of the running statistics once *d_steps > config.warmup_steps, and the
/// running statistics moved towards the batch's; the caller counts the steps (increment).
/// Inference: normalised with the running statistics, which stay; d_steps is not read (may be
/// null). y = scale * normalised + bias. stats (E x F x 4) receives what the backward needs.
/// Sums over rows in one fixed tree (no float atomics). One launch.
SAC_BACKEND_OP(batch_renorm_forward,
               (int E, int B, int F, bool training, const BatchRenormConfig& config,
                const int64_t* d_steps, const float* x, const float* scale, const float* bias,
                float* running_mean, float* running_var, float* stats, float* y),
               (E, B, F, training, config, d_steps, x, scale, bias, running_mean, running_var,
                stats, y))
/// The backward of batch_renorm_forward, given its x, scale and stats and the same
/// `training` and config.eps: dx (E*B x F), dscale and dbias (E x F) are written (not added).
/// Training: through the batch mean and variance, r and d held constant; inference: through
/// x alone. One launch.
SAC_BACKEND_OP(batch_renorm_backward,
               (int E, int B, int F, bool training, float eps, const float* x, const float* scale,
                const float* stats, const float* dy, float* dx, float* dscale, float* dbias),
               (E, B, F, training, eps, x, scale, stats, dy, dx, dscale, dbias))
/// TQC's quantile Huber loss (kappa > 0; with kappa 1 sb3-contrib's quantile_huber_loss):
/// for each of E members and B rows, N critics x M predicted quantiles (current: E*B x N*M,
/// critic-major) against K target atoms (target: E*B x K), u = target - current, tau_m =
/// (m + 0.5) / M, rho = |tau_m - 1{u < 0}| huber_kappa(u) / kappa. row_loss (E*B) receives
/// each row's mean of rho over its N*M*K pairs, loss (E) each member's mean over its rows,
/// dcurrent (E*B x N*M) d loss[e] / d current (written). Fixed-tree sums. Two launches.
SAC_BACKEND_OP(quantile_huber_loss,
               (int E, int B, int N, int M, int K, float kappa, const float* current,
                const float* target, float* dcurrent, float* row_loss, float* loss),
               (E, B, N, M, K, kappa, current, target, dcurrent, row_loss, loss))
/// TQC's truncated target: each of `rows` rows of `atoms` pooled atoms (pooled: rows x atoms)
/// sorted ascending in the floats' total order (-0 before +0), the lowest `keep` written to
/// kept (rows x keep); 1 <= keep <= atoms <= 2048. Deterministic (a bitonic network on both
/// backends). One launch.
SAC_BACKEND_OP(sort_truncate_atoms,
               (int rows, int atoms, int keep, const float* pooled, float* kept),
               (rows, atoms, keep, pooled, kept))

// ---- optimiser and targets, one launch over a flat buffer
/// Adam (PyTorch's operation order). The step count t >= 1 is read from device memory, so a
/// captured CUDA graph replays correctly at every step; the bias corrections 1 - beta^t are
/// computed once per launch from it.
SAC_BACKEND_OP(adam,
               (size_t n, float* params, const float* grads, float* m, float* v, float lr,
                float beta1, float beta2, float eps, const int64_t* d_step),
               (n, params, grads, m, v, lr, beta1, beta2, eps, d_step))
/// target = tau * online + (1 - tau) * target.
SAC_BACKEND_OP(polyak,
               (size_t n, float* target, const float* online, float tau),
               (n, target, online, tau))
/// *d_counter += 1 (step counters that live on the device).
SAC_BACKEND_OP(increment,
               (int64_t* d_counter),
               (d_counter))

// ---- random numbers (Philox, counter-based: identical on every backend). Draw offsets come
// from a device counter so graph replays draw fresh numbers.
/// out[i] = standard normal number (*d_counter * n + i) of stream (key, stream).
SAC_BACKEND_OP(fill_normal,
               (size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter, float* out),
               (n, key, stream, d_counter, out))
/// out[s * n + i] = standard normal number (*d_counter * n + i) of stream (keys[s], stream)
/// for s < S (keys: host memory, S <= kMaxSeeds): fill_normal of each seed, one launch.
SAC_BACKEND_OP(fill_normal_seeds,
               (int S, size_t n, const uint64_t* keys, uint64_t stream, const int64_t* d_counter,
                float* out),
               (S, n, keys, stream, d_counter, out))
/// idx[i] = uniform integer in [0, *d_bound) number (*d_counter * n + i) of (key, stream).
SAC_BACKEND_OP(sample_indices,
               (int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                const int64_t* d_bound, int64_t* idx),
               (n, key, stream, d_counter, d_bound, idx))

// ---- replay
/// dst[i] = src[idx[i]] for i < n; rows are `dim` floats.
SAC_BACKEND_OP(gather_rows,
               (int n, int dim, const float* src, const int64_t* idx, float* dst),
               (n, dim, src, idx, dst))
/// Appends the rows i < n of one batch step whose step.keep[i] is nonzero to the ring, in
/// order, at its head (ring.d_head_size[0]), wrapping at ring.capacity, then advances head
/// and size (ring.d_head_size[1], at most capacity) on the device. Row i is (obs[i],
/// action[i], step.reward[i], step.next_obs[i], step.terminated[i]); obs is n x O, action
/// n x A. One op in stream order: no host wait, nothing read back.
SAC_BACKEND_OP(ring_insert,
               (int n, int O, int A, const float* obs, const float* action,
                const StepTransitions& step, const RingStorage& ring),
               (n, O, A, obs, action, step, ring))
