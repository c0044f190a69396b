// cuda_backend.cu: the CUDA backend itself: its streams (one per lane) with their cuBLAS
// handles and workspaces, fork and join between lanes, memory and transfers, CUDA graphs for
// recorded ops, and the dispatch of every op of sac/backend_ops.h to its family's launcher
// (linear.h, tanh_gaussian.h, sac_losses.h, optimizer.h, sampling.h, ...), where the kernels
// live beside their CPU twins. increment, the one op without a family, lives here.
//
// Everything runs on the backend's own non-blocking streams. Ops never allocate, never
// synchronise and never read device scalars (log-alpha, step and RNG counters, replay bound)
// on the host, so a whole update can be captured into a CUDA graph and replayed; only
// allocate/upload/download/synchronize wait for the stream.
//
// Determinism: no float atomics anywhere. Bias gradients and losses are reduced along a fixed
// tree; cuBLAS SGEMM is run-to-run deterministic on one GPU model and toolkit (atomics mode is
// left off, and each lane's handle has its own workspace). So the same inputs give the same
// bits.
//
// Build: part of the sac_cuda target (cmake ... && ninja sac_cuda); tests: sac_tests
// --gtest_filter='CudaBackend*:*FusedOps*:CudaGraph*' (they skip on machines without a GPU).
#include "cuda_backend.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch_renorm.h"
#include "cublas_on_demand.h"
#include "cublaslt_matmul.h"
#include "cuda_check.h"
#include "gemm_plan.h"
#include "linear.h"
#include "optimizer.h"
#include "quantile_huber.h"
#include "ring_insert.h"
#include "sac_losses.h"
#include "subset_min.h"
#include "sampling.h"
#include "sort_truncate.h"
#include "tanh_gaussian.h"

namespace sac {
namespace {

// cuBLAS workspace given to the handle up front, so captured GEMMs never allocate
// (NVIDIA's recommended size on Hopper; more than enough elsewhere)
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

// *d_counter += 1 (also the probe of the constructor's architecture check)
__global__ void increment_kernel(int64_t* d_counter) { ++*d_counter; }

// Backend::increment, the one op without a family
void launch_increment(cudaStream_t stream, int64_t* d_counter) {
  require(d_counter, "increment", "null pointer");
  launch(increment_kernel, 1, 1, 0, stream, d_counter);
}

// Backend::adam: Adam alone, as launch_adam_polyak with no target
void launch_adam(cudaStream_t stream, size_t n, float* params, const float* grads, float* m,
                 float* v, float lr, float beta1, float beta2, float eps, const int64_t* d_step) {
  launch_adam_polyak(stream, n, params, grads, m, v, lr, beta1, beta2, eps, d_step, nullptr, 0.0f);
}

// ---------------------------------------------------------------------------------------------

class CudaBackend final : public Backend {
 public:
  CudaBackend();
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }
  cudaStream_t stream() const { return m_stream; }
  std::unique_ptr<RecordedOps> record(std::function<void()> work) override;

  void fork(int lane) override;
  void set_lane(int lane) override;
  void join(int lane) override;

  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void* allocate_host(size_t bytes) override;
  void release_host(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void synchronize() override;
  void upload_async(void* dst, const void* host_src, size_t bytes) override;
  void download_async(void* host_dst, const void* src, size_t bytes) override;
  void wait_lane(int lane) override;

  // ---- the ops of backend_ops.h: each forwards to its family's `launch_` launcher, which
  // takes the current lane's stream or, for the GEMMs (linear.h), its GemmContext
#define SAC_BACKEND_OP(name, params, args) \
  void name params override { launch_##name(LaunchOn{*this}, SAC_OP_ARGS args); }
#define SAC_OP_ARGS(...) __VA_ARGS__
#include "sac/backend_ops.h"
#undef SAC_OP_ARGS
#undef SAC_BACKEND_OP

 private:
  // what an op's launcher runs on: the current lane's stream, or the GemmContext of the GEMM
  // launchers (made only for them: it sets the lane handle's math mode)
  struct LaunchOn {
    CudaBackend& backend;
    operator cudaStream_t() const { return backend.cur(); }
    operator GemmContext() const { return backend.gemm(); }
  };

  // the stream of the current lane (lane 0: m_stream)
  cudaStream_t cur() const { return m_streams[lane()]; }
  // what the GEMM launchers run on: the current lane's stream, handle and workspace, in the
  // precision of the issuing thread (an agent's own, Backend::MatmulPrecisionScope)
  GemmContext gemm() {
    const int l = lane();
    const bool tf32 = matmul_precision() == MatmulPrecision::kTf32;
    // the handle's math mode follows the GEMM's precision (a host-side setting, so it may change
    // between captured GEMMs: each is captured with the mode it was issued with)
    if (m_tf32[l] != tf32) {
      CUBLAS_CHECK(
          cublasSetMathMode(m_cublas[l], tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
      m_tf32[l] = tf32;
    }
    GemmContext ctx;
    ctx.stream = cur();
    ctx.cublas = m_cublas[l];
    ctx.lt = m_lt.get();
    ctx.workspace = m_workspace[l];
    ctx.workspace_bytes = kCublasWorkspaceBytes;
    ctx.tf32 = tf32;
    ctx.lt_masks = &m_lt_masks;
    return ctx;
  }
  // frees whatever the constructor got (also on a failed construction)
  void destroy() noexcept;
  // ends a capture that an exception interrupted (record())
  void abandon_capture(int origin) noexcept;

  cudaStream_t m_stream = nullptr;  // lane 0
  cudaStream_t m_streams[kMaxLanes] = {};
  cudaEvent_t m_events[kMaxLanes] = {};  // the latest point of each lane, for fork and join
  // per lane: its own cuBLAS handle and workspace (also the lane's cuBLASLt workspace), so
  // concurrent branches never share one
  cublasHandle_t m_cublas[kMaxLanes] = {};
  void* m_workspace[kMaxLanes] = {};
  bool m_tf32[kMaxLanes] = {};  // the math mode each lane's handle is set to
  std::unique_ptr<LtMatmul> m_lt;  // null: epilogues off (SAC_CUBLASLT=0)
  // the ReLU masks given to linear_forward, and whether its epilogue wrote them (its fallback
  // writes none); an entry goes when its buffer is released
  ReluMaskRegistry m_lt_masks;
  std::unordered_map<void*, size_t> m_allocation_bytes;  // allocate()'s sizes, for release()
};

CudaBackend::CudaBackend() {
  require(cuda_runtime_device_available(), "CudaBackend",
          "no usable CUDA device (no GPU, or no driver); use device=cpu");
  try {
    // the kernels must have been built for this device's architecture
    cudaFuncAttributes attributes;
    cudaError_t err = cudaFuncGetAttributes(&attributes, increment_kernel);
    if (err != cudaSuccess) {
      cudaGetLastError();
      int device = 0, major = 0, minor = 0;
      CUDA_CHECK(cudaGetDevice(&device));
      CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
      CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
      throw std::runtime_error(
          std::string("CudaBackend: the kernels cannot run on this GPU (compute capability ") +
          std::to_string(major) + "." + std::to_string(minor) + ": " + cudaGetErrorString(err) +
          "); reconfigure with -DCMAKE_CUDA_ARCHITECTURES=" + std::to_string(major * 10 + minor) +
          " (or native) and rebuild");
    }
    for (int l = 0; l < kMaxLanes; ++l) {
      CUDA_CHECK(cudaStreamCreateWithFlags(&m_streams[l], cudaStreamNonBlocking));
      CUDA_CHECK(cudaEventCreateWithFlags(&m_events[l], cudaEventDisableTiming));
      CUBLAS_CHECK(cublasCreate(&m_cublas[l]));
      // the stream first: cublasSetStream resets the workspace to cuBLAS's own pool
      CUBLAS_CHECK(cublasSetStream(m_cublas[l], m_streams[l]));
      CUDA_CHECK(cudaMalloc(&m_workspace[l], kCublasWorkspaceBytes));
      CUBLAS_CHECK(cublasSetWorkspace(m_cublas[l], m_workspace[l], kCublasWorkspaceBytes));
      CUBLAS_CHECK(cublasSetPointerMode(m_cublas[l], CUBLAS_POINTER_MODE_HOST));
      // full FP32 (no TF32) until a TF32 GEMM is issued (gemm()), and no atomics:
      // deterministic GEMMs
      CUBLAS_CHECK(cublasSetMathMode(m_cublas[l], CUBLAS_DEFAULT_MATH));
      CUBLAS_CHECK(cublasSetAtomicsMode(m_cublas[l], CUBLAS_ATOMICS_NOT_ALLOWED));
    }
    m_stream = m_streams[0];
    const char* lt = std::getenv("SAC_CUBLASLT");
    if (!(lt && std::strcmp(lt, "0") == 0)) m_lt = std::make_unique<LtMatmul>();
  } catch (...) {
    destroy();
    throw;
  }
}

// a CUDA graph captured from one of the backend's streams (CudaBackend::record), replayed there
class CudaGraph final : public RecordedOps {
 public:
  /// Takes `graph` (destroyed here, also when instantiation throws).
  CudaGraph(cudaStream_t stream, cudaGraph_t graph) : m_stream(stream), m_graph(graph) {
    CUDA_CHECK(cudaGraphInstantiate(&m_exec, m_graph, 0));
  }
  ~CudaGraph() override {
    if (m_exec) CUDA_CHECK_PRINT(cudaGraphExecDestroy(m_exec));
    if (m_graph) CUDA_CHECK_PRINT(cudaGraphDestroy(m_graph));
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  void replay() override {
    CUDA_CHECK(cudaGraphLaunch(m_exec, m_stream));
    check_launch("cudaGraphLaunch", m_stream);
  }
  cudaGraph_t graph() const { return m_graph; }

 private:
  cudaStream_t m_stream;
  cudaGraph_t m_graph = nullptr;
  cudaGraphExec_t m_exec = nullptr;
};

// a guard for the graph until CudaGraph owns it (instantiation may throw)
struct GraphGuard {
  cudaGraph_t graph = nullptr;
  ~GraphGuard() {
    if (graph) CUDA_CHECK_PRINT(cudaGraphDestroy(graph));
  }
};

std::unique_ptr<RecordedOps> CudaBackend::record(std::function<void()> work) {
  // captured and replayed on the current lane
  const int origin = lane();
  cudaStream_t stream = cur();
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    Backend::RecordingScope scope(*this);
    work();
  } catch (...) {
    abandon_capture(origin);
    throw;
  }
  GraphGuard captured;
  CUDA_CHECK(cudaStreamEndCapture(stream, &captured.graph));
  auto graph = std::make_unique<CudaGraph>(stream, captured.graph);
  captured.graph = nullptr;  // CudaGraph owns it now
  return graph;
}

// An exception inside recorded ops: the lanes it left forked join the origin lane (else the
// capture could not end: cudaErrorStreamCaptureUnjoined, and those streams would stay in
// capture), the capture ends and its graph is discarded, and the origin lane is current again.
// The backend is then usable as before. Errors on the way are printed, never thrown: the
// exception in flight is the one to report.
void CudaBackend::abandon_capture(int origin) noexcept {
  cudaStream_t main = m_streams[origin];
  for (int l = 0; l < kMaxLanes; ++l) {
    if (l == origin) continue;
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    CUDA_CHECK_PRINT(cudaStreamIsCapturing(m_streams[l], &status));
    if (status == cudaStreamCaptureStatusNone) continue;
    // joined back (an invalidated capture refuses this; ending it below still ends it)
    CUDA_CHECK_PRINT(cudaEventRecord(m_events[l], m_streams[l]));
    CUDA_CHECK_PRINT(cudaStreamWaitEvent(main, m_events[l], 0));
  }
  cudaGraph_t broken = nullptr;
  CUDA_CHECK_PRINT(cudaStreamEndCapture(main, &broken));
  if (broken) CUDA_CHECK_PRINT(cudaGraphDestroy(broken));
  cudaGetLastError();  // an error of the abandoned capture must not surface at a later check
  for (int l = 0; l < kMaxLanes; ++l) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(m_streams[l], &status) == cudaSuccess &&
        status != cudaStreamCaptureStatusNone)
      std::fprintf(stderr, "CudaBackend: lane %d is still capturing after an abandoned record()\n",
                   l);
  }
  Backend::set_lane(origin);  // a valid lane: cannot throw
}

CudaBackend::~CudaBackend() {
  for (cudaStream_t stream : m_streams)
    if (stream) CUDA_CHECK_PRINT(cudaStreamSynchronize(stream));
  destroy();
}

void CudaBackend::destroy() noexcept {
  m_lt.reset();
  for (int l = 0; l < kMaxLanes; ++l) {
    if (m_cublas[l]) CUBLAS_CHECK_PRINT(cublasDestroy(m_cublas[l]));
    if (m_workspace[l]) CUDA_CHECK_PRINT(cudaFree(m_workspace[l]));
    if (m_events[l]) CUDA_CHECK_PRINT(cudaEventDestroy(m_events[l]));
    if (m_streams[l]) CUDA_CHECK_PRINT(cudaStreamDestroy(m_streams[l]));
    m_cublas[l] = nullptr;
    m_workspace[l] = nullptr;
    m_events[l] = nullptr;
    m_streams[l] = nullptr;
  }
  m_stream = nullptr;
}

// ---- lanes: fork and join are an event recorded on one stream and waited on by another
// (inside a capture they become the edges of the graph's branches)

void CudaBackend::fork(int lane) {
  check_lane(lane);
  if (lane == this->lane()) return;
  CUDA_CHECK(cudaEventRecord(m_events[this->lane()], cur()));
  CUDA_CHECK(cudaStreamWaitEvent(m_streams[lane], m_events[this->lane()], 0));
}

void CudaBackend::set_lane(int lane) { Backend::set_lane(lane); }

void CudaBackend::join(int lane) {
  check_lane(lane);
  if (lane == this->lane()) return;
  CUDA_CHECK(cudaEventRecord(m_events[lane], m_streams[lane]));
  CUDA_CHECK(cudaStreamWaitEvent(cur(), m_events[lane], 0));
}

// ---- memory

void* CudaBackend::allocate(size_t bytes) {
  refuse_while_recording("allocate");
  if (bytes == 0) return nullptr;
  void* ptr = nullptr;
  CUDA_CHECK(cudaMalloc(&ptr, bytes));
  try {
    // zero-initialised, as the interface promises; allocation happens at start-up only,
    // so waiting here costs nothing on the hot path
    CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, m_stream));
    CUDA_CHECK(cudaStreamSynchronize(m_stream));
  } catch (...) {
    CUDA_CHECK_PRINT(cudaFree(ptr));
    throw;
  }
  m_allocation_bytes[ptr] = bytes;
  return ptr;
}

void CudaBackend::release(void* ptr) {
  refuse_while_recording("release");
  if (!ptr) return;
  // the ReLU masks in this buffer are forgotten: a later allocation may reuse the address
  auto found = m_allocation_bytes.find(ptr);
  m_lt_masks.released(ptr, found != m_allocation_bytes.end() ? found->second : 1);
  if (found != m_allocation_bytes.end()) m_allocation_bytes.erase(found);
  CUDA_CHECK(cudaFree(ptr));
}

void* CudaBackend::allocate_host(size_t bytes) {
  refuse_while_recording("allocate_host");
  if (bytes == 0) return nullptr;
  void* ptr = nullptr;
  CUDA_CHECK(cudaHostAlloc(&ptr, bytes, cudaHostAllocDefault));
  std::memset(ptr, 0, bytes);
  return ptr;
}

void CudaBackend::release_host(void* ptr) {
  refuse_while_recording("release_host");
  if (ptr) CUDA_CHECK(cudaFreeHost(ptr));
}

void CudaBackend::upload(void* dst, const void* host_src, size_t bytes) {
  refuse_while_recording("upload");
  if (bytes == 0) return;
  require(dst && host_src, "upload", "null pointer");
  // the source may be pageable and reused by the caller right after: wait for the copy
  CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, m_stream));
  CUDA_CHECK(cudaStreamSynchronize(m_stream));
}

void CudaBackend::download(void* host_dst, const void* src, size_t bytes) {
  refuse_while_recording("download");
  if (bytes == 0) return;
  require(host_dst && src, "download", "null pointer");
  // ordered after every op queued so far; the host data is ready on return
  CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, m_stream));
  CUDA_CHECK(cudaStreamSynchronize(m_stream));
}

void CudaBackend::copy(void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || dst == src) return;
  require(dst && src, "copy", "null pointer");
  // cudaMemcpy is undefined for overlapping ranges (the CPU backend's memmove is not)
  auto d = reinterpret_cast<uintptr_t>(dst), s = reinterpret_cast<uintptr_t>(src);
  require(d + bytes <= s || s + bytes <= d, "copy",
          "source and destination overlap; copy through a separate buffer");
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cur()));
}

void CudaBackend::synchronize() {
  refuse_while_recording("synchronize");
  for (cudaStream_t stream : m_streams) CUDA_CHECK(cudaStreamSynchronize(stream));
}

// ---- the step loop's transfers: queued on the current lane from or to page-locked memory

void CudaBackend::upload_async(void* dst, const void* host_src, size_t bytes) {
  refuse_while_recording("upload_async");
  if (bytes == 0) return;
  require(dst && host_src, "upload_async", "null pointer");
  CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, cur()));
}

void CudaBackend::download_async(void* host_dst, const void* src, size_t bytes) {
  refuse_while_recording("download_async");
  if (bytes == 0) return;
  require(host_dst && src, "download_async", "null pointer");
  CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, cur()));
}

void CudaBackend::wait_lane(int lane) {
  check_lane(lane);
  refuse_while_recording("wait_lane");
  CUDA_CHECK(cudaEventRecord(m_events[lane], m_streams[lane]));
  CUDA_CHECK(cudaEventSynchronize(m_events[lane]));
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

std::string cuda_runtime_unavailable_reason() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    int runtime = 0, driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    // clear the errors (the version queries fail too without a driver), so they do not surface
    // at an unrelated later check
    cudaGetLastError();
    return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(err) + " (" +
           cudaGetErrorString(err) + "); CUDA runtime " + std::to_string(runtime) +
           ", driver " + (driver ? std::to_string(driver) : std::string("none"));
  }
  if (count == 0) return "the CUDA runtime sees no device";
  // a device, but the backend cannot run without cuBLAS (opened here, not at process start)
  return cublas_libraries_unavailable_reason();
}

bool cuda_runtime_device_available() { return cuda_runtime_unavailable_reason().empty(); }

GraphCensus cuda_graph_census(RecordedOps& recorded) {
  auto* graph = dynamic_cast<CudaGraph*>(&recorded);
  if (!graph) throw std::invalid_argument("cuda_graph_census: not a recording of the CUDA backend");
  size_t n = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph->graph(), nullptr, &n));
  std::vector<cudaGraphNode_t> nodes(n);
  if (n) CUDA_CHECK(cudaGraphGetNodes(graph->graph(), nodes.data(), &n));
  GraphCensus c;
  c.nodes = n;
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type;
    CUDA_CHECK(cudaGraphNodeGetType(node, &type));
    switch (type) {
      case cudaGraphNodeTypeKernel: ++c.kernels; break;
      case cudaGraphNodeTypeMemcpy: ++c.memcpys; break;
      case cudaGraphNodeTypeMemset: ++c.memsets; break;
      case cudaGraphNodeTypeEmpty: ++c.empties; break;
      case cudaGraphNodeTypeWaitEvent:
      case cudaGraphNodeTypeEventRecord: ++c.events; break;
      case cudaGraphNodeTypeMemAlloc: ++c.allocs; break;
      case cudaGraphNodeTypeMemFree: ++c.frees; break;
      case cudaGraphNodeTypeHost: ++c.host; break;
      default: ++c.other; break;
    }
  }
  return c;
}

std::string cuda_runtime_description() {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  cudaGetLastError();  // without a driver the queries leave an error: not this caller's
  auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  std::string s = "runtime " + version(runtime);
  std::string why = cuda_runtime_unavailable_reason();
  if (!why.empty()) return s + "; no usable device: " + why;
  int device = 0;
  cudaDeviceProp p{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&p, device) != cudaSuccess) {
    cudaGetLastError();
    return s + "; driver " + version(driver) + "; device properties unreadable";
  }
  return s + "; driver " + version(driver) + "; device " + std::to_string(device) + ": " + p.name +
         ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string((p.totalGlobalMem + (size_t(1) << 29)) >> 30) + " GiB";
}

void* cuda_backend_stream(Backend& backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(&backend);
  if (!cuda)
    throw std::invalid_argument("cuda_backend_stream: backend '" + backend.name() +
                                "' is not the CUDA backend");
  return static_cast<void*>(cuda->stream());
}

}  // namespace sac
