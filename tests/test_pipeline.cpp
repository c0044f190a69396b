// test_pipeline.cpp: the overlapped training loop (trainer.h, DESIGN.md section 7) on the CPU
// backend, where its update block runs on a thread of its own while the envs step.
//   - it does the steps and the updates the ratio owes (the same count as the sequential loop),
//     with N = 1 and 4 envs and ratios 1 and 0.25
//   - two runs give byte-identical policy files; the sequential loop gives a different one (the
//     updates lag the data by one step), and "auto" is the sequential loop on the CPU
//   - the pipeline setting cannot change on resume (stop-and-resume exactness of the overlapped
//     loop: the overlapped_* cases of CheckpointResume in test_checkpoint.cpp)
//   - `sac bench train` prints its JSON fields with sane values; bad pipeline values are refused
// Run: sac_tests --gtest_filter='Pipeline*'
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "run/background_eval.h"
#include "formats/checkpoint.h"
#include "sac/config.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"
#include "gpu_test.h"
#include "test_util.h"
#include "test_files.h"

namespace sac {
namespace {

namespace fs = std::filesystem;
using test::CliRun;
using test::fresh_dir;
using test::eval_returns;
using test::read_file;
using test::run_sac;

// the small Pendulum run of these tests
Config small_config(int64_t total_steps, const std::string& pipeline,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> o = {"env.id=Pendulum-v1",
                                "sac.hidden=[32,32]",
                                "sac.batch_size=32",
                                "train.warmup_steps=64",
                                "train.eval_episodes=0",
                                "train.log_every=100",
                                "device=cpu",
                                "train.threads=2",
                                "train.seed=5",
                                "train.pipeline=" + pipeline,
                                "train.total_steps=" + std::to_string(total_steps)};
  o.insert(o.end(), extra.begin(), extra.end());
  return load_config("", o);
}

TrainOptions quiet() {
  TrainOptions o;
  o.progress = false;
  return o;
}

// env steps and updates a run of `total` steps in batches of n envs owes, computed apart from
// the trainer: updates start once more than `warmup` steps are done, n * ratio per batch step
struct Counts {
  int64_t steps = 0, updates = 0;
};
Counts expected_counts(int64_t total, int n, double ratio, int64_t warmup) {
  Counts c;
  double debt = 0;
  while (c.steps < total) {
    c.steps += n;
    if (c.steps > warmup) {
      debt += n * ratio;
      while (debt >= 1.0) ++c.updates, debt -= 1.0;
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// counts, determinism, and the one-step lag

struct CountCase {
  const char* name;
  int num_envs;
  double ratio;
  std::vector<std::string> extra;
};

void PrintTo(const CountCase& c, std::ostream* os) {
  *os << c.name << ": " << c.num_envs << " envs, ratio " << c.ratio;
}

class PipelineOverlapped : public testing::TestWithParam<CountCase> {};

TEST_P(PipelineOverlapped, CountsAreTheRatiosAndRunsAreDeterministic) {
  const CountCase& cc = GetParam();
  std::string dir = fresh_dir(cc.name);
  std::vector<std::string> extra = {"env.num_envs=" + std::to_string(cc.num_envs),
                                    "train.updates_per_step=" + std::to_string(cc.ratio)};
  extra.insert(extra.end(), cc.extra.begin(), cc.extra.end());
  const int64_t total = 600;
  Counts want = expected_counts(total, cc.num_envs, cc.ratio, 64);
  ASSERT_GT(want.updates, 100);

  TrainSummary a = train(small_config(total, "overlapped", extra), dir + "/a", quiet());
  TrainSummary b = train(small_config(total, "overlapped", extra), dir + "/b", quiet());
  TrainSummary seq = train(small_config(total, "sequential", extra), dir + "/seq", quiet());
  for (const TrainSummary* s : {&a, &b, &seq}) {
    EXPECT_EQ(s->steps, want.steps);
    EXPECT_EQ(s->updates, want.updates);
    EXPECT_FALSE(s->interrupted);
  }
  std::string pa = read_file(dir + "/a/policy.safetensors");
  ASSERT_FALSE(pa.empty());
  EXPECT_TRUE(pa == read_file(dir + "/b/policy.safetensors"))
      << "two overlapped runs of one config gave different policies";
  EXPECT_FALSE(pa == read_file(dir + "/seq/policy.safetensors"))
      << "the overlapped loop gave the sequential loop's policy: its updates do not lag";

  // the run directory is the sequential loop's: summary, metrics, config with the setting
  std::ifstream summary_file(dir + "/a/summary.json");
  nlohmann::json summary = nlohmann::json::parse(summary_file);
  EXPECT_EQ(summary["steps"], want.steps);
  EXPECT_EQ(summary["updates"], want.updates);
  std::ifstream config_file(dir + "/a/config.json");
  nlohmann::json config = nlohmann::json::parse(config_file);
  EXPECT_EQ(config["train"]["pipeline"], "overlapped");
  std::ifstream metrics(dir + "/a/metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(metrics, l); ++lines) {
    nlohmann::json j = nlohmann::json::parse(l);
    // at a log line the block owed for that step's data has not run yet
    int64_t owed = expected_counts(j["step"].get<int64_t>(), cc.num_envs, cc.ratio, 64).updates;
    int64_t last = j["step"].get<int64_t>() - cc.num_envs;
    int64_t owed_before = last > 0 ? expected_counts(last, cc.num_envs, cc.ratio, 64).updates : 0;
    EXPECT_EQ(j["updates"].get<int64_t>(), owed_before) << l;
    EXPECT_LE(j["updates"].get<int64_t>(), owed) << l;
  }
  EXPECT_EQ(lines, 6);
}

INSTANTIATE_TEST_SUITE_P(
    Pipeline, PipelineOverlapped,
    testing::Values(CountCase{"envs1_ratio1", 1, 1.0, {}},
                    CountCase{"envs4_ratio1", 4, 1.0, {"env.threads=2"}},
                    CountCase{"envs1_ratio025", 1, 0.25, {}},
                    CountCase{"envs4_ratio025", 4, 0.25,
                              {"train.eval_every=200", "train.eval_episodes=2"}}),
    [](const testing::TestParamInfo<CountCase>& i) { return std::string(i.param.name); });

// The overlapped loop on the CUDA backend end to end (the loop `auto` picks there): two runs
// give the same policy file, and the evaluation returns stay close to the CPU backend's run of
// the same config (same Philox draws; only float rounding differs, ~1e-6 relative per update,
// which 1,000 updates on Pendulum-v1 keep far below a 2% change of a return).
TEST(PipelineCuda, OverlappedRunsAreDeterministicAndCloseToTheCpuRun) {
  SAC_SKIP_WITHOUT_GPU();
  std::string dir = fresh_dir("cuda_overlapped");
  auto config = [](const std::string& device) {
    return small_config(1064, "overlapped",
                        {"device=" + device, "train.eval_every=532", "train.eval_episodes=3"});
  };
  TrainSummary a = train(config("cuda"), dir + "/a", quiet());
  TrainSummary b = train(config("cuda"), dir + "/b", quiet());
  TrainSummary cpu = train(config("cpu"), dir + "/cpu", quiet());
  EXPECT_EQ(a.updates, 1000);
  EXPECT_EQ(a.updates, cpu.updates);
  std::string pa = read_file(dir + "/a/policy.safetensors");
  ASSERT_FALSE(pa.empty());
  EXPECT_TRUE(pa == read_file(dir + "/b/policy.safetensors"))
      << "two CUDA runs of one config gave different policies";
  // the same evaluations (their wall-clock column aside)
  EXPECT_EQ(eval_returns(dir + "/a/eval.csv"), eval_returns(dir + "/b/eval.csv"));
  for (auto [gpu, ref] : {std::pair{a.final_eval_return, cpu.final_eval_return},
                          std::pair{a.best_eval_return, cpu.best_eval_return}})
    EXPECT_NEAR(gpu, ref, 0.02 * std::fabs(ref) + 1.0) << "CUDA vs CPU evaluation return";
}

TEST(PipelineAuto, IsTheSequentialLoopOnTheCpu) {
  EXPECT_EQ(resolve_pipeline("auto", "cpu"), "sequential");
  EXPECT_EQ(resolve_pipeline("auto", "cuda"), "overlapped");
  EXPECT_EQ(resolve_pipeline("sequential", "cuda"), "sequential");
  EXPECT_EQ(resolve_pipeline("overlapped", "cpu"), "overlapped");
  EXPECT_THROW(resolve_pipeline("fast", "cpu"), ConfigError);
  std::string dir = fresh_dir("auto");
  train(small_config(300, "auto"), dir + "/auto", quiet());
  train(small_config(300, "sequential"), dir + "/seq", quiet());
  // the same weights (the files' config metadata differ in the setting itself)
  SafetensorsFile a = SafetensorsFile::load(dir + "/auto/policy.safetensors");
  SafetensorsFile s = SafetensorsFile::load(dir + "/seq/policy.safetensors");
  ASSERT_EQ(a.tensors.size(), s.tensors.size());
  ASSERT_GE(a.tensors.size(), 4u);
  for (const auto& [name, t] : a.tensors) {
    auto it = s.tensors.find(name);
    ASSERT_NE(it, s.tensors.end()) << name;
    EXPECT_TRUE(t.bytes == it->second.bytes) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// resume

// ---------------------------------------------------------------------------------------------
// evaluation beside training (background_eval.h)

// the evaluation of a snapshot on its own thread equals the same evaluation run inline
TEST(PipelineBackgroundEval, EqualsTheInlineEvaluationOfTheSameActor) {
  Config c = small_config(100, "overlapped", {"env.id=Hopper-v5", "train.eval_episodes=3"});
  EnvPool inline_pool(c.env_id, 3, 77), background_pool(c.env_id, 3, 77);
  const int O = inline_pool.spec().obs_dim, A = inline_pool.spec().act_dim;
  std::unique_ptr<Backend> backend = make_backend("cpu", 1);
  Agent agent(*backend, AgentSpec::from_config(c, O, A, 3));
  DeviceArray<float> d_obs(*backend, 3 * O), d_actions(*backend, 3 * A);
  std::vector<float> actor(agent.actor().num_params());
  backend->download(actor.data(), agent.actor().params(), actor.size() * sizeof(float));

  BackgroundEval background(AgentSpec::from_config(c, O, A, 3), background_pool);
  for (int round = 0; round < 2; ++round) {  // the second continues the envs' seeds
    background.start(1000 + round, 1.5, actor);
    EXPECT_TRUE(background.running());
    EvalResult ref = evaluate(agent.policy(), *backend, inline_pool, d_obs.data(), d_actions.data());
    BackgroundEval::Done done = background.wait();
    EXPECT_FALSE(background.running());
    EXPECT_EQ(done.step, 1000 + round);
    EXPECT_EQ(done.wall_seconds, 1.5);
    EXPECT_EQ(done.results.at(0).episodes, 3);
    EXPECT_EQ(done.results.at(0).mean, ref.mean);
    EXPECT_EQ(done.results.at(0).min, ref.min);
    EXPECT_EQ(done.results.at(0).max, ref.max);
  }
  EXPECT_THROW(background.wait(), std::logic_error);
  EXPECT_THROW(background.start(0, 0.0, std::vector<float>(3)), std::invalid_argument);
}

// the overlapped loop logs every evaluation once, in order, the same in every run
TEST(PipelineBackgroundEval, OverlappedRunsLogTheSameEvaluations) {
  std::string dir = fresh_dir("background_eval");
  const std::vector<std::string> extra = {"train.eval_episodes=2", "train.eval_every=100"};
  TrainSummary a = train(small_config(500, "overlapped", extra), dir + "/a", quiet());
  TrainSummary b = train(small_config(500, "overlapped", extra), dir + "/b", quiet());
  auto rows = [](const std::string& csv) {  // step and returns, without the wall time
    std::vector<std::string> out;
    std::istringstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      size_t first = line.find(','), second = line.find(',', first + 1);
      out.push_back(line.substr(0, first) + line.substr(second));
    }
    return out;
  };
  std::vector<std::string> ra = rows(read_file(dir + "/a/eval.csv"));
  ASSERT_EQ(ra.size(), 5u);  // steps 100, 200, 300, 400 and the final one at 500
  for (size_t i = 0; i < ra.size(); ++i)
    EXPECT_EQ(ra[i].substr(0, ra[i].find(',')), std::to_string(100 * (i + 1)));
  EXPECT_EQ(ra, rows(read_file(dir + "/b/eval.csv")));
  EXPECT_EQ(a.final_eval_return, b.final_eval_return);
  EXPECT_EQ(a.best_eval_return, b.best_eval_return);
}

// stop-and-resume exactness of the overlapped loop: the "overlapped_*" cases of CheckpointResume
// (test_checkpoint.cpp)

// the loop shape changes what the run computes: it cannot change on resume
TEST(PipelineResume, PipelineCannotChangeOnResume) {
  std::string dir = fresh_dir("pipeline_fixed");
  train(small_config(40, "overlapped"), dir + "/run", quiet());
  try {
    resume_config(dir + "/run", {"train.pipeline=sequential"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.pipeline"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(resume_config(dir + "/run", {"train.total_steps=80"}));
}

// ---------------------------------------------------------------------------------------------
// config and `sac bench train`

TEST(PipelineConfig, BadValuesAreRefusedNamingTheKey) {
  Config c;
  EXPECT_EQ(c.pipeline, "auto");
  for (const char* bad : {"train.pipeline=fast", "train.pipeline=3", "train.pipeline=[1]"}) {
    try {
      apply_override(c, bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("train.pipeline"), std::string::npos) << e.what();
    }
  }
  for (const char* good : {"overlapped", "sequential", "auto"}) {
    apply_override(c, std::string("train.pipeline=") + good);
    EXPECT_EQ(c.pipeline, good);
    Config back = config_from_json_text(c.to_json().dump(), "roundtrip");
    EXPECT_EQ(back.pipeline, good);
  }
}

TEST(PipelineBench, TrainPrintsItsFiguresAsOneJsonLine) {
  struct Case {
    std::string pipeline, resolved;
    int num_envs;
  } cases[] = {{"overlapped", "overlapped", 2}, {"sequential", "sequential", 1},
               {"auto", "sequential", 3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pipeline);
    CliRun r = run_sac("bench train --env Pendulum-v1 --steps 400 --device cpu --threads 2 "
                       "--hidden 32,32 --batch 32 --num-envs " + std::to_string(c.num_envs) +
                       " --pipeline " + c.pipeline);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    nlohmann::json j = nlohmann::json::parse(r.output);
    Counts want = expected_counts(400, c.num_envs, 1.0, 32);
    EXPECT_EQ(j["pipeline"], c.resolved);
    EXPECT_EQ(j["device"], "cpu");
    EXPECT_EQ(j["warmup_steps"], 32);  // the batch size
    EXPECT_EQ(j["steps"], want.steps);
    EXPECT_EQ(j["updates"], want.updates);
    double wall = j["wall_seconds"].get<double>();
    EXPECT_GT(wall, 0);
    EXPECT_NEAR(j["env_steps_per_second"].get<double>(), want.steps / wall,
                1e-6 * want.steps / wall);
    EXPECT_NEAR(j["updates_per_second"].get<double>(), want.updates / wall,
                1e-6 * want.updates / wall);
    EXPECT_TRUE(j["gpu_busy_fraction"].is_null()) << r.output;
    double env_busy = j["env_busy_fraction"].get<double>();
    EXPECT_GT(env_busy, 0.0);
    EXPECT_LE(env_busy, 1.0);
    const nlohmann::json& t = j["stages_seconds"];
    for (const char* k :
         {"inference", "copy", "env_step", "update", "update_wait", "insert", "eval"}) {
      ASSERT_TRUE(t.contains(k)) << k;
      EXPECT_GE(t[k].get<double>(), 0.0) << k;
    }
    EXPECT_EQ(t["eval"].get<double>(), 0.0);
    EXPECT_GT(t["inference"].get<double>(), 0.0);
    EXPECT_GT(t["update"].get<double>(), 0.0);
    EXPECT_NEAR(env_busy, t["env_step"].get<double>() / wall, 1e-9);
    // the calling thread's stages fit in the wall time; in the overlapped loop the update runs
    // on its own thread, concurrently with env_step, and the loop waits for it in update_wait
    double host = t["inference"].get<double>() + t["copy"].get<double>() +
                  t["env_step"].get<double>() + t["insert"].get<double>() +
                  t["update_wait"].get<double>();
    if (c.resolved == "sequential") {
      host += t["update"].get<double>();
      EXPECT_EQ(t["update_wait"].get<double>(), 0.0);
    } else {
      EXPECT_GT(t["update_wait"].get<double>(), 0.0);
      EXPECT_LE(t["update"].get<double>(), wall * 1.01);
    }
    EXPECT_LE(host, wall * 1.01);
  }
}

TEST(PipelineBench, BadInputExitsWithOneMessage) {
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"bench train --env Pendulum-v1 --steps 100 --device cpu --pipeline fast", "train.pipeline"},
      {"bench train --env Pendulum-v1 --device cpu", "--steps"},
      {"bench train --steps 100 --device cpu", "--env"},
      {"bench train --env NoSuchTask-v0 --steps 100 --device cpu", "NoSuchTask-v0"},
      {"bench train --env Pendulum-v1 --steps 100 --bogus 1", "--bogus"},
      {"train --set train.pipeline=fast --run-dir /nonexistent/never", "train.pipeline"},
  };
  for (const Case& c : cases) {
    CliRun r = run_sac(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace sac
