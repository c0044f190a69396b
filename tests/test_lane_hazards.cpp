// test_lane_hazards.cpp: the lane hazard check of TracingBackend (lane_hazards.h, DESIGN.md
// sections 3 and 15) around the CPU backend. Hand-made op sequences that must report a hazard
// (a missing join or fork, a host wait on the wrong lane, a recording's branch that CUDA's graph
// does not order) and must not (fork and join, host waits, read/read, disjoint bytes, strided
// columns); the byte arithmetic of strided ranges against brute force; and the real engine work
// on every run: the update blocks of the Agent with the acting lane (Agent::act_snapshot on
// Backend::kActLane) beside them and the ring inserts, issued in the order the overlapped loop
// issues them on CUDA, for one seed and for three, and the StepLoop itself in both pipelines.
// Those report no hazard, and assert that the check saw ops on every lane and inside replays, so
// they cannot pass by seeing nothing.
// Run: sac_tests --gtest_filter='LaneHazards*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent_state.h"
#include "cpu_backend.h"
#include "lane_hazards.h"
#include "run/step_loop.h"
#include "run/training_run.h"
#include "sac/env_pool.h"
#include "sac/philox.h"
#include "small_run.h"
#include "tracing_backend.h"

namespace sac {
namespace {

constexpr size_t kFloats = 64;

// a traced CPU backend and three buffers of 64 floats
struct Lanes {
  CpuBackend cpu{1};
  TracingBackend t;
  DeviceArray<float> a, b, c;
  explicit Lanes(TracingOptions options = {})
      : t(cpu, options), a(t, kFloats), b(t, kFloats), c(t, kFloats) {}
  // copies floats [at, at + n) of src into dst: reads src, writes dst
  void copy(DeviceArray<float>& dst, const DeviceArray<float>& src, size_t n = kFloats,
            size_t at = 0) {
    t.copy(dst.data() + at, src.data() + at, n * sizeof(float));
  }
  void on(int lane) { t.set_lane(lane); }
};

uintptr_t addr(const float* p) { return reinterpret_cast<uintptr_t>(p); }

// the first hazards found, one a line, and how many in all
std::string all(const TracingBackend& t) {
  constexpr size_t kShown = 6;
  const std::vector<LaneHazard> found = t.hazards();
  std::string s;
  for (size_t i = 0; i < found.size() && i < kShown; ++i) s += found[i].to_string() + "\n";
  if (t.hazard_count() > kShown) s += "(" + std::to_string(t.hazard_count()) + " in all)\n";
  return s;
}

// ---- hand-made sequences

TEST(LaneHazards, MissingJoinIsAHazardNamingBothOps) {
  Lanes l;
  l.t.fork(1);
  l.on(1);
  l.copy(l.b, l.a);  // op 1: lane 1 writes b
  l.on(0);
  l.copy(l.c, l.b);  // op 2: lane 0 reads b, never joined
  ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  const LaneHazard h = l.t.hazards()[0];
  EXPECT_STREQ(h.first.op, "copy");
  EXPECT_STREQ(h.first.arg, "dst");
  EXPECT_TRUE(h.first.write);
  EXPECT_EQ(h.first.lane, 1);
  EXPECT_EQ(h.first.number, 1u);
  EXPECT_STREQ(h.second.arg, "src");
  EXPECT_FALSE(h.second.write);
  EXPECT_EQ(h.second.lane, 0);
  EXPECT_EQ(h.second.number, 2u);
  EXPECT_EQ(h.begin, addr(l.b.data()));
  EXPECT_EQ(h.end, addr(l.b.data() + kFloats));
  EXPECT_EQ(h.allocation, addr(l.b.data()));
  EXPECT_EQ(h.allocation_bytes, kFloats * sizeof(float));
  const std::string s = h.to_string();
  std::printf("%s\n", s.c_str());
  EXPECT_NE(s.find("read/write"), std::string::npos) << s;
  EXPECT_NE(s.find("copy writing dst (op #1, lane 1)"), std::string::npos) << s;
  EXPECT_NE(s.find("copy reading src (op #2, lane 0)"), std::string::npos) << s;
  EXPECT_NE(s.find("256 bytes at offset 0 of the 256-byte allocation"), std::string::npos) << s;
}

TEST(LaneHazards, ForkAndJoinOrderTheLanes) {
  Lanes l;
  l.copy(l.a, l.c);  // lane 0 writes a
  l.t.fork(1);
  l.on(1);
  l.copy(l.b, l.a);  // after the fork: reads a, writes b
  l.on(0);
  l.t.join(1);
  l.copy(l.c, l.b);  // after the join: reads b
  l.copy(l.b, l.a);  // and may write it again
  EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  EXPECT_GT(l.t.ops_on_lane(1), 0u);

  // joins compose: 1 -> 2 -> 0
  Lanes m;
  m.t.fork(1);
  m.t.fork(2);
  m.on(1);
  m.copy(m.b, m.a);
  m.on(2);
  m.t.join(1);
  m.on(0);
  m.t.join(2);
  m.copy(m.c, m.b);
  EXPECT_EQ(m.t.hazard_count(), 0u) << all(m.t);
}

TEST(LaneHazards, MissingForkIsAHazard) {
  {
    Lanes l;
    l.copy(l.a, l.c);  // lane 0 writes a
    l.on(1);           // no fork
    l.copy(l.b, l.a);
    ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
    EXPECT_EQ(l.t.hazards()[0].first.lane, 0);
    EXPECT_EQ(l.t.hazards()[0].second.lane, 1);
  }
  {
    // a fork orders only what the forking lane issued before it
    Lanes l;
    l.t.fork(1);
    l.copy(l.a, l.c);  // lane 0 writes a after the fork
    l.on(1);
    l.copy(l.b, l.a);
    EXPECT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  }
}

TEST(LaneHazards, ReadReadIsNoHazardWriteWriteIs) {
  Lanes l;
  l.copy(l.a, l.c);
  l.t.fork(1);
  l.t.fork(2);
  l.on(1);
  l.copy(l.b, l.a, 32);  // both read a
  l.on(2);
  l.copy(l.b, l.a, 32, 32);
  EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  l.copy(l.b, l.a, 1, 3);  // lane 2 writes b[3], which lane 1 wrote
  ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  const LaneHazard h = l.t.hazards()[0];
  EXPECT_TRUE(h.first.write && h.second.write);
  EXPECT_NE(h.to_string().find("write/write"), std::string::npos);
  EXPECT_EQ(h.begin, addr(l.b.data() + 3));
  EXPECT_EQ(h.end, addr(l.b.data() + 4));
}

TEST(LaneHazards, DisjointRangesAreNoHazard) {
  Lanes l;
  l.t.fork(1);
  l.t.fork(2);
  l.on(1);
  l.copy(l.b, l.a, 32, 0);  // b[0, 32)
  l.on(2);
  l.copy(l.b, l.a, 32, 32);  // b[32, 64)
  EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  l.copy(l.c, l.b, 2, 31);  // reads b[31, 33): b[31] is lane 1's
  ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  EXPECT_EQ(l.t.hazards()[0].begin, addr(l.b.data() + 31));
  EXPECT_EQ(l.t.hazards()[0].end, addr(l.b.data() + 32));
}

// the action columns of a critic input [s, a] (tanh_gaussian_sample at action_ld = O + A) are
// disjoint from its observation columns, and meet its action columns
TEST(LaneHazards, StridedColumnsMeetOnlyWhereTheyShareBytes) {
  const int B = 4, O = 3, A = 2, W = O + A;
  Lanes l;
  DeviceArray<float> x(l.t, (size_t)B * W), head(l.t, (size_t)B * 2 * A), eps(l.t, (size_t)B * A);
  DeviceArray<float> logp(l.t, B), grad(l.t, (size_t)B * A);
  l.t.fork(1);
  l.t.fork(2);
  l.on(1);
  l.t.tanh_gaussian_sample(1, B, A, head.data(), eps.data(), -20.0f, 2.0f, x.data() + O, W, 1,
                           logp.data());
  l.on(2);
  l.t.sum_member_columns(1, B, W, 0, A, x.data(), grad.data());  // columns 0, 1: disjoint
  l.t.sum_member_columns(1, B, W, 1, A, x.data(), grad.data());  // columns 1, 2: disjoint
  EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  l.t.sum_member_columns(1, B, W, 2, A, x.data(), grad.data());  // columns 2, 3: meets column 3
  ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  const LaneHazard h = l.t.hazards()[0];
  EXPECT_STREQ(h.first.op, "tanh_gaussian_sample");
  EXPECT_STREQ(h.first.arg, "action");
  EXPECT_STREQ(h.second.op, "sum_member_columns");
  EXPECT_EQ(h.begin, addr(x.data() + O));
  EXPECT_EQ(h.end, addr(x.data() + O + 1));
}

TEST(LaneHazards, HostWaitOrdersTheLaneBeforeEverythingLater) {
  {
    Lanes l;
    l.t.fork(1);
    l.on(1);
    l.copy(l.b, l.a);
    l.on(0);
    l.t.wait_lane(1);
    l.copy(l.c, l.b, 32);  // lane 0 after the wait
    l.on(3);               // and a lane never forked
    l.copy(l.c, l.b, 32, 32);
    EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  }
  {
    // a wait on another lane orders nothing of lane 1
    Lanes l;
    l.t.fork(1);
    l.on(1);
    l.copy(l.b, l.a);
    l.on(0);
    l.t.wait_lane(2);
    l.copy(l.c, l.b);
    EXPECT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  }
  {
    // synchronize waits for every lane
    Lanes l;
    for (int lane = 1; lane <= 3; ++lane) {
      l.on(lane);
      l.copy(l.b, l.a, 8, 8 * lane);
    }
    l.t.synchronize();
    l.on(4);
    l.copy(l.c, l.b);
    EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  }
  {
    // a blocking download runs on lane 0 and waits for lane 0 only (as CUDA's does): reading
    // what lane 1 wrote needs a join first
    Lanes l;
    l.t.fork(1);
    l.on(1);
    l.copy(l.b, l.a);
    l.on(0);
    std::vector<float> host(kFloats);
    l.b.download(host.data(), kFloats);
    ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
    EXPECT_STREQ(l.t.hazards()[0].second.op, "download");
    l.t.clear_hazards();
    l.t.join(1);
    l.b.download(host.data(), kFloats);
    EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  }
}

TEST(LaneHazards, ThrowOnHazardStopsBeforeTheOpRuns) {
  TracingOptions o;
  o.throw_on_hazard = true;
  Lanes l(o);
  const std::vector<float> ones(kFloats, 1.0f);
  l.a.upload(ones.data(), kFloats);
  l.t.fork(1);
  l.on(1);
  l.copy(l.b, l.a);
  l.on(0);
  try {
    l.copy(l.c, l.b);
    FAIL() << "no LaneHazardError";
  } catch (const LaneHazardError& e) {
    EXPECT_EQ(e.hazard().first.lane, 1);
    EXPECT_EQ(e.hazard().second.lane, 0);
    EXPECT_NE(std::string(e.what()).find("lane hazard"), std::string::npos);
  }
  l.t.join(1);
  std::vector<float> c(kFloats, -1.0f);
  l.c.download(c.data(), kFloats);
  EXPECT_EQ(c, std::vector<float>(kFloats, 0.0f)) << "the refused copy ran";
}

TEST(LaneHazards, CheckCanBeTurnedOff) {
  TracingOptions o;
  o.check_hazards = false;
  Lanes l(o);
  l.t.fork(1);
  l.on(1);
  l.copy(l.b, l.a);
  l.on(0);
  l.copy(l.c, l.b);
  EXPECT_EQ(l.t.hazard_count(), 0u);
  EXPECT_EQ(l.t.ops_on_lane(1), 0u);
  EXPECT_EQ(l.t.launches(), 2);
}

// ---- recorded ops: one graph launched on the lane of record time

TEST(LaneHazards, RecordedBranchesAreOrderedByTheRecordingsForksAndJoins) {
  Lanes l;
  auto rec = l.t.record([&l] {
    l.t.fork(1);
    l.on(1);
    l.copy(l.b, l.a);
    l.on(0);
    l.t.join(1);
    l.copy(l.c, l.b);
  });
  for (int i = 0; i < 3; ++i) rec->replay();
  EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  EXPECT_EQ(l.t.recorded_ops(), 6u);
  EXPECT_EQ(l.t.ops_on_lane(1), 3u);

  // without the join before the read: a hazard in every replay
  Lanes m;
  auto bad = m.t.record([&m] {
    m.t.fork(1);
    m.on(1);
    m.copy(m.b, m.a);
    m.on(0);
    m.copy(m.c, m.b);
    m.t.join(1);
  });
  bad->replay();
  bad->replay();
  ASSERT_EQ(m.t.hazard_count(), 2u) << all(m.t);
  const std::string s = m.t.hazards()[0].to_string();
  EXPECT_NE(s.find("lane 1, inside recorded ops replayed on lane 0"), std::string::npos) << s;
}

// On CUDA the graph's branch of lane 1 waits for lane 0 at the launch, not for lane 1's stream:
// what lane 1 wrote outside the graph is unordered with it unless lane 0 joined lane 1 first.
// Issued eagerly, the same ops are ordered by lane 1's own issue order.
TEST(LaneHazards, AGraphsBranchDoesNotFollowItsLanesEarlierOps) {
  auto outside_then_replay = [](bool join_first, bool recorded) {
    Lanes l;
    l.t.fork(1);
    l.on(1);
    l.copy(l.b, l.a);  // lane 1 writes b, outside any recording
    l.on(0);
    if (join_first) l.t.join(1);
    auto work = [&l] {
      l.t.fork(1);
      l.on(1);
      l.copy(l.c, l.b);  // the branch reads b
      l.on(0);
      l.t.join(1);
    };
    if (recorded)
      l.t.record(work)->replay();
    else
      work();
    return l.t.hazard_count();
  };
  EXPECT_EQ(outside_then_replay(false, true), 1u);
  EXPECT_EQ(outside_then_replay(true, true), 0u);
  EXPECT_EQ(outside_then_replay(false, false), 0u);
}

// ...and lane 1 outside the graph does not wait for the graph's branch of it; lane 0, where the
// graph was launched, does.
TEST(LaneHazards, ALanesLaterOpsDoNotFollowTheGraphsBranchOfIt) {
  Lanes l;
  l.t.fork(1);
  auto rec = l.t.record([&l] {
    l.t.fork(1);
    l.on(1);
    l.copy(l.b, l.a);  // the branch writes b
    l.on(0);
    l.t.join(1);
  });
  rec->replay();
  l.on(0);
  l.copy(l.c, l.b, 8);  // lane 0 follows the whole graph
  EXPECT_EQ(l.t.hazard_count(), 0u) << all(l.t);
  l.on(1);
  l.copy(l.c, l.b, 8, 8);  // lane 1 does not
  ASSERT_EQ(l.t.hazard_count(), 1u) << all(l.t);
  EXPECT_EQ(l.t.hazards()[0].first.replay_lane, 0);
  EXPECT_EQ(l.t.hazards()[0].second.replay_lane, -1);
  l.on(0);
  l.t.fork(1);  // now it does
  l.on(1);
  l.copy(l.c, l.b, 8, 16);
  EXPECT_EQ(l.t.hazard_count(), 1u) << all(l.t);
}

TEST(LaneHazards, RecordingsRefuseWhatCudaCaptureRefuses) {
  Lanes l;
  auto unforked = l.t.record([&l] {
    l.on(1);
    l.copy(l.b, l.a);
    l.on(0);
  });
  try {
    unforked->replay();
    FAIL() << "an op on a lane the recording never forked";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("never forked"), std::string::npos) << e.what();
  }
  l.on(0);
  auto unjoined = l.t.record([&l] {
    l.t.fork(2);
    l.on(2);
    l.copy(l.b, l.a);
    l.on(0);
  });
  try {
    unjoined->replay();
    FAIL() << "a branch not joined back";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("lane 2 (latest op copy) is not joined back"),
              std::string::npos)
        << e.what();
  }
}

// ---- the byte arithmetic of strided ranges, against the bytes themselves

TEST(LaneHazards, StridedOverlapMatchesBruteForce) {
  HostRng rng(7, 1);
  auto pick = [&rng](int n) { return (size_t)(rng.uniform(0.0, 1.0) * n); };
  int overlapping = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    MemRange r[2];
    std::set<uintptr_t> bytes[2];
    for (int k = 0; k < 2; ++k) {
      const size_t begin = 1000 + pick(40), rows = pick(6), width = pick(7), stride = pick(12);
      r[k] = MemRange::strided(reinterpret_cast<const void*>(begin), rows, width, stride);
      for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < width; ++j) bytes[k].insert(begin + i * stride + j);
      ASSERT_EQ(r[k].empty(), bytes[k].empty());
    }
    // the first shared byte and the run from it that both touch
    uintptr_t first = 0;
    bool shared = false;
    for (uintptr_t b : bytes[0])
      if (bytes[1].count(b)) {
        first = b;
        shared = true;
        break;
      }
    uintptr_t lo = 0, hi = 0;
    ASSERT_EQ(first_overlap(r[0], r[1], &lo, &hi), shared) << trial;
    if (!shared) continue;
    ++overlapping;
    EXPECT_EQ(lo, first) << trial;
    ASSERT_LT(lo, hi);
    for (uintptr_t b = lo; b < hi; ++b) EXPECT_TRUE(bytes[0].count(b) && bytes[1].count(b));
    EXPECT_FALSE(bytes[0].count(hi) && bytes[1].count(hi)) << "the run stops short: " << trial;
    // covers() never claims a byte it does not touch
    for (int k = 0; k < 2; ++k)
      if (covers(r[k], r[1 - k]))
        for (uintptr_t b : bytes[1 - k]) ASSERT_TRUE(bytes[k].count(b)) << trial;
  }
  EXPECT_GT(overlapping, 1000);
}

// ---- the engine's work

// The overlapped loop's order of issue on a backend whose lanes run concurrently (StepLoop::step
// on CUDA, where no worker thread runs the block): the observations up on lane 0, acting on
// kActLane, the update block launched beside it and the actor snapshot (which joins the acting
// lane), the wait for the actions, then the transitions up and each seed's ring insert.
class OverlappedSteps {
 public:
  OverlappedSteps(Backend& be, const AgentSpec& spec, int envs, int block)
      : m_be(be), m_spec(spec), m_S(spec.num_seeds()), m_N(envs), m_block(block) {
    for (int s = 0; s < m_S; ++s) {
      m_rings.push_back(test::filled_replay(be, spec, 200, 50 + 10 * s));
      m_views.push_back(m_rings.back().get());
    }
    m_agent = std::make_unique<Agent>(be, spec);
    const size_t O = spec.obs_dim, A = spec.act_dim, envs_all = (size_t)m_S * m_N;
    for (int p = 0; p < 2; ++p) {
      m_h_obs[p] = HostArray<float>(be, envs_all * O);
      m_h_actions[p] = HostArray<float>(be, envs_all * A);
      m_h_step[p] = HostArray<float>(be, m_S * StepTransitions::floats(m_N, (int)O));
      m_d_obs[p] = DeviceArray<float>(be, envs_all * O);
      m_d_actions[p] = DeviceArray<float>(be, envs_all * A);
      m_d_step[p] = DeviceArray<float>(be, m_S * StepTransitions::floats(m_N, (int)O));
    }
  }

  void step() {
    const int p = m_steps++ & 1, O = m_spec.obs_dim, A = m_spec.act_dim;
    const size_t per_seed = StepTransitions::floats(m_N, O);
    std::vector<float> obs = test::random_normal(m_h_obs[p].size(), 1000 + m_steps);
    std::copy(obs.begin(), obs.end(), m_h_obs[p].begin());
    m_be.upload_async(m_d_obs[p].data(), m_h_obs[p].data(), m_h_obs[p].size() * sizeof(float));
    m_agent->act_snapshot(m_N, m_d_obs[p].data(), m_d_actions[p].data(), m_h_actions[p].data());
    m_agent->update(m_views, m_block);
    m_agent->snapshot_actor();
    m_be.wait_lane(Backend::kActLane);
    // the step's transitions (rewards, terminations, keep flags, next observations) up
    std::vector<float> next = test::random_normal(m_h_step[p].size(), 5000 + m_steps);
    for (int s = 0; s < m_S; ++s) {
      float* block = m_h_step[p].data() + s * per_seed;
      std::copy(next.begin() + s * per_seed, next.begin() + (s + 1) * per_seed, block);
      for (int j = 0; j < m_N; ++j) {
        block[m_N + j] = (m_steps + j) % 7 == 0 ? 1.0f : 0.0f;  // terminated
        block[2 * m_N + j] = 1.0f;                              // keep
      }
    }
    m_be.upload_async(m_d_step[p].data(), m_h_step[p].data(), m_h_step[p].size() * sizeof(float));
    for (int s = 0; s < m_S; ++s)
      m_rings[s]->insert_step(m_N, m_N, m_d_obs[p].data() + (size_t)s * m_N * O,
                              m_d_actions[p].data() + (size_t)s * m_N * A,
                              m_d_step[p].data() + s * per_seed);
  }

  Agent& agent() { return *m_agent; }

 private:
  Backend& m_be;
  AgentSpec m_spec;
  const int m_S, m_N, m_block;
  int m_steps = 0;
  std::vector<std::unique_ptr<ReplayBuffer>> m_rings;
  std::vector<const ReplayBuffer*> m_views;
  std::unique_ptr<Agent> m_agent;
  HostArray<float> m_h_obs[2], m_h_actions[2], m_h_step[2];
  DeviceArray<float> m_d_obs[2], m_d_actions[2], m_d_step[2];
};

AgentSpec engine_spec(const std::vector<uint64_t>& seeds, int envs) {
  AgentSpec spec = test::half_cheetah_spec(seeds[0]);
  spec.hidden = {32, 32};
  spec.batch_size = 32;
  spec.max_act_batch = envs;
  if (seeds.size() > 1) spec.seeds = seeds;
  return spec;
}

void expect_every_lane_seen(const TracingBackend& t) {
  for (int lane = 0; lane < Backend::kMaxLanes; ++lane)
    EXPECT_GT(t.ops_on_lane(lane), 0u) << "the check saw no op on lane " << lane;
  EXPECT_GT(t.recorded_ops(), 0u) << "the check saw no replayed op";
}

TEST(LaneHazards, UpdateBlocksBesideActingAndRingInsertsHaveNone) {
  for (const std::vector<uint64_t>& seeds :
       {std::vector<uint64_t>{3}, std::vector<uint64_t>{1, 2, 3}}) {
    SCOPED_TRACE(std::to_string(seeds.size()) + " seeds");
    const int envs = 4, block = 2, steps = 12;
    const AgentSpec spec = engine_spec(seeds, envs);
    CpuBackend cpu(1);
    TracingOptions o;
    o.concurrent_lanes = true;  // the snapshot copies CUDA makes, not the CPU's live actor
    TracingBackend traced(cpu, o);
    OverlappedSteps run(traced, spec, envs, block);
    size_t kept_half = 0;
    try {
      for (int i = 0; i < steps; ++i) {
        run.step();
        if (i == steps / 2) kept_half = traced.kept_accesses();
      }
    } catch (const std::logic_error& e) {  // a recording CUDA's capture would refuse
      ADD_FAILURE() << e.what() << "\n" << all(traced);
      continue;
    }
    EXPECT_EQ(traced.hazard_count(), 0u) << all(traced);
    expect_every_lane_seen(traced);
    std::printf(
        "%zu seeds, %d steps: %llu ops (%llu on the acting lane, %llu replayed), %zu "
        "accesses kept\n",
        seeds.size(), steps, (unsigned long long)traced.checked_ops(),
        (unsigned long long)traced.ops_on_lane(Backend::kActLane),
        (unsigned long long)traced.recorded_ops(), traced.kept_accesses());
    // what the check keeps follows the buffers, not the number of steps
    EXPECT_LE(traced.kept_accesses(), kept_half + 8);

    // and the results are the CPU's, bit for bit
    CpuBackend plain(1);
    OverlappedSteps reference(plain, spec, envs, block);
    for (int i = 0; i < steps; ++i) reference.step();
    test::expect_identical_states(test::read_state(reference.agent()),
                                  test::read_state(run.agent()), "traced vs plain");
  }
}

// The StepLoop itself, both pipelines, one seed and three (the overlapped one on the CPU runs its
// update block on a worker thread while the main thread waits for the actions).
TEST(LaneHazards, StepLoopHasNone) {
  for (const char* pipeline : {"sequential", "overlapped"})
    for (bool many : {false, true}) {
      SCOPED_TRACE(std::string(pipeline) + (many ? ", 3 seeds" : ", 1 seed"));
      std::vector<std::string> set = {std::string("train.pipeline=") + pipeline, "env.num_envs=2",
                                      "train.updates_per_step=1", "train.warmup_steps=64"};
      if (many) set.push_back("train.seeds=[1,2,3]");
      const Config c = test::small_config(400, set);
      CpuBackend cpu(1);
      TracingOptions o;
      o.concurrent_lanes = true;
      TracingBackend traced(cpu, o);
      const std::vector<uint64_t> seeds = seed_list(c);
      EnvPool pool(c.env_id, seeded_envs(seeds, c.num_envs), 1);
      const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
      Agent agent(traced, AgentSpec::from_config(c, O, A, c.num_envs));
      SeedRings rings(traced, seeds.size(), replay_capacity(c), O, A);
      pool.reset();
      StepLoop loop(c, c.pipeline == "overlapped", traced, pool, agent, rings.rings(), nullptr);
      while (loop.state().steps < 160) loop.step();
      loop.drain();
      EXPECT_GT(loop.state().updates, 0);
      EXPECT_EQ(traced.hazard_count(), 0u) << all(traced);
      expect_every_lane_seen(traced);
    }
}

// What the check costs over real update blocks: the same steps with and without it.
TEST(LaneHazards, CheckCostIsSmallBesideTheWork) {
  const std::vector<uint64_t> seeds = {1, 2, 3};
  const int envs = 4, block = 4, steps = 20;
  AgentSpec spec = engine_spec(seeds, envs);
  spec.hidden = {64, 64};
  spec.batch_size = 64;
  double seconds[2];
  uint64_t ops = 0;
  for (int checked = 0; checked < 2; ++checked) {
    CpuBackend cpu(1);
    TracingOptions o;
    o.concurrent_lanes = true;
    o.check_hazards = checked == 1;
    TracingBackend traced(cpu, o);
    OverlappedSteps run(traced, spec, envs, block);
    run.step();  // the eager first update and the recordings
    const uint64_t ops0 = traced.checked_ops();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 1; i < steps; ++i) run.step();
    seconds[checked] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (checked) {
      EXPECT_EQ(traced.hazard_count(), 0u) << all(traced);
      ops = traced.checked_ops() - ops0;
    }
  }
  std::printf(
      "%d steps of %d updates (3 seeds, 64x64, batch 64): %.2f ms/step unchecked, %.2f "
      "ms/step checked (%llu ops checked, %.2f us each)\n",
      steps - 1, block, 1e3 * seconds[0] / (steps - 1), 1e3 * seconds[1] / (steps - 1),
      (unsigned long long)ops, 1e6 * (seconds[1] - seconds[0]) / std::max<uint64_t>(ops, 1));
  EXPECT_GT(ops, 0u);
}

}  // namespace
}  // namespace sac
