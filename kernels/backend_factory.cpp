// backend_factory.cpp: picks the backend named by the `device` setting.
#include <cstdlib>
#include <new>
#include <stdexcept>

#include "cpu_backend.h"
#include "sac/backend.h"
#include "sac/errors.h"
#ifdef SAC_HAVE_CUDA
#include "cuda_backend.h"
#endif

namespace sac {

void* Backend::allocate_host(size_t bytes) {
  refuse_while_recording("allocate_host");
  if (bytes == 0) return nullptr;
  void* ptr = std::calloc(1, bytes);
  if (!ptr) throw std::bad_alloc();
  return ptr;
}

void Backend::release_host(void* ptr) {
  refuse_while_recording("release_host");
  std::free(ptr);
}

std::string cuda_unavailable_reason() {
#ifdef SAC_HAVE_CUDA
  return cuda_runtime_unavailable_reason();
#else
  return "this build has no CUDA backend (configured with SAC_ENABLE_CUDA=OFF or without nvcc)";
#endif
}

std::string backends_description() {
#ifdef SAC_HAVE_CUDA
  return "cpu; cuda (" + cuda_runtime_description() + ")";
#else
  return "cpu (no CUDA backend: built with SAC_ENABLE_CUDA=OFF or without nvcc)";
#endif
}

bool cuda_device_available() { return cuda_unavailable_reason().empty(); }

std::string resolve_device(const std::string& device) {
  if (device == "auto") return cuda_device_available() ? "cuda" : "cpu";
  return device;
}

std::unique_ptr<Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return std::make_unique<CpuBackend>(threads);
  if (device == "cuda") {
#ifdef SAC_HAVE_CUDA
    std::string why = cuda_unavailable_reason();
    if (!why.empty())
      throw InputError("device=cuda but no CUDA device is usable on this machine: " + why);
    return make_cuda_backend();
#else
    throw InputError("device=cuda but this build has no CUDA backend (SAC_ENABLE_CUDA=OFF)");
#endif
  }
  throw std::invalid_argument("unknown device '" + device + "' (expected auto, cpu or cuda)");
}

}  // namespace sac
