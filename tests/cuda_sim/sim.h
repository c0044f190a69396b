// sim.h (CUDA simulator): what the simulator's parts share. One simulated device per process,
// guarded by one recursive mutex (every API call takes it); device work is a Work item queued
// on a stream and run only where CUDA guarantees it has run (streams.cpp); device memory lives
// in its own mappings, open only while device work runs (memory.cpp); kernels run block by
// block with each thread a fiber (kernels.cpp); names and static shared memory come from the
// executable's symbol table (symbols.cpp); cuBLAS over OpenBLAS (cublas.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_runtime.h"

namespace cudasim {

/// The device lock: every runtime and library entry point holds it.
std::recursive_mutex& device_mutex();
using DeviceLock = std::lock_guard<std::recursive_mutex>;

/// Prints "cuda-sim: <message>" (with the scheduler's seed) to stderr and aborts: the test that
/// caused it fails, naming what went wrong. For faults a GPU reports asynchronously or not at
/// all (an out-of-bounds access, a barrier that cannot complete, host code on device memory).
[[noreturn]] void fatal(const std::string& message);
/// Prints "cuda-sim: <call>: <message>" to stderr, records `error` as this thread's last error
/// and returns it: for calls CUDA refuses with an error code.
cudaError_t refuse(cudaError_t error, const std::string& call, const std::string& message);
/// Records `error` as this thread's last error (unless success) and returns it.
cudaError_t record_error(cudaError_t error);
/// Prints "cuda-sim: <call>: <message>" to stderr (no error recorded: for the libraries, whose
/// statuses are not the runtime's last error).
void report(const std::string& call, const std::string& message);

// ---- memory (memory.cpp)
enum class MemoryKind { kPageable, kPinned, kDevice };
/// The kind of memory `ptr` points into (a device or page-locked allocation, else pageable).
MemoryKind memory_kind(const void* ptr);
/// Empty when [ptr, ptr + bytes) lies inside one live device allocation, else why not.
std::string check_device_range(const void* ptr, size_t bytes);
/// Opens every device allocation for reading and writing while it lives (device work runs);
/// nested scopes share one opening.
class DeviceAccess {
 public:
  DeviceAccess();
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;
};
/// Describes what device work is running, for the fault handler's report.
void set_running(const std::string* what);

// ---- device work (streams.cpp)
/// One unit of device work: a kernel, a copy, a memset, a GEMM (a kernel node in a graph).
struct Work {
  std::string what;
  std::function<void()> run;
  cudaGraphNodeType kind = cudaGraphNodeTypeKernel;
};
/// Queues `work` on `stream` (or records it into the stream's capture). Returns an error when
/// the stream is invalid.
cudaError_t enqueue(cudaStream_t stream, Work work, const char* call);
/// Runs all the queued work of `stream` (for copies CUDA documents as synchronous with the host).
cudaError_t finish_stream(cudaStream_t stream);
/// Runs the queued work of every stream (what a synchronising call such as cudaFree waits for).
void run_all_work();
/// The seed of the random scheduler (SAC_CUDA_SIM_SEED, default 1), and its next number.
uint64_t scheduler_seed();
uint64_t random_number();
/// True (and the capture concerned invalidated) when this thread may not make a "potentially
/// unsafe" call now (cudaThreadExchangeStreamCaptureMode).
bool unsafe_during_capture(const char* call);
/// Turns the random scheduler's progress points on or off (on by default); returns the old
/// setting. Off, device work runs only where something forces it (the simulator's own tests).
bool set_random_progress(bool on);
/// True when `stream` is capturing into a graph.
bool is_capturing(cudaStream_t stream);

// ---- kernels (kernels.cpp)
/// The order in which the threads of a block run between two barriers (each runs until it
/// reaches the next barrier or exits, then the next thread in this order starts or resumes).
enum class ThreadOrder { kAscending, kDescending, kRandom };
/// The order of this process: set by set_thread_order, else from the scheduler's seed
/// (seed % 3: 0 ascending, 1 random (a new permutation at every barrier), 2 descending).
ThreadOrder thread_order();
/// Sets the order of every kernel run from now on (the simulator's own tests); returns the old.
ThreadOrder set_thread_order(ThreadOrder order);
/// "ascending", "descending" or "random".
const char* thread_order_name(ThreadOrder order);
/// Checks a launch against the GPU's limits; empty when it may run, else why not.
std::string check_launch_limits(const KernelLaunch& launch);
/// Runs a kernel: its blocks in a random order, each thread of a block a fiber, the threads of a
/// block in thread_order() between barriers.
void run_kernel(const KernelLaunch& launch);
/// "name<<<(x, y, z), (x, y, z)>>>" of a launch.
std::string describe_launch(const KernelLaunch& launch);

// ---- the executable's symbols (symbols.cpp)
/// The demangled name of the function at `address` ("kernel@0x..." when unknown).
const std::string& function_name(const void* address);
/// A __shared__ variable of a kernel: where it lives and its size.
struct SharedVariable {
  void* address;
  size_t bytes;
};
/// The __shared__ variables the function at `address` declares in its body.
const std::vector<SharedVariable>& shared_variables(const void* address);
/// The bytes of static __shared__ memory the function at `address` declares.
size_t static_shared_bytes(const void* address);

}  // namespace cudasim
