// cuda_backend.h: the CUDA implementation of the op set in sac/backend.h (the class in
// cuda_backend.cu, the kernels in the op families' .cu files). A plain C++ header with no CUDA
// includes, so .cpp files (the backend factory, tests) can include it; it exists only in builds
// with SAC_HAVE_CUDA.
#pragma once
#include <memory>
#include <string>

#include "sac/backend.h"

namespace sac {

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

/// The CUDA runtime's version and, when a device is usable, the driver's version and the device
/// (name, compute capability, memory); else why none is usable. For `sac --version`.
std::string cuda_runtime_description();

/// The cudaStream_t (as an opaque pointer) on which every op of `backend` runs, for callers
/// that capture a sequence of ops into a CUDA graph. Throws std::invalid_argument when
/// `backend` is not a CUDA backend.
void* cuda_backend_stream(Backend& backend);

}  // namespace sac
