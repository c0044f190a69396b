// cpu_backend.h: the reference backend. GEMMs through OpenBLAS (one thread per call), spread
// over a ThreadPool by member and row block; every element-wise op is a plain loop over the
// SAC_HD bodies its family header holds. The loops are the `_cpu` twins in the op families'
// files (linear, tanh_gaussian, sac_losses, optimizer, sampling); the methods forward to them.
#pragma once
#include <memory>

#include "sac/backend.h"
#include "thread_pool.h"

namespace sac {

class CpuBackend : public Backend {
 public:
  /// `threads` workers including the caller (0 = one per core).
  explicit CpuBackend(int threads = 0);

  std::string name() const override { return "cpu"; }
  bool runs_in_issue_order() const override { return true; }
  int threads() const { return m_pool.threads(); }

  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void synchronize() override;

  void linear_forward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                      const float* W, const float* b, float* Y, Activation act,
                      uint32_t* relu_mask) override;
  void linear_backward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                       const float* W, const float* Y, float* dY, float* dX, float* dW, float* db,
                       Activation act) override;
  void linear_grad_weights(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                           const float* dZ, float* dW, float* db) override;
  void linear_grad_input(int E, int B, int in, int out, const float* dZ, const float* W,
                         Activation x_act, const float* X_relu, const uint32_t* relu_mask,
                         float* dX) override;
  void concat_columns(int rows, int na, const float* a, int nb, const float* b,
                      float* out) override;

  void tanh_gaussian_sample(int S, int B, int A, const float* head, const float* eps,
                            float log_std_min, float log_std_max, float* action, int action_ld,
                            int copies, float* logp) override;
  void tanh_gaussian_mean(int B, int A, const float* head, float* action) override;
  void tanh_gaussian_backward(int B, int A, const float* head, const float* eps,
                              const float* action, const float* grad_action,
                              const float* d_log_alpha, float logp_scale, float log_std_min,
                              float log_std_max, float* grad_head) override;

  void soft_targets(int E, int B, const float* q_target, const float* logp_next,
                    const float* reward, const float* terminated, float gamma,
                    const float* d_log_alpha, float* y) override;
  void critic_loss(int E, int B, const float* q, const float* y, float* dq, float* loss) override;
  void actor_loss(int E, int B, const float* q, const float* logp, const float* d_log_alpha,
                  float* dq, float* loss) override;
  void sum_member_columns(int E, int B, int width, int skip, int A, const float* dX,
                          float* grad_action) override;
  void alpha_loss(int B, const float* logp, const float* d_log_alpha, float target_entropy,
                  float* grad, float* loss) override;

  void critic_loss_soft_targets(int S, int C, int B, const float* q_target,
                                const float* logp_next, const float* reward,
                                const float* terminated, float gamma, const float* d_log_alpha,
                                const float* q, float* y, float* dq, float* loss) override;
  void actor_alpha_loss(int S, int C, int B, const float* q, const float* logp,
                        const float* d_log_alpha, float target_entropy, float* dq,
                        float* actor_loss, float* alpha_grad, float* alpha_loss) override;
  void tanh_gaussian_backward_critics(int S, int B, int A, const float* head, const float* eps,
                                      const float* action, int action_ld,
                                      size_t action_seed_stride, int C, int width, int skip,
                                      const float* dX, const float* d_log_alpha, float logp_scale,
                                      float log_std_min, float log_std_max,
                                      float* grad_head) override;
  void adam_polyak(size_t n, float* online, const float* grads, float* m, float* v, float lr,
                   float beta1, float beta2, float eps, const int64_t* d_step, float* target,
                   float tau) override;
  void adam_multi(int count, const AdamTensor* tensors, float beta1, float beta2, float eps,
                  const int64_t* d_step) override;
  void sample_minibatch(int S, int B, int O, int A, int copies, const RingView* rings,
                        const MinibatchDraws* draws, const MinibatchLayout& out) override;

  void adam(size_t n, float* params, const float* grads, float* m, float* v, float lr,
            float beta1, float beta2, float eps, const int64_t* d_step) override;
  void polyak(size_t n, float* target, const float* online, float tau) override;
  void increment(int64_t* d_counter) override { ++*d_counter; }
  void fill_normal(size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                   float* out) override;
  void fill_normal_seeds(int S, size_t n, const uint64_t* keys, uint64_t stream,
                         const int64_t* d_counter, float* out) override;
  void sample_indices(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                      const int64_t* d_bound, int64_t* idx) override;
  void gather_rows(int n, int dim, const float* src, const int64_t* idx, float* dst) override;
  void ring_insert(int n, int O, int A, const float* obs, const float* action,
                   const StepTransitions& step, const RingStorage& ring) override;
  void subset_min(int E, int N, int M, int B, bool per_row, const float* q, const uint64_t* keys,
                  uint64_t stream, const int64_t* d_counter, float* q_min,
                  int32_t* chosen) override;
  void batch_renorm_forward(int E, int B, int F, bool training, const BatchRenormConfig& config,
                            const int64_t* d_steps, const float* x, const float* scale,
                            const float* bias, float* running_mean, float* running_var,
                            float* stats, float* y) override;
  void batch_renorm_backward(int E, int B, int F, bool training, float eps, const float* x,
                             const float* scale, const float* stats, const float* dy, float* dx,
                             float* dscale, float* dbias) override;
  void quantile_huber_loss(int E, int B, int N, int M, int K, float kappa, const float* current,
                           const float* target, float* dcurrent, float* row_loss,
                           float* loss) override;
  void sort_truncate_atoms(int rows, int atoms, int keep, const float* pooled,
                           float* kept) override;

 private:
  ThreadPool m_pool;
};

}  // namespace sac
