// cuda_check.h: error checking and the launch helper shared by every .cu file in kernels/.
// CUDA_CHECK / CUBLAS_CHECK throw std::runtime_error with file:line, the call's text and the
// library's error string; CUDA_CHECK_PRINT only prints (for destructors, which must not throw).
// launch() starts every kernel (through cudaLaunchKernel, never <<<>>>) and checks it;
// check_launch() follows the library launches (cuBLAS, graphs); with SAC_CUDA_DEBUG_SYNC=1 in the environment it
// also synchronises, so an asynchronous fault is reported at the launch that caused it.
// require() is the launchers' argument check (std::invalid_argument naming the op).
// Only .cu files include this header (it pulls in cuda_runtime.h and cublas_v2.h).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#define SAC_CUDA_STR2(x) #x
#define SAC_CUDA_STR(x) SAC_CUDA_STR2(x)
#define SAC_CUDA_WHERE __FILE__ ":" SAC_CUDA_STR(__LINE__)

/// Throws std::runtime_error when the CUDA runtime call `x` fails.
#define CUDA_CHECK(x)                                                                       \
  do {                                                                                      \
    cudaError_t sac_cuda_err_ = (x);                                                        \
    if (sac_cuda_err_ != cudaSuccess)                                                       \
      throw std::runtime_error(std::string(SAC_CUDA_WHERE " " #x " failed: ") +            \
                               cudaGetErrorString(sac_cuda_err_));                          \
  } while (0)

/// Prints (never throws) when the CUDA runtime call `x` fails; for destructors.
#define CUDA_CHECK_PRINT(x)                                                                 \
  do {                                                                                      \
    cudaError_t sac_cuda_err_ = (x);                                                        \
    if (sac_cuda_err_ != cudaSuccess)                                                       \
      std::fprintf(stderr, "%s %s failed: %s\n", SAC_CUDA_WHERE, #x,                        \
                   cudaGetErrorString(sac_cuda_err_));                                      \
  } while (0)

/// Throws std::runtime_error when the cuBLAS call `x` fails.
#define CUBLAS_CHECK(x)                                                                     \
  do {                                                                                      \
    cublasStatus_t sac_cublas_status_ = (x);                                                \
    if (sac_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                        \
      throw std::runtime_error(std::string(SAC_CUDA_WHERE " " #x " failed: ") +            \
                               cublasGetStatusString(sac_cublas_status_));                  \
  } while (0)

/// Prints (never throws) when the cuBLAS call `x` fails; for destructors.
#define CUBLAS_CHECK_PRINT(x)                                                               \
  do {                                                                                      \
    cublasStatus_t sac_cublas_status_ = (x);                                                \
    if (sac_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                        \
      std::fprintf(stderr, "%s %s failed: %s\n", SAC_CUDA_WHERE, #x,                        \
                   cublasGetStatusString(sac_cublas_status_));                              \
  } while (0)

namespace sac {

/// Throws std::invalid_argument "CudaBackend::<op>: <message>" unless `ok`: the argument checks
/// of the launchers.
inline void require(bool ok, const char* op, const std::string& message) {
  if (!ok) throw std::invalid_argument(std::string("CudaBackend::") + op + ": " + message);
}

/// True when SAC_CUDA_DEBUG_SYNC is set to anything but "" or "0" (read once per process).
inline bool cuda_debug_sync() {
  static const bool on = [] {
    const char* v = std::getenv("SAC_CUDA_DEBUG_SYNC");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

/// The status of the launch just made on `stream`: cudaGetLastError, then, in debug-sync mode,
/// the result of waiting for `stream` (the whole device when stream is null). A stream being
/// captured into a graph is never synchronised (that would invalidate the capture).
/// *synced says whether the error came from the wait (an asynchronous fault).
inline cudaError_t launch_status(cudaStream_t stream, bool* synced) {
  *synced = false;
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess || !cuda_debug_sync()) return err;
  *synced = true;
  if (!stream) return cudaDeviceSynchronize();
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  err = cudaStreamIsCapturing(stream, &capture);
  if (err != cudaSuccess || capture != cudaStreamCaptureStatusNone) return err;
  return cudaStreamSynchronize(stream);
}

/// Throws std::runtime_error naming `what` when a launch status is an error.
inline void throw_launch_error(const char* what, cudaError_t err, bool synced) {
  throw std::runtime_error(std::string(synced ? "SAC_CUDA_DEBUG_SYNC: " : "launch of ") + what +
                           " failed: " + cudaGetErrorString(err));
}

/// Checks the launch of `what` that just happened on `stream` (see launch_status).
inline void check_launch(const char* what, cudaStream_t stream = nullptr) {
  bool synced = false;
  cudaError_t err = launch_status(stream, &synced);
  if (err != cudaSuccess) throw_launch_error(what, err, synced);
}

/// Threads per block of the element-wise launches.
constexpr int kLinearThreads = 256;

/// The kernel's symbol name for error messages ("kernel" when the runtime cannot tell).
inline const char* kernel_name(const void* kernel) {
#if CUDART_VERSION >= 12030
  const char* name = nullptr;
  if (cudaFuncGetName(&name, kernel) == cudaSuccess && name) return name;
#else
  (void)kernel;
#endif
  return "kernel";
}

template <typename... Params, size_t... I>
void launch_with_values(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                        cudaStream_t stream, std::index_sequence<I...>,
                        std::tuple<std::decay_t<Params>...>& values) {
  void* argv[sizeof...(Params) + 1] = {static_cast<void*>(&std::get<I>(values))...};
  cudaError_t err = cudaLaunchKernel(kernel, grid, block, argv, shared_bytes, stream);
  bool synced = false;
  if (err != cudaSuccess)
    cudaGetLastError();  // the failed launch is reported here, not at an unrelated later check
  else
    err = launch_status(stream, &synced);
  // the kernel's name is looked up only on failure
  if (err != cudaSuccess)
    throw_launch_error(kernel_name(reinterpret_cast<const void*>(kernel)), err, synced);
}

/// Launches kernel(args...) on `stream` with `grid` blocks of `block` threads and
/// `shared_bytes` of dynamic shared memory, then checks the launch (check_launch). Every kernel
/// of the backend starts here, never with <<<>>>: the launch goes through cudaLaunchKernel, so
/// the same source builds with nvcc for the GPU and with the host compiler against the CUDA
/// simulator's runtime (tests/cuda_sim). The arguments are converted to the kernel's parameter
/// types first, as <<<>>> converts them.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "launch: the argument count differs from the kernel's parameter count");
  std::tuple<std::decay_t<Params>...> values(std::forward<Args>(args)...);
  launch_with_values(kernel, grid, block, shared_bytes, stream,
                     std::index_sequence_for<Params...>{}, values);
}

/// Launches `kernel(n, args...)` with one thread per element on `stream` (n == 0 launches
/// nothing) and checks the launch. Kernels guard `i >= n` themselves.
template <typename... KernelArgs, typename... Args>
void linear_kernel(void (*kernel)(size_t, KernelArgs...), cudaStream_t stream, size_t n,
                   Args&&... args) {
  if (n == 0) return;
  size_t blocks = (n + kLinearThreads - 1) / kLinearThreads;
  if (blocks > (size_t)INT_MAX)
    throw std::runtime_error("linear_kernel: " + std::to_string(n) +
                             " elements exceed one launch's grid; split the buffer");
  launch(kernel, dim3((unsigned)blocks), dim3(kLinearThreads), 0, stream, n,
         std::forward<Args>(args)...);
}

}  // namespace sac
