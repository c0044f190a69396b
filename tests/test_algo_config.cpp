// test_algo_config.cpp: the config's `algo` and each algo's own keys. SAC stays the default and
// its files are unchanged (no algo key, no tqc.* keys in the resolved JSON); TQC's keys are
// listed and validated (N x M pooled atoms, the truncation d x N leaving some); a key of another
// algo, an unknown algo and an algo whose learner is not built are refused naming the key and
// value, and `sac train` exits 2 before writing anything; a checkpoint restores only into the
// learner of the algo that wrote it.
// Run: sac_tests --gtest_filter='AlgoConfig*'
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/learner.h"
#include "sac/replay_buffer.h"
#include "sac/trainer.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

using nlohmann::json;

// message of the ConfigError that validating `overrides` over the defaults throws ("" if none)
std::string refusal(const std::vector<std::string>& overrides) {
  try {
    Config c;
    for (const std::string& o : overrides) apply_override(c, o);
    validate(c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(AlgoConfig, SacIsTheDefaultAndItsResolvedConfigHasNoAlgoKeys) {
  Config c;
  EXPECT_EQ(c.algo, "sac");
  EXPECT_EQ(refusal({}), "");
  json j = c.to_json();
  EXPECT_FALSE(j.contains("algo")) << j.dump();
  EXPECT_FALSE(j.contains("tqc")) << j.dump();
  EXPECT_TRUE(j["sac"].contains("num_critics"));
  // "sac" given explicitly is the same config
  apply_override(c, "algo=sac");
  EXPECT_EQ(c.to_json(), Config().to_json());
  EXPECT_EQ(AgentSpec::from_config(c, 3, 1, 1).algo, "sac");
  // the config accepts exactly the algos the learner factory builds
  EXPECT_EQ(built_algos(), learner_algos());
}

TEST(AlgoConfig, TqcKeysAreListedWithThePapersDefaults) {
  std::vector<std::string> keys;
  for (const ConfigKey& k : config_keys()) keys.push_back(k.key);
  for (const char* key : {"algo", "tqc.n_critics", "tqc.n_quantiles",
                          "tqc.top_quantiles_to_drop_per_net", "tqc.critic_hidden"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  Config c;
  EXPECT_EQ(c.tqc_n_critics, 5);
  EXPECT_EQ(c.tqc_n_quantiles, 25);
  EXPECT_EQ(c.tqc_top_quantiles_to_drop_per_net, 2);
  EXPECT_EQ(c.tqc_critic_hidden, (std::vector<int>{512, 512, 512}));
}

TEST(AlgoConfig, UnknownAndUnbuiltAlgosAreRefusedNamingTheValue) {
  std::string e = refusal({"algo=ppo"});
  EXPECT_TRUE(has(e, "'algo'") && has(e, "'ppo'") && has(e, "sac, tqc, crossq, redq")) << e;
  for (const char* algo : {"crossq", "redq", "tqc"}) {
    if (std::find(built_algos().begin(), built_algos().end(), algo) != built_algos().end())
      continue;
    e = refusal({std::string("algo=") + algo});
    EXPECT_TRUE(has(e, "'algo'") && has(e, "'" + std::string(algo) + "'") &&
                has(e, "not built yet"))
        << e;
  }
  e = refusal({"algo=3"});
  EXPECT_TRUE(has(e, "'algo'") && has(e, "expected a string")) << e;
}

TEST(AlgoConfig, AKeyOfAnotherAlgoIsRefusedNamingTheKeyAndBothAlgos) {
  // a TQC key under SAC, even at its default value, from --set or from a file
  for (const char* o : {"tqc.n_quantiles=25", "tqc.top_quantiles_to_drop_per_net=5",
                        "tqc.critic_hidden=[64,64]"}) {
    std::string e = refusal({o});
    std::string key = std::string(o).substr(0, std::string(o).find('='));
    EXPECT_TRUE(has(e, "'" + key + "'") && has(e, "'tqc'") && has(e, "'sac'")) << e;
  }
  std::string e;
  try {
    validate(config_from_json_text(R"({"tqc": {"n_critics": 3}})", "file.json"));
  } catch (const ConfigError& x) {
    e = x.what();
  }
  EXPECT_TRUE(has(e, "'tqc.n_critics'") && has(e, "'sac'")) << e;
  // SAC's critic count under TQC
  e = refusal({"algo=tqc", "sac.num_critics=2"});
  EXPECT_TRUE(has(e, "'sac.num_critics'") && has(e, "'tqc'") && has(e, "'sac'")) << e;
}

TEST(AlgoConfig, TqcTruncationMustLeaveTargetAtoms) {
  // d x N >= N x M: no atom left (checked before the algo's learner is looked for)
  std::string e = refusal({"algo=tqc", "tqc.n_quantiles=25", "tqc.top_quantiles_to_drop_per_net=25"});
  EXPECT_TRUE(has(e, "'tqc.top_quantiles_to_drop_per_net'") && has(e, "d x N = 125") &&
              has(e, "N x M = 125"))
      << e;
  e = refusal({"algo=tqc", "tqc.n_critics=3", "tqc.n_quantiles=4",
               "tqc.top_quantiles_to_drop_per_net=7"});
  EXPECT_TRUE(has(e, "'tqc.top_quantiles_to_drop_per_net'") && has(e, "value 7")) << e;
  // more pooled atoms than the sort takes
  e = refusal({"algo=tqc", "tqc.n_critics=5", "tqc.n_quantiles=500"});
  EXPECT_TRUE(has(e, "'tqc.n_quantiles'") && has(e, "2500") && has(e, "2048")) << e;
  // out of each key's own range
  e = refusal({"algo=tqc", "tqc.n_critics=0"});
  EXPECT_TRUE(has(e, "'tqc.n_critics'") && has(e, "out of range")) << e;
  e = refusal({"algo=tqc", "tqc.critic_hidden=[]"});
  EXPECT_TRUE(has(e, "'tqc.critic_hidden'")) << e;
}

TEST(AlgoConfig, BadAlgoSettingsExitTwoBeforeAnyWork) {
  std::string dir = test::fresh_dir("algo_cli");
  for (const std::string& set :
       {std::string("--set algo=crossq"), std::string("--set algo=redq"),
        std::string("--set tqc.n_quantiles=10"),
        std::string("--set algo=tqc --set tqc.top_quantiles_to_drop_per_net=25")}) {
    test::CliRun r = test::run_sac("train --set env.id=Pendulum-v1 " + set + " --run-dir " + dir +
                                   "/run");
    EXPECT_EQ(r.exit_code, 2) << set << ": " << r.output;
    EXPECT_TRUE(has(r.output, "algo") || has(r.output, "tqc.")) << r.output;
    EXPECT_FALSE(test::path_exists(dir + "/run")) << set;
  }
  // `sac config keys` lists the TQC keys
  test::CliRun keys = test::run_sac("config keys");
  EXPECT_EQ(keys.exit_code, 0);
  EXPECT_TRUE(has(keys.output, "\"tqc.top_quantiles_to_drop_per_net\"")) << keys.output;
}

TEST(AlgoConfig, ACheckpointRestoresOnlyAsTheAlgoThatWroteIt) {
  std::string dir = test::fresh_dir("algo_checkpoint");
  train(test::small_config(300), dir + "/run", test::quiet());
  LoadedCheckpoint ckpt = read_checkpoint(latest_checkpoint(dir + "/run/checkpoints"));
  EXPECT_EQ(ckpt.config.algo, "sac");
  auto backend = make_backend("cpu", 1);
  EnvPool pool("Pendulum-v1", 1, 3);
  AgentSpec spec = AgentSpec::from_config(ckpt.config, 3, 1, 1);
  std::unique_ptr<Learner> learner = make_learner(*backend, spec);
  ReplayBuffer replay(*backend, 1000, 3, 1);
  TrainerState st;
  // the same checkpoint said to be another algo's is refused, naming both, before any change
  LoadedCheckpoint other = ckpt;
  other.config.algo = "tqc";
  std::string e;
  try {
    restore_checkpoint(other, *learner, replay, pool, nullptr, st);
  } catch (const CheckpointError& x) {
    e = x.what();
  }
  EXPECT_TRUE(has(e, "'tqc'") && has(e, "'sac'") && has(e, ckpt.files.main)) << e;
  EXPECT_EQ(st.steps, 0);
  EXPECT_NO_THROW(restore_checkpoint(ckpt, *learner, replay, pool, nullptr, st));
  EXPECT_EQ(st.steps, 300);
}

}  // namespace
}  // namespace sac
