// tracing_backend.h: a Backend that forwards every op to another backend and measures the shape
// of what was issued: launches (each device op is one launch on the CUDA backend: a GEMM with
// its epilogue, a fused kernel, a copy) and the critical path, the longest chain of launches
// that must run one after another given the lanes (ops of one lane in order; fork and join
// add the edges between lanes). `sac bench update` prints both for one update, and
// tests/test_update_shape.cpp keeps them within their bounds. It also counts the host-device
// traffic (every transfer and every host wait), which tests/test_step_traffic.cpp holds to one
// observation upload, one transition upload and one action download per batch step. And it
// checks lane hazards (lane_hazards.h): every op declares the bytes it reads and writes (from its
// arguments and shapes, as sac/backend_ops.h states them: one `<op>_accesses` function per op in
// tracing_backend.cpp, with the op's launch count), and two ops on different lanes that touch the
// same bytes, one writing, with no fork, join or host wait ordering them are reported
// (hazards()); tests/test_lane_hazards.cpp runs it over the update, acting and ring insert.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lane_hazards.h"
#include "sac/backend.h"

namespace sac {

/// Host-device traffic counted by TracingBackend since its last reset().
struct Traffic {
  int uploads = 0, downloads = 0;              // blocking copies
  int async_uploads = 0, async_downloads = 0;  // queued copies
  int lane_waits = 0, synchronizes = 0;        // host waits
};

/// What a TracingBackend checks besides counting.
struct TracingOptions {
  /// Check lane hazards (lane_hazards.h); hazards() reports them.
  bool check_hazards = true;
  /// Throw LaneHazardError at the first hazard, from the op that completes it (before it runs).
  bool throw_on_hazard = false;
  /// Answer runs_in_issue_order() with false whatever the inner backend says, so the engine
  /// issues what it issues for a backend whose lanes run concurrently (CUDA): on the CPU the
  /// agent otherwise lets acting read the live actor (nothing runs beside anything), a shortcut
  /// whose ordering only in-issue-order execution gives. The results stay the CPU's.
  bool concurrent_lanes = false;
};

class TracingBackend final : public Backend {
 public:
  explicit TracingBackend(Backend& inner, TracingOptions options = {});

  /// Launches since the last reset().
  int launches() const { return m_launches; }
  /// The longest dependent chain of launches since the last reset(), over every lane.
  int critical_path() const;
  const Traffic& traffic() const { return m_traffic; }
  /// Clears the launch count, the critical path and the traffic (not the hazards, nor what the
  /// hazard check knows of the ops so far: memory ordering does not restart with a count).
  void reset();

  /// The lane hazards found so far (the first LaneHazardCheck::kMaxStored), and how many in all.
  std::vector<LaneHazard> hazards() const { return m_check.hazards(); }
  uint64_t hazard_count() const { return m_check.hazard_count(); }
  /// Forgets the hazards found so far (the ops seen stay known).
  void clear_hazards() { m_check.clear_hazards(); }
  /// Ops the hazard check saw on `lane` (replayed ones on the lane they were issued on), and
  /// inside recorded ops: tests assert on them so that no check passes by seeing nothing.
  uint64_t ops_on_lane(int lane) const { return m_check.ops_on_lane(lane); }
  uint64_t recorded_ops() const { return m_check.recorded_ops(); }
  uint64_t checked_ops() const { return m_check.ops(); }
  /// Accesses the hazard check keeps for later ops (bounded by the buffers, not the ops).
  size_t kept_accesses() const { return m_check.kept(); }

  std::string name() const override { return m_inner.name(); }
  bool runs_in_issue_order() const override {
    return !m_options.concurrent_lanes && m_inner.runs_in_issue_order();
  }
  /// Keeps `work` and calls it on each replay (Backend's default), each replay checked as one
  /// CUDA graph launched on the current lane at record time (lane_hazards.h).
  std::unique_ptr<RecordedOps> record(std::function<void()> work) override;
  // memory and transfers: not launches of the update. The blocking transfers run on lane 0 and
  // wait for it, as the CUDA backend's do; the queued ones run on the current lane.
  void* allocate(size_t bytes) override;
  void release(void* ptr) override;
  void* allocate_host(size_t bytes) override;
  void release_host(void* ptr) override;
  void upload(void* dst, const void* src, size_t bytes) override;
  void download(void* dst, const void* src, size_t bytes) override;
  void upload_async(void* dst, const void* src, size_t bytes) override;
  void download_async(void* dst, const void* src, size_t bytes) override;
  void wait_lane(int lane) override;
  void synchronize() override;
  void copy(void* dst, const void* src, size_t bytes) override;

  void fork(int lane) override;
  void set_lane(int lane) override;
  void join(int lane) override;
  void set_matmul_precision(MatmulPrecision precision) override;

  // the ops of backend_ops.h: launches counted, accesses checked, then the traced backend's op
#define SAC_BACKEND_OP(name, params, args) void name params override;
#include "sac/backend_ops.h"
#undef SAC_BACKEND_OP

 private:
  class Recording;
  class Accesses;

  // what each op reads and writes (and its launches), from its arguments (tracing_backend.cpp)
#define SAC_BACKEND_OP(name, params, args) Accesses name##_accesses params const;
#include "sac/backend_ops.h"
#undef SAC_BACKEND_OP

  // one launch on the current lane: one more link in its chain
  void launch();
  // the hazard check of one op on `lane` (no-op when hazards are not checked)
  void check(int lane, const char* op, const Accesses& accesses);
  void check(const char* op, const Accesses& accesses) { check(lane(), op, accesses); }
  // bytes from p to the end of its allocation, or `fallback` when p is in no allocation this
  // backend made (rows at indices known only on the device)
  size_t extent(const void* p, size_t fallback) const;

  Backend& m_inner;
  TracingOptions m_options;
  LaneHazardCheck m_check;
  int m_launches = 0;
  Traffic m_traffic;
  std::array<int, kMaxLanes> m_depth{};  // longest chain ending at each lane's latest launch
};

}  // namespace sac
