// backend.h: the SAC op set, as one interface with a CPU reference implementation and a CUDA
// implementation behind it. Every op takes a leading members dimension E (E independent
// networks of the same shape, stacked), works on memory the backend allocated, and never
// allocates itself. Matrices are row-major; a weight W of a layer is out x in (y = x W^T + b).
// The ops themselves are one list, backend_ops.h, from which every backend's methods come.
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

  /// Bytes of the ReLU bit-mask of a layer of `out` outputs (linear_forward's relu_mask): per
  /// member and row, `out` bits rounded up to a multiple of 128.
  static size_t relu_mask_bytes(int E, int B, int out) {
    return (size_t)E * B * (size_t)((out + 127) / 128 * 128) / 8;
  }

  /// The most seeds one op takes (their rings and keys travel as kernel arguments).
  static constexpr int kMaxSeeds = 32;

  // ---- the ops, one pure virtual method each: their list and documentation is backend_ops.h
#define SAC_BACKEND_OP(name, params, args) virtual void name params = 0;
#include "sac/backend_ops.h"
#undef SAC_BACKEND_OP

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
