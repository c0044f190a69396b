// test_fuzz.cpp: mutation fuzzing of the two parsers that read files a user hands us: the config
// parser (config_from_json_text, apply_override, validate) and the checkpoint loader
// (read_checkpoint_file, checkpoint_config, check_resumable, restore_checkpoint). Thousands of
// inputs each, made from valid ones by byte flips, byte replacements with JSON-significant
// characters, insertions, deletions, duplications and truncations, from a fixed-seed RNG. Every
// input must end in success or in the expected exception type (ConfigError, CheckpointError):
// no crash, no hang (no input over kSecondsPerInput), no other exception. About 3 seconds in all.
// Then the inputs the libFuzzer targets (tests/fuzz) found, kept in tests/fuzz/regressions/<target>/
// (a target's input: the policy and checkpoint targets' first byte is their mode, 0 = the file
// as it is), each through the entry point `sac` and the Python module call.
// Run: sac_tests --gtest_filter='Fuzz*'
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "run/log_progress.h"
#include "sweep/plan.h"
#include "sweep/task.h"
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/trainer.h"
#include "test_files.h"
#include "test_util.h"

namespace sac {
namespace {

namespace fs = std::filesystem;

// bytes that matter to a JSON parser, and some that do not belong in one
const std::string kTokens = "{}[]:,\"\\0123456789.-+eEtruefalsnl \n\t\x7f\xc3\xff\x00";

// one to four random edits of `input`
std::string mutate(const std::string& input, test::TestRng& rng) {
  std::string s = input;
  int edits = 1 + (int)(rng.unit() * 4);
  auto pos = [&](size_t n) { return (size_t)(rng.unit() * (double)n); };
  for (int e = 0; e < edits; ++e) {
    int op = (int)(rng.unit() * 7);
    if (s.empty()) op = 2;
    switch (op) {
      case 0: {  // flip bits of one byte
        size_t i = pos(s.size());
        s[i] = (char)(s[i] ^ (1 + (int)(rng.unit() * 255)));
        break;
      }
      case 1: {  // replace one byte with a JSON-significant one
        s[pos(s.size())] = kTokens[pos(kTokens.size())];
        break;
      }
      case 2: {  // insert a few bytes
        std::string ins;
        for (int k = 1 + (int)(rng.unit() * 4); k > 0; --k) ins += kTokens[pos(kTokens.size())];
        s.insert(pos(s.size() + 1), ins);
        break;
      }
      case 3: {  // delete a range
        size_t i = pos(s.size());
        s.erase(i, 1 + pos(std::min<size_t>(16, s.size() - i)));
        break;
      }
      case 4: {  // duplicate a range
        size_t i = pos(s.size());
        size_t n = 1 + pos(std::min<size_t>(32, s.size() - i));
        s.insert(pos(s.size() + 1), s.substr(i, n));
        break;
      }
      case 5:  // truncate
        s.resize(pos(s.size()));
        break;
      default: {  // overwrite 8 bytes with a random little-endian integer (lengths, offsets)
        size_t i = pos(s.size());
        uint64_t v = (uint64_t)(rng.unit() * 18446744073709551615.0);
        if (rng.unit() < 0.5) v >>= (int)(rng.unit() * 64);
        for (int b = 0; b < 8 && i + b < s.size(); ++b) s[i + b] = (char)(v >> (8 * b));
        break;
      }
    }
  }
  return s;
}

// a short printable form of an input, for failure messages
std::string show(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 300)) out += (c >= 32 && c < 127) ? c : '?';
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// "no hang": no single input may take longer than this (a mutated size that made the loader
// allocate or loop without bound would); the whole loop's time depends on what else the machine
// runs (ctest -j, sanitizers), so it is reported, not asserted
constexpr double kSecondsPerInput = 2.0;

// the slowest input of a fuzz loop and its time
class SlowestInput {
 public:
  class Timer {
   public:
    Timer(SlowestInput& s, const std::string& input)
        : m_s(s), m_input(input), m_t0(std::chrono::steady_clock::now()) {}
    ~Timer() {
      const double t = seconds_since(m_t0);
      if (t > m_s.m_seconds) m_s.m_seconds = t, m_s.m_input = m_input;
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

   private:
    SlowestInput& m_s;
    std::string m_input;
    std::chrono::steady_clock::time_point m_t0;
  };

  void expect_below(double seconds) const {
    std::printf("[ info ] slowest input: %.4f s\n", m_seconds);
    EXPECT_LT(m_seconds, seconds) << "slowest input: " << m_input;
  }

 private:
  double m_seconds = 0.0;
  std::string m_input;
};

TEST(FuzzConfig, MutatedConfigTextsOnlyRaiseConfigError) {
  Config custom;
  apply_override(custom, "env.id=Hopper-v5");
  apply_override(custom, "sac.hidden=[64,32,16]");
  apply_override(custom, "sac.target_entropy=-2.5");
  const std::vector<std::string> seeds = {
      Config().to_json().dump(2), custom.to_json().dump(),
      R"({"env": {"id": "Pendulum-v1", "num_envs": 4}, "sac": {"hidden": [32, 32], "gamma": 0.98},
          "train": {"total_steps": 5000, "seed": 7, "checkpoint_every": 1000}, "device": "cpu"})"};
  test::TestRng rng(1234);
  int accepted = 0, refused = 0;
  // each kind of unexpected exception is reported once, with the first input that raised it
  std::set<std::string> kinds;
  auto unexpected = [&](const std::exception& e, const std::string& input) {
    std::string what = e.what();
    std::string kind = what.substr(0, what.find(']') + 1);
    if (kinds.insert(kind).second)
      ADD_FAILURE() << "raised a non-ConfigError: " << what << "\ninput: " << show(input);
  };
  auto t0 = std::chrono::steady_clock::now();
  SlowestInput slowest;
  for (int i = 0; i < 20000; ++i) {
    std::string text = mutate(seeds[i % seeds.size()], rng);
    SlowestInput::Timer timer(slowest, text);
    try {
      Config c = config_from_json_text(text, "fuzz");
      validate(c);
      std::string resolved = c.to_json().dump();  // a parsed config must also print
      Config back = config_from_json_text(resolved, "fuzz (resolved)");
      ASSERT_EQ(back.to_json(), c.to_json()) << show(text);
      ++accepted;
    } catch (const ConfigError&) {
      ++refused;
    } catch (const std::exception& e) {
      unexpected(e, text);
    }
  }
  // overrides: key=value strings
  const std::vector<std::string> assignments = {
      "train.seed=5",         "sac.hidden=[32,32]",      "env.id=Hopper-v5",
      "sac.gamma=0.9",        "sac.target_entropy=auto", "sac.learn_alpha=false",
      "train.total_steps=1e6", "train.seeds=[1,2,3]"};
  for (int i = 0; i < 10000; ++i) {
    std::string a = mutate(assignments[i % assignments.size()], rng);
    SlowestInput::Timer timer(slowest, a);
    try {
      Config c;
      apply_override(c, a);
      validate(c);
      ++accepted;
    } catch (const ConfigError&) {
      ++refused;
    } catch (const std::exception& e) {
      unexpected(e, a);
    }
  }
  std::printf("[ info ] config fuzz: %d accepted, %d refused in %.2f s\n", accepted, refused,
              seconds_since(t0));
  EXPECT_GT(refused, 25000);
  slowest.expect_below(kSecondsPerInput);
}

TEST(FuzzCheckpoint, MutatedCheckpointsOnlyRaiseCheckpointError) {
  std::string dir = testing::TempDir() + "sac_fuzz_ckpt_" + std::to_string(::getpid());
  fs::remove_all(dir);
  TrainOptions quiet;
  quiet.progress = false;
  Config c = load_config(
      "", {"env.id=Pendulum-v1", "sac.hidden=[8]", "sac.batch_size=8", "train.warmup_steps=100",
           "train.total_steps=150", "train.eval_episodes=0", "device=cpu", "train.threads=1"});
  train(c, dir + "/run", quiet);
  CheckpointFiles files = latest_checkpoint(dir + "/run/checkpoints");
  ASSERT_EQ(files.step, 150);
  const std::string good_main = [&] {
    std::ifstream in(files.main, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  const std::string good_replay = [&] {
    std::ifstream in(files.replay, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();

  // live components of the run's shape, restored into again and again
  std::unique_ptr<Backend> backend = make_backend("cpu", 1);
  EnvPool pool(c.env_id, c.num_envs, c.seed);
  Agent agent(*backend, AgentSpec::from_config(c, pool.spec().obs_dim, pool.spec().act_dim, 1));
  const int64_t capacity = std::min<int64_t>(c.buffer_size, c.total_steps + c.num_envs);

  std::string scratch = dir + "/m.safetensors", scratch_replay = dir + "/m.replay.safetensors";
  // unlink first: rewriting a truncated file makes ext4 flush it to disk on close (slow)
  auto write = [](const std::string& path, const std::string& bytes) {
    ::unlink(path.c_str());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), (std::streamsize)bytes.size());
  };
  test::TestRng rng(99);
  int refused = 0, loaded = 0, restored = 0;
  auto t0 = std::chrono::steady_clock::now();
  SlowestInput slowest;
  for (int i = 0; i < 12000; ++i) {
    SlowestInput::Timer timer(slowest, "checkpoint input " + std::to_string(i));
    // both files mutated or one of them; checksum verified on even inputs, skipped on odd ones
    // so the mutations also reach the decoding and restore checks behind it
    bool verify = i % 2 == 0;
    int which = i % 3;
    std::string main = which != 1 ? mutate(good_main, rng) : good_main;
    std::string replay = which != 0 ? mutate(good_replay, rng) : good_replay;
    write(scratch, main);
    write(scratch_replay, replay);
    try {
      LoadedCheckpoint ck;
      ck.files = {150, scratch, scratch_replay};
      ck.main = read_checkpoint_file(scratch, "sac-engine checkpoint", verify);
      ck.replay = read_checkpoint_file(scratch_replay, "sac-engine replay", verify);
      ck.config = checkpoint_config(ck.main, scratch);
      ++loaded;
      check_resumable(ck.config, c);
      ReplayBuffer replay_buffer(*backend, capacity, pool.spec().obs_dim, pool.spec().act_dim);
      TrainerState st;
      restore_checkpoint(ck, agent, replay_buffer, pool, nullptr, st);
      ++restored;
    } catch (const CheckpointError&) {
      ++refused;
    } catch (const std::exception& e) {
      FAIL() << "input " << i << " raised a non-CheckpointError: " << e.what();
    }
  }
  std::printf("[ info ] checkpoint fuzz: %d refused, %d loaded, %d restored in %.2f s\n", refused,
              loaded, restored, seconds_since(t0));
  EXPECT_GT(refused, 9000);
  slowest.expect_below(kSecondsPerInput);
  fs::remove_all(dir);
}

// ---- inputs the fuzz targets found (tests/fuzz/README.md lists them with their fixes)

// tests/fuzz/regressions/<target>/<name>, without the mode byte of the targets that have one
std::string regression_input(const std::string& target, const std::string& name,
                             bool mode_byte) {
  std::string bytes = test::read_file(std::string(SAC_SOURCE_DIR) + "/tests/fuzz/regressions/" +
                                      target + "/" + name);
  EXPECT_FALSE(bytes.empty()) << target << "/" << name;
  return mode_byte && !bytes.empty() ? bytes.substr(1) : bytes;
}

// a 1.2 KB policy file whose config names a [60000, 60000] network made `sac eval` allocate
// 14 GB before looking at the tensors; now the tensors' shapes are checked first
TEST(FuzzRegressions, APolicyWhoseConfigNamesAHugeNetworkIsRefusedBeforeAllocatingIt) {
  const std::string bytes = regression_input("policy", "huge_network_in_config", true);
  const std::string path = testing::TempDir() + "sac_fuzz_policy_" + std::to_string(::getpid());
  test::write_file(path, bytes);
  const std::string why = "tensor 'actor.0.0.weight' has shape [8, 3], the network of its "
                          "config [60000, 3]";
  try {
    load_policy(path, "cpu", 1);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
  test::CliRun run = test::run_sac("eval " + path + " --episodes 1");
  ::unlink(path.c_str());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(why), std::string::npos) << run.output;
}

// an override (a sweep's "set" value or a config file's string alike) holding DEL and invalid
// UTF-8 was echoed with the DEL byte raw in the refusal; now every byte outside printable ASCII
// is escaped. This input's invalid UTF-8 is refused first, as the override is read (a config
// holds only UTF-8 text); a DEL in valid UTF-8 reaches the key's own check, escaped there
TEST(FuzzRegressions, AValueWithADelByteIsShownEscapedInItsRefusal) {
  const std::string input = regression_input("config", "override_with_a_del_byte", false);
  // fuzz_config's input: "\n--set\n", then one override per line
  Config c;
  std::string what;
  try {
    std::stringstream lines(input.substr(input.find("--set\n") + 6));
    for (std::string line; std::getline(lines, line);) apply_override(c, line);
  } catch (const ConfigError& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("override 'sac.target_entropy=aut\\x7f\\xdb\\x1b\\x00"), std::string::npos)
      << what;
  EXPECT_NE(what.find("is not valid UTF-8 text"), std::string::npos) << what;
  for (unsigned char ch : what) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << (int)ch << " in " << what;

  what.clear();
  try {
    apply_override(c, "sac.target_entropy=aut\x7f\x1b");
  } catch (const ConfigError& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("config key 'sac.target_entropy': expected \"auto\" or a number, got "
                      "\"aut\\u007f\\u001b"),
            std::string::npos) << what;
  for (unsigned char ch : what) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << (int)ch << " in " << what;
}

// a sweep whose grid lists a task id as a number threw nlohmann's type_error out of
// expand_sweep (`sac sweep plan` exit 1, not 2); now refused as the file is read
TEST(FuzzRegressions, ASweepWhoseGridNamesATaskByANumberIsRefused) {
  const std::string text = regression_input("sweep", "task_id_a_number.json", false);
  try {
    parse_sweep_file(text, "s.json");
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("grid key 'env.id' lists 1, not a task id"),
              std::string::npos) << e.what();
  }
}

// a 300-byte sweep file of five grid keys of six values each made 7776 runs, each reading its
// base config again (over a second in the fuzz build, a timeout; a few more keys, hours); now a
// sweep of more runs than a Slurm array holds is refused before any run is made
TEST(FuzzRegressions, ASweepOfMoreRunsThanASlurmArrayHoldsIsRefusedBeforeExpanding) {
  const std::string text = regression_input("sweep", "grid_of_7776_runs.json", false);
  try {
    parse_sweep_file(text, "s.json");
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 1001 runs (6 x 6 x 6 x 6 x 6 x 1 seed groups)"),
              std::string::npos) << e.what();
  }
}

// found by fuzz_sweep: a task id with a DEL byte that no file in configs/ has was echoed raw
TEST(FuzzRegressions, AnUnknownTaskOfASweepIsShownEscaped) {
  const std::string text = regression_input("sweep", "unknown_task_with_a_del_byte.json", false);
  std::string what;
  try {
    expand_sweep(parse_sweep_file(text, "s.json"), std::string(SAC_SOURCE_DIR) + "/configs");
  } catch (const ConfigError& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("has env.id = 'Pendu[lsac.log+\\x7fstd_minedPendulum-v5'"),
            std::string::npos) << what;
  for (unsigned char ch : what) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << (int)ch << " in " << what;
}

// metrics.jsonl's last line with "step": 1e300 converted the double to int64 (undefined
// behaviour, reported by UBSan) in `sac sweep status`/`collect`; a step is an integer or none
TEST(FuzzRegressions, AMetricsStepOutsideInt64IsNoStep) {
  const std::string text = regression_input("metrics_jsonl", "step_1e300.jsonl", false);
  EXPECT_EQ(latest_logged_step(text), -1);
  EXPECT_EQ(latest_logged_step("{\"step\": 250}\n"), 250);
}

// a sweep's state file or plan edited by hand: a number where the engine writes a string threw
// nlohmann's type error out of `sac sweep status` (exit 1), and a pid of 1e300 was converted to
// int64 (undefined behaviour); now a state file's mistyped fields are dropped (the run shows as
// pending) and a plan line whose seeds are not unsigned integers is refused (exit 2)
TEST(FuzzRegressions, AHandEditedSweepStateOrPlanIsReadWithoutThrowing) {
  test::TempDir tmp("sac_sweep_state");
  test::write_file(tmp / "sweep.json",
                   "{\"base\": \"" SAC_SOURCE_DIR "/configs/pendulum.json\", \"seeds\": [1], "
                   "\"grid\": {\"sac.tau\": [0.01]}}");
  test::CliRun plan = test::run_sac("sweep plan " + tmp / "sweep.json" + " --out " + tmp / "dir");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  const std::string id = sweep_state_path(tmp / "dir", read_plan(tmp / "dir")[0]);
  fs::create_directories(fs::path(id).parent_path());  // made by the first `sac sweep run`
  const std::vector<std::pair<std::string, std::string>> states = {
      {"{\"state\": \"running\", \"host\": 5, \"pid\": 1e300}", "running"},
      {"{\"state\": [], \"step\": -3, \"error\": {}}", "pending"},
      {"{\"state\": \"stopped\", \"step\": 18446744073709551615}", "pending"}};
  for (const auto& [state, shown] : states) {
    test::write_file(id, state);
    ASSERT_EQ(test::read_file(id), state);
    test::CliRun status = test::run_sac("sweep status " + tmp / "dir");
    EXPECT_EQ(status.exit_code, 0) << state << ": " << status.output;
    EXPECT_NE(status.output.find(shown), std::string::npos) << state << ": " << status.output;
  }
  // the plan's seeds as strings
  std::string line = test::read_file(tmp / "dir/plan.jsonl");
  const size_t at = line.find("\"seeds\":[1]");
  ASSERT_NE(at, std::string::npos) << line;
  line.replace(at, 11, "\"seeds\":[\"1\"]");
  test::write_file(tmp / "dir/plan.jsonl", line);
  test::CliRun status = test::run_sac("sweep status " + tmp / "dir");
  EXPECT_EQ(status.exit_code, 2) << status.output;
  EXPECT_NE(status.output.find("is not a run of a plan"), std::string::npos) << status.output;
}

}  // namespace
}  // namespace sac
