// lane_hazards.h: the lane hazard check behind TracingBackend (DESIGN.md sections 3 and 15).
// Every op declares the bytes it reads and writes, and ops are ordered by happens-before: the
// ops of one lane in issue order; fork(lane) orders the current lane's ops so far before later
// ops of `lane`; join(lane) orders `lane`'s ops so far before later ops of the current lane; a
// host wait on a lane (wait_lane, and the blocking transfers, which wait on lane 0 as the CUDA
// backend's do) orders that lane's ops so far before everything the host issues later, on any
// lane; synchronize does so for every lane. Two ops on different lanes that touch the same bytes,
// one of them writing, with no happens-before path between them are a hazard: on CUDA they may
// run at the same time or in either order. The CPU backend runs everything in issue order, so
// only this check shows such a bug before a GPU run.
//
// How: vector clocks. Each lane keeps a clock (per lane, the number of the latest op of that lane
// known to happen before this lane's next op); an op takes its lane's clock at issue, and op a
// happens before op b iff b's clock[lane of a] >= a's number on its lane. Each access is kept
// with its op's (lane, number). A new op is checked against the accesses kept; an access is
// dropped once a later access of its own lane covers its bytes and is a write or both are reads
// (any op that races the earlier one races the later one too), once every lane knows it (after
// host waits), or when its memory is released. So the check costs about the number of distinct
// buffers per op, whatever the number of ops, and runs over whole training loops.
//
// Recorded ops are one CUDA graph launched on the lane they were recorded on (R). Inside a
// replay, the ops of R are ops of R; every other lane is one of the graph's branches: a fresh
// timeline for each replay, ordered only by the forks and joins inside the recording (not after
// that lane's earlier ops outside the graph, nor before its later ones), and the whole graph
// happens before the later ops of R. As CUDA's capture does, the check refuses (std::logic_error)
// an op on a lane the recording never forked into (CUDA would run it at capture time, outside
// the graph) and a branch not joined back into R before the recording ends.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "sac/backend.h"

namespace sac {

/// Bytes one op touches through one argument: `rows` runs of `width` bytes, `stride` bytes apart,
/// from `begin` (one run: a contiguous range; a strided one: some columns of a row-major matrix).
struct MemRange {
  uintptr_t begin = 0;
  size_t width = 0;
  size_t stride = 0;
  size_t rows = 0;

  /// n bytes from p (empty when p is null or n is 0).
  static MemRange bytes(const void* p, size_t n);
  /// `rows` runs of `width` bytes from p, `stride` bytes apart (runs that touch or overlap, and
  /// stride 0, make one contiguous range).
  static MemRange strided(const void* p, size_t rows, size_t width, size_t stride);

  bool empty() const { return rows == 0 || width == 0; }
  /// One past the last byte touched.
  uintptr_t end() const { return empty() ? begin : begin + (rows - 1) * stride + width; }
  /// True when every byte from begin to end() is touched.
  bool contiguous() const { return rows == 1; }
};

/// The first run of bytes [*lo, *hi) that both a and b touch; false (lo and hi untouched) when
/// they share no byte. Costs at most the runs of the one with fewer runs.
bool first_overlap(const MemRange& a, const MemRange& b, uintptr_t* lo, uintptr_t* hi);

/// True when `outer` touches every byte `inner` touches (exact for contiguous `outer` and for
/// equal strides; false in doubt).
bool covers(const MemRange& outer, const MemRange& inner);

/// One memory access of an op: `arg` names its argument (static storage, e.g. "Y").
struct MemAccess {
  MemRange range;
  bool write = false;
  const char* arg = "";
};

/// An op's access as a hazard report names it.
struct TracedAccess {
  const char* op = "";   // the Backend op, e.g. "linear_forward" (static storage)
  const char* arg = "";  // the argument through which it touches the bytes
  bool write = false;    // writes them (else only reads them)
  int lane = 0;          // the lane it was issued on
  uint64_t number = 0;   // its issue number (1 = the first op the checker saw)
  int replay_lane = -1;  // issued inside recorded ops replayed on this lane (-1: not recorded)
};

/// Two ops on different lanes that touch the same bytes, at least one of them writing, with no
/// happens-before path between them.
struct LaneHazard {
  TracedAccess first, second;    // first was issued before second
  uintptr_t begin = 0, end = 0;  // the first run of bytes both touch
  uintptr_t allocation = 0;      // the allocation holding them (0: not allocated through the
  size_t allocation_bytes = 0;   // tracing backend)

  /// One line naming both ops (op, argument, lane, issue number), the kind of hazard (write/write
  /// or read/write) and the bytes, with their offset in their allocation.
  std::string to_string() const;
};

/// Thrown at the first hazard when the check is asked to (TracingOptions::throw_on_hazard).
class LaneHazardError : public std::logic_error {
 public:
  explicit LaneHazardError(const LaneHazard& hazard)
      : std::logic_error(hazard.to_string()), m_hazard(hazard) {}
  const LaneHazard& hazard() const { return m_hazard; }

 private:
  LaneHazard m_hazard;
};

/// The happens-before bookkeeping and the kept accesses (see the top of this file). Thread-safe:
/// the CPU overlapped loop issues its update block on a worker thread while the main thread
/// waits on the acting lane. Ops inside a replay must come from the thread that replays.
class LaneHazardCheck {
 public:
  /// Throws LaneHazardError at the first hazard (after recording it) instead of only recording.
  void set_throw_on_hazard(bool on) { m_throw = on; }

  /// One op on `lane` touching `count` ranges; checks them, then keeps them.
  void op(int lane, const char* name, const MemAccess* accesses, size_t count);
  /// Later ops of `to` happen after the ops of `from` so far.
  void fork(int from, int to);
  /// Later ops of `into` happen after the ops of `from` so far.
  void join(int into, int from);
  /// The host waited for `lane`: its ops so far happen before everything issued later.
  void host_wait(int lane);
  /// The host waited for every lane.
  void host_wait_all();
  /// Ops from here to end_replay are one replay of ops recorded on `lane` (replays may nest: the
  /// outermost one counts). `abandoned` (the replay threw): no check of its joins.
  void begin_replay(int lane);
  void end_replay(bool abandoned = false);

  /// Memory from the backend: its extent serves ops that read rows of it at indices known only
  /// on the device (sample_minibatch, gather_rows); releasing it forgets its accesses.
  void allocated(const void* p, size_t bytes);
  void released(const void* p);
  /// Bytes from p to the end of the allocation holding it (0 when none does).
  size_t bytes_to_end(const void* p) const;

  /// The hazards found (at most kMaxStored, the first ones), and how many in all.
  std::vector<LaneHazard> hazards() const;
  uint64_t hazard_count() const;
  void clear_hazards();
  /// Ops seen on `lane` (replayed ops count on the lane they were issued on), inside replays, and
  /// in all.
  uint64_t ops_on_lane(int lane) const;
  uint64_t recorded_ops() const;
  uint64_t ops() const;
  /// Accesses kept for later checks (for tests of the pruning).
  size_t kept() const;

  static constexpr size_t kMaxStored = 64;

 private:
  static constexpr int kLanes = Backend::kMaxLanes;
  static constexpr int kTimelines = 2 * kLanes;  // the lanes, then one graph branch per lane
  using Clock = std::array<uint64_t, kTimelines>;
  struct Kept {
    MemRange range;
    int timeline = 0;
    uint64_t number = 0;  // on its timeline
    TracedAccess access;
  };

  int timeline(int lane) const;
  bool in_graph(int timeline) const;
  void merge(int into, int from);
  void prune_known();
  void report(const Kept& earlier, const TracedAccess& later, uintptr_t lo, uintptr_t hi);

  mutable std::mutex m_mutex;
  bool m_throw = false;
  std::array<Clock, kTimelines> m_clock{};
  std::vector<Kept> m_kept;
  // the replay in progress: its depth, lane R, the branches it forked or joined into, and each
  // branch's number before it (the branch has ops when its number moved)
  int m_replay_depth = 0;
  int m_replay_lane = -1;
  std::array<bool, kTimelines> m_joined_graph{};
  std::array<uint64_t, kTimelines> m_number_at_replay{};
  std::array<const char*, kTimelines> m_last_op{};  // each timeline's latest op, for messages
  std::map<uintptr_t, size_t> m_allocations;        // begin -> bytes
  std::vector<LaneHazard> m_hazards;
  uint64_t m_hazard_count = 0;
  std::array<uint64_t, kLanes> m_lane_ops{};
  uint64_t m_recorded_ops = 0, m_ops = 0;
};

}  // namespace sac
