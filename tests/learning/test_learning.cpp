// test_learning.cpp: SAC with the paper's defaults learns, on the CPU, within CI time.
// Fixed seeds; the eval protocol is the trainer's: mean return of 10 deterministic episodes.
// Run alone: ./build/sac_learning_tests
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "sac/config.h"
#include "sac/trainer.h"

namespace {

sac::TrainSummary train_config(const std::string& file, const std::vector<std::string>& overrides,
                               const std::string& name) {
  std::vector<std::string> all = {"device=cpu"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  sac::Config c = sac::load_config(std::string(SAC_SOURCE_DIR) + "/configs/" + file, all);
  std::string dir = testing::TempDir() + "sac_learning_" + name + "_" + std::to_string(::getpid());
  return sac::train(c, dir, false);
}

// Pendulum-v1: random play returns about -1200; a swing-up policy about -150.
TEST(Learning, PendulumSwingsUp) {
  sac::TrainSummary s = train_config("pendulum.json", {"train.total_steps=15000", "train.seed=1"},
                                     "pendulum");
  RecordProperty("final_eval_return", std::to_string(s.final_eval_return));
  EXPECT_GT(s.final_eval_return, -200.0) << "wall " << s.wall_seconds << " s";
}

// InvertedPendulum-v5: 1000 is the maximum return (balanced for the whole episode).
TEST(Learning, InvertedPendulumBalances) {
  sac::TrainSummary s = train_config("inverted_pendulum.json",
                                     {"train.total_steps=25000", "train.seed=1"}, "inverted_pendulum");
  RecordProperty("final_eval_return", std::to_string(s.final_eval_return));
  EXPECT_GE(s.final_eval_return, 950.0) << "wall " << s.wall_seconds << " s";
}

}  // namespace
