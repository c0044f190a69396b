// tracing_backend.cpp: see tracing_backend.h. Each op counts its launches and declares, for the
// lane hazard check, the bytes it reads and writes as backend.h states them: rows of device
// memory that an op reads at indices drawn on the device (sample_minibatch's rings, gather_rows'
// source) are the rest of their allocation, and ring_insert writes anywhere in its ring. Host
// arrays an op takes (fill_normal_seeds' keys, adam_multi's tensors, sample_minibatch's rings and
// draws) travel as kernel arguments, read at issue: not memory the op touches when it runs.
#include "tracing_backend.h"

#include <algorithm>

namespace sac {
namespace {

constexpr size_t F(size_t n) { return n * sizeof(float); }
constexpr size_t I64(size_t n) { return n * sizeof(int64_t); }

}  // namespace

// the memory accesses of one op, as the hazard check takes them
class TracingBackend::Accesses {
 public:
  // the launches the op makes on the CUDA backend (1 unless set)
  Accesses& launches(int n) {
    m_launches = n;
    return *this;
  }
  int launches() const { return m_launches; }
  Accesses& read(const void* p, size_t bytes, const char* arg) {
    return add(MemRange::bytes(p, bytes), false, arg);
  }
  Accesses& write(const void* p, size_t bytes, const char* arg) {
    return add(MemRange::bytes(p, bytes), true, arg);
  }
  // `rows` runs of `width` bytes, `stride` bytes apart (members at a member stride, the columns
  // of a row-major matrix)
  Accesses& read_rows(const void* p, size_t rows, size_t width, size_t stride, const char* arg) {
    return add(MemRange::strided(p, rows, width, stride), false, arg);
  }
  Accesses& write_rows(const void* p, size_t rows, size_t width, size_t stride, const char* arg) {
    return add(MemRange::strided(p, rows, width, stride), true, arg);
  }
  const std::vector<MemAccess>& list() const { return m_list; }

 private:
  Accesses& add(const MemRange& range, bool write, const char* arg) {
    if (!range.empty()) m_list.push_back({range, write, arg});
    return *this;
  }
  std::vector<MemAccess> m_list;
  int m_launches = 1;
};

// recorded ops: Backend's default (the closure, called again on each replay), each replay
// bracketed for the hazard check as one graph launched on the lane of record time
class TracingBackend::Recording final : public RecordedOps {
 public:
  Recording(TracingBackend& tracer, std::unique_ptr<RecordedOps> ops, int lane)
      : m_tracer(tracer), m_ops(std::move(ops)), m_lane(lane) {}
  void replay() override {
    if (!m_tracer.m_options.check_hazards) {
      m_ops->replay();
      return;
    }
    m_tracer.m_check.begin_replay(m_lane);
    try {
      m_ops->replay();
    } catch (...) {
      m_tracer.m_check.end_replay(true);
      throw;
    }
    m_tracer.m_check.end_replay();
  }

 private:
  TracingBackend& m_tracer;
  std::unique_ptr<RecordedOps> m_ops;
  int m_lane;
};

TracingBackend::TracingBackend(Backend& inner, TracingOptions options)
    : m_inner(inner), m_options(options) {
  m_check.set_throw_on_hazard(options.throw_on_hazard);
}

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

void TracingBackend::check(int lane, const char* op, const Accesses& accesses) {
  if (!m_options.check_hazards) return;
  m_check.op(lane, op, accesses.list().data(), accesses.list().size());
}

size_t TracingBackend::extent(const void* p, size_t fallback) const {
  const size_t n = m_check.bytes_to_end(p);
  return n ? n : fallback;
}

std::unique_ptr<RecordedOps> TracingBackend::record(std::function<void()> work) {
  return std::make_unique<Recording>(*this, Backend::record(std::move(work)), lane());
}

void TracingBackend::fork(int lane) {
  Backend::fork(lane);
  m_depth[lane] = std::max(m_depth[lane], m_depth[this->lane()]);
  if (m_options.check_hazards) m_check.fork(this->lane(), lane);
  m_inner.fork(lane);
}

void TracingBackend::set_lane(int lane) {
  Backend::set_lane(lane);
  m_inner.set_lane(lane);
}

void TracingBackend::join(int lane) {
  Backend::join(lane);
  m_depth[this->lane()] = std::max(m_depth[this->lane()], m_depth[lane]);
  if (m_options.check_hazards) m_check.join(this->lane(), lane);
  m_inner.join(lane);
}

void TracingBackend::set_matmul_precision(MatmulPrecision precision) {
  Backend::set_matmul_precision(precision);
  m_inner.set_matmul_precision(precision);
}

// ---- memory and transfers

void* TracingBackend::allocate(size_t bytes) {
  void* p = m_inner.allocate(bytes);
  if (m_options.check_hazards) m_check.allocated(p, bytes);
  return p;
}

void TracingBackend::release(void* ptr) {
  if (m_options.check_hazards) m_check.released(ptr);
  m_inner.release(ptr);
}

void* TracingBackend::allocate_host(size_t bytes) {
  void* p = m_inner.allocate_host(bytes);
  if (m_options.check_hazards) m_check.allocated(p, bytes);
  return p;
}

void TracingBackend::release_host(void* ptr) {
  if (m_options.check_hazards) m_check.released(ptr);
  m_inner.release_host(ptr);
}

void TracingBackend::upload(void* dst, const void* src, size_t bytes) {
  ++m_traffic.uploads;
  check(0, "upload", Accesses().read(src, bytes, "host_src").write(dst, bytes, "dst"));
  m_inner.upload(dst, src, bytes);
  if (m_options.check_hazards) m_check.host_wait(0);
}

void TracingBackend::download(void* dst, const void* src, size_t bytes) {
  ++m_traffic.downloads;
  check(0, "download", Accesses().read(src, bytes, "src").write(dst, bytes, "host_dst"));
  m_inner.download(dst, src, bytes);
  if (m_options.check_hazards) m_check.host_wait(0);
}

void TracingBackend::upload_async(void* dst, const void* src, size_t bytes) {
  ++m_traffic.async_uploads;
  check("upload_async", Accesses().read(src, bytes, "host_src").write(dst, bytes, "dst"));
  m_inner.upload_async(dst, src, bytes);
}

void TracingBackend::download_async(void* dst, const void* src, size_t bytes) {
  ++m_traffic.async_downloads;
  check("download_async", Accesses().read(src, bytes, "src").write(dst, bytes, "host_dst"));
  m_inner.download_async(dst, src, bytes);
}

void TracingBackend::wait_lane(int lane) {
  ++m_traffic.lane_waits;
  m_inner.wait_lane(lane);
  if (m_options.check_hazards) m_check.host_wait(lane);
}

void TracingBackend::synchronize() {
  ++m_traffic.synchronizes;
  m_inner.synchronize();
  if (m_options.check_hazards) m_check.host_wait_all();
}

void TracingBackend::copy(void* dst, const void* src, size_t bytes) {
  launch();
  check("copy", Accesses().read(src, bytes, "src").write(dst, bytes, "dst"));
  m_inner.copy(dst, src, bytes);
}

// ---- the ops: each entry of backend_ops.h counts its launches and declares its accesses (below),
// then forwards to the traced backend

#define SAC_BACKEND_OP(name, params, args)                          \
  void TracingBackend::name params {                                \
    const Accesses accesses = name##_accesses args;                 \
    for (int i = 0; i < accesses.launches(); ++i) launch();         \
    check(#name, accesses);                                         \
    m_inner.name args;                                              \
  }
#include "sac/backend_ops.h"
#undef SAC_BACKEND_OP

// ---- what each op reads and writes, as backend_ops.h states it (each function takes the op's
// whole parameter list; most read only the pointers and shapes)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"

TracingBackend::Accesses TracingBackend::linear_forward_accesses(
    int E, int B, int in, int out, const float* X, size_t x_member_stride, const float* W,
    const float* b, float* Y, Activation act, uint32_t* relu_mask) const {
  return Accesses()
      .read_rows(X, E, F((size_t)B * in), F(x_member_stride), "X")
      .read(W, F((size_t)E * out * in), "W")
      .read(b, F((size_t)E * out), "b")
      .write(Y, F((size_t)E * B * out), "Y")
      .write(relu_mask, relu_mask ? relu_mask_bytes(E, B, out) : 0, "relu_mask");
}

TracingBackend::Accesses TracingBackend::linear_grad_weights_accesses(int E, int B, int in, int out,
                                                                      const float* X,
                                                                      size_t x_member_stride,
                                                                      const float* dZ, float* dW,
                                                                      float* db) const {
  return Accesses()
      .read_rows(X, E, F((size_t)B * in), F(x_member_stride), "X")
      .read(dZ, F((size_t)E * B * out), "dZ")
      .write(dW, F((size_t)E * out * in), "dW")
      .write(db, F((size_t)E * out), "db");
}

TracingBackend::Accesses TracingBackend::linear_grad_input_accesses(
    int E, int B, int in, int out, const float* dZ, const float* W, Activation x_act,
    const float* X_relu, const uint32_t* relu_mask, float* dX) const {
  const bool relu = x_act == Activation::kRelu;
  return Accesses()
      .read(dZ, F((size_t)E * B * out), "dZ")
      .read(W, F((size_t)E * out * in), "W")
      .read(relu ? X_relu : nullptr, F((size_t)E * B * in), "X_relu")
      .read(relu ? relu_mask : nullptr, relu_mask_bytes(E, B, in), "relu_mask")
      .write(dX, F((size_t)E * B * in), "dX");
}

TracingBackend::Accesses TracingBackend::linear_backward_accesses(
    int E, int B, int in, int out, const float* X, size_t x_member_stride, const float* W,
    const float* Y, float* dY, float* dX, float* dW, float* db, Activation act) const {
  // the unfused reference op: mask, dX GEMM, dW GEMM, bias gradient
  return Accesses()
      .launches(4)
      .read_rows(X, E, F((size_t)B * in), F(x_member_stride), "X")
      .read(W, F((size_t)E * out * in), "W")
      .read(Y, F((size_t)E * B * out), "Y")
      .write(dY, F((size_t)E * B * out), "dY")
      .write(dX, F((size_t)E * B * in), "dX")
      .write(dW, F((size_t)E * out * in), "dW")
      .write(db, F((size_t)E * out), "db");
}

TracingBackend::Accesses TracingBackend::concat_columns_accesses(int rows, int na, const float* a,
                                                                 int nb, const float* b,
                                                                 float* out) const {
  return Accesses()
      .read(a, F((size_t)rows * na), "a")
      .read(b, F((size_t)rows * nb), "b")
      .write(out, F((size_t)rows * (na + nb)), "out");
}

TracingBackend::Accesses TracingBackend::tanh_gaussian_sample_accesses(
    int S, int B, int A, const float* head, const float* eps, float log_std_min, float log_std_max,
    float* action, int action_ld, int copies, float* logp) const {
  // row r of seed s, copy c at action + ((s * copies + c) * B + r) * action_ld: one strided run
  return Accesses()
      .read(head, F((size_t)S * B * 2 * A), "head")
      .read(eps, F((size_t)S * B * A), "eps")
      .write_rows(action, (size_t)S * copies * B, F(A), F(action_ld), "action")
      .write(logp, F((size_t)S * B), "logp");
}

TracingBackend::Accesses TracingBackend::tanh_gaussian_mean_accesses(int B, int A,
                                                                     const float* head,
                                                                     float* action) const {
  return Accesses()
      .read(head, F((size_t)B * 2 * A), "head")
      .write(action, F((size_t)B * A), "action");
}

TracingBackend::Accesses TracingBackend::tanh_gaussian_backward_accesses(
    int B, int A, const float* head, const float* eps, const float* action,
    const float* grad_action, const float* d_log_alpha, float logp_scale, float log_std_min,
    float log_std_max, float* grad_head) const {
  return Accesses()
      .read(head, F((size_t)B * 2 * A), "head")
      .read(eps, F((size_t)B * A), "eps")
      .read(action, F((size_t)B * A), "action")
      .read(grad_action, F((size_t)B * A), "grad_action")
      .read(d_log_alpha, F(1), "d_log_alpha")
      .write(grad_head, F((size_t)B * 2 * A), "grad_head");
}

TracingBackend::Accesses TracingBackend::soft_targets_accesses(
    int E, int B, const float* q_target, const float* logp_next, const float* reward,
    const float* terminated, float gamma, const float* d_log_alpha, float* y) const {
  return Accesses()
      .read(q_target, F((size_t)E * B), "q_target")
      .read(logp_next, F(B), "logp_next")
      .read(reward, F(B), "reward")
      .read(terminated, F(B), "terminated")
      .read(d_log_alpha, F(1), "d_log_alpha")
      .write(y, F(B), "y");
}

TracingBackend::Accesses TracingBackend::critic_loss_accesses(int E, int B, const float* q,
                                                              const float* y, float* dq,
                                                              float* loss) const {
  return Accesses()
      .read(q, F((size_t)E * B), "q")
      .read(y, F(B), "y")
      .write(dq, F((size_t)E * B), "dq")
      .write(loss, F(1), "loss");
}

TracingBackend::Accesses TracingBackend::actor_loss_accesses(int E, int B, const float* q,
                                                             const float* logp,
                                                             const float* d_log_alpha, float* dq,
                                                             float* loss) const {
  return Accesses()
      .read(q, F((size_t)E * B), "q")
      .read(logp, F(B), "logp")
      .read(d_log_alpha, F(1), "d_log_alpha")
      .write(dq, F((size_t)E * B), "dq")
      .write(loss, F(1), "loss");
}

TracingBackend::Accesses TracingBackend::sum_member_columns_accesses(int E, int B, int width,
                                                                     int skip, int A,
                                                                     const float* dX,
                                                                     float* grad_action) const {
  return Accesses()
      .read_rows(dX ? dX + skip : nullptr, (size_t)E * B, F(A), F(width), "dX")
      .write(grad_action, F((size_t)B * A), "grad_action");
}

TracingBackend::Accesses TracingBackend::alpha_loss_accesses(int B, const float* logp,
                                                             const float* d_log_alpha,
                                                             float target_entropy, float* grad,
                                                             float* loss) const {
  return Accesses()
      .read(logp, F(B), "logp")
      .read(d_log_alpha, F(1), "d_log_alpha")
      .write(grad, F(1), "grad")
      .write(loss, F(1), "loss");
}

TracingBackend::Accesses TracingBackend::critic_loss_soft_targets_accesses(
    int S, int C, int B, const float* q_target, const float* logp_next, const float* reward,
    const float* terminated, float gamma, const float* d_log_alpha, const float* q, float* y,
    float* dq, float* loss) const {
  return Accesses()
      .read(q_target, F((size_t)S * C * B), "q_target")
      .read(logp_next, F((size_t)S * B), "logp_next")
      .read(reward, F((size_t)S * B), "reward")
      .read(terminated, F((size_t)S * B), "terminated")
      .read(d_log_alpha, F(S), "d_log_alpha")
      .read(q, F((size_t)S * C * B), "q")
      .write(y, F((size_t)S * B), "y")
      .write(dq, F((size_t)S * C * B), "dq")
      .write(loss, F(S), "loss");
}

TracingBackend::Accesses TracingBackend::actor_alpha_loss_accesses(
    int S, int C, int B, const float* q, const float* logp, const float* d_log_alpha,
    float target_entropy, float* dq, float* actor_loss, float* alpha_grad,
    float* alpha_loss) const {
  return Accesses()
      .read(q, F((size_t)S * C * B), "q")
      .read(logp, F((size_t)S * B), "logp")
      .read(d_log_alpha, F(S), "d_log_alpha")
      .write(dq, F((size_t)S * C * B), "dq")
      .write(actor_loss, F(S), "actor_loss")
      .write(alpha_grad, F(S), "alpha_grad")
      .write(alpha_loss, F(S), "alpha_loss");
}

TracingBackend::Accesses TracingBackend::tanh_gaussian_backward_critics_accesses(
    int S, int B, int A, const float* head, const float* eps, const float* action, int action_ld,
    size_t action_seed_stride, int C, int width, int skip, const float* dX,
    const float* d_log_alpha, float logp_scale, float log_std_min, float log_std_max,
    float* grad_head) const {
  Accesses a;
  a.read(head, F((size_t)S * B * 2 * A), "head").read(eps, F((size_t)S * B * A), "eps");
  // seed s's action rows: B rows of A floats, action_ld apart, from action + s * seed stride
  if (action_seed_stride == (size_t)B * action_ld)
    a.read_rows(action, (size_t)S * B, F(A), F(action_ld), "action");
  else
    for (int s = 0; s < S; ++s)
      a.read_rows(action ? action + s * action_seed_stride : nullptr, B, F(A), F(action_ld),
                  "action");
  a.read_rows(dX ? dX + skip : nullptr, (size_t)S * C * B, F(A), F(width), "dX")
      .read(d_log_alpha, F(S), "d_log_alpha")
      .write(grad_head, F((size_t)S * B * 2 * A), "grad_head");
  return a;
}

TracingBackend::Accesses TracingBackend::adam_polyak_accesses(
    size_t n, float* online, const float* grads, float* m, float* v, float lr, float beta1,
    float beta2, float eps, const int64_t* d_step, float* target, float tau) const {
  return Accesses()
      .write(online, F(n), "online")
      .read(grads, F(n), "grads")
      .write(m, F(n), "m")
      .write(v, F(n), "v")
      .read(d_step, I64(1), "d_step")
      .write(target, F(n), "target");
}

TracingBackend::Accesses TracingBackend::adam_multi_accesses(int count, const AdamTensor* tensors,
                                                             float beta1, float beta2, float eps,
                                                             const int64_t* d_step) const {
  Accesses a;
  for (int i = 0; i < count; ++i) {
    const AdamTensor& t = tensors[i];
    a.write(t.params, F(t.n), "params").read(t.grads, F(t.n), "grads");
    a.write(t.m, F(t.n), "m").write(t.v, F(t.n), "v");
  }
  a.read(d_step, I64(1), "d_step");
  return a;
}

TracingBackend::Accesses TracingBackend::sample_minibatch_accesses(
    int S, int B, int O, int A, int copies, const RingView* rings, const MinibatchDraws* draws,
    const MinibatchLayout& out) const {
  // each seed's ring rows are drawn on the device: the whole ring (to the end of each array)
  Accesses a;
  for (int s = 0; s < S; ++s) {
    const RingView& r = rings[s];
    a.read(r.obs, extent(r.obs, F(O)), "ring.obs");
    a.read(r.action, extent(r.action, F(A)), "ring.action");
    a.read(r.reward, extent(r.reward, F(1)), "ring.reward");
    a.read(r.next_obs, extent(r.next_obs, F(O)), "ring.next_obs");
    a.read(r.terminated, extent(r.terminated, F(1)), "ring.terminated");
    a.read(r.d_size, I64(1), "ring.d_size");
    a.read(draws[s].d_counter, I64(1), "draws.d_counter");
  }
  const size_t rows = (size_t)S * B, critic_rows = rows * copies, W = (size_t)O + A;
  a.write(out.indices, I64(rows), "out.indices")
      .write(out.obs, F(rows * O), "out.obs")
      .write(out.next_obs, F(rows * O), "out.next_obs")
      .write(out.critic_in, F(critic_rows * W), "out.critic_in")
      .write_rows(out.critic_in_pi, critic_rows, F(O), F(W), "out.critic_in_pi")
      .write_rows(out.target_in, critic_rows, F(O), F(W), "out.target_in")
      .write(out.reward, F(rows), "out.reward")
      .write(out.terminated, F(rows), "out.terminated")
      .write(out.eps_next, F(rows * A), "out.eps_next")
      .write(out.eps_cur, F(rows * A), "out.eps_cur");
  return a;
}

TracingBackend::Accesses TracingBackend::adam_accesses(size_t n, float* params, const float* grads,
                                                       float* m, float* v, float lr, float beta1,
                                                       float beta2, float eps,
                                                       const int64_t* d_step) const {
  return Accesses()
      .write(params, F(n), "params")
      .read(grads, F(n), "grads")
      .write(m, F(n), "m")
      .write(v, F(n), "v")
      .read(d_step, I64(1), "d_step");
}

TracingBackend::Accesses TracingBackend::polyak_accesses(size_t n, float* target,
                                                         const float* online, float tau) const {
  return Accesses().write(target, F(n), "target").read(online, F(n), "online");
}

TracingBackend::Accesses TracingBackend::increment_accesses(int64_t* d_counter) const {
  return Accesses().write(d_counter, I64(1), "d_counter");
}

TracingBackend::Accesses TracingBackend::fill_normal_accesses(size_t n, uint64_t key,
                                                              uint64_t stream,
                                                              const int64_t* d_counter,
                                                              float* out) const {
  return Accesses().read(d_counter, I64(1), "d_counter").write(out, F(n), "out");
}

TracingBackend::Accesses TracingBackend::fill_normal_seeds_accesses(int S, size_t n,
                                                                    const uint64_t* keys,
                                                                    uint64_t stream,
                                                                    const int64_t* d_counter,
                                                                    float* out) const {
  return Accesses().read(d_counter, I64(1), "d_counter").write(out, F((size_t)S * n), "out");
}

TracingBackend::Accesses TracingBackend::sample_indices_accesses(int n, uint64_t key,
                                                                 uint64_t stream,
                                                                 const int64_t* d_counter,
                                                                 const int64_t* d_bound,
                                                                 int64_t* idx) const {
  return Accesses()
      .read(d_counter, I64(1), "d_counter")
      .read(d_bound, I64(1), "d_bound")
      .write(idx, I64(n), "idx");
}

TracingBackend::Accesses TracingBackend::gather_rows_accesses(int n, int dim, const float* src,
                                                              const int64_t* idx,
                                                              float* dst) const {
  // the rows read are idx's, known only on the device: the source to the end of its allocation
  return Accesses()
      .read(idx, I64(n), "idx")
      .read(src, extent(src, F(dim)), "src")
      .write(dst, F((size_t)n * dim), "dst");
}

TracingBackend::Accesses TracingBackend::ring_insert_accesses(int n, int O, int A, const float* obs,
                                                              const float* action,
                                                              const StepTransitions& step,
                                                              const RingStorage& ring) const {
  // the rows written start at the head kept on the device: anywhere in the ring
  const size_t cap = (size_t)ring.capacity;
  return Accesses()
      .read(obs, F((size_t)n * O), "obs")
      .read(action, F((size_t)n * A), "action")
      .read(step.reward, F(n), "step.reward")
      .read(step.terminated, F(n), "step.terminated")
      .read(step.keep, F(n), "step.keep")
      .read(step.next_obs, F((size_t)n * O), "step.next_obs")
      .write(ring.d_head_size, I64(2), "ring.d_head_size")
      .write(ring.obs, F(cap * O), "ring.obs")
      .write(ring.action, F(cap * A), "ring.action")
      .write(ring.reward, F(cap), "ring.reward")
      .write(ring.next_obs, F(cap * O), "ring.next_obs")
      .write(ring.terminated, F(cap), "ring.terminated");
}

TracingBackend::Accesses TracingBackend::subset_min_accesses(int E, int N, int M, int B,
                                                             bool per_row, const float* q,
                                                             const uint64_t* keys, uint64_t stream,
                                                             const int64_t* d_counter, float* q_min,
                                                             int32_t* chosen) const {
  const size_t subsets = (size_t)E * (per_row ? B : 1) * M;
  return Accesses()
      .read(d_counter, I64(1), "d_counter")
      .read(q, F((size_t)E * N * B), "q")
      .write(q_min, F((size_t)E * B), "q_min")
      .write(chosen, chosen ? subsets * sizeof(int32_t) : 0, "chosen");
}

TracingBackend::Accesses TracingBackend::batch_renorm_forward_accesses(
    int E, int B, int W, bool training, const BatchRenormConfig& config, const int64_t* d_steps,
    const float* x, const float* scale, const float* bias, float* running_mean, float* running_var,
    float* stats, float* y) const {
  const size_t features = (size_t)E * W, elements = (size_t)E * B * W;
  Accesses accesses;
  accesses.read(x, F(elements), "x")
      .read(scale, F(features), "scale")
      .read(bias, F(features), "bias")
      .write(stats, F(features * 4), "stats")
      .write(y, F(elements), "y");
  // training reads and moves the running statistics; inference only reads them
  if (training)
    accesses.read(d_steps, I64(1), "d_steps")
        .write(running_mean, F(features), "running_mean")
        .write(running_var, F(features), "running_var");
  else
    accesses.read(running_mean, F(features), "running_mean")
        .read(running_var, F(features), "running_var");
  return accesses;
}

TracingBackend::Accesses TracingBackend::batch_renorm_backward_accesses(
    int E, int B, int W, bool training, float eps, const float* x, const float* scale,
    const float* stats, const float* dy, float* dx, float* dscale, float* dbias) const {
  const size_t features = (size_t)E * W, elements = (size_t)E * B * W;
  return Accesses()
      .read(x, F(elements), "x")
      .read(scale, F(features), "scale")
      .read(stats, F(features * 4), "stats")
      .read(dy, F(elements), "dy")
      .write(dx, F(elements), "dx")
      .write(dscale, F(features), "dscale")
      .write(dbias, F(features), "dbias");
}

TracingBackend::Accesses TracingBackend::quantile_huber_loss_accesses(
    int E, int B, int N, int M, int K, float kappa, const float* current, const float* target,
    float* dcurrent, float* row_loss, float* loss) const {
  const size_t rows = (size_t)E * B, quantiles = rows * N * M;
  // the rows' kernel, then the members'
  return Accesses()
      .launches(2)
      .read(current, F(quantiles), "current")
      .read(target, F(rows * K), "target")
      .write(dcurrent, F(quantiles), "dcurrent")
      .write(row_loss, F(rows), "row_loss")
      .write(loss, F(E), "loss");
}

TracingBackend::Accesses TracingBackend::sort_truncate_atoms_accesses(int rows, int atoms, int keep,
                                                                      const float* pooled,
                                                                      float* kept) const {
  return Accesses()
      .read(pooled, F((size_t)rows * atoms), "pooled")
      .write(kept, F((size_t)rows * keep), "kept");
}

#pragma GCC diagnostic pop

}  // namespace sac
