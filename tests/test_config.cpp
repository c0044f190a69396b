// test_config.cpp: the config layer refuses bad input with the key's name, and the `sac` binary
// turns that into one message and a non-zero exit before any work (no run directory written).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "sac/config.h"
#include "test_files.h"

namespace {

using sac::Config;
using sac::ConfigError;
using sac::test::CliRun;
using sac::test::run_sac;

// message of the ConfigError thrown by f, or "" when none is thrown
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "sac_config_" + name;
}

TEST(Config, DefaultsAreThePapers) {
  Config c;
  EXPECT_EQ(c.hidden, (std::vector<int>{256, 256}));
  EXPECT_DOUBLE_EQ(c.actor_lr, 3e-4);
  EXPECT_DOUBLE_EQ(c.critic_lr, 3e-4);
  EXPECT_DOUBLE_EQ(c.alpha_lr, 3e-4);
  EXPECT_EQ(c.batch_size, 256);
  EXPECT_EQ(c.buffer_size, 1000000);
  EXPECT_DOUBLE_EQ(c.gamma, 0.99);
  EXPECT_DOUBLE_EQ(c.tau, 0.005);
  EXPECT_EQ(c.warmup_steps, 5000);
  EXPECT_TRUE(c.target_entropy_auto);
  EXPECT_DOUBLE_EQ(c.init_log_alpha, 0.0);
}

TEST(Config, ResolvedJsonRoundTrips) {
  Config c;
  sac::apply_override(c, "train.seed=7");
  sac::apply_override(c, "sac.target_entropy=-3.5");
  Config back = sac::config_from_json_text(c.to_json().dump(), "roundtrip");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.seed, 7u);
  EXPECT_FALSE(back.target_entropy_auto);
  EXPECT_DOUBLE_EQ(back.target_entropy, -3.5);
}

TEST(Config, OverridesParseTypes) {
  Config c;
  sac::apply_override(c, "env.id=Hopper-v5");
  sac::apply_override(c, "sac.hidden=[64,32]");
  sac::apply_override(c, "sac.learn_alpha=false");
  sac::apply_override(c, "sac.gamma=0.9");
  EXPECT_EQ(c.env_id, "Hopper-v5");
  EXPECT_EQ(c.hidden, (std::vector<int>{64, 32}));
  EXPECT_FALSE(c.learn_alpha);
  EXPECT_DOUBLE_EQ(c.gamma, 0.9);
}

TEST(Config, UnknownKeyNamesTheKey) {
  std::string e = error_of([] { sac::config_from_json_text(R"({"sac": {"batchsize": 3}})", "f"); });
  EXPECT_NE(e.find("sac.batchsize"), std::string::npos) << e;
  e = error_of([] { sac::config_from_json_text(R"({"trian": {}})", "f"); });
  EXPECT_NE(e.find("trian"), std::string::npos) << e;
  Config c;
  e = error_of([&] { sac::apply_override(c, "train.total_step=5"); });
  EXPECT_NE(e.find("train.total_step"), std::string::npos) << e;
}

TEST(Config, WrongTypeNamesTheKey) {
  std::string e = error_of([] { sac::config_from_json_text(R"({"sac": {"batch_size": "big"}})", "f"); });
  EXPECT_NE(e.find("sac.batch_size"), std::string::npos) << e;
  EXPECT_NE(e.find("integer"), std::string::npos) << e;
  e = error_of([] { sac::config_from_json_text(R"({"sac": {"gamma": true}})", "f"); });
  EXPECT_NE(e.find("sac.gamma"), std::string::npos) << e;
  e = error_of([] { sac::config_from_json_text(R"({"sac": 3})", "f"); });
  EXPECT_NE(e.find("'sac'"), std::string::npos) << e;
  e = error_of([] { sac::config_from_json_text(R"({"sac": {"batch_size": 2.5}})", "f"); });
  EXPECT_NE(e.find("sac.batch_size"), std::string::npos) << e;
}

TEST(Config, OutOfRangeNamesTheKey) {
  for (const char* bad : {"sac.batch_size=-1", "sac.batch_size=0", "sac.gamma=1.5", "sac.tau=-0.1",
                          "sac.actor_lr=0", "train.total_steps=0", "env.num_envs=0",
                          "sac.hidden=[0]", "device=tpu"}) {
    Config c;
    std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    std::string e = error_of([&] { sac::apply_override(c, bad); });
    EXPECT_NE(e.find(key), std::string::npos) << bad << " -> " << e;
  }
}

TEST(Config, UnknownTaskIsRefusedByValidate) {
  Config c;
  sac::apply_override(c, "env.id=Walker3d-v9");
  std::string e = error_of([&] { sac::validate(c); });
  EXPECT_NE(e.find("Walker3d-v9"), std::string::npos) << e;
  EXPECT_NE(e.find("env.id"), std::string::npos) << e;
}

TEST(Config, MalformedJsonNamesTheFile) {
  std::string e = error_of([] { sac::config_from_json_text("{\"sac\": ", "my.json"); });
  EXPECT_NE(e.find("my.json"), std::string::npos) << e;
  EXPECT_NE(e.find("malformed"), std::string::npos) << e;
}

// the binary: one message, exit code 2, and no run directory left behind
TEST(ConfigCli, BadInputExitsBeforeAnyWork) {
  std::string dir = temp_path("never_created");
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"train --set sac.batchsize=3", "sac.batchsize"},
      {"train --set sac.batch_size=abc", "sac.batch_size"},
      {"train --set sac.batch_size=-4", "sac.batch_size"},
      {"train --set env.id=NoSuchTask-v0", "NoSuchTask-v0"},
      {"train /nonexistent/config.json", "/nonexistent/config.json"},
      {"train --bogus", "--bogus"},
      {"frobnicate", "frobnicate"},
  };
  for (const Case& c : cases) {
    CliRun r = run_sac(c.args + " --run-dir " + dir);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
    struct stat st;
    EXPECT_NE(stat(dir.c_str(), &st), 0) << c.args << " created " << dir;
  }
}

TEST(ConfigCli, ExistingRunIsNeverOverwritten) {
  std::string dir = temp_path("existing_run");
  ::mkdir(dir.c_str(), 0755);
  {
    std::ofstream f(dir + "/config.json");
    f << "{\"precious\": true}\n";
  }
  CliRun r = run_sac("train --set env.id=Pendulum-v1 --set train.total_steps=10 --quiet --run-dir " + dir);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("already holds a run"), std::string::npos) << r.output;
  std::ifstream f(dir + "/config.json");
  std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "{\"precious\": true}\n");
}

// a tiny end-to-end run: the run directory holds what DESIGN.md section 8 lists
TEST(ConfigCli, SmokeRunWritesTheRunDirectory) {
  std::string dir = temp_path("smoke_run");
  std::remove((dir + "/config.json").c_str());
  CliRun r = run_sac("train " SAC_SOURCE_DIR "/configs/pendulum.json --set device=cpu "
                  "--set train.total_steps=300 --set train.warmup_steps=100 --set sac.batch_size=32 "
                  "--set sac.hidden=[32,32] --set train.eval_every=150 --set train.eval_episodes=2 "
                  "--set train.log_every=100 --quiet --run-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json line = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(line["steps"], 300);
  EXPECT_EQ(line["updates"], 200);
  std::ifstream summary_file(dir + "/summary.json");
  nlohmann::json summary = nlohmann::json::parse(summary_file);
  for (const char* key : {"final_eval_return", "best_eval_return", "steps", "wall_seconds"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_EQ(summary["steps"], 300);
  std::ifstream eval_csv(dir + "/eval.csv");
  std::string header, row;
  std::getline(eval_csv, header);
  int rows = 0;
  while (std::getline(eval_csv, row)) ++rows;
  EXPECT_EQ(rows, 2);  // at 150 and the final one at 300
  std::ifstream metrics(dir + "/metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(metrics, l); ++lines) EXPECT_NO_THROW(nlohmann::json::parse(l));
  EXPECT_EQ(lines, 3);
  CliRun ev = run_sac("eval " + dir + "/policy.safetensors --episodes 2 --device cpu");
  ASSERT_EQ(ev.exit_code, 0) << ev.output;
  EXPECT_NE(ev.output.find("mean_return"), std::string::npos) << ev.output;
  CliRun bad = run_sac("eval " + dir + "/summary.json");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("summary.json"), std::string::npos) << bad.output;
}

}  // namespace
