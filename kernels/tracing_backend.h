// tracing_backend.h: a Backend that forwards every op to another backend and measures the shape
// of what was issued: launches (each device op is one launch on the CUDA backend: a GEMM with
// its epilogue, a fused kernel, a copy) and the critical path, the longest chain of launches
// that must run one after another given the lanes (ops of one lane in order; fork and join
// add the edges between lanes). `sac bench update` prints both for one update, and
// tests/test_update_shape.cpp keeps them within their bounds. It also counts the host-device
// traffic (every transfer and every host wait), which tests/test_step_traffic.cpp holds to one
// observation upload, one transition upload and one action download per batch step. And it
// checks lane hazards (lane_hazards.h): every op declares the bytes it reads and writes (from its
// arguments and shapes, as backend.h states them), and two ops on different lanes that touch the
// same bytes, one writing, with no fork, join or host wait ordering them are reported
// (hazards()); tests/test_lane_hazards.cpp runs it over the update, acting and ring insert.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lane_hazards.h"
#include "sac/backend.h"

namespace sac {

/// Host-device traffic counted by TracingBackend since its last reset().
struct Traffic {
  int uploads = 0, downloads = 0;              // blocking copies
  int async_uploads = 0, async_downloads = 0;  // queued copies
  int lane_waits = 0, synchronizes = 0;        // host waits
};

/// What a TracingBackend checks besides counting.
struct TracingOptions {
  /// Check lane hazards (lane_hazards.h); hazards() reports them.
  bool check_hazards = true;
  /// Throw LaneHazardError at the first hazard, from the op that completes it (before it runs).
  bool throw_on_hazard = false;
  /// Answer runs_in_issue_order() with false whatever the inner backend says, so the engine
  /// issues what it issues for a backend whose lanes run concurrently (CUDA): on the CPU the
  /// agent otherwise lets acting read the live actor (nothing runs beside anything), a shortcut
  /// whose ordering only in-issue-order execution gives. The results stay the CPU's.
  bool concurrent_lanes = false;
};

class TracingBackend final : public Backend {
 public:
  explicit TracingBackend(Backend& inner, TracingOptions options = {});

  /// Launches since the last reset().
  int launches() const { return m_launches; }
  /// The longest dependent chain of launches since the last reset(), over every lane.
  int critical_path() const;
  const Traffic& traffic() const { return m_traffic; }
  /// Clears the launch count, the critical path and the traffic (not the hazards, nor what the
  /// hazard check knows of the ops so far: memory ordering does not restart with a count).
  void reset();

  /// The lane hazards found so far (the first LaneHazardCheck::kMaxStored), and how many in all.
  std::vector<LaneHazard> hazards() const { return m_check.hazards(); }
  uint64_t hazard_count() const { return m_check.hazard_count(); }
  /// Forgets the hazards found so far (the ops seen stay known).
  void clear_hazards() { m_check.clear_hazards(); }
  /// Ops the hazard check saw on `lane` (replayed ones on the lane they were issued on), and
  /// inside recorded ops: tests assert on them so that no check passes by seeing nothing.
  uint64_t ops_on_lane(int lane) const { return m_check.ops_on_lane(lane); }
  uint64_t recorded_ops() const { return m_check.recorded_ops(); }
  uint64_t checked_ops() const { return m_check.ops(); }
  /// Accesses the hazard check keeps for later ops (bounded by the buffers, not the ops).
  size_t kept_accesses() const { return m_check.kept(); }

  std::string name() const override { return m_inner.name(); }
  bool runs_in_issue_order() const override {
    return !m_options.concurrent_lanes && m_inner.runs_in_issue_order();
  }
  /// Keeps `work` and calls it on each replay (Backend's default), each replay checked as one
  /// CUDA graph launched on the current lane at record time (lane_hazards.h).
  std::unique_ptr<RecordedOps> record(std::function<void()> work) override;
  // memory and transfers: not launches of the update. The blocking transfers run on lane 0 and
  // wait for it, as the CUDA backend's do; the queued ones run on the current lane.
  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void* allocate_host(size_t bytes) override;
  void release_host(void* ptr) override;
  void upload(void* dst, const void* src, size_t bytes) override;
  void download(void* dst, const void* src, size_t bytes) override;
  void upload_async(void* dst, const void* src, size_t bytes) override;
  void download_async(void* dst, const void* src, size_t bytes) override;
  void wait_lane(int lane) override;
  void synchronize() override;
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
  class Recording;
  class Accesses;

  // one launch on the current lane: one more link in its chain
  void launch();
  // the hazard check of one op on `lane` (no-op when hazards are not checked)
  void check(int lane, const char* op, const Accesses& accesses);
  void check(const char* op, const Accesses& accesses) { check(lane(), op, accesses); }
  // bytes from p to the end of its allocation, or `fallback` when p is in no allocation this
  // backend made (rows at indices known only on the device)
  size_t extent(const void* p, size_t fallback) const;

  Backend& m_inner;
  TracingOptions m_options;
  LaneHazardCheck m_check;
  int m_launches = 0;
  Traffic m_traffic;
  std::array<int, kMaxLanes> m_depth{};  // longest chain ending at each lane's latest launch
};

}  // namespace sac
