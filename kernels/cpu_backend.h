// cpu_backend.h: the reference backend. GEMMs through OpenBLAS (one thread per call), spread
// over a ThreadPool by member and row block; every element-wise op is a plain loop over the
// SAC_HD bodies its family header holds. The loops are the `_cpu` twins in the op families'
// files (linear, tanh_gaussian, sac_losses, optimizer, sampling, ...); the methods, one per
// entry of sac/backend_ops.h, forward to them.
#pragma once
#include <memory>

#include "sac/backend.h"
#include "thread_pool.h"

namespace sac {

class CpuBackend : public Backend {
 public:
  /// `threads` workers including the caller (0 = one per core).
  explicit CpuBackend(int threads = 0);

  std::string name() const override { return "cpu"; }
  bool runs_in_issue_order() const override { return true; }
  int threads() const { return m_pool.threads(); }

  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void synchronize() override;

  // the ops of backend_ops.h, each forwarded to its family's `_cpu` twin (cpu_backend.cpp)
#define SAC_BACKEND_OP(name, params, args) void name params override;
#include "sac/backend_ops.h"
#undef SAC_BACKEND_OP

 private:
  ThreadPool m_pool;
};

}  // namespace sac
