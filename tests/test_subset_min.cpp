// test_subset_min.cpp: Backend::subset_min, REDQ's target minimum over a random subset of M of
// N critics (kernels/subset_min.*). On the CPU against plain references computed here: every
// subset is M distinct critics in range, each row's minimum is the minimum over its subset,
// one subset is shared by every row unless per_row, the same counter draws the same subset and
// the next counter a new one, every critic is drawn about M/N of the time, M = N is the plain
// minimum, and bad shapes are refused naming the op. On CUDA (skipped without a GPU; run on the
// CUDA simulator as sim:*): the same bits as the CPU, eager and replayed from a recording.
// Run: sac_tests --gtest_filter='*SubsetMin*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu_test.h"
#include "sac/backend.h"

namespace sac {
namespace {

// E members of N critics over B rows, distinct values (row r, critic c of member e)
std::vector<float> critic_values(int E, int N, int B) {
  std::vector<float> q((size_t)E * N * B);
  for (size_t i = 0; i < q.size(); ++i) q[i] = std::sin(1.7f * (float)i + 0.3f) * 10.0f;
  return q;
}

// one call of subset_min on `be` with host inputs and outputs
struct SubsetMinRun {
  std::vector<float> q_min;
  std::vector<int32_t> chosen;
};

SubsetMinRun run_subset_min(Backend& be, int E, int N, int M, int B, bool per_row,
                            const std::vector<float>& q, const std::vector<uint64_t>& keys,
                            int64_t counter) {
  DeviceArray<float> d_q(be, q.size()), d_min(be, (size_t)E * B);
  const size_t subsets = (size_t)E * (per_row ? B : 1) * M;
  DeviceArray<int32_t> d_chosen(be, subsets);
  DeviceArray<int64_t> d_counter(be, 1);
  d_q.upload(q.data(), q.size());
  d_counter.upload(&counter, 1);
  be.subset_min(E, N, M, B, per_row, d_q.data(), keys.data(), 7, d_counter.data(), d_min.data(),
                d_chosen.data());
  SubsetMinRun run{std::vector<float>((size_t)E * B), std::vector<int32_t>(subsets)};
  d_min.download(run.q_min.data(), run.q_min.size());
  d_chosen.download(run.chosen.data(), subsets);
  return run;
}

// checks every subset (M distinct critics below N) and every row's minimum against the plain
// minimum over the row's subset
void expect_minimum_over_subsets(int E, int N, int M, int B, bool per_row,
                                 const std::vector<float>& q, const SubsetMinRun& run) {
  for (int e = 0; e < E; ++e)
    for (int r = 0; r < B; ++r) {
      const int32_t* subset = run.chosen.data() + ((size_t)e * (per_row ? B : 1) + (per_row ? r : 0)) * M;
      std::set<int32_t> distinct(subset, subset + M);
      ASSERT_EQ((int)distinct.size(), M) << "member " << e << " row " << r;
      ASSERT_GE(*distinct.begin(), 0);
      ASSERT_LT(*distinct.rbegin(), N);
      float expected = INFINITY;
      for (int32_t c : distinct) expected = std::min(expected, q[((size_t)e * N + c) * B + r]);
      ASSERT_EQ(run.q_min[(size_t)e * B + r], expected) << "member " << e << " row " << r;
    }
}

TEST(SubsetMin, EachRowIsTheMinimumOverItsSubsetOfDistinctCritics) {
  auto be = make_backend("cpu", 1);
  const int E = 3, N = 10, M = 2, B = 37;
  const std::vector<float> q = critic_values(E, N, B);
  const std::vector<uint64_t> keys{11, 12, 13};
  for (bool per_row : {false, true}) {
    SCOPED_TRACE(per_row ? "per row" : "shared");
    SubsetMinRun run = run_subset_min(*be, E, N, M, B, per_row, q, keys, 5);
    expect_minimum_over_subsets(E, N, M, B, per_row, q, run);
    if (per_row) {
      // rows draw their own subsets: not all alike
      std::set<std::vector<int32_t>> seen;
      for (int r = 0; r < B; ++r)
        seen.insert(std::vector<int32_t>(run.chosen.begin() + r * M, run.chosen.begin() + (r + 1) * M));
      EXPECT_GT(seen.size(), 10u);
    }
  }
}

TEST(SubsetMin, TheCounterAndKeyPickTheSubsetReproducibly) {
  auto be = make_backend("cpu", 1);
  const int E = 2, N = 10, M = 3, B = 4;
  const std::vector<float> q = critic_values(E, N, B);
  SubsetMinRun a = run_subset_min(*be, E, N, M, B, false, q, {1, 2}, 9);
  SubsetMinRun again = run_subset_min(*be, E, N, M, B, false, q, {1, 2}, 9);
  EXPECT_EQ(a.chosen, again.chosen);
  EXPECT_EQ(a.q_min, again.q_min);
  // other counters and other keys draw other subsets (some of ten differ from the first)
  int differ = 0;
  for (int64_t counter = 10; counter < 20; ++counter)
    differ += run_subset_min(*be, E, N, M, B, false, q, {1, 2}, counter).chosen != a.chosen;
  EXPECT_GE(differ, 8);
  SubsetMinRun other_key = run_subset_min(*be, E, N, M, B, false, q, {3, 2}, 9);
  EXPECT_NE(std::vector<int32_t>(other_key.chosen.begin(), other_key.chosen.begin() + M),
            std::vector<int32_t>(a.chosen.begin(), a.chosen.begin() + M));
  EXPECT_EQ(std::vector<int32_t>(other_key.chosen.begin() + M, other_key.chosen.end()),
            std::vector<int32_t>(a.chosen.begin() + M, a.chosen.end()))
      << "member 1's key did not change";
}

TEST(SubsetMin, EveryCriticIsDrawnAboutMOverNOfTheTime) {
  auto be = make_backend("cpu", 1);
  const int N = 10, M = 2, B = 1, draws = 4000;
  const std::vector<float> q = critic_values(1, N, B);
  std::vector<int> count(N, 0);
  std::set<std::pair<int, int>> pairs;
  for (int64_t counter = 0; counter < draws; ++counter) {
    SubsetMinRun run = run_subset_min(*be, 1, N, M, B, false, q, {42}, counter);
    for (int32_t c : run.chosen) ++count[c];
    pairs.insert({std::min(run.chosen[0], run.chosen[1]), std::max(run.chosen[0], run.chosen[1])});
  }
  // expected draws * M / N = 800 per critic; a binomial's standard deviation is about 25
  for (int c = 0; c < N; ++c) EXPECT_NEAR(count[c], draws * M / N, 125) << "critic " << c;
  EXPECT_EQ(pairs.size(), (size_t)(N * (N - 1) / 2)) << "every pair of critics is drawn";
}

TEST(SubsetMin, AllCriticsIsThePlainMinimum) {
  auto be = make_backend("cpu", 1);
  const int E = 2, N = 5, B = 9;
  const std::vector<float> q = critic_values(E, N, B);
  SubsetMinRun run = run_subset_min(*be, E, N, N, B, false, q, {4, 5}, 0);
  for (int e = 0; e < E; ++e)
    for (int r = 0; r < B; ++r) {
      float expected = q[((size_t)e * N) * B + r];
      for (int c = 1; c < N; ++c) expected = std::min(expected, q[((size_t)e * N + c) * B + r]);
      EXPECT_EQ(run.q_min[(size_t)e * B + r], expected);
    }
}

TEST(SubsetMin, BadShapesAreRefusedNamingTheOp) {
  auto be = make_backend("cpu", 1);
  DeviceArray<float> q(*be, 64), out(*be, 64);
  DeviceArray<int64_t> counter(*be, 1);
  const std::vector<uint64_t> keys(Backend::kMaxSeeds + 1, 1);
  auto call = [&](int E, int N, int M) {
    be->subset_min(E, N, M, 1, false, q.data(), keys.data(), 0, counter.data(), out.data(),
                   nullptr);
  };
  for (auto shape : {std::vector<int>{1, 4, 5}, {1, 4, 0}, {0, 4, 2}, {Backend::kMaxSeeds + 1, 1, 1},
                     {1, 33, 2}}) {
    try {
      call(shape[0], shape[1], shape[2]);
      ADD_FAILURE() << "E=" << shape[0] << " N=" << shape[1] << " M=" << shape[2] << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("subset_min"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("M=" + std::to_string(shape[2])), std::string::npos)
          << e.what();
    }
  }
}

TEST(CudaSubsetMin, MatchesTheCpuBitForBitEagerAndReplayed) {
  SAC_SKIP_WITHOUT_GPU();
  auto cpu = make_backend("cpu", 1);
  auto gpu = make_backend("cuda");
  const int E = 3, N = 10, M = 2, B = 300;  // two blocks of rows per member
  const std::vector<float> q = critic_values(E, N, B);
  const std::vector<uint64_t> keys{21, 22, 23};
  for (bool per_row : {false, true}) {
    SCOPED_TRACE(per_row ? "per row" : "shared");
    SubsetMinRun want = run_subset_min(*cpu, E, N, M, B, per_row, q, keys, 3);
    SubsetMinRun got = run_subset_min(*gpu, E, N, M, B, per_row, q, keys, 3);
    EXPECT_EQ(got.chosen, want.chosen);
    EXPECT_EQ(got.q_min, want.q_min);
    expect_minimum_over_subsets(E, N, M, B, per_row, q, got);
  }
  // recorded with the counter's increment: each replay draws the next counter's subset
  DeviceArray<float> d_q(*gpu, q.size()), d_min(*gpu, (size_t)E * B);
  DeviceArray<int32_t> d_chosen(*gpu, (size_t)E * M);
  DeviceArray<int64_t> d_counter(*gpu, 1);
  d_q.upload(q.data(), q.size());
  int64_t start = 0;
  d_counter.upload(&start, 1);
  std::unique_ptr<RecordedOps> recorded = gpu->record([&] {
    gpu->increment(d_counter.data());
    gpu->subset_min(E, N, M, B, false, d_q.data(), keys.data(), 7, d_counter.data(), d_min.data(),
                    d_chosen.data());
  });
  for (int64_t counter = 1; counter <= 3; ++counter) {
    recorded->replay();
    SubsetMinRun got{std::vector<float>((size_t)E * B), std::vector<int32_t>((size_t)E * M)};
    d_min.download(got.q_min.data(), got.q_min.size());
    d_chosen.download(got.chosen.data(), got.chosen.size());
    SubsetMinRun want = run_subset_min(*cpu, E, N, M, B, false, q, keys, counter);
    EXPECT_EQ(got.chosen, want.chosen) << "replay " << counter;
    EXPECT_EQ(got.q_min, want.q_min) << "replay " << counter;
  }
}

}  // namespace
}  // namespace sac
