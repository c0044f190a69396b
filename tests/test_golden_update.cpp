// test_golden_update.cpp: one SAC update, and ten in a row, on a fixed batch and fixed noise
// match the PyTorch reference (bench/torch_sac.py, via tests/golden/make_golden.py): losses,
// gradients and the new weights of actor, critics, targets and log alpha.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cpu_backend.h"
#include "golden_file.h"
#include "sac/agent.h"

namespace {

using nlohmann::json;

using sac::test::flat_of;
using sac::test::floats;

// |got - ref| <= atol + rtol |ref|, reporting the first mismatches and the worst error
void expect_close(const std::vector<float>& ref, const float* got, double atol, double rtol,
                  const std::string& what) {
  int bad = 0;
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    double err = std::fabs((double)got[i] - ref[i]);
    worst = std::max(worst, err / (atol + rtol * std::fabs(ref[i])));
    if (err > atol + rtol * std::fabs(ref[i]) && bad++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", reference " << ref[i];
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << ref.size()
                    << " out of tolerance (worst error / tolerance " << worst << ")";
}

void expect_scalar(double ref, double got, double atol, double rtol, const std::string& what) {
  EXPECT_LE(std::fabs(got - ref), atol + rtol * std::fabs(ref))
      << what << ": got " << got << ", reference " << ref;
}

class GoldenUpdate : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    golden = sac::test::load_golden();
    spec = sac::test::golden_spec(golden);
    backend = std::make_unique<sac::CpuBackend>(GetParam());
    agent = std::make_unique<sac::Agent>(*backend, spec);

    // start from the reference's initial weights
    const json& init = golden["init"];
    upload(agent->actor().params(), flat_of(init["actor"], agent->actor()));
    upload(agent->critic().params(), flat_of(init["critic"], agent->critic()));
    upload(agent->target().params(), flat_of(init["target"], agent->target()));
    float log_alpha = init["log_alpha"];
    upload(agent->log_alpha(), {log_alpha});

    const json& b = golden["batch"];
    batch_data = {floats(b["obs"]), floats(b["action"]), floats(b["reward"]),
                  floats(b["next_obs"]), floats(b["terminated"])};
    batch.obs = batch_data[0].data();
    batch.action = batch_data[1].data();
    batch.reward = batch_data[2].data();
    batch.next_obs = batch_data[3].data();
    batch.terminated = batch_data[4].data();
  }

  void upload(float* dst, const std::vector<float>& v) {
    ASSERT_FALSE(v.empty());
    backend->upload(dst, v.data(), v.size() * sizeof(float));
  }

  void run_step(int k) {
    std::vector<float> eps_next = floats(golden["noise"][k]["next"]);
    std::vector<float> eps_cur = floats(golden["noise"][k]["cur"]);
    agent->update_on(batch, eps_next.data(), eps_cur.data());
  }

  json golden;
  sac::AgentSpec spec;
  std::unique_ptr<sac::CpuBackend> backend;
  std::unique_ptr<sac::Agent> agent;
  std::vector<std::vector<float>> batch_data;
  sac::TransitionBatch batch;
};

TEST_P(GoldenUpdate, OneUpdateMatchesLossesGradientsAndWeights) {
  run_step(0);
  const json& ref = golden["steps"][0];
  sac::UpdateMetrics m = agent->read_metrics();
  expect_scalar(ref["critic_loss"], m.critic_loss, 1e-6, 1e-5, "critic_loss");
  expect_scalar(ref["actor_loss"], m.actor_loss, 1e-6, 1e-5, "actor_loss");
  expect_scalar(ref["alpha_loss"], m.alpha_loss, 1e-6, 1e-5, "alpha_loss");
  expect_scalar(ref["log_alpha"], std::log(m.alpha), 1e-7, 1e-5, "log_alpha");

  // gradients of the first update
  const json& g = golden["grads_step1"];
  expect_close(flat_of(g["actor"], agent->actor()), agent->actor().grads(), 1e-6, 1e-4, "actor grad");
  expect_close(flat_of(g["critic"], agent->critic()), agent->critic().grads(), 1e-6, 1e-4, "critic grad");
  expect_scalar(g["log_alpha"], *agent->log_alpha_grad(), 1e-6, 1e-5, "log_alpha grad");

  // new weights after one Adam step (lr 3e-4: tolerance well below one step)
  expect_close(flat_of(ref["actor"], agent->actor()), agent->actor().params(), 1e-6, 1e-5, "actor");
  expect_close(flat_of(ref["critic"], agent->critic()), agent->critic().params(), 1e-6, 1e-5, "critic");
  expect_close(flat_of(ref["target"], agent->target()), agent->target().params(), 1e-6, 1e-5, "target");
}

TEST_P(GoldenUpdate, TenUpdatesInARowMatch) {
  for (int k = 0; k < (int)golden["steps"].size(); ++k) {
    run_step(k);
    const json& ref = golden["steps"][k];
    sac::UpdateMetrics m = agent->read_metrics();
    std::string at = " at update " + std::to_string(k + 1);
    expect_scalar(ref["critic_loss"], m.critic_loss, 1e-5, 1e-4, "critic_loss" + at);
    expect_scalar(ref["actor_loss"], m.actor_loss, 1e-5, 1e-4, "actor_loss" + at);
    expect_scalar(ref["alpha_loss"], m.alpha_loss, 1e-6, 1e-4, "alpha_loss" + at);
    expect_scalar(ref["log_alpha"], std::log(m.alpha), 1e-7, 1e-4, "log_alpha" + at);
    if (ref.contains("actor")) {
      expect_close(flat_of(ref["actor"], agent->actor()), agent->actor().params(), 1e-5, 1e-4, "actor" + at);
      expect_close(flat_of(ref["critic"], agent->critic()), agent->critic().params(), 1e-5, 1e-4, "critic" + at);
      expect_close(flat_of(ref["target"], agent->target()), agent->target().params(), 1e-5, 1e-4, "target" + at);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, GoldenUpdate, testing::Values(1, 2));

}  // namespace
