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

namespace {

class CallAgain final : public RecordedOps {
 public:
  explicit CallAgain(std::function<void()> work) : m_work(std::move(work)) {}
  void replay() override { m_work(); }

 private:
  std::function<void()> m_work;
};

}  // namespace

std::unique_ptr<RecordedOps> Backend::record(std::function<void()> work) {
  return std::make_unique<CallAgain>(std::move(work));
}

void* Backend::allocate_host(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* ptr = std::calloc(1, bytes);
  if (!ptr) throw std::bad_alloc();
  return ptr;
}

void Backend::release_host(void* ptr) { std::free(ptr); }

bool cuda_device_available() {
#ifdef SAC_HAVE_CUDA
  return cuda_runtime_device_available();
#else
  return false;
#endif
}

std::string resolve_device(const std::string& device) {
  if (device == "auto") return cuda_device_available() ? "cuda" : "cpu";
  return device;
}

std::unique_ptr<Backend> make_backend(const std::string& device, int threads) {
  if (device == "cpu") return std::make_unique<CpuBackend>(threads);
  if (device == "cuda") {
#ifdef SAC_HAVE_CUDA
    if (!cuda_device_available())
      throw InputError("device=cuda but no CUDA device is usable on this machine");
    return make_cuda_backend();
#else
    throw InputError("device=cuda but this build has no CUDA backend (SAC_ENABLE_CUDA=OFF)");
#endif
  }
  throw std::invalid_argument("unknown device '" + device + "' (expected auto, cpu or cuda)");
}

}  // namespace sac
