// tracing_backend.h: a Backend that forwards every op to another backend and measures the shape
// of what was issued: launches (each device op is one launch on the CUDA backend: a GEMM with
// its epilogue, a fused kernel, a copy) and the critical path, the longest chain of launches
// that must run one after another given the lanes (ops of one lane in order; fork and join
// add the edges between lanes). `sac bench update` prints both for one update, and
// tests/test_update_shape.cpp keeps them within their bounds. It also counts the host-device
// traffic (every transfer and every host wait), which tests/test_step_traffic.cpp holds to one
// observation upload, one transition upload and one action download per batch step.
#pragma once
#include <array>
#include <string>

#include "sac/backend.h"

namespace sac {

/// Host-device traffic counted by TracingBackend since its last reset().
struct Traffic {
  int uploads = 0, downloads = 0;              // blocking copies
  int async_uploads = 0, async_downloads = 0;  // queued copies
  int lane_waits = 0, synchronizes = 0;        // host waits
};

class TracingBackend final : public Backend {
 public:
  explicit TracingBackend(Backend& inner) : m_inner(inner) {}

  /// Launches since the last reset().
  int launches() const { return m_launches; }
  /// The longest dependent chain of launches since the last reset(), over every lane.
  int critical_path() const;
  const Traffic& traffic() const { return m_traffic; }
  /// Clears the launch count, the critical path and the traffic.
  void reset();

  std::string name() const override { return m_inner.name(); }
  bool runs_in_issue_order() const override { return m_inner.runs_in_issue_order(); }
  // memory and transfers: forwarded, not launches of the update
  void* allocate(size_t bytes) override { return m_inner.allocate(bytes); }
  void release(void* ptr) override { m_inner.release(ptr); }
  void* allocate_host(size_t bytes) override { return m_inner.allocate_host(bytes); }
  void release_host(void* ptr) override { m_inner.release_host(ptr); }
  void upload(void* dst, const void* src, size_t bytes) override {
    ++m_traffic.uploads;
    m_inner.upload(dst, src, bytes);
  }
  void download(void* dst, const void* src, size_t bytes) override {
    ++m_traffic.downloads;
    m_inner.download(dst, src, bytes);
  }
  void upload_async(void* dst, const void* src, size_t bytes) override {
    ++m_traffic.async_uploads;
    m_inner.upload_async(dst, src, bytes);
  }
  void download_async(void* dst, const void* src, size_t bytes) override {
    ++m_traffic.async_downloads;
    m_inner.download_async(dst, src, bytes);
  }
  void wait_lane(int lane) override {
    ++m_traffic.lane_waits;
    m_inner.wait_lane(lane);
  }
  void synchronize() override {
    ++m_traffic.synchronizes;
    m_inner.synchronize();
  }
  void copy(void* dst, const void* src, size_t bytes) override;

  void fork(int lane) override;
  void set_lane(int lane) override;
  void join(int lane) override;
  void set_matmul_precision(MatmulPrecision precision) override;

  void linear_forward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                      const float* W, const float* b, float* Y, Activation act,
                      uint32_t* relu_mask) override;
  void linear_grad_weights(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                           const float* dZ, float* dW, float* db) override;
  void linear_grad_input(int E, int B, int in, int out, const float* dZ, const float* W,
                         Activation x_act, const float* X_relu, const uint32_t* relu_mask,
                         float* dX) override;
  void linear_backward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                       const float* W, const float* Y, float* dY, float* dX, float* dW, float* db,
                       Activation act) override;
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
  void increment(int64_t* d_counter) override;
  void fill_normal(size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                   float* out) override;
  void fill_normal_seeds(int S, size_t n, const uint64_t* keys, uint64_t stream,
                         const int64_t* d_counter, float* out) override;
  void sample_indices(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                      const int64_t* d_bound, int64_t* idx) override;
  void gather_rows(int n, int dim, const float* src, const int64_t* idx, float* dst) override;
  void ring_insert(int n, int O, int A, const float* obs, const float* action,
                   const StepTransitions& step, const RingStorage& ring) override;

 private:
  // one launch on the current lane: one more link in its chain
  void launch();

  Backend& m_inner;
  int m_launches = 0;
  Traffic m_traffic;
  std::array<int, kMaxLanes> m_depth{};  // longest chain ending at each lane's latest launch
};

}  // namespace sac
