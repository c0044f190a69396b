// tracing_backend.cpp: see tracing_backend.h.
#include "tracing_backend.h"

#include <algorithm>

namespace sac {

int TracingBackend::critical_path() const {
  return *std::max_element(m_depth.begin(), m_depth.end());
}

void TracingBackend::reset() {
  m_launches = 0;
  m_depth.fill(0);
  m_traffic = Traffic();
}

void TracingBackend::launch() {
  ++m_launches;
  ++m_depth[lane()];
}

void TracingBackend::fork(int lane) {
  Backend::fork(lane);
  m_depth[lane] = std::max(m_depth[lane], m_depth[this->lane()]);
  m_inner.fork(lane);
}

void TracingBackend::set_lane(int lane) {
  Backend::set_lane(lane);
  m_inner.set_lane(lane);
}

void TracingBackend::join(int lane) {
  Backend::join(lane);
  m_depth[this->lane()] = std::max(m_depth[this->lane()], m_depth[lane]);
  m_inner.join(lane);
}

void TracingBackend::set_matmul_precision(MatmulPrecision precision) {
  Backend::set_matmul_precision(precision);
  m_inner.set_matmul_precision(precision);
}

void TracingBackend::copy(void* dst, const void* src, size_t bytes) {
  launch();
  m_inner.copy(dst, src, bytes);
}

void TracingBackend::linear_forward(int E, int B, int in, int out, const float* X,
                                    size_t x_member_stride, const float* W, const float* b,
                                    float* Y, Activation act, uint32_t* relu_mask) {
  launch();
  m_inner.linear_forward(E, B, in, out, X, x_member_stride, W, b, Y, act, relu_mask);
}

void TracingBackend::linear_grad_weights(int E, int B, int in, int out, const float* X,
                                         size_t x_member_stride, const float* dZ, float* dW,
                                         float* db) {
  launch();
  m_inner.linear_grad_weights(E, B, in, out, X, x_member_stride, dZ, dW, db);
}

void TracingBackend::linear_grad_input(int E, int B, int in, int out, const float* dZ,
                                       const float* W, Activation x_act, const float* X_relu,
                                       const uint32_t* relu_mask, float* dX) {
  launch();
  m_inner.linear_grad_input(E, B, in, out, dZ, W, x_act, X_relu, relu_mask, dX);
}

void TracingBackend::linear_backward(int E, int B, int in, int out, const float* X,
                                     size_t x_member_stride, const float* W, const float* Y,
                                     float* dY, float* dX, float* dW, float* db, Activation act) {
  // the unfused reference op: mask, dX GEMM, dW GEMM, bias gradient
  launch(), launch(), launch(), launch();
  m_inner.linear_backward(E, B, in, out, X, x_member_stride, W, Y, dY, dX, dW, db, act);
}

void TracingBackend::concat_columns(int rows, int na, const float* a, int nb, const float* b,
                                    float* out) {
  launch();
  m_inner.concat_columns(rows, na, a, nb, b, out);
}

void TracingBackend::tanh_gaussian_sample(int S, int B, int A, const float* head,
                                          const float* eps, float log_std_min, float log_std_max,
                                          float* action, int action_ld, int copies, float* logp) {
  launch();
  m_inner.tanh_gaussian_sample(S, B, A, head, eps, log_std_min, log_std_max, action, action_ld,
                               copies, logp);
}

void TracingBackend::tanh_gaussian_mean(int B, int A, const float* head, float* action) {
  launch();
  m_inner.tanh_gaussian_mean(B, A, head, action);
}

void TracingBackend::tanh_gaussian_backward(int B, int A, const float* head, const float* eps,
                                            const float* action, const float* grad_action,
                                            const float* d_log_alpha, float logp_scale,
                                            float log_std_min, float log_std_max,
                                            float* grad_head) {
  launch();
  m_inner.tanh_gaussian_backward(B, A, head, eps, action, grad_action, d_log_alpha, logp_scale,
                                 log_std_min, log_std_max, grad_head);
}

void TracingBackend::soft_targets(int E, int B, const float* q_target, const float* logp_next,
                                  const float* reward, const float* terminated, float gamma,
                                  const float* d_log_alpha, float* y) {
  launch();
  m_inner.soft_targets(E, B, q_target, logp_next, reward, terminated, gamma, d_log_alpha, y);
}

void TracingBackend::critic_loss(int E, int B, const float* q, const float* y, float* dq,
                                 float* loss) {
  launch();
  m_inner.critic_loss(E, B, q, y, dq, loss);
}

void TracingBackend::actor_loss(int E, int B, const float* q, const float* logp,
                                const float* d_log_alpha, float* dq, float* loss) {
  launch();
  m_inner.actor_loss(E, B, q, logp, d_log_alpha, dq, loss);
}

void TracingBackend::sum_member_columns(int E, int B, int width, int skip, int A,
                                        const float* dX, float* grad_action) {
  launch();
  m_inner.sum_member_columns(E, B, width, skip, A, dX, grad_action);
}

void TracingBackend::alpha_loss(int B, const float* logp, const float* d_log_alpha,
                                float target_entropy, float* grad, float* loss) {
  launch();
  m_inner.alpha_loss(B, logp, d_log_alpha, target_entropy, grad, loss);
}

void TracingBackend::critic_loss_soft_targets(int S, int C, int B, const float* q_target,
                                              const float* logp_next, const float* reward,
                                              const float* terminated, float gamma,
                                              const float* d_log_alpha, const float* q, float* y,
                                              float* dq, float* loss) {
  launch();
  m_inner.critic_loss_soft_targets(S, C, B, q_target, logp_next, reward, terminated, gamma,
                                   d_log_alpha, q, y, dq, loss);
}

void TracingBackend::actor_alpha_loss(int S, int C, int B, const float* q, const float* logp,
                                      const float* d_log_alpha, float target_entropy, float* dq,
                                      float* actor_loss, float* alpha_grad, float* alpha_loss) {
  launch();
  m_inner.actor_alpha_loss(S, C, B, q, logp, d_log_alpha, target_entropy, dq, actor_loss,
                           alpha_grad, alpha_loss);
}

void TracingBackend::tanh_gaussian_backward_critics(int S, int B, int A, const float* head,
                                                    const float* eps, const float* action,
                                                    int action_ld, size_t action_seed_stride,
                                                    int C, int width, int skip, const float* dX,
                                                    const float* d_log_alpha, float logp_scale,
                                                    float log_std_min, float log_std_max,
                                                    float* grad_head) {
  launch();
  m_inner.tanh_gaussian_backward_critics(S, B, A, head, eps, action, action_ld, action_seed_stride,
                                         C, width, skip, dX, d_log_alpha, logp_scale, log_std_min,
                                         log_std_max, grad_head);
}

void TracingBackend::adam_polyak(size_t n, float* online, const float* grads, float* m, float* v,
                                 float lr, float beta1, float beta2, float eps,
                                 const int64_t* d_step, float* target, float tau) {
  launch();
  m_inner.adam_polyak(n, online, grads, m, v, lr, beta1, beta2, eps, d_step, target, tau);
}

void TracingBackend::adam_multi(int count, const AdamTensor* tensors, float beta1, float beta2,
                                float eps, const int64_t* d_step) {
  launch();
  m_inner.adam_multi(count, tensors, beta1, beta2, eps, d_step);
}

void TracingBackend::sample_minibatch(int S, int B, int O, int A, int copies,
                                      const RingView* rings, const MinibatchDraws* draws,
                                      const MinibatchLayout& out) {
  launch();
  m_inner.sample_minibatch(S, B, O, A, copies, rings, draws, out);
}

void TracingBackend::adam(size_t n, float* params, const float* grads, float* m, float* v,
                          float lr, float beta1, float beta2, float eps, const int64_t* d_step) {
  launch();
  m_inner.adam(n, params, grads, m, v, lr, beta1, beta2, eps, d_step);
}

void TracingBackend::polyak(size_t n, float* target, const float* online, float tau) {
  launch();
  m_inner.polyak(n, target, online, tau);
}

void TracingBackend::increment(int64_t* d_counter) {
  launch();
  m_inner.increment(d_counter);
}

void TracingBackend::fill_normal(size_t n, uint64_t key, uint64_t stream,
                                 const int64_t* d_counter, float* out) {
  launch();
  m_inner.fill_normal(n, key, stream, d_counter, out);
}

void TracingBackend::fill_normal_seeds(int S, size_t n, const uint64_t* keys, uint64_t stream,
                                       const int64_t* d_counter, float* out) {
  launch();
  m_inner.fill_normal_seeds(S, n, keys, stream, d_counter, out);
}

void TracingBackend::sample_indices(int n, uint64_t key, uint64_t stream,
                                    const int64_t* d_counter, const int64_t* d_bound,
                                    int64_t* idx) {
  launch();
  m_inner.sample_indices(n, key, stream, d_counter, d_bound, idx);
}

void TracingBackend::gather_rows(int n, int dim, const float* src, const int64_t* idx,
                                 float* dst) {
  launch();
  m_inner.gather_rows(n, dim, src, idx, dst);
}

void TracingBackend::ring_insert(int n, int O, int A, const float* obs, const float* action,
                                 const StepTransitions& step, const RingStorage& ring) {
  launch();
  m_inner.ring_insert(n, O, A, obs, action, step, ring);
}

}  // namespace sac
