// test_replay.cpp: ring insert with wrap-around, and uniform, reproducible sampling.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "sac/replay_buffer.h"

namespace {

// inserts n transitions whose every field encodes its global index `first + k`
void insert_indexed(sac::ReplayBuffer& rb, int first, int n) {
  const int O = rb.obs_dim(), A = rb.act_dim();
  std::vector<float> obs((size_t)n * O), act((size_t)n * A), rew(n), next((size_t)n * O), term(n);
  for (int k = 0; k < n; ++k) {
    float id = (float)(first + k);
    for (int j = 0; j < O; ++j) obs[(size_t)k * O + j] = id + 0.01f * j, next[(size_t)k * O + j] = -id;
    for (int j = 0; j < A; ++j) act[(size_t)k * A + j] = id * 10 + j;
    rew[k] = id;
    term[k] = (first + k) % 2;
  }
  rb.insert_host(n, obs.data(), act.data(), rew.data(), next.data(), term.data());
}

TEST(ReplayBuffer, WrapsAroundAndOverwritesOldest) {
  sac::CpuBackend be(1);
  sac::ReplayBuffer rb(be, 10, 3, 2);
  insert_indexed(rb, 0, 7);
  EXPECT_EQ(rb.size(), 7);
  EXPECT_EQ(rb.head(), 7);
  insert_indexed(rb, 7, 6);  // 3 fit at the end, 3 wrap to the start
  EXPECT_EQ(rb.size(), 10);
  EXPECT_EQ(rb.head(), 3);
  const auto& s = rb.storage();
  // slots 0..2 now hold 10, 11, 12; slots 3..9 hold 3..9
  for (int slot = 0; slot < 10; ++slot) {
    int id = slot < 3 ? 10 + slot : slot;
    EXPECT_EQ(s.reward[slot], (float)id) << slot;
    EXPECT_EQ(s.obs[slot * 3 + 2], id + 0.02f) << slot;
    EXPECT_EQ(s.next_obs[slot * 3], -(float)id) << slot;
    EXPECT_EQ(s.action[slot * 2 + 1], id * 10.0f + 1) << slot;
    EXPECT_EQ(s.terminated[slot], (float)(id % 2)) << slot;
  }
  EXPECT_EQ(*rb.device_size(), 10);
}

TEST(ReplayBuffer, InsertLargerThanRingWrapsTwice) {
  sac::CpuBackend be(1);
  sac::ReplayBuffer rb(be, 4, 1, 1);
  insert_indexed(rb, 0, 3);
  insert_indexed(rb, 3, 4);  // ids 3..6 land in slots 3, 0, 1, 2
  EXPECT_EQ(rb.head(), 3);
  std::vector<float> expect = {4, 5, 6, 3};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rb.storage().reward[i], expect[i]);
}

TEST(ReplayBuffer, SamplingIsUniformAndRowsStayTogether) {
  sac::CpuBackend be(1);
  const int cap = 50, B = 256, draws = 400;
  sac::ReplayBuffer rb(be, cap, 2, 1);
  insert_indexed(rb, 0, 30);  // partly filled: only slots < 30 may be drawn
  std::vector<float> store((size_t)B * 7);
  sac::TransitionBatch batch{store.data(), store.data() + 2 * B, store.data() + 3 * B,
                             store.data() + 4 * B, store.data() + 6 * B};
  std::vector<int64_t> idx(B);
  std::vector<int> counts(cap, 0);
  int64_t counter = 0;
  for (int d = 0; d < draws; ++d, ++counter) {
    rb.sample(B, 42, 1, &counter, idx.data(), batch);
    for (int i = 0; i < B; ++i) {
      ASSERT_GE(idx[i], 0);
      ASSERT_LT(idx[i], 30);
      ++counts[idx[i]];
      // every field of row i comes from the same transition
      float id = batch.reward[i];
      EXPECT_EQ(id, (float)idx[i]);
      EXPECT_EQ(batch.obs[i * 2], id);
      EXPECT_EQ(batch.next_obs[i * 2 + 1], -id);
      EXPECT_EQ(batch.action[i], id * 10);
    }
  }
  // chi-square against uniform over 30 slots (29 dof: 99.9% quantile is about 58.3)
  double expected = (double)B * draws / 30, chi2 = 0;
  for (int k = 0; k < 30; ++k) chi2 += std::pow(counts[k] - expected, 2) / expected;
  EXPECT_LT(chi2, 58.3);
  for (int k = 30; k < cap; ++k) EXPECT_EQ(counts[k], 0);
}

TEST(ReplayBuffer, SameSeedSameIndices) {
  sac::CpuBackend be(1);
  sac::ReplayBuffer rb(be, 1000, 1, 1);
  insert_indexed(rb, 0, 1000);
  std::vector<float> s1(256 * 5), s2(256 * 5);
  sac::TransitionBatch b1{s1.data(), s1.data() + 256, s1.data() + 512, s1.data() + 768, s1.data() + 1024};
  sac::TransitionBatch b2{s2.data(), s2.data() + 256, s2.data() + 512, s2.data() + 768, s2.data() + 1024};
  std::vector<int64_t> i1(256), i2(256), i3(256);
  int64_t c = 5;
  rb.sample(256, 9, 1, &c, i1.data(), b1);
  rb.sample(256, 9, 1, &c, i2.data(), b2);
  EXPECT_EQ(i1, i2);
  EXPECT_EQ(s1, s2);
  c = 6;
  rb.sample(256, 9, 1, &c, i3.data(), b2);
  EXPECT_NE(i1, i3);
}

}  // namespace
