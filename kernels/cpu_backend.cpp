// cpu_backend.cpp: the reference backend (see backend.h): memory, the thread pool, and the
// dispatch of every op to its `_cpu` twin in the op families' files (linear, tanh_gaussian,
// sac_losses, optimizer, sampling), where each sits beside its CUDA kernel.
#include "cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "batch_renorm.h"
#include "linear.h"
#include "optimizer.h"
#include "quantile_huber.h"
#include "ring_insert.h"
#include "sac_losses.h"
#include "sampling.h"
#include "sort_truncate.h"
#include "subset_min.h"
#include "tanh_gaussian.h"

extern "C" void openblas_set_num_threads(int);

namespace sac {
namespace {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

CpuBackend::CpuBackend(int threads) : m_pool(resolve_threads(threads)) {
  // parallelism comes from the pool; OpenBLAS's own threads would fight it
  openblas_set_num_threads(1);
}

void* CpuBackend::allocate(size_t bytes) {
  refuse_while_recording("allocate");
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return p;
}
void CpuBackend::release(void* ptr) {
  refuse_while_recording("release");
  std::free(ptr);
}
void CpuBackend::upload(void* dst, const void* src, size_t bytes) {
  refuse_while_recording("upload");
  std::memcpy(dst, src, bytes);
}
void CpuBackend::download(void* dst, const void* src, size_t bytes) {
  refuse_while_recording("download");
  std::memcpy(dst, src, bytes);
}
void CpuBackend::synchronize() { refuse_while_recording("synchronize"); }
void CpuBackend::copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); }

void CpuBackend::linear_forward(int E, int B, int in, int out, const float* X,
                                size_t x_member_stride, const float* W, const float* b, float* Y,
                                Activation act, uint32_t* /*relu_mask: the mask is Y > 0 here*/) {
  linear_forward_cpu(m_pool, E, B, in, out, X, x_member_stride, W, b, Y, act);
}
void CpuBackend::linear_backward(int E, int B, int in, int out, const float* X,
                                 size_t x_member_stride, const float* W, const float* Y, float* dY,
                                 float* dX, float* dW, float* db, Activation act) {
  linear_backward_cpu(m_pool, E, B, in, out, X, x_member_stride, W, Y, dY, dX, dW, db, act);
}
void CpuBackend::linear_grad_weights(int E, int B, int in, int out, const float* X,
                                     size_t x_member_stride, const float* dZ, float* dW,
                                     float* db) {
  linear_grad_weights_cpu(m_pool, E, B, in, out, X, x_member_stride, dZ, dW, db);
}
void CpuBackend::linear_grad_input(int E, int B, int in, int out, const float* dZ,
                                   const float* W, Activation x_act, const float* X_relu,
                                   const uint32_t* /*relu_mask: X_relu > 0 is the mask here*/,
                                   float* dX) {
  linear_grad_input_cpu(m_pool, E, B, in, out, dZ, W, x_act, X_relu, dX);
}
void CpuBackend::concat_columns(int rows, int na, const float* a, int nb, const float* b,
                                float* out) {
  concat_columns_cpu(rows, na, a, nb, b, out);
}

void CpuBackend::tanh_gaussian_sample(int S, int B, int A, const float* head, const float* eps,
                                      float log_std_min, float log_std_max, float* action,
                                      int action_ld, int copies, float* logp) {
  tanh_gaussian_sample_cpu(S, B, A, head, eps, log_std_min, log_std_max, action, action_ld, copies,
                           logp);
}
void CpuBackend::tanh_gaussian_mean(int B, int A, const float* head, float* action) {
  tanh_gaussian_mean_cpu(B, A, head, action);
}
void CpuBackend::tanh_gaussian_backward(int B, int A, const float* head, const float* eps,
                                        const float* action, const float* grad_action,
                                        const float* d_log_alpha, float logp_scale,
                                        float log_std_min, float log_std_max, float* grad_head) {
  tanh_gaussian_backward_cpu(B, A, head, eps, action, grad_action, d_log_alpha, logp_scale,
                             log_std_min, log_std_max, grad_head);
}
void CpuBackend::tanh_gaussian_backward_critics(int S, int B, int A, const float* head,
                                                const float* eps, const float* action,
                                                int action_ld, size_t action_seed_stride, int C,
                                                int width, int skip, const float* dX,
                                                const float* d_log_alpha, float logp_scale,
                                                float log_std_min, float log_std_max,
                                                float* grad_head) {
  tanh_gaussian_backward_critics_cpu(S, B, A, head, eps, action, action_ld, action_seed_stride, C,
                                     width, skip, dX, d_log_alpha, logp_scale, log_std_min,
                                     log_std_max, grad_head);
}
void CpuBackend::sum_member_columns(int E, int B, int width, int skip, int A, const float* dX,
                                    float* grad_action) {
  sum_member_columns_cpu(E, B, width, skip, A, dX, grad_action);
}

void CpuBackend::soft_targets(int E, int B, const float* q_target, const float* logp_next,
                              const float* reward, const float* terminated, float gamma,
                              const float* d_log_alpha, float* y) {
  soft_targets_cpu(E, B, q_target, logp_next, reward, terminated, gamma, d_log_alpha, y);
}
void CpuBackend::critic_loss(int E, int B, const float* q, const float* y, float* dq,
                             float* loss) {
  critic_loss_cpu(E, B, q, y, dq, loss);
}
void CpuBackend::actor_loss(int E, int B, const float* q, const float* logp,
                            const float* d_log_alpha, float* dq, float* loss) {
  actor_loss_cpu(E, B, q, logp, d_log_alpha, dq, loss);
}
void CpuBackend::alpha_loss(int B, const float* logp, const float* d_log_alpha,
                            float target_entropy, float* grad, float* loss) {
  alpha_loss_cpu(B, logp, d_log_alpha, target_entropy, grad, loss);
}
void CpuBackend::critic_loss_soft_targets(int S, int C, int B, const float* q_target,
                                          const float* logp_next, const float* reward,
                                          const float* terminated, float gamma,
                                          const float* d_log_alpha, const float* q, float* y,
                                          float* dq, float* loss) {
  critic_loss_soft_targets_cpu(S, C, B, q_target, logp_next, reward, terminated, gamma, d_log_alpha,
                               q, y, dq, loss);
}
void CpuBackend::actor_alpha_loss(int S, int C, int B, const float* q, const float* logp,
                                  const float* d_log_alpha, float target_entropy, float* dq,
                                  float* actor_loss_out, float* alpha_grad,
                                  float* alpha_loss_out) {
  actor_alpha_loss_cpu(S, C, B, q, logp, d_log_alpha, target_entropy, dq, actor_loss_out,
                       alpha_grad, alpha_loss_out);
}

void CpuBackend::adam(size_t n, float* params, const float* grads, float* m, float* v, float lr,
                      float beta1, float beta2, float eps, const int64_t* d_step) {
  adam_cpu(m_pool, n, params, grads, m, v, lr, beta1, beta2, eps, d_step);
}
void CpuBackend::polyak(size_t n, float* target, const float* online, float tau) {
  polyak_cpu(m_pool, n, target, online, tau);
}
void CpuBackend::adam_polyak(size_t n, float* online, const float* grads, float* m, float* v,
                             float lr, float beta1, float beta2, float eps,
                             const int64_t* d_step, float* target, float tau) {
  adam_polyak_cpu(m_pool, n, online, grads, m, v, lr, beta1, beta2, eps, d_step, target, tau);
}
void CpuBackend::adam_multi(int count, const AdamTensor* tensors, float beta1, float beta2,
                            float eps, const int64_t* d_step) {
  adam_multi_cpu(m_pool, count, tensors, beta1, beta2, eps, d_step);
}

void CpuBackend::fill_normal(size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                             float* out) {
  fill_normal_cpu(n, key, stream, d_counter, out);
}
void CpuBackend::fill_normal_seeds(int S, size_t n, const uint64_t* keys, uint64_t stream,
                                   const int64_t* d_counter, float* out) {
  fill_normal_seeds_cpu(S, n, keys, stream, d_counter, out);
}
void CpuBackend::sample_indices(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                                const int64_t* d_bound, int64_t* idx) {
  sample_indices_cpu(n, key, stream, d_counter, d_bound, idx);
}
void CpuBackend::gather_rows(int n, int dim, const float* src, const int64_t* idx, float* dst) {
  gather_rows_cpu(n, dim, src, idx, dst);
}
void CpuBackend::ring_insert(int n, int O, int A, const float* obs, const float* action,
                             const StepTransitions& step, const RingStorage& ring) {
  ring_insert_cpu(n, O, A, obs, action, step, ring);
}
void CpuBackend::subset_min(int E, int N, int M, int B, bool per_row, const float* q,
                            const uint64_t* keys, uint64_t stream, const int64_t* d_counter,
                            float* q_min, int32_t* chosen) {
  subset_min_cpu(E, N, M, B, per_row, q, keys, stream, d_counter, q_min, chosen);
}
void CpuBackend::batch_renorm_forward(int E, int B, int F, bool training,
                                      const BatchRenormConfig& config, const int64_t* d_steps,
                                      const float* x, const float* scale, const float* bias,
                                      float* running_mean, float* running_var, float* stats,
                                      float* y) {
  batch_renorm_forward_cpu(E, B, F, training, config, d_steps, x, scale, bias, running_mean,
                           running_var, stats, y);
}
void CpuBackend::batch_renorm_backward(int E, int B, int F, bool training, float eps,
                                       const float* x, const float* scale, const float* stats,
                                       const float* dy, float* dx, float* dscale, float* dbias) {
  batch_renorm_backward_cpu(E, B, F, training, eps, x, scale, stats, dy, dx, dscale, dbias);
}
void CpuBackend::quantile_huber_loss(int E, int B, int N, int M, int K, float kappa,
                                     const float* current, const float* target, float* dcurrent,
                                     float* row_loss, float* loss) {
  quantile_huber_loss_cpu(E, B, N, M, K, kappa, current, target, dcurrent, row_loss, loss);
}
void CpuBackend::sort_truncate_atoms(int rows, int atoms, int keep, const float* pooled,
                                     float* kept) {
  sort_truncate_atoms_cpu(rows, atoms, keep, pooled, kept);
}
void CpuBackend::sample_minibatch(int S, int B, int O, int A, int copies, const RingView* rings,
                                  const MinibatchDraws* draws, const MinibatchLayout& out) {
  sample_minibatch_cpu(S, B, O, A, copies, rings, draws, out);
}

}  // namespace sac
