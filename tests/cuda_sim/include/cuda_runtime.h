// cuda_runtime.h (CUDA simulator): the stand-in for the CUDA runtime header when the backend's
// .cu files are compiled by the host compiler for the simulator (tests/cuda_sim/README.md).
// It declares just what the backend, its tests and the simulator's own tests use, with the
// meanings of the CUDA Runtime API documentation; the definitions live in tests/cuda_sim/*.cpp.
// Device code compiles as host code: the qualifiers are empty, the built-ins (threadIdx,
// blockIdx, blockDim, gridDim) read the simulated thread that runs, __syncthreads is a barrier
// over the block's fibers, __shared__ is one static instance that the blocks of a kernel use
// one after another (blocks never run at the same time in the simulator).
#pragma once
// the device math functions (expf, fminf, ...) that cuda_runtime.h makes visible to kernels
#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#define CUDART_VERSION 13000

// ---- qualifiers (CUDA C++ Programming Guide, "C++ Language Extensions")
#define __host__
#define __device__
#define __global__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __grid_constant__
#define __launch_bounds__(...)
// every __shared__ variable goes to one section, so the simulator can size each kernel's static
// shared memory from the symbol table (tests/cuda_sim/symbols.cpp)
#define __shared__ static __attribute__((section("cudasim_shared")))

// ---- built-in vector types and variables
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

namespace cudasim {
/// The simulated CUDA thread that is running (set by the block scheduler before each resume).
struct KernelThread {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
extern thread_local const KernelThread* t_kernel_thread;
/// The running simulated thread; reading a built-in outside a kernel is reported and aborts.
const KernelThread& kernel_thread_checked();
inline const KernelThread& kernel_thread() {
  return t_kernel_thread ? *t_kernel_thread : kernel_thread_checked();
}
/// __syncthreads(): this thread waits at the barrier of `file`:`line` until every thread of its
/// block is there.
void sync_threads(const char* file, int line);
}  // namespace cudasim

#define threadIdx (::cudasim::kernel_thread().thread_idx)
#define blockIdx (::cudasim::kernel_thread().block_idx)
#define blockDim (::cudasim::kernel_thread().block_dim)
#define gridDim (::cudasim::kernel_thread().grid_dim)
#define __syncthreads() ::cudasim::sync_threads(__FILE__, __LINE__)

// ---- errors
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotSupported = 801,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureMerge = 902,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorStreamCaptureUnjoined = 904,
  cudaErrorStreamCaptureIsolation = 905,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorStreamCaptureWrongThread = 908,
  cudaErrorIllegalState = 401,
  cudaErrorUnknown = 999,
};
const char* cudaGetErrorString(cudaError_t error);
const char* cudaGetErrorName(cudaError_t error);
/// The last error of a runtime call on this thread, which it clears.
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();

// ---- handles
struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;
struct CUgraphNode_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
typedef CUgraph_st* cudaGraph_t;
typedef CUgraphExec_st* cudaGraphExec_t;
typedef CUgraphNode_st* cudaGraphNode_t;

// ---- device
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaDeviceSynchronize();
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
};
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int multiProcessorCount;
  int major;
  int minor;
  int warpSize;
  int clockRate;
  int memoryClockRate;
  int memoryBusWidth;
  size_t l2CacheSize;
};
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);

// ---- memory (device memory lives apart from host memory: tests/cuda_sim/memory.cpp)
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
constexpr unsigned cudaHostAllocDefault = 0, cudaHostAllocPortable = 1,
                   cudaHostAllocMapped = 2, cudaHostAllocWriteCombined = 4;
cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <typename T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned flags);
template <typename T>
cudaError_t cudaHostAlloc(T** ptr, size_t bytes, unsigned flags) {
  return cudaHostAlloc(reinterpret_cast<void**>(ptr), bytes, flags);
}
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
enum cudaMemoryType {
  cudaMemoryTypeUnregistered = 0,
  cudaMemoryTypeHost = 1,
  cudaMemoryTypeDevice = 2,
  cudaMemoryTypeManaged = 3,
};
struct cudaPointerAttributes {
  cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
};
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr);

// ---- streams and events
constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDefault = 0, cudaEventBlockingSync = 1, cudaEventDisableTiming = 2;
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventQuery(cudaEvent_t event);
/// Timing is not simulated: cudaErrorNotSupported.
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

// ---- graph capture and graphs
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};
enum cudaStreamCaptureStatus {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2,
};
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status);
cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                                 unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
enum cudaGraphNodeType {
  cudaGraphNodeTypeKernel = 0,
  cudaGraphNodeTypeMemcpy = 1,
  cudaGraphNodeTypeMemset = 2,
  cudaGraphNodeTypeHost = 3,
  cudaGraphNodeTypeGraph = 4,
  cudaGraphNodeTypeEmpty = 5,
  cudaGraphNodeTypeWaitEvent = 6,
  cudaGraphNodeTypeEventRecord = 7,
  cudaGraphNodeTypeMemAlloc = 10,
  cudaGraphNodeTypeMemFree = 11,
};
/// The nodes of a graph: with nodes null, their count in *count; else up to *count of them.
cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count);
cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, cudaGraphNodeType* type);

// ---- kernels
struct cudaFuncAttributes {
  size_t sharedSizeBytes;
  size_t constSizeBytes;
  size_t localSizeBytes;
  int maxThreadsPerBlock;
  int numRegs;
  int ptxVersion;
  int binaryVersion;
};
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, const void* kernel);
template <typename... Params>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, void (*kernel)(Params...)) {
  return cudaFuncGetAttributes(attributes, reinterpret_cast<const void*>(kernel));
}
/// The kernel's symbol name, demangled (from the executable's symbol table).
cudaError_t cudaFuncGetName(const char** name, const void* kernel);

namespace cudasim {
/// A kernel launch as the simulator queues it: the kernel's address (its name and static shared
/// memory come from the symbol table), the launch geometry, the size of its parameters as the
/// kernel declares them, and the body one simulated thread runs (the kernel applied to a copy
/// of the arguments taken at launch, as CUDA copies them).
struct KernelLaunch {
  const void* kernel;
  dim3 grid, block;
  size_t dynamic_shared_bytes;
  size_t parameter_bytes;
  std::shared_ptr<void> arguments;
  void (*run_thread)(const void* kernel, void* arguments);
  int host_pointer_argument;  // the first pointer argument into neither device nor page-locked
                              // memory (the device cannot reach it), or -1
};
cudaError_t launch_kernel(cudaStream_t stream, KernelLaunch launch);
/// True when `ptr` points into neither a device allocation nor page-locked host memory.
bool unreachable_from_device(const void* ptr);

template <typename T>
bool host_pointer(const T& value) {
  if constexpr (std::is_pointer_v<T> && std::is_object_v<std::remove_pointer_t<T>>)
    return value && unreachable_from_device(value);
  else
    return false;
}

template <typename... P, size_t... I>
int host_pointer_argument(const std::tuple<P...>& values, std::index_sequence<I...>) {
  int found = -1;
  ((found < 0 && host_pointer(std::get<I>(values)) ? (void)(found = (int)I) : (void)0), ...);
  return found;
}

template <typename... P>
constexpr size_t parameter_bytes() {
  size_t offset = 0;
  ((offset = (offset + alignof(P) - 1) / alignof(P) * alignof(P) + sizeof(P)), ...);
  return offset;
}

template <typename... P, size_t... I>
std::tuple<P...>* copy_arguments(void** args, std::index_sequence<I...>) {
  return new std::tuple<P...>(*static_cast<P*>(args[I])...);
}

template <typename... P>
void run_kernel_thread(const void* kernel, void* arguments) {
  auto* fn = reinterpret_cast<void (*)(P...)>(const_cast<void*>(kernel));
  std::apply(fn, *static_cast<std::tuple<P...>*>(arguments));
}
}  // namespace cudasim

/// cudaLaunchKernel as CUDA's template overload: args[i] points to the i-th parameter's value.
template <typename... Params>
cudaError_t cudaLaunchKernel(void (*kernel)(Params...), dim3 grid, dim3 block, void** args,
                             size_t shared_bytes = 0, cudaStream_t stream = nullptr) {
  using Arguments = std::tuple<std::decay_t<Params>...>;
  Arguments* values =
      cudasim::copy_arguments<std::decay_t<Params>...>(args, std::index_sequence_for<Params...>{});
  std::shared_ptr<void> arguments(values, [](void* p) { delete static_cast<Arguments*>(p); });
  int host_pointer = cudasim::host_pointer_argument(*values, std::index_sequence_for<Params...>{});
  return cudasim::launch_kernel(
      stream, cudasim::KernelLaunch{reinterpret_cast<const void*>(kernel), grid, block,
                                    shared_bytes,
                                    cudasim::parameter_bytes<std::decay_t<Params>...>(),
                                    std::move(arguments),
                                    &cudasim::run_kernel_thread<std::decay_t<Params>...>,
                                    host_pointer});
}
