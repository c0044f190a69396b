// backend.h: the SAC op set, as one interface with a CPU reference implementation and a CUDA
// implementation behind it. Every op takes a leading members dimension E (E independent
// networks of the same shape, stacked), works on memory the backend allocated, and never
// allocates itself. Matrices are row-major; a weight W of a layer is out x in (y = x W^T + b).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace sac {

enum class Activation { kNone, kRelu };

/// Arithmetic of the GEMMs: kFp32 (the reference; the CPU backend always computes this) or
/// kTf32 (CUDA tensor cores: inputs rounded to 10 mantissa bits, FP32 accumulation).
enum class MatmulPrecision { kFp32, kTf32 };

/// The ring of a replay buffer, as sample_minibatch reads it (n rows each, backend memory).
struct RingView {
  const float* obs = nullptr;         // rows x O
  const float* action = nullptr;      // rows x A
  const float* reward = nullptr;      // rows
  const float* next_obs = nullptr;    // rows x O
  const float* terminated = nullptr;  // rows
  const int64_t* d_size = nullptr;    // rows filled so far (indices are drawn below it)
};

/// The ring of a replay buffer, as ring_insert writes it (backend memory).
struct RingStorage {
  float* obs = nullptr;         // capacity x O
  float* action = nullptr;      // capacity x A
  float* reward = nullptr;      // capacity
  float* next_obs = nullptr;    // capacity x O
  float* terminated = nullptr;  // capacity
  int64_t capacity = 0;
  int64_t* d_head_size = nullptr;  // [head, size], kept on the device
};

/// One batch step's transitions of n envs as the step loop uploads them, in one block of
/// step_floats(n, O) floats laid out by over(): reward (n), terminated (n, 1 or 0), keep (n, 1
/// or 0: 0 drops a transition whose physics blew up), next_obs (n x O, the real final
/// observation where an episode ended).
struct StepTransitions {
  const float* reward = nullptr;
  const float* terminated = nullptr;
  const float* keep = nullptr;
  const float* next_obs = nullptr;

  static size_t floats(int n, int O) { return (size_t)n * (3 + O); }
  static StepTransitions over(const float* block, int n) {
    return {block, block + n, block + 2 * (size_t)n, block + 3 * (size_t)n};
  }
};

/// The Philox draws of one minibatch: indices from (key, index_stream), the two noise blocks
/// from (key, next_noise_stream) and (key, cur_noise_stream), each at draw block *d_counter.
struct MinibatchDraws {
  uint64_t key = 0, index_stream = 0, next_noise_stream = 0, cur_noise_stream = 0;
  const int64_t* d_counter = nullptr;
};

/// Where sample_minibatch writes a minibatch of B rows per seed, laid out as the networks read
/// it (S seeds stacked; the critic inputs in `copies` copies per seed, see sample_minibatch).
struct MinibatchLayout {
  int64_t* indices = nullptr;     // S x B ring rows drawn
  float* obs = nullptr;           // S x B x O: s, the actor's input
  float* next_obs = nullptr;      // S x B x O: s', the actor's input for the target actions
  float* critic_in = nullptr;     // S x copies x B x (O + A): [s, a]
  float* critic_in_pi = nullptr;  // S x copies x B x (O + A): [s, .]; the policy's actions fill
                                  // the rest
  float* target_in = nullptr;     // S x copies x B x (O + A): [s', .]; the target actions fill
                                  // the rest
  float* reward = nullptr;        // S x B
  float* terminated = nullptr;    // S x B
  float* eps_next = nullptr;      // S x B x A standard normal noise for the target actions
  float* eps_cur = nullptr;       // S x B x A standard normal noise for the policy's actions
};

/// One flat buffer of an Adam step (see Backend::adam_multi).
struct AdamTensor {
  size_t n = 0;
  float* params = nullptr;
  const float* grads = nullptr;
  float* m = nullptr;
  float* v = nullptr;
  float lr = 0.0f;
};

/// Which backend to build: "cpu", "cuda", or "auto" (cuda when a device is present).
std::string resolve_device(const std::string& device);

/// True when a CUDA device is usable (false on machines without a driver or GPU).
bool cuda_device_available();

/// Why no CUDA device is usable, for messages: the CUDA error with runtime and driver versions,
/// or that this build has no CUDA backend ("" when a device is usable).
std::string cuda_unavailable_reason();

/// The backends compiled into this build, for `sac --version`: "cpu" and, in a CUDA build, the
/// CUDA runtime's version with the driver and device when one is usable.
std::string backends_description();

/// A recorded, fixed sequence of ops that can be rerun cheaply.
/// The settings of batch renormalisation (Backend::batch_renorm_forward), sb3-contrib's
/// BatchRenorm defaults: running statistics move by `momentum` of the way to each batch's;
/// eps is added to every variance; r is clipped to [1/r_max, r_max] and d to [-d_max, d_max];
/// while the step count is at most warmup_steps the op is batch norm (r = 1, d = 0).
struct BatchRenormConfig {
  float momentum = 0.01f;
  float eps = 1e-3f;
  float r_max = 3.0f;
  float d_max = 5.0f;
  int64_t warmup_steps = 100000;
};

class RecordedOps {
 public:
  virtual ~RecordedOps() = default;
  /// Runs the recorded ops again (asynchronously on CUDA).
  virtual void replay() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;

  /// True when every op runs when it is issued, in issue order, whatever its lane (the CPU
  /// backend): nothing issued runs beside anything else.
  virtual bool runs_in_issue_order() const { return false; }

  /// Records the ops that `work` issues without running them; replay() runs them. The CUDA
  /// backend captures them once as a CUDA graph from the current lane's stream and replays it
  /// there (so `work` must not allocate or synchronise); this default keeps `work` and calls
  /// it on each replay.
  virtual std::unique_ptr<RecordedOps> record(std::function<void()> work);

  /// True while the calling thread is inside recorded ops of this backend: capturing them
  /// (CUDA) or replaying the kept closure (CPU). allocate, release, allocate_host,
  /// release_host, upload, download and synchronize throw there: none can be part of a CUDA
  /// graph, and refusing them on the CPU too shows such a bug before any GPU run.
  bool recording() const;

  /// Marks the calling thread as inside recorded ops of `backend` for the scope's lifetime
  /// (for backend implementations; scopes nest).
  class RecordingScope {
   public:
    explicit RecordingScope(const Backend& backend);
    ~RecordingScope();
    RecordingScope(const RecordingScope&) = delete;
    RecordingScope& operator=(const RecordingScope&) = delete;

   private:
    const Backend* m_previous;
  };


  // ---- memory: zero-initialised, owned by the caller, freed with release()
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr) = 0;
  virtual void upload(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  /// Host memory for the transfers of every step, zero-initialised, freed with release_host():
  /// page-locked on CUDA (copies then run at full bus speed without a staging copy by the
  /// driver), ordinary memory here.
  virtual void* allocate_host(size_t bytes);
  virtual void release_host(void* ptr);
  /// Waits until every queued op has finished (a no-op on the CPU).
  virtual void synchronize() = 0;

  // ---- the step loop's transfers: queued on the current lane, no host wait (CUDA: one
  // cudaMemcpyAsync from or to allocate_host memory); the CPU backend copies at once
  /// Queues a copy of `bytes` from host_src (allocate_host memory) to dst. The host must not
  /// change host_src until a later wait_lane() of this lane, or synchronize(), has returned.
  virtual void upload_async(void* dst, const void* host_src, size_t bytes);
  /// Queues a copy of `bytes` from src to host_dst (allocate_host memory); the host may read it
  /// after wait_lane() of this lane returns.
  virtual void download_async(void* host_dst, const void* src, size_t bytes);
  /// Blocks the host until everything issued so far on `lane` has finished (CUDA: one event).
  virtual void wait_lane(int lane);

  // ---- lanes: independent work issued on separate lanes may run concurrently (CUDA: one
  // stream with its own cuBLAS handle and workspace per lane, so a recorded update becomes a
  // graph with parallel branches). Ops of one lane run in issue order; the CPU backend runs
  // everything in issue order. Lane 0 is the main lane; inside a recording, every lane must be
  // joined into the lane that forked it before its end. Lanes 0-3 serve the update (agent.cpp);
  // kActLane serves the step loop's acting, beside the update block (Agent::act_snapshot).
  static constexpr int kMaxLanes = 5;
  static constexpr int kActLane = 4;
  /// Ops issued later on `lane` start after everything issued so far on the current lane.
  virtual void fork(int lane);
  /// Later ops are issued on `lane`.
  virtual void set_lane(int lane);
  /// Later ops of the current lane start after everything issued so far on `lane`.
  virtual void join(int lane);
  int lane() const { return m_lane; }

  /// The backend's default GEMM arithmetic (kFp32 unless set; the CPU backend computes FP32
  /// either way), for ops issued outside any MatmulPrecisionScope.
  virtual void set_matmul_precision(MatmulPrecision precision) { m_precision = precision; }
  /// The arithmetic of a GEMM the calling thread issues now: its innermost MatmulPrecisionScope,
  /// else the backend's default.
  MatmulPrecision matmul_precision() const;

  /// Sets the arithmetic of the GEMMs the calling thread issues while the scope lives, on any
  /// backend (per thread, like RecordingScope; scopes nest). An agent opens one around each
  /// of its op sequences, so agents on one backend each get their own sac.matmul_precision; a
  /// CUDA graph captured inside the scope keeps it on every replay.
  class MatmulPrecisionScope {
   public:
    explicit MatmulPrecisionScope(MatmulPrecision precision);
    ~MatmulPrecisionScope();
    MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
    MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

   private:
    int m_previous;
  };

  // ---- networks
  /// Y[e] = act(X[e] W[e]^T + b[e]) for e < E; X[e] starts at X + e * x_member_stride
  /// (stride 0 feeds the same input to every member). X: B x in, W: out x in, Y: B x out.
  /// `relu_mask` (nullable; relu_mask_bytes(E, B, out) bytes) receives the ReLU's bit-mask for
  /// linear_grad_input where the backend keeps one (CUDA's fused epilogue); one launch.
  virtual void linear_forward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                              const float* W, const float* b, float* Y, Activation act,
                              uint32_t* relu_mask) = 0;

  /// Bytes of the ReLU bit-mask of a layer of `out` outputs: per member and row, `out` bits
  /// rounded up to a multiple of 128.
  static size_t relu_mask_bytes(int E, int B, int out) {
    return (size_t)E * B * (size_t)((out + 127) / 128 * 128) / 8;
  }

  /// Weight gradients of linear_forward from dZ (the gradient before the activation,
  /// E x B x out): dW[e] = dZ[e]^T X[e] and db[e] = sum_b dZ[e] (fixed order), one launch.
  virtual void linear_grad_weights(int E, int B, int in, int out, const float* X,
                                   size_t x_member_stride, const float* dZ, float* dW,
                                   float* db) = 0;

  /// Input gradient of linear_forward from dZ: dX[e] = dZ[e] W[e] (E x B x in), one launch.
  /// With x_act = kRelu, X was the output of a ReLU layer (X_relu, E x B x in, and its
  /// relu_mask when the backend wrote one) and dX is masked where X_relu <= 0: the result is
  /// the dZ of the layer below.
  virtual void linear_grad_input(int E, int B, int in, int out, const float* dZ, const float* W,
                                 Activation x_act, const float* X_relu,
                                 const uint32_t* relu_mask, float* dX) = 0;

  /// Backward of linear_forward given its output Y and dY (overwritten with the gradient
  /// before the activation). Writes dW = dZ^T X, db = sum_b dZ and dX = dZ W; each of dW, db,
  /// dX may be null to skip it. dX is E x B x in (one per member, even when X was shared).
  virtual void linear_backward(int E, int B, int in, int out, const float* X,
                               size_t x_member_stride, const float* W, const float* Y, float* dY,
                               float* dX, float* dW, float* db, Activation act) = 0;

  /// out[r] = [a[r], b[r]] for r < rows; a is rows x na, b is rows x nb.
  virtual void concat_columns(int rows, int na, const float* a, int nb, const float* b,
                              float* out) = 0;

  // ---- tanh-Gaussian policy head; head holds B x 2A rows [mean, raw log-std]
  /// Reparameterised sample a = tanh(mean + exp(log_std) eps) and its log-density for S seeds
  /// of B rows each (head, eps and logp seed-stacked: S x B rows). Action rows are `action_ld`
  /// floats apart (A: packed; O + A at action = critic input + O writes the action columns of a
  /// critic input), and each seed's block is written `copies` times: row r of seed s, copy c,
  /// goes to action + ((s * copies + c) * B + r) * action_ld (the critics' replicated inputs;
  /// copies = 1 and S = 1 is one packed block).
  virtual void tanh_gaussian_sample(int S, int B, int A, const float* head, const float* eps,
                                    float log_std_min, float log_std_max, float* action,
                                    int action_ld, int copies, float* logp) = 0;
  /// Deterministic action tanh(mean).
  virtual void tanh_gaussian_mean(int B, int A, const float* head, float* action) = 0;
  /// Gradient with respect to head, given dL/daction (B x A, nullable: zero) and
  /// dL/dlogp = logp_scale * exp(*d_log_alpha) per sample.
  virtual void tanh_gaussian_backward(int B, int A, const float* head, const float* eps,
                                      const float* action, const float* grad_action,
                                      const float* d_log_alpha, float logp_scale, float log_std_min,
                                      float log_std_max, float* grad_head) = 0;

  // ---- losses (reductions in a fixed order: same inputs, same bits)
  /// y = r + gamma (1 - terminated) (min_e q_target[e] - alpha logp_next).
  virtual void soft_targets(int E, int B, const float* q_target, const float* logp_next,
                            const float* reward, const float* terminated, float gamma,
                            const float* d_log_alpha, float* y) = 0;
  /// loss = sum_e mean_b (q[e] - y)^2, dq = d loss / dq.
  virtual void critic_loss(int E, int B, const float* q, const float* y, float* dq,
                           float* loss) = 0;
  /// loss = mean_b (alpha logp - min_e q[e]); dq is -1/B on each row's minimising member.
  virtual void actor_loss(int E, int B, const float* q, const float* logp, const float* d_log_alpha,
                          float* dq, float* loss) = 0;
  /// grad_action[b] = sum_e dX[e][b][skip:skip+A], where dX rows are `width` wide.
  virtual void sum_member_columns(int E, int B, int width, int skip, int A, const float* dX,
                                  float* grad_action) = 0;
  /// loss = mean_b -log_alpha (logp + target_entropy); grad is d loss / d log_alpha.
  virtual void alpha_loss(int B, const float* logp, const float* d_log_alpha, float target_entropy,
                          float* grad, float* loss) = 0;

  // ---- the fused ops of the update (each one launch whatever S; each equals, bit for bit on
  // the CPU, the composition of the ops above that it replaces, once per seed). They take S
  // seeds of C critics each: critic outputs are S*C x B, ordered [seed][critic]; per-seed rows
  // (logp, reward, terminated, y) are S x B; seed s's alpha is exp(d_log_alpha[s]) and its
  // losses and gradients go to index s of each output.
  /// Per seed: soft_targets over its own C critics (into y), then critic_loss of q against y.
  virtual void critic_loss_soft_targets(int S, int C, int B, const float* q_target,
                                        const float* logp_next, const float* reward,
                                        const float* terminated, float gamma,
                                        const float* d_log_alpha, const float* q, float* y,
                                        float* dq, float* loss) = 0;
  /// Per seed: actor_loss (into dq, actor_loss[s]), then alpha_loss (alpha_grad[s],
  /// alpha_loss[s]).
  virtual void actor_alpha_loss(int S, int C, int B, const float* q, const float* logp,
                                const float* d_log_alpha, float target_entropy, float* dq,
                                float* actor_loss, float* alpha_grad, float* alpha_loss) = 0;
  /// Per seed: sum_member_columns of its own C critics' input gradients dX (S*C x B x width, the
  /// action in columns skip..skip+A), then tanh_gaussian_backward with that as dL/daction and
  /// its own alpha. head, eps and grad_head are S x B rows; seed s's action rows start at
  /// action + s * action_seed_stride, action_ld floats apart.
  virtual void tanh_gaussian_backward_critics(int S, int B, int A, const float* head,
                                              const float* eps, const float* action,
                                              int action_ld, size_t action_seed_stride, int C,
                                              int width, int skip, const float* dX,
                                              const float* d_log_alpha, float logp_scale,
                                              float log_std_min, float log_std_max,
                                              float* grad_head) = 0;
  /// adam on `online`, then polyak of `target` towards the new values (n each).
  virtual void adam_polyak(size_t n, float* online, const float* grads, float* m, float* v,
                           float lr, float beta1, float beta2, float eps, const int64_t* d_step,
                           float* target, float tau) = 0;
  /// adam on each of `count` (<= 4) tensors, with their own lr, in one launch.
  virtual void adam_multi(int count, const AdamTensor* tensors, float beta1, float beta2,
                          float eps, const int64_t* d_step) = 0;
  /// For each of S seeds: draws B rows of its ring rings[s] and both noise blocks (as
  /// sample_indices and fill_normal with draws[s]) and gathers them into `out`'s layouts,
  /// seed-stacked (seed s's rows follow seed s-1's in every layout; the critic inputs hold
  /// `copies` copies of each seed's rows, copy c of seed s at member s * copies + c), in one
  /// launch. S <= kMaxSeeds.
  virtual void sample_minibatch(int S, int B, int O, int A, int copies, const RingView* rings,
                                const MinibatchDraws* draws, const MinibatchLayout& out) = 0;

  /// The most seeds one op takes (their rings and keys travel as kernel arguments).
  static constexpr int kMaxSeeds = 32;

  // ---- ops of SAC's follow-ups (REDQ, TQC, CrossQ), not yet part of any update
  /// REDQ's target minimum: for each of E members with N critics each (q: E*N x B, ordered
  /// [member][critic]), q_min[e][b] = min over a random subset of M of member e's N critics
  /// (1 <= M <= N <= 32, E <= kMaxSeeds). The subset is drawn without replacement from Philox
  /// (keys[e], stream) at draw block *d_counter: one per member shared by its B rows (per_row
  /// false, as REDQ draws one per update), or one per row. `chosen` (nullable) receives the
  /// subsets, E x M (or E x B x M per row). keys: host memory. One launch.
  virtual void subset_min(int E, int N, int M, int B, bool per_row, const float* q,
                          const uint64_t* keys, uint64_t stream, const int64_t* d_counter,
                          float* q_min, int32_t* chosen) = 0;
  /// Batch renormalisation over E members x B rows x F features (x, y: E*B x F, member e's
  /// rows at e*B; scale, bias, running_mean, running_var: E x F). Training (B >= 2): each
  /// member's features normalised with their batch mean and unbiased variance, corrected by
  /// the clipped r and d of the running statistics once *d_steps > config.warmup_steps, and the
  /// running statistics moved towards the batch's; the caller counts the steps (increment).
  /// Inference: normalised with the running statistics, which stay; d_steps is not read (may be
  /// null). y = scale * normalised + bias. stats (E x F x 4) receives what the backward needs.
  /// Sums over rows in one fixed tree (no float atomics). One launch.
  virtual void batch_renorm_forward(int E, int B, int F, bool training,
                                    const BatchRenormConfig& config, const int64_t* d_steps,
                                    const float* x, const float* scale, const float* bias,
                                    float* running_mean, float* running_var, float* stats,
                                    float* y) = 0;
  /// The backward of batch_renorm_forward, given its x, scale and stats and the same
  /// `training` and config.eps: dx (E*B x F), dscale and dbias (E x F) are written (not added).
  /// Training: through the batch mean and variance, r and d held constant; inference: through
  /// x alone. One launch.
  virtual void batch_renorm_backward(int E, int B, int F, bool training, float eps,
                                     const float* x, const float* scale, const float* stats,
                                     const float* dy, float* dx, float* dscale,
                                     float* dbias) = 0;
  /// TQC's quantile Huber loss (kappa > 0; with kappa 1 sb3-contrib's quantile_huber_loss):
  /// for each of E members and B rows, N critics x M predicted quantiles (current: E*B x N*M,
  /// critic-major) against K target atoms (target: E*B x K), u = target - current, tau_m =
  /// (m + 0.5) / M, rho = |tau_m - 1{u < 0}| huber_kappa(u) / kappa. row_loss (E*B) receives
  /// each row's mean of rho over its N*M*K pairs, loss (E) each member's mean over its rows,
  /// dcurrent (E*B x N*M) d loss[e] / d current (written). Fixed-tree sums. Two launches.
  virtual void quantile_huber_loss(int E, int B, int N, int M, int K, float kappa,
                                   const float* current, const float* target, float* dcurrent,
                                   float* row_loss, float* loss) = 0;
  /// TQC's truncated target: each of `rows` rows of `atoms` pooled atoms (pooled: rows x atoms)
  /// sorted ascending in the floats' total order (-0 before +0), the lowest `keep` written to
  /// kept (rows x keep); 1 <= keep <= atoms <= 2048. Deterministic (a bitonic network on both
  /// backends). One launch.
  virtual void sort_truncate_atoms(int rows, int atoms, int keep, const float* pooled,
                                   float* kept) = 0;

  // ---- optimiser and targets, one launch over a flat buffer
  /// Adam (PyTorch's operation order). The step count t >= 1 is read from device memory, so a
  /// captured CUDA graph replays correctly at every step; the bias corrections 1 - beta^t are
  /// computed once per launch from it.
  virtual void adam(size_t n, float* params, const float* grads, float* m, float* v, float lr,
                    float beta1, float beta2, float eps, const int64_t* d_step) = 0;
  /// target = tau * online + (1 - tau) * target.
  virtual void polyak(size_t n, float* target, const float* online, float tau) = 0;
  /// *d_counter += 1 (step counters that live on the device).
  virtual void increment(int64_t* d_counter) = 0;

  // ---- random numbers (Philox, counter-based: identical on every backend). Draw offsets come
  // from a device counter so graph replays draw fresh numbers.
  /// out[i] = standard normal number (*d_counter * n + i) of stream (key, stream).
  virtual void fill_normal(size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                           float* out) = 0;
  /// out[s * n + i] = standard normal number (*d_counter * n + i) of stream (keys[s], stream)
  /// for s < S (keys: host memory, S <= kMaxSeeds): fill_normal of each seed, one launch.
  virtual void fill_normal_seeds(int S, size_t n, const uint64_t* keys, uint64_t stream,
                                 const int64_t* d_counter, float* out) = 0;
  /// idx[i] = uniform integer in [0, *d_bound) number (*d_counter * n + i) of (key, stream).
  virtual void sample_indices(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                              const int64_t* d_bound, int64_t* idx) = 0;

  // ---- replay
  /// dst[i] = src[idx[i]] for i < n; rows are `dim` floats.
  virtual void gather_rows(int n, int dim, const float* src, const int64_t* idx, float* dst) = 0;
  /// Appends the rows i < n of one batch step whose step.keep[i] is nonzero to the ring, in
  /// order, at its head (ring.d_head_size[0]), wrapping at ring.capacity, then advances head
  /// and size (ring.d_head_size[1], at most capacity) on the device. Row i is (obs[i],
  /// action[i], step.reward[i], step.next_obs[i], step.terminated[i]); obs is n x O, action
  /// n x A. One op in stream order: no host wait, nothing read back.
  virtual void ring_insert(int n, int O, int A, const float* obs, const float* action,
                           const StepTransitions& step, const RingStorage& ring) = 0;

 protected:
  /// Throws std::logic_error naming `op` when recording() (see there).
  void refuse_while_recording(const char* op) const;
  /// Throws std::invalid_argument unless 0 <= lane < kMaxLanes.
  static void check_lane(int lane);

 private:
  int m_lane = 0;
  MatmulPrecision m_precision = MatmulPrecision::kFp32;
};

/// Creates the backend for `device` ("cpu" or "cuda"; resolve "auto" first). `threads` is the
/// CPU backend's worker count (0 = one per core). Throws InputError (bad input: `sac` exits 2)
/// when CUDA is asked for but absent.
std::unique_ptr<Backend> make_backend(const std::string& device, int threads = 0);

/// RAII buffer of n T from `backend`: device memory (allocate/release) or, with OnHost, the
/// host memory of allocate_host/release_host. Move-only, so memory is never silently copied.
template <typename T, bool OnHost>
class BackendBuffer {
 public:
  BackendBuffer() = default;
  BackendBuffer(Backend& backend, size_t n)
      : m_backend(&backend), m_size(n), m_ptr(n ? static_cast<T*>(take(backend, n)) : nullptr) {}
  BackendBuffer(const BackendBuffer&) = delete;
  BackendBuffer& operator=(const BackendBuffer&) = delete;
  BackendBuffer(BackendBuffer&& o) noexcept { *this = std::move(o); }
  BackendBuffer& operator=(BackendBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      m_backend = o.m_backend;
      m_size = o.m_size;
      m_ptr = o.m_ptr;
      o.m_ptr = nullptr;
      o.m_size = 0;
    }
    return *this;
  }
  ~BackendBuffer() { reset(); }

  T* data() { return m_ptr; }
  const T* data() const { return m_ptr; }
  size_t size() const { return m_size; }

 protected:
  Backend* m_backend = nullptr;
  size_t m_size = 0;
  T* m_ptr = nullptr;

 private:
  static void* take(Backend& b, size_t n) {
    return OnHost ? b.allocate_host(n * sizeof(T)) : b.allocate(n * sizeof(T));
  }
  void reset() {
    if (m_ptr) OnHost ? m_backend->release_host(m_ptr) : m_backend->release(m_ptr);
    m_ptr = nullptr;
  }
};

/// Device memory of n T.
template <typename T>
class DeviceArray : public BackendBuffer<T, false> {
 public:
  using BackendBuffer<T, false>::BackendBuffer;
  void upload(const T* host, size_t n) {
    this->m_backend->upload(this->m_ptr, host, n * sizeof(T));
  }
  void download(T* host, size_t n) const {
    this->m_backend->download(host, this->m_ptr, n * sizeof(T));
  }
};

/// Host memory of n T for the per-step transfers (page-locked on CUDA).
template <typename T>
class HostArray : public BackendBuffer<T, true> {
 public:
  using BackendBuffer<T, true>::BackendBuffer;
  T* begin() { return this->m_ptr; }
  T* end() { return this->m_ptr + this->m_size; }
  T& operator[](size_t i) { return this->m_ptr[i]; }
  const T& operator[](size_t i) const { return this->m_ptr[i]; }
};

}  // namespace sac
