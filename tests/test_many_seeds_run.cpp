// test_many_seeds_run.cpp: runs of several seeds (train.seeds) on the CPU backend. Each seed's
// folder must hold the files a run of that seed alone writes, its policy byte-identical to that
// run's (sequential and overlapped loops, one and several envs, with evaluation, after a stop
// and a resume); a seed made to diverge stops alone while the others end exactly as without
// it; the config key, `sac plot` of the set and `sac bench train --seeds` (agent-level
// identity: test_many_seeds.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "sac/config.h"
#include "sac/errors.h"
#include "sac/trainer.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

using test::eval_returns;
using test::fresh_dir;
using test::path_exists;
using test::quiet;
using test::read_file;
using test::run_sac;
using test::small_config;

const std::vector<uint64_t> kSeeds = {1, 2, 3};

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// metrics.jsonl without its timing fields
std::vector<nlohmann::json> metrics(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    for (const char* timing : {"wall_seconds", "sps", "ups"}) j.erase(timing);
    lines.push_back(j);
  }
  return lines;
}

std::string seeds_override(const std::vector<uint64_t>& seeds) {
  std::string list;
  for (uint64_t s : seeds) list += (list.empty() ? "" : ",") + std::to_string(s);
  return "train.seeds=[" + list + "]";
}

// the files of seed `seed` in `many` equal those of the single run in `single`
void expect_same_seed_files(const std::string& many, uint64_t seed, const std::string& single) {
  const std::string dir = many + "/seed-" + std::to_string(seed);
  EXPECT_TRUE(read_file(dir + "/policy.safetensors") == read_file(single + "/policy.safetensors"))
      << "seed " << seed << ": policy differs from the run of that seed alone";
  EXPECT_EQ(read_file(dir + "/config.json"), read_file(single + "/config.json")) << seed;
  EXPECT_EQ(eval_returns(dir + "/eval.csv"), eval_returns(single + "/eval.csv")) << seed;
  EXPECT_EQ(metrics(dir + "/metrics.jsonl"), metrics(single + "/metrics.jsonl")) << seed;
  nlohmann::json a = read_json(dir + "/summary.json"), b = read_json(single + "/summary.json");
  for (const char* key : {"seed", "steps", "updates", "final_eval_return", "best_eval_return",
                          "unstable_episodes", "task"})
    EXPECT_EQ(a[key], b[key]) << "seed " << seed << ": summary.json " << key;
}

struct SeedsCase {
  const char* name;
  std::vector<std::string> extra;
};

class ManySeedsRun : public testing::TestWithParam<SeedsCase> {};

TEST_P(ManySeedsRun, EachSeedWritesWhatItsSingleRunWrites) {
  const SeedsCase& sc = GetParam();
  std::string dir = fresh_dir(std::string("many_") + sc.name);
  std::vector<std::string> extra = sc.extra;
  extra.push_back("train.eval_every=200");
  extra.push_back("train.eval_episodes=2");
  std::vector<std::string> many = extra;
  many.push_back(seeds_override(kSeeds));
  TrainSummary s = train(small_config(500, many), dir + "/many", quiet());
  ASSERT_EQ(s.seeds.size(), kSeeds.size());
  double final_sum = 0;
  for (size_t k = 0; k < kSeeds.size(); ++k) {
    std::vector<std::string> one = extra;
    one.push_back("train.seed=" + std::to_string(kSeeds[k]));
    TrainSummary single = train(small_config(500, one), dir + "/single" + std::to_string(k),
                                quiet());
    expect_same_seed_files(dir + "/many", kSeeds[k], dir + "/single" + std::to_string(k));
    EXPECT_EQ(s.seeds[k].seed, kSeeds[k]);
    EXPECT_EQ(s.seeds[k].final_eval_return, single.final_eval_return);
    EXPECT_EQ(s.seeds[k].stopped_step, -1);
    final_sum += single.final_eval_return;
  }
  // the run's folder: its config, checkpoints and the summary of all seeds, no logs
  EXPECT_TRUE(path_exists(dir + "/many/config.json"));
  EXPECT_FALSE(path_exists(dir + "/many/metrics.jsonl"));
  EXPECT_FALSE(path_exists(dir + "/many/policy.safetensors"));
  EXPECT_GE(latest_checkpoint(dir + "/many/checkpoints").step, 500);
  nlohmann::json j = read_json(dir + "/many/summary.json");
  EXPECT_EQ(j["seeds"], nlohmann::json(kSeeds));
  EXPECT_EQ(j["per_seed"].size(), kSeeds.size());
  EXPECT_DOUBLE_EQ(j["final_eval_return"]["mean"].get<double>(), final_sum / kSeeds.size());
  EXPECT_EQ(j["final_eval_return"]["seeds"], 3);
  EXPECT_LE(j["final_eval_return"]["min"].get<double>(), j["final_eval_return"]["max"].get<double>());
  EXPECT_DOUBLE_EQ(s.final_eval_return, final_sum / kSeeds.size());
}

TEST_P(ManySeedsRun, StopAndResumeEqualsTheSingleRuns) {
  const SeedsCase& sc = GetParam();
  std::string dir = fresh_dir(std::string("many_resume_") + sc.name);
  std::vector<std::string> many = sc.extra;
  many.push_back("train.checkpoint_every=150");
  many.push_back(seeds_override(kSeeds));
  // stopped at 350 (its own end), then extended to 700
  TrainSummary first = train(small_config(350, many), dir + "/many", quiet());
  Config more = resume_config(dir + "/many", {"train.total_steps=700"});
  TrainSummary s = resume(more, dir + "/many", quiet());
  EXPECT_EQ(s.resumed_from, first.steps);
  EXPECT_GE(s.steps, 700);
  // each seed's files equal those of its single run stopped and resumed the same way (whose
  // policy equals the one of a run in one go: CheckpointResume), its logs included
  for (size_t k = 0; k < kSeeds.size(); ++k) {
    std::vector<std::string> one = sc.extra;
    one.push_back("train.checkpoint_every=150");
    one.push_back("train.seed=" + std::to_string(kSeeds[k]));
    const std::string single = dir + "/single" + std::to_string(k);
    train(small_config(350, one), single, quiet());
    resume(resume_config(single, {"train.total_steps=700"}), single, quiet());
    expect_same_seed_files(dir + "/many", kSeeds[k], single);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Loops, ManySeedsRun,
    testing::Values(SeedsCase{"sequential", {"train.pipeline=sequential"}},
                    SeedsCase{"sequential_envs3_ratio",
                              {"train.pipeline=sequential", "env.num_envs=3",
                               "train.updates_per_step=0.5", "train.threads=2"}},
                    SeedsCase{"overlapped", {"train.pipeline=overlapped"}},
                    SeedsCase{"overlapped_envs2",
                              {"train.pipeline=overlapped", "env.num_envs=2"}}),
    [](const testing::TestParamInfo<SeedsCase>& i) { return std::string(i.param.name); });

// seed 2 (number 1) is made to diverge after step 300: it stops alone, seeds 1 and 3 end
// exactly as in the run without it, and the checkpoints written after it stopped hold its
// numbers as they are while refusing nothing of the others
TEST(ManySeedsDivergence, ADivergedSeedStopsAloneTheOthersEndAsWithoutIt) {
  for (const char* pipeline : {"sequential", "overlapped"}) {
    SCOPED_TRACE(pipeline);
    std::string dir = fresh_dir(std::string("many_diverge_") + pipeline);
    std::vector<std::string> many = {std::string("train.pipeline=") + pipeline,
                                     "train.eval_every=200", "train.eval_episodes=2",
                                     "train.checkpoint_every=100", seeds_override(kSeeds)};
    train(small_config(600, many), dir + "/clean", quiet());
    TrainOptions o = quiet();
    o.poison_step = 300;
    o.poison_seed = 1;
    TrainSummary s = train(small_config(600, many), dir + "/poisoned", o);
    EXPECT_EQ(s.steps, 600);
    ASSERT_EQ(s.seeds.size(), 3u);
    EXPECT_EQ(s.seeds[0].stopped_step, -1);
    EXPECT_EQ(s.seeds[2].stopped_step, -1);
    // found at the next metrics line at the latest (log_every 100), or by its actions
    EXPECT_GE(s.seeds[1].stopped_step, 300);
    EXPECT_LE(s.seeds[1].stopped_step, 400);
    EXPECT_NE(s.seeds[1].stopped_because.find("alpha"), std::string::npos)
        << s.seeds[1].stopped_because;
    for (uint64_t seed : {1, 3}) {
      const std::string name = "/seed-" + std::to_string(seed);
      EXPECT_TRUE(read_file(dir + "/poisoned" + name + "/policy.safetensors") ==
                  read_file(dir + "/clean" + name + "/policy.safetensors"))
          << "seed " << seed << " changed because another seed diverged";
      EXPECT_EQ(eval_returns(dir + "/poisoned" + name + "/eval.csv"),
                eval_returns(dir + "/clean" + name + "/eval.csv"));
    }
    // the stopped seed's folder says where and what, and holds no policy
    const std::string stopped = dir + "/poisoned/seed-2";
    EXPECT_FALSE(path_exists(stopped + "/policy.safetensors"));
    nlohmann::json j = read_json(stopped + "/summary.json");
    ASSERT_TRUE(j.contains("diverged")) << j.dump();
    EXPECT_EQ(j["diverged"]["step"], s.seeds[1].stopped_step);
    EXPECT_NE(j["diverged"]["message"].get<std::string>().find("not finite"), std::string::npos);
    EXPECT_TRUE(j["final_eval_return"].is_null());
    nlohmann::json all = read_json(dir + "/poisoned/summary.json");
    EXPECT_EQ(all["final_eval_return"]["seeds"], 2);
    EXPECT_TRUE(all["per_seed"][1].contains("diverged"));
    EXPECT_GE(latest_checkpoint(dir + "/poisoned/checkpoints").step, 600);

    // resumed, the seed stays stopped and the others go on as in the clean run
    Config more = resume_config(dir + "/poisoned", {"train.total_steps=800"});
    TrainSummary r = resume(more, dir + "/poisoned", quiet());
    EXPECT_EQ(r.seeds[1].stopped_step, s.seeds[1].stopped_step);
    EXPECT_EQ(r.seeds[1].stopped_because, s.seeds[1].stopped_because);
    Config clean_more = resume_config(dir + "/clean", {"train.total_steps=800"});
    resume(clean_more, dir + "/clean", quiet());
    for (uint64_t seed : {1, 3}) {
      const std::string name = "/seed-" + std::to_string(seed);
      EXPECT_TRUE(read_file(dir + "/poisoned" + name + "/policy.safetensors") ==
                  read_file(dir + "/clean" + name + "/policy.safetensors"))
          << "seed " << seed << " after the resume";
    }
  }
}

TEST(ManySeedsDivergence, EverySeedDivergedStopsTheRun) {
  std::string dir = fresh_dir("many_all_diverge");
  std::vector<std::string> settings = test::diverging_overrides();
  settings.insert(settings.end(), {"train.log_every=20", seeds_override({4, 5})});
  std::string message = test::train_failure(small_config(2000, settings), dir + "/run");
  EXPECT_NE(message.find("diverged at step"), std::string::npos) << message;
  EXPECT_NE(message.find("not finite"), std::string::npos) << message;
  for (const char* seed : {"/seed-4", "/seed-5"})
    EXPECT_TRUE(read_json(dir + "/run" + seed + "/summary.json").contains("diverged"));
}

// ---- the config key

TEST(ManySeedsConfig, BadListsAreRefusedNamingTheKey) {
  for (const char* bad : {"train.seeds=[1,1]", "train.seeds=[-1]", "train.seeds=[1.5]",
                          "train.seeds=3", "train.seeds=[\"a\"]"}) {
    try {
      small_config(100, {bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("train.seeds"), std::string::npos) << e.what();
    }
  }
  std::string many = "train.seeds=[";
  for (int s = 0; s <= kMaxSeeds; ++s) many += (s ? "," : "") + std::to_string(s);
  EXPECT_THROW(small_config(100, {many + "]"}), ConfigError);
}

TEST(ManySeedsConfig, OneSeedConfigsHaveNoSeedsKeyAndSeedConfigIsTheSingleRunsConfig) {
  Config one = small_config(100);
  EXPECT_FALSE(one.to_json()["train"].contains("seeds"));
  Config many = small_config(100, {"train.seeds=[7,9]"});
  EXPECT_EQ(many.to_json()["train"]["seeds"], nlohmann::json({7, 9}));
  EXPECT_EQ(seed_list(many), (std::vector<uint64_t>{7, 9}));
  EXPECT_EQ(seed_list(one), (std::vector<uint64_t>{3}));
  EXPECT_EQ(seed_config(many, 1).to_json(), small_config(100, {"train.seed=9"}).to_json());
  // the seeds of a run cannot change on resume
  EXPECT_THROW(check_resumable(many, small_config(100, {"train.seeds=[7,8]"})), CheckpointError);
  EXPECT_THROW(check_resumable(one, small_config(100, {"train.seeds=[3]"})), CheckpointError);
}

// ---- the command line

TEST(ManySeedsCli, PlotOfTheRunPlotsEverySeedAndBenchTrainCountsEverySeed) {
  std::string dir = fresh_dir("many_cli");
  train(small_config(300, {"train.eval_every=100", "train.eval_episodes=1",
                           seeds_override({1, 2})}),
        dir + "/run", quiet());
  test::CliRun p = run_sac("plot " + dir + "/run -o " + dir + "/curves.svg");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_NE(p.output.find("\"runs\":2"), std::string::npos) << p.output;

  test::CliRun b = run_sac(
      "bench train --env Pendulum-v1 --steps 200 --device cpu --threads 1 --seeds 3 "
      "--batch 32 --hidden 32,32");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  nlohmann::json j = nlohmann::json::parse(b.output.substr(b.output.find('{')));
  EXPECT_EQ(j["seeds"], 3);
  EXPECT_EQ(j["steps"], 600);  // 200 env steps of each seed
  EXPECT_DOUBLE_EQ(j["seed_updates_per_second"].get<double>(),
                   3 * j["updates_per_second"].get<double>());
  test::CliRun bad = run_sac("bench train --env Pendulum-v1 --steps 10 --device cpu --seeds 33");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--seeds"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace sac
