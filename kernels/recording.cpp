// recording.cpp: the default record() (keep the closure, call it on each replay) and the guard
// that refuses allocation, transfers and waits inside recorded ops. The guard is per thread,
// as CUDA's thread-local capture mode is: the overlapped CPU loop replays updates on a worker
// thread while the main thread uploads observations, which is allowed. Also the per-thread GEMM
// precision (Backend::MatmulPrecisionScope), set the same way inside recorded ops.
#include <stdexcept>
#include <string>

#include "sac/backend.h"

namespace sac {
namespace {

// the backend whose recorded ops the calling thread is inside (null: none)
thread_local const Backend* t_recording = nullptr;
// the GEMM precision of the ops the calling thread issues (-1: the backend's default)
thread_local int t_matmul_precision = -1;

class CallAgain final : public RecordedOps {
 public:
  CallAgain(const Backend& backend, std::function<void()> work)
      : m_backend(backend), m_work(std::move(work)) {}
  void replay() override {
    Backend::RecordingScope scope(m_backend);
    m_work();
  }

 private:
  const Backend& m_backend;
  std::function<void()> m_work;
};

}  // namespace

std::unique_ptr<RecordedOps> Backend::record(std::function<void()> work) {
  return std::make_unique<CallAgain>(*this, std::move(work));
}

bool Backend::recording() const { return t_recording == this; }

Backend::RecordingScope::RecordingScope(const Backend& backend) : m_previous(t_recording) {
  t_recording = &backend;
}

Backend::RecordingScope::~RecordingScope() { t_recording = m_previous; }

Backend::MatmulPrecisionScope::MatmulPrecisionScope(MatmulPrecision precision)
    : m_previous(t_matmul_precision) {
  t_matmul_precision = (int)precision;
}

Backend::MatmulPrecisionScope::~MatmulPrecisionScope() { t_matmul_precision = m_previous; }

MatmulPrecision Backend::matmul_precision() const {
  return t_matmul_precision < 0 ? m_precision : (MatmulPrecision)t_matmul_precision;
}

void Backend::refuse_while_recording(const char* op) const {
  if (recording())
    throw std::logic_error(name() + " backend: " + op +
                           " called inside recorded ops (record() captures device work only: "
                           "no allocation, host transfer or wait can be replayed)");
}

}  // namespace sac
