// cuda_backend.h: the CUDA implementation of the op set in sac/backend.h (the class in
// cuda_backend.cu, the kernels in the op families' .cu files). A plain C++ header with no CUDA
// includes, so .cpp files (the backend factory, tests) can include it; it exists only in builds
// with SAC_HAVE_CUDA.
#pragma once
#include <memory>
#include <string>

#include "sac/backend.h"

namespace sac {

// The per-process counts of GEMMs through cuBLASLt and through the cuBLAS fallback
// (cuda_gemm_path_counts, reset_cuda_gemm_path_counts) live in gemm_plan.h, also CUDA-free and
// part of every build.

/// Creates a CUDA backend on the current device, with its own non-blocking stream and cuBLAS
/// handle (and cuBLAS workspace, so its ops can be captured into a CUDA graph). Throws
/// std::runtime_error when no device is usable or the kernels were not built for it.
std::unique_ptr<Backend> make_cuda_backend();

/// True when the CUDA runtime sees at least one device. Any error (no driver: the runtime
/// answers cudaErrorInsufficientDriver; no GPU: cudaErrorNoDevice) means false.
bool cuda_runtime_device_available();

/// Why no device is usable: the runtime's error name and text with the runtime and driver
/// versions ("" when a device is usable).
std::string cuda_runtime_unavailable_reason();

/// The nodes of a recording of the CUDA backend (a captured CUDA graph), by kind: what the
/// capture rules allow (kernels, copies, sets, event edges) and what they must never hold
/// (allocations and frees: memory is allocated at start-up; host callbacks: no host work or
/// wait inside an update). For the GPU campaign's capture check.
struct GraphCensus {
  size_t nodes = 0, kernels = 0, memcpys = 0, memsets = 0, empties = 0, events = 0;
  size_t allocs = 0, frees = 0, host = 0, other = 0;
};
/// Counts the nodes of `recorded`, which record() of a CUDA backend returned. Throws
/// std::invalid_argument for another backend's recording.
GraphCensus cuda_graph_census(RecordedOps& recorded);
/// The CUDA runtime's version and, when a device is usable, the driver's version and the device
/// (name, compute capability, memory); else why none is usable. For `sac --version`.
std::string cuda_runtime_description();

/// The cudaStream_t (as an opaque pointer) on which every op of `backend` runs, for callers
/// that capture a sequence of ops into a CUDA graph. Throws std::invalid_argument when
/// `backend` is not a CUDA backend.
void* cuda_backend_stream(Backend& backend);

}  // namespace sac
