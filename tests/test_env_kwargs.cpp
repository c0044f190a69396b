// test_env_kwargs.cpp: env.kwargs, the task's Gymnasium v5 keyword arguments in the config
// (engine/formats/config.cpp) and on the command line (--set env.kwargs.NAME=VALUE), `sac config
// keys|show` listing them per task, bad ones refused with exit 2 and nothing written, and a
// custom model (xml_file) copied into the run directory at run start: the run resumes and
// evaluates from its copy, and the policy records the model by checksum (run/run_model.h).
// Run: ./sac_tests --gtest_filter='EnvKwargs*'   (a few seconds: three short CLI runs)
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sac/config.h"
#include "sac/env.h"
#include "test_files.h"

namespace sac {
namespace {

using nlohmann::json;
using namespace test;  // TempDir, run_sac, read_file, write_file (test_files.h)

std::string message_of_config(const std::string& text, const std::vector<std::string>& sets) {
  try {
    Config c = config_from_json_text(text, "test.json");
    for (const std::string& s : sets) apply_override(c, s);
    validate(c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(EnvKwargs, TheConfigHoldsThemAsAnObjectAndSetSetsOne) {
  Config c = load_config("", {"env.id=Ant-v5", "env.kwargs.ctrl_cost_weight=0.05",
                              "env.kwargs.healthy_z_range=[0.195,0.75]",
                              "env.kwargs.main_body=torso"});
  json k = env_kwargs(c);
  EXPECT_EQ(k["ctrl_cost_weight"], 0.05);
  EXPECT_EQ(k["healthy_z_range"], json::array({0.195, 0.75}));
  EXPECT_EQ(k["main_body"], "torso");  // a bare word is a string
  EXPECT_EQ(c.to_json()["env"]["kwargs"], k);
  // the JSON round trip: a run's config.json gives the same config back
  Config again = config_from_json_text(c.to_json().dump(), "again");
  EXPECT_EQ(again.env_kwargs, c.env_kwargs);
  // none given: no env.kwargs in the resolved JSON (configs and policy files as before)
  EXPECT_FALSE(Config().to_json()["env"].contains("kwargs"));
  // every keyword of the task in resolved_env_kwargs, given or default
  json all = resolved_env_kwargs(c);
  EXPECT_EQ(all["ctrl_cost_weight"], 0.05);
  EXPECT_EQ(all["contact_cost_weight"], 5e-4);
  EXPECT_EQ(all["max_episode_steps"], 1000);
}

TEST(EnvKwargs, BadOnesAreRefusedNamingKeyAndValue) {
  std::string unknown = message_of_config(R"({"env": {"id": "Hopper-v5", "kwargs": {"x": 1}}})", {});
  EXPECT_NE(unknown.find("config key 'env.kwargs'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("no keyword 'x'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("healthy_angle_range"), std::string::npos) << unknown;  // known ones
  std::string type = message_of_config("{}", {"env.id=Hopper-v5", "env.kwargs.frame_skip=two"});
  EXPECT_NE(type.find("'frame_skip'"), std::string::npos) << type;
  EXPECT_NE(type.find("\"two\""), std::string::npos) << type;
  std::string not_object = message_of_config(R"({"env": {"kwargs": [1]}})", {});
  EXPECT_NE(not_object.find("expected an object"), std::string::npos) << not_object;
  // the model file is loaded by load_config (a run's config, validated later, may name a file
  // whose copy in the run stands in for it)
  EXPECT_EQ(message_of_config("{}", {"env.id=Ant-v5", "env.kwargs.xml_file=/no/ant.xml"}),
            "(accepted)");
  std::string file;
  try {
    load_config("", {"env.id=Ant-v5", "env.kwargs.xml_file=/no/ant.xml"});
  } catch (const ConfigError& e) {
    file = e.what();
  }
  EXPECT_NE(file.find("config key 'env.kwargs'"), std::string::npos) << file;
  EXPECT_NE(file.find("/no/ant.xml"), std::string::npos) << file;
}

TEST(EnvKwargs, ConfigKeysListsEveryTasksKeywordsAndShowResolvesThem) {
  CliRun keys = run_sac("config keys");
  ASSERT_EQ(keys.exit_code, 0) << keys.output;
  int ant = 0;
  bool standup_steps = false;
  for (size_t at = 0, end; (end = keys.output.find('\n', at)) != std::string::npos; at = end + 1) {
    json line = json::parse(keys.output.substr(at, end - at));
    if (!line.contains("task")) continue;
    if (line["task"] == "Ant-v5") ++ant;
    if (line["task"] == "Reacher-v5" && line["key"] == "env.kwargs.max_episode_steps")
      standup_steps = line["default"] == 50;
  }
  EXPECT_EQ(ant, 15);  // Gymnasium's 14 for Ant-v5, and max_episode_steps
  EXPECT_TRUE(standup_steps);
  CliRun show = run_sac("config show --set env.id=Swimmer-v5 --set env.kwargs.frame_skip=2");
  ASSERT_EQ(show.exit_code, 0) << show.output;
  json shown = json::parse(show.output);
  EXPECT_EQ(shown["env"]["kwargs"]["frame_skip"], 2);
  EXPECT_EQ(shown["env"]["kwargs"]["ctrl_cost_weight"], 1e-4);
}

TEST(EnvKwargs, TrainRefusesABadKeywordWithExit2AndWritesNothing) {
  TempDir dir("kwargs_refused");
  for (const std::string& set :
       {"env.kwargs.ctrl_cost=1", "env.kwargs.ctrl_cost_weight=[1]",
        "env.kwargs.xml_file=./no/such/file.xml", "env.kwargs.main_body=nothing"}) {
    CliRun r = run_sac("train --run-dir " + dir / "run" + " --set env.id=Ant-v5 --set " + set);
    EXPECT_EQ(r.exit_code, 2) << set << ": " << r.output;
    EXPECT_FALSE(path_exists(dir / "run")) << set;
  }
}

// the run's args: a short InvertedPendulum run on a model file of the test's own
std::string small_pendulum_run(const std::string& model, int steps) {
  return "--set env.id=InvertedPendulum-v5 --set env.kwargs.xml_file=" + model +
         " --set env.kwargs.reset_noise_scale=0.02 --set sac.hidden=[16,16] "
         "--set sac.batch_size=16 --set train.warmup_steps=50 --set train.eval_episodes=2 "
         "--set train.eval_every=0 --set device=cpu --set train.threads=1 --set "
         "train.total_steps=" +
         std::to_string(steps) + " --set train.checkpoint_every=100 --quiet";
}

TEST(EnvKwargs, ACustomModelIsCopiedIntoTheRunWhichResumesAndEvaluatesFromItsCopy) {
  TempDir dir("kwargs_model");
  // the project's pendulum with a heavier pole: a model of the test's own, as a user brings one
  std::string text = read_file(SAC_SOURCE_DIR "/envs/models/inverted_pendulum.xml");
  ASSERT_FALSE(text.empty());
  const std::string model = dir / "heavy_pendulum.xml";
  write_file(model, text);

  CliRun first = run_sac("train --run-dir " + dir / "run" + " " + small_pendulum_run(model, 200));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(read_file(dir / "run/model/heavy_pendulum.xml"), text);
  json config = json::parse(read_file(dir / "run/config.json"));
  EXPECT_EQ(config["env"]["kwargs"]["xml_file"], model);

  // the original gone: the run continues and evaluates from its own copy
  std::remove(model.c_str());
  CliRun resumed = run_sac("train --resume " + dir / "run" + " --set train.total_steps=300 --quiet");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  CliRun eval = run_sac("eval " + dir / "run/policy.safetensors" + " --episodes 2");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("\"mean_return\""), std::string::npos) << eval.output;

  // another file under the copy's name is refused by the policy's checksum
  write_file(dir / "run/model/heavy_pendulum.xml", text + "<!-- changed -->\n");
  CliRun other = run_sac("eval " + dir / "run/policy.safetensors" + " --episodes 2");
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("CRC-32C"), std::string::npos) << other.output;
}

}  // namespace
}  // namespace sac
