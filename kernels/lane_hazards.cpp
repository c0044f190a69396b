// lane_hazards.cpp: see lane_hazards.h.
#include "lane_hazards.h"

#include <algorithm>
#include <sstream>

namespace sac {

MemRange MemRange::bytes(const void* p, size_t n) { return strided(p, 1, n, n); }

MemRange MemRange::strided(const void* p, size_t rows, size_t width, size_t stride) {
  MemRange r;
  if (!p || rows == 0 || width == 0) return r;
  r.begin = reinterpret_cast<uintptr_t>(p);
  if (rows == 1 || stride <= width) {
    // runs that touch or overlap: one contiguous range
    r.width = (rows - 1) * stride + width;
    r.stride = r.width;
    r.rows = 1;
  } else {
    r.width = width;
    r.stride = stride;
    r.rows = rows;
  }
  return r;
}

namespace {

// the first run of q that meets [s, e), clipped to it
bool run_overlap(const MemRange& q, uintptr_t s, uintptr_t e, uintptr_t* lo, uintptr_t* hi) {
  if (e <= q.begin || s >= q.end()) return false;
  // run k meets [s, e) iff begin + k stride + width > s and begin + k stride < e
  size_t k_lo = s >= q.begin + q.width ? (s - q.begin - q.width) / q.stride + 1 : 0;
  size_t k_hi = std::min<size_t>((e - 1 - q.begin) / q.stride, q.rows - 1);
  if (q.contiguous()) k_lo = k_hi = 0;
  if (k_lo > k_hi) return false;
  const uintptr_t run = q.begin + k_lo * q.stride;
  *lo = std::max(s, run);
  *hi = std::min(e, run + q.width);
  return *lo < *hi;
}

}  // namespace

bool first_overlap(const MemRange& a, const MemRange& b, uintptr_t* lo, uintptr_t* hi) {
  if (a.empty() || b.empty()) return false;
  const uintptr_t span_lo = std::max(a.begin, b.begin), span_hi = std::min(a.end(), b.end());
  if (span_lo >= span_hi) return false;
  if (a.contiguous() && b.contiguous()) {
    *lo = span_lo;
    *hi = span_hi;
    return true;
  }
  // walk the runs of the one with fewer runs, from the first that reaches the common span
  const MemRange& p = a.rows <= b.rows ? a : b;
  const MemRange& q = &p == &a ? b : a;
  size_t i = span_lo >= p.begin + p.width ? (span_lo - p.begin - p.width) / p.stride + 1 : 0;
  if (p.contiguous()) i = 0;
  for (; i < p.rows; ++i) {
    const uintptr_t s = p.begin + i * p.stride;
    if (s >= span_hi) break;
    if (run_overlap(q, s, s + p.width, lo, hi)) return true;
  }
  return false;
}

bool covers(const MemRange& outer, const MemRange& inner) {
  if (inner.empty()) return true;
  if (outer.empty()) return false;
  if (outer.contiguous()) return outer.begin <= inner.begin && inner.end() <= outer.end();
  return !inner.contiguous() && inner.stride == outer.stride && inner.width == outer.width &&
         inner.begin >= outer.begin && (inner.begin - outer.begin) % outer.stride == 0 &&
         inner.end() <= outer.end();
}

namespace {

std::string hex(uintptr_t p) {
  std::ostringstream o;
  o << "0x" << std::hex << p;
  return o.str();
}

std::string describe(const TracedAccess& a) {
  std::ostringstream o;
  o << a.op << " " << (a.write ? "writing " : "reading ") << a.arg << " (op #" << a.number
    << ", lane " << a.lane;
  if (a.replay_lane >= 0) o << ", inside recorded ops replayed on lane " << a.replay_lane;
  o << ")";
  return o.str();
}

}  // namespace

std::string LaneHazard::to_string() const {
  std::ostringstream o;
  o << "lane hazard (" << (first.write && second.write ? "write/write" : "read/write")
    << "): " << describe(first) << " and " << describe(second) << " touch bytes [" << hex(begin)
    << ", " << hex(end) << ") (" << end - begin << " bytes";
  if (allocation)
    o << " at offset " << begin - allocation << " of the " << allocation_bytes
      << "-byte allocation at " << hex(allocation);
  o << ") with no happens-before path between them (no fork, join or host wait orders op #"
    << first.number << " before op #" << second.number << ")";
  return o.str();
}

// ---- happens-before

int LaneHazardCheck::timeline(int lane) const {
  return m_replay_depth > 0 && lane != m_replay_lane ? kLanes + lane : lane;
}

bool LaneHazardCheck::in_graph(int t) const { return t < kLanes || m_joined_graph[t]; }

void LaneHazardCheck::merge(int into, int from) {
  for (int k = 0; k < kTimelines; ++k)
    m_clock[into][k] = std::max(m_clock[into][k], m_clock[from][k]);
}

void LaneHazardCheck::fork(int from, int to) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (from == to) return;
  const int f = timeline(from), t = timeline(to);
  merge(t, f);
  // inside a capture, waiting on an event of the graph makes a stream one of its branches
  if (t >= kLanes && in_graph(f)) m_joined_graph[t] = true;
}

void LaneHazardCheck::join(int into, int from) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (into == from) return;
  const int t = timeline(into), f = timeline(from);
  merge(t, f);
  if (t >= kLanes && in_graph(f)) m_joined_graph[t] = true;
}

// a host wait is never inside recorded ops on its own thread (refused there), so it waits for
// the lane itself, also while another thread replays (the CPU overlapped loop's main thread)
void LaneHazardCheck::host_wait(int lane) {
  std::lock_guard<std::mutex> lock(m_mutex);
  const Clock waited = m_clock[lane];
  for (int l = 0; l < kLanes; ++l)
    for (int k = 0; k < kTimelines; ++k) m_clock[l][k] = std::max(m_clock[l][k], waited[k]);
  prune_known();
}

void LaneHazardCheck::host_wait_all() {
  std::lock_guard<std::mutex> lock(m_mutex);
  Clock waited{};
  for (int l = 0; l < kLanes; ++l)
    for (int k = 0; k < kTimelines; ++k) waited[k] = std::max(waited[k], m_clock[l][k]);
  for (int l = 0; l < kLanes; ++l) m_clock[l] = waited;
  prune_known();
}

// drops the accesses every lane (and every branch of a replay in progress) knows: no later op
// can race them
void LaneHazardCheck::prune_known() {
  auto known = [this](const Kept& k) {
    for (int t = 0; t < kTimelines; ++t)
      if (in_graph(t) && m_clock[t][k.timeline] < k.number) return false;
    return true;
  };
  m_kept.erase(std::remove_if(m_kept.begin(), m_kept.end(), known), m_kept.end());
}

// ---- recorded ops

void LaneHazardCheck::begin_replay(int lane) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_replay_depth++ > 0) return;
  m_replay_lane = lane;
  // each branch starts afresh: it knows nothing until a fork or join brings it into the graph
  for (int t = kLanes; t < kTimelines; ++t) {
    const uint64_t number = m_clock[t][t];
    m_clock[t].fill(0);
    m_clock[t][t] = number;
    m_joined_graph[t] = false;
    m_number_at_replay[t] = number;
  }
}

void LaneHazardCheck::end_replay(bool abandoned) {
  std::unique_lock<std::mutex> lock(m_mutex);
  if (--m_replay_depth > 0) return;
  const int R = m_replay_lane;
  int unjoined = -1;
  for (int t = kLanes; t < kTimelines; ++t)
    if (m_clock[t][t] > m_number_at_replay[t] && m_clock[R][t] < m_clock[t][t]) unjoined = t;
  // the graph ends as a whole: later ops of R follow every branch; the branches' accesses become
  // accesses at that end of R (nothing after the replay can learn of a branch but through R)
  for (int t = kLanes; t < kTimelines; ++t) merge(R, t);
  const uint64_t end = ++m_clock[R][R];
  std::vector<Kept> moved;
  m_kept.erase(std::remove_if(m_kept.begin(), m_kept.end(),
                              [&](const Kept& k) {
                                if (k.timeline < kLanes) return false;
                                moved.push_back(k);
                                moved.back().timeline = R;
                                moved.back().number = end;
                                return true;
                              }),
               m_kept.end());
  // drop R's accesses that a moved one covers (it happens after all of them), and repeats
  for (const Kept& m : moved) {
    m_kept.erase(std::remove_if(m_kept.begin(), m_kept.end(),
                                [&](const Kept& k) {
                                  return k.timeline == R && (m.access.write || !k.access.write) &&
                                         covers(m.range, k.range);
                                }),
                 m_kept.end());
    m_kept.push_back(m);
  }
  for (int t = kLanes; t < kTimelines; ++t) m_joined_graph[t] = false;
  m_replay_lane = -1;
  if (unjoined >= 0 && !abandoned) {
    const std::string lane = std::to_string(unjoined - kLanes);
    throw std::logic_error("recorded ops replayed on lane " + std::to_string(R) + ": lane " + lane +
                           " (latest op " + m_last_op[unjoined] +
                           ") is not joined back into lane " + std::to_string(R) +
                           " before the recording ends (CUDA refuses to end such a capture); "
                           "join(" +
                           lane + ") on lane " + std::to_string(R) + " last");
  }
}

// ---- ops

void LaneHazardCheck::op(int lane, const char* name, const MemAccess* accesses, size_t count) {
  std::lock_guard<std::mutex> lock(m_mutex);
  const int t = timeline(lane);
  if (!in_graph(t))
    throw std::logic_error(
        std::string(name) + " issued on lane " + std::to_string(lane) +
        " inside recorded ops replayed on lane " + std::to_string(m_replay_lane) +
        ", but the recording never forked that lane: CUDA would run it at "
        "capture time, outside the graph (fork(" +
        std::to_string(lane) + ") from lane " + std::to_string(m_replay_lane) + " first)");
  ++m_ops;
  ++m_lane_ops[lane];
  if (m_replay_depth > 0) ++m_recorded_ops;
  const uint64_t number = ++m_clock[t][t];
  m_last_op[t] = name;
  TracedAccess self;
  self.op = name;
  self.lane = lane;
  self.number = m_ops;
  self.replay_lane = m_replay_depth > 0 ? m_replay_lane : -1;
  const Clock& clock = m_clock[t];
  // check: every kept access of a conflicting kind that this op's lane does not know of
  for (size_t i = 0; i < count; ++i) {
    const MemAccess& a = accesses[i];
    if (a.range.empty()) continue;
    for (const Kept& k : m_kept) {
      if (!a.write && !k.access.write) continue;
      if (clock[k.timeline] >= k.number) continue;
      uintptr_t lo = 0, hi = 0;
      if (!first_overlap(k.range, a.range, &lo, &hi)) continue;
      TracedAccess later = self;
      later.arg = a.arg;
      later.write = a.write;
      report(k, later, lo, hi);
    }
  }
  // keep: each access replaces the earlier ones of its lane that it covers and conflicts with
  // at least as much
  for (size_t i = 0; i < count; ++i) {
    const MemAccess& a = accesses[i];
    if (a.range.empty()) continue;
    m_kept.erase(std::remove_if(m_kept.begin(), m_kept.end(),
                                [&](const Kept& k) {
                                  return k.timeline == t && (a.write || !k.access.write) &&
                                         covers(a.range, k.range);
                                }),
                 m_kept.end());
    Kept k;
    k.range = a.range;
    k.timeline = t;
    k.number = number;
    k.access = self;
    k.access.arg = a.arg;
    k.access.write = a.write;
    m_kept.push_back(k);
  }
}

void LaneHazardCheck::report(const Kept& earlier, const TracedAccess& later, uintptr_t lo,
                             uintptr_t hi) {
  LaneHazard h;
  h.first = earlier.access;
  h.second = later;
  h.begin = lo;
  h.end = hi;
  auto it = m_allocations.upper_bound(lo);
  if (it != m_allocations.begin()) {
    --it;
    if (lo < it->first + it->second) {
      h.allocation = it->first;
      h.allocation_bytes = it->second;
    }
  }
  ++m_hazard_count;
  if (m_hazards.size() < kMaxStored) m_hazards.push_back(h);
  if (m_throw) throw LaneHazardError(h);
}

// ---- memory

void LaneHazardCheck::allocated(const void* p, size_t bytes) {
  if (!p || bytes == 0) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  m_allocations[reinterpret_cast<uintptr_t>(p)] = bytes;
}

void LaneHazardCheck::released(const void* p) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_allocations.find(reinterpret_cast<uintptr_t>(p));
  if (it == m_allocations.end()) return;
  const uintptr_t lo = it->first, hi = it->first + it->second;
  m_kept.erase(
      std::remove_if(m_kept.begin(), m_kept.end(),
                     [&](const Kept& k) { return k.range.begin < hi && k.range.end() > lo; }),
      m_kept.end());
  m_allocations.erase(it);
}

size_t LaneHazardCheck::bytes_to_end(const void* p) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = m_allocations.upper_bound(a);
  if (it == m_allocations.begin()) return 0;
  --it;
  return a < it->first + it->second ? it->first + it->second - a : 0;
}

// ---- queries

std::vector<LaneHazard> LaneHazardCheck::hazards() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_hazards;
}

uint64_t LaneHazardCheck::hazard_count() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_hazard_count;
}

void LaneHazardCheck::clear_hazards() {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_hazards.clear();
  m_hazard_count = 0;
}

uint64_t LaneHazardCheck::ops_on_lane(int lane) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return lane >= 0 && lane < kLanes ? m_lane_ops[lane] : 0;
}

uint64_t LaneHazardCheck::recorded_ops() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_recorded_ops;
}

uint64_t LaneHazardCheck::ops() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_ops;
}

size_t LaneHazardCheck::kept() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_kept.size();
}

}  // namespace sac
