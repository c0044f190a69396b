// cpu_backend.cpp: the reference backend (see backend.h): memory, the thread pool, and the
// dispatch of every op of sac/backend_ops.h to its `_cpu` twin in the op families' files
// (linear, tanh_gaussian, sac_losses, optimizer, sampling, ...), where each sits beside its CUDA
// kernel.
#include "cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <type_traits>
#include <utility>

#include "batch_renorm.h"
#include "linear.h"
#include "optimizer.h"
#include "quantile_huber.h"
#include "ring_insert.h"
#include "sac_losses.h"
#include "sampling.h"
#include "sort_truncate.h"
#include "subset_min.h"
#include "tanh_gaussian.h"

extern "C" void openblas_set_num_threads(int);

namespace sac {
namespace {

// Backend::increment: the one op without a family
void increment_cpu(int64_t* d_counter) { ++*d_counter; }

// calls an op's CPU twin with the backend's arguments, the pool first where the twin takes it
template <typename Twin, typename... Args>
void call_cpu_twin(ThreadPool& pool, Twin twin, Args&&... args) {
  if constexpr (std::is_invocable_v<Twin, ThreadPool&, Args...>)
    twin(pool, std::forward<Args>(args)...);
  else
    twin(std::forward<Args>(args)...);
}

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

CpuBackend::CpuBackend(int threads) : m_pool(resolve_threads(threads)) {
  // parallelism comes from the pool; OpenBLAS's own threads would fight it
  openblas_set_num_threads(1);
}

void* CpuBackend::allocate(size_t bytes) {
  refuse_while_recording("allocate");
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return p;
}
void CpuBackend::release(void* ptr) {
  refuse_while_recording("release");
  std::free(ptr);
}
void CpuBackend::upload(void* dst, const void* src, size_t bytes) {
  refuse_while_recording("upload");
  std::memcpy(dst, src, bytes);
}
void CpuBackend::download(void* dst, const void* src, size_t bytes) {
  refuse_while_recording("download");
  std::memcpy(dst, src, bytes);
}
void CpuBackend::synchronize() { refuse_while_recording("synchronize"); }
void CpuBackend::copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); }

// ---- the ops: each entry of backend_ops.h calls its `_cpu` twin, with the thread pool first
// where the twin takes one

#define SAC_BACKEND_OP(name, params, args) \
  void CpuBackend::name params { call_cpu_twin(m_pool, name##_cpu, SAC_OP_ARGS args); }
#define SAC_OP_ARGS(...) __VA_ARGS__
#include "sac/backend_ops.h"
#undef SAC_OP_ARGS
#undef SAC_BACKEND_OP

}  // namespace sac
