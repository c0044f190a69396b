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

/// Which backend to build: "cpu", "cuda", or "auto" (cuda when a device is present).
std::string resolve_device(const std::string& device);

/// True when a CUDA device is usable (false on machines without a driver or GPU).
bool cuda_device_available();

/// A recorded, fixed sequence of ops that can be rerun cheaply.
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

  /// Records the ops that `work` issues without running them; replay() runs them. The CUDA
  /// backend captures them once as a CUDA graph (so `work` must not allocate or synchronise);
  /// this default keeps `work` and calls it on each replay.
  virtual std::unique_ptr<RecordedOps> record(std::function<void()> work);

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

  // ---- networks
  /// Y[e] = act(X[e] W[e]^T + b[e]) for e < E; X[e] starts at X + e * x_member_stride
  /// (stride 0 feeds the same input to every member). X: B x in, W: out x in, Y: B x out.
  virtual void linear_forward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                              const float* W, const float* b, float* Y, Activation act) = 0;

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
  /// Reparameterised sample a = tanh(mean + exp(log_std) eps) and its log-density.
  virtual void tanh_gaussian_sample(int B, int A, const float* head, const float* eps,
                                    float log_std_min, float log_std_max, float* action,
                                    float* logp) = 0;
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
  /// idx[i] = uniform integer in [0, *d_bound) number (*d_counter * n + i) of (key, stream).
  virtual void sample_indices(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                              const int64_t* d_bound, int64_t* idx) = 0;

  // ---- replay
  /// dst[i] = src[idx[i]] for i < n; rows are `dim` floats.
  virtual void gather_rows(int n, int dim, const float* src, const int64_t* idx, float* dst) = 0;
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
