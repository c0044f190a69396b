// test_learner.cpp: the Learner seam. make_learner builds SAC's learner exactly as the Agent is
// built (every state tensor the same bytes), refuses an algo it does not build, and a Policy
// built alone (no critics, no optimiser state: what evaluation, videos and policy files use)
// acts bit for bit as the learner's own policy with the same weights, deterministic or not.
// Run: sac_tests --gtest_filter='Learner*'
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "sac/agent.h"
#include "sac/learner.h"
#include "sac/policy.h"
#include "test_util.h"

namespace sac {
namespace {

AgentSpec small_spec() {
  AgentSpec spec;
  spec.obs_dim = 3;
  spec.act_dim = 2;
  spec.hidden = {16, 16};
  spec.batch_size = 8;
  spec.max_act_batch = 4;
  spec.seed = 5;
  return spec;
}

size_t value_bytes(const StateTensor& t) { return t.dtype == "I64" ? 8 : 4; }

TEST(Learner, TheFactoryBuildsSacAsTheAgentIsBuilt) {
  auto backend = make_backend("cpu", 1);
  std::unique_ptr<Learner> learner = make_learner(*backend, small_spec());
  Agent agent(*backend, small_spec());
  EXPECT_EQ(learner->algo(), "sac");
  EXPECT_NE(dynamic_cast<Agent*>(learner.get()), nullptr);
  std::vector<StateTensor> a = learner->state_tensors(), b = agent.state_tensors();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i].name);
    EXPECT_EQ(a[i].name, b[i].name);
    ASSERT_EQ(a[i].shape, b[i].shape);
    // CPU backend memory is host memory
    EXPECT_EQ(std::memcmp(a[i].data, b[i].data, a[i].count() * value_bytes(a[i])), 0);
  }
  EXPECT_EQ(learner->actor().params(), learner->policy().actor().params());
}

TEST(Learner, AnAlgoWithoutALearnerIsRefused) {
  auto backend = make_backend("cpu", 1);
  AgentSpec spec = small_spec();
  spec.algo = "crossq";
  EXPECT_THROW(make_learner(*backend, spec), std::invalid_argument);
  EXPECT_EQ(learner_algos(), std::vector<std::string>{"sac"});
}

TEST(Learner, APolicyAloneActsAsTheLearnersPolicyBitForBit) {
  auto backend = make_backend("cpu", 1);
  const AgentSpec spec = small_spec();
  Agent agent(*backend, spec);
  Policy alone(*backend, spec, false);
  EXPECT_EQ(alone.actor().grads(), nullptr);  // no optimiser state
  ASSERT_EQ(alone.actor().num_params(), agent.actor().num_params());
  backend->copy(alone.actor().params(), agent.actor().params(),
                agent.actor().num_params() * sizeof(float));
  const int n = spec.max_act_batch, A = spec.act_dim;
  std::vector<float> obs = test::random_uniform((size_t)n * spec.obs_dim, 9, -1.0, 1.0);
  for (bool deterministic : {true, false, false}) {
    SCOPED_TRACE(deterministic ? "deterministic" : "sampled");
    std::vector<float> mine((size_t)n * A), theirs((size_t)n * A);
    agent.act(n, obs.data(), deterministic, theirs.data());
    alone.act(n, obs.data(), deterministic, mine.data());
    EXPECT_EQ(std::memcmp(mine.data(), theirs.data(), mine.size() * sizeof(float)), 0);
    for (float a : mine) EXPECT_TRUE(a >= -1.0f && a <= 1.0f) << a;
  }
  int64_t draws = -1;
  backend->download(&draws, alone.act_draw_counter(), sizeof draws);
  EXPECT_EQ(draws, 2);
}

}  // namespace
}  // namespace sac
