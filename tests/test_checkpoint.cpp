// test_checkpoint.cpp: runs that survive (engine/formats/checkpoint.h, engine/run/signals.h, trainer resume).
//   - a run stopped at step k and resumed (in process, by SIGINT, and through repeated kill -9)
//     ends with byte-identical weights to the same run done in one go (CPU backend)
//   - every task's env pool continues its episodes bit for bit from a saved state
//   - flipped, truncated or extended checkpoint files are refused with a CheckpointError
//   - checkpoints of another task or network size are refused, naming the setting; a refused
//     restore changes no component
//   - bad run directories, settings and corrupt checkpoints give one message and exit 2,
//     writing nothing
//   - a diverging run stops naming the non-finite value and keeps the last good checkpoint;
//     the scan names the tensor element ("critic.1.1.bias[3] = nan")
// Run: sac_tests --gtest_filter='Checkpoint*'
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "formats/checkpoint.h"
#include "formats/pool_state.h"
#include "sac/config.h"
#include "sac/env_pool.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"
#include "gpu_test.h"
#include "small_run.h"
#include "formats/state_tensors.h"
#include "test_files.h"
#include "test_util.h"

namespace sac {
namespace {

namespace fs = std::filesystem;
using test::cli_train;
using test::diverging_overrides;
using test::eval_returns;
using test::fresh_dir;
using test::path_exists;
using test::quiet;
using test::read_file;
using test::run_sac;
using test::small_config;
using test::spawn_sac;
using test::train_failure;
using test::wait_child;
using test::wait_for_file;
using test::write_file;

// ---------------------------------------------------------------------------------------------
// helpers

// the tensors that must match between a resumed run and a run done in one go: everything but
// wall-clock time and the bookkeeping of evaluations and log lines (an extra evaluation or log
// line at the stop point changes those, never the training)
bool compared(const std::string& name) {
  if (name.rfind("eval_pool.", 0) == 0) return false;
  if (name.rfind("trainer.", 0) != 0) return true;
  return name == "trainer.steps" || name == "trainer.updates" || name == "trainer.update_debt" ||
         name == "trainer.warmup_rng_counter";
}

// checks that the compared tensors of two checkpoint files are byte-identical (at least `min` of
// them)
void expect_same_tensors(const std::string& a_path, const std::string& b_path, size_t min = 20) {
  SafetensorsFile a = SafetensorsFile::load(a_path), b = SafetensorsFile::load(b_path);
  size_t n = 0;
  for (const auto& [name, t] : a.tensors) {
    if (!compared(name)) continue;
    ++n;
    auto it = b.tensors.find(name);
    ASSERT_NE(it, b.tensors.end()) << name << " missing in " << b_path;
    EXPECT_EQ(t.shape, it->second.shape) << name;
    EXPECT_TRUE(t.bytes == it->second.bytes)
        << "tensor " << name << " differs between " << a_path << " and " << b_path;
  }
  EXPECT_GE(n, min);
}

// ---------------------------------------------------------------------------------------------
// resume exactness

struct ResumeCase {
  const char* name;
  std::vector<std::string> extra;  // settings on top of small_overrides
  int64_t stop, total;
};

void PrintTo(const ResumeCase& c, std::ostream* os) {
  *os << c.name << ": stop at " << c.stop << ", resume to " << c.total;
}

class CheckpointResume : public testing::TestWithParam<ResumeCase> {};

TEST_P(CheckpointResume, StopAndResumeIsByteIdenticalToOneRun) {
  const ResumeCase& rc = GetParam();
  std::string dir = fresh_dir(std::string("resume_") + rc.name);
  // one go
  TrainSummary one = train(small_config(rc.total, rc.extra), dir + "/one", quiet());
  // stopped at `stop` (its own end), then extended to `total`
  TrainSummary first = train(small_config(rc.stop, rc.extra), dir + "/two", quiet());
  EXPECT_EQ(first.steps, rc.stop);
  Config more = resume_config(dir + "/two", {"train.total_steps=" + std::to_string(rc.total)});
  TrainSummary second = resume(more, dir + "/two", quiet());
  EXPECT_EQ(second.resumed_from, rc.stop);
  EXPECT_EQ(second.steps, one.steps);
  EXPECT_EQ(second.updates, one.updates);

  // the final policy files are identical byte for byte, and so is the training state
  EXPECT_TRUE(read_file(dir + "/one/policy.safetensors") ==
              read_file(dir + "/two/policy.safetensors"))
      << "policy files differ";
  CheckpointFiles a = latest_checkpoint(dir + "/one/checkpoints");
  CheckpointFiles b = latest_checkpoint(dir + "/two/checkpoints");
  ASSERT_EQ(a.step, one.steps);
  ASSERT_EQ(b.step, one.steps);
  expect_same_tensors(a.main, b.main);
  expect_same_tensors(a.replay, b.replay, 8);
  // only the latest checkpoint is kept
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir + "/two/checkpoints")) (void)e, ++files;
  EXPECT_EQ(files, 2);
}

INSTANTIATE_TEST_SUITE_P(
    Runs, CheckpointResume,
    testing::Values(
        // stop inside the warm-up and after it; several envs with a fractional update ratio
        ResumeCase{"warmup", {}, 60, 700},
        ResumeCase{"pendulum", {"train.checkpoint_every=150"}, 400, 1000},
        ResumeCase{"envs3_ratio",
                   {"env.num_envs=3", "train.updates_per_step=0.5", "train.eval_episodes=2",
                    "train.eval_every=300"},
                   501,
                   1200},
        ResumeCase{"small_ring", {"sac.buffer_size=300"}, 450, 900},
        ResumeCase{"hopper", {"env.id=Hopper-v5", "env.num_envs=2"}, 300, 800},
        // the overlapped loop (env stepping beside the previous step's update block)
        ResumeCase{"overlapped_warmup", {"train.pipeline=overlapped"}, 40, 500},
        ResumeCase{"overlapped",
                   {"train.pipeline=overlapped", "train.checkpoint_every=150", "train.threads=2"},
                   300,
                   700},
        ResumeCase{"overlapped_envs3_ratio",
                   {"train.pipeline=overlapped", "env.num_envs=3", "train.updates_per_step=0.5",
                    "train.eval_episodes=2", "train.eval_every=300"},
                   501,
                   900}),
    [](const testing::TestParamInfo<ResumeCase>& i) { return std::string(i.param.name); });

// a run killed before its first checkpoint resumes by starting again from step 0 in its own
// directory, and ends as the run done in one go
TEST(CheckpointResumeEarly, RunWithoutCheckpointStartsAgainFromZero) {
  std::string dir = fresh_dir("resume_early");
  train(small_config(400), dir + "/one", quiet());
  // what a kill before the first checkpoint leaves: config.json and partial logs
  train(small_config(400), dir + "/two", quiet());
  fs::remove_all(dir + "/two/checkpoints");
  fs::remove(dir + "/two/policy.safetensors");
  fs::remove(dir + "/two/summary.json");
  auto [rc, out] = run_sac({"train", "--quiet", "--resume", dir + "/two"}, dir + "/log.txt");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("starting it again from step 0"), std::string::npos) << out;
  EXPECT_TRUE(read_file(dir + "/one/policy.safetensors") ==
              read_file(dir + "/two/policy.safetensors"))
      << "policy files differ";
  // the logs were written afresh, not appended to the killed run's
  auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
  EXPECT_EQ(lines(read_file(dir + "/one/metrics.jsonl")),
            lines(read_file(dir + "/two/metrics.jsonl")));
  EXPECT_EQ(lines(read_file(dir + "/one/eval.csv")), lines(read_file(dir + "/two/eval.csv")));
}

// a run killed after its final checkpoint but before its policy and summary: --resume
// finishes it, with the files of the run done in one go and no evaluation repeated
TEST(CheckpointResumeEarly, RunStoppedAfterItsFinalCheckpointIsFinished) {
  for (const char* pipeline : {"sequential", "overlapped"}) {
    SCOPED_TRACE(pipeline);
    std::string dir = fresh_dir(std::string("finish_") + pipeline);
    const std::vector<std::string> extra = {std::string("train.pipeline=") + pipeline,
                                            "train.eval_episodes=2", "train.eval_every=200"};
    train(small_config(400, extra), dir + "/one", quiet());
    train(small_config(400, extra), dir + "/two", quiet());
    fs::remove(dir + "/two/policy.safetensors");
    fs::remove(dir + "/two/summary.json");
    auto [rc, out] = run_sac({"train", "--quiet", "--resume", dir + "/two"}, dir + "/log.txt");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("finishing it"), std::string::npos) << out;
    EXPECT_TRUE(read_file(dir + "/one/policy.safetensors") ==
                read_file(dir + "/two/policy.safetensors"))
        << "policy files differ";
    // the same evaluations, once each (wall_seconds aside)
    EXPECT_EQ(eval_returns(dir + "/one/eval.csv"), eval_returns(dir + "/two/eval.csv"));
    nlohmann::json s1 = nlohmann::json::parse(read_file(dir + "/one/summary.json"));
    nlohmann::json s2 = nlohmann::json::parse(read_file(dir + "/two/summary.json"));
    EXPECT_EQ(s1["steps"], s2["steps"]);
    EXPECT_EQ(s1["updates"], s2["updates"]);
    EXPECT_EQ(s1["final_eval_return"], s2["final_eval_return"]);
    EXPECT_EQ(s1["best_eval_return"], s2["best_eval_return"]);
    // once finished, the same command refuses instead of running again
    auto [rc2, out2] = run_sac({"train", "--quiet", "--resume", dir + "/two"}, dir + "/log.txt");
    EXPECT_EQ(rc2, 2) << out2;
    EXPECT_NE(out2.find("already at step 400"), std::string::npos) << out2;
  }
}

// every task continues its episodes bit for bit from a saved pool state
TEST(CheckpointPoolState, EveryTaskContinuesEpisodesExactly) {
  for (const std::string& id : env_ids()) {
    SCOPED_TRACE(id);
    EnvPool a(id, 2, 11), b(id, 2, 11);
    const int A = a.spec().act_dim, O = a.spec().obs_dim, N = 2;
    test::TestRng rng(5);
    std::vector<float> act((size_t)N * A);
    auto random_actions = [&] {
      for (float& x : act) x = (float)rng.uniform(-1.0, 1.0);
    };
    a.reset();
    b.reset();
    // past at least one episode end for the short tasks
    int warm = std::min(a.spec().max_episode_steps + 7, 130);
    for (int k = 0; k < warm; ++k) random_actions(), a.step(act.data());
    for (int k = 0; k < 3; ++k)
      random_actions(), b.step(act.data());  // b elsewhere before the load
    PoolState saved = save_pool_state(a);
    load_pool_state(b, saved);
    for (int k = 0; k < 120; ++k) {
      random_actions();
      a.step(act.data());
      b.step(act.data());
      std::vector<float> oa(a.obs(), a.obs() + N * O), ob(b.obs(), b.obs() + N * O);
      std::vector<float> ra(a.reward(), a.reward() + N), rb(b.reward(), b.reward() + N);
      test::expect_identical(oa, ob, "obs at step " + std::to_string(k));
      test::expect_identical(ra, rb, "reward at step " + std::to_string(k));
      for (int i = 0; i < N; ++i) {
        ASSERT_EQ(a.terminated()[i], b.terminated()[i]) << "step " << k;
        ASSERT_EQ(a.truncated()[i], b.truncated()[i]) << "step " << k;
      }
      if (HasFailure()) return;
    }
  }
}

TEST(CheckpointPoolState, RefusesAStateOfAnotherShape) {
  EnvPool a("Pendulum-v1", 2, 1), b("Pendulum-v1", 3, 1), c("InvertedPendulum-v5", 2, 1);
  EnvPool d("Pendulum-v1", 2, 2);
  a.reset();
  PoolState s = save_pool_state(a);
  EXPECT_THROW(load_pool_state(b, s), std::invalid_argument);
  EXPECT_THROW(load_pool_state(c, s), std::invalid_argument);
  EXPECT_THROW(load_pool_state(d, s), std::invalid_argument);  // other seeds
  s.episode_steps[1] = 100000;
  EXPECT_THROW(load_pool_state(a, s), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// corruption, mismatches, bad input

// message of the CheckpointError `f` throws; fails the test on no or another exception
template <typename F>
std::string checkpoint_error(F f) {
  try {
    f();
  } catch (const CheckpointError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a CheckpointError, got: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a CheckpointError, nothing was thrown";
  return "";
}

TEST(CheckpointCorruption, FlipsTruncationsAndExtensionsAreRefused) {
  std::string dir = fresh_dir("corrupt");
  train(small_config(300), dir + "/run", quiet());
  CheckpointFiles files = latest_checkpoint(dir + "/run/checkpoints");
  ASSERT_EQ(files.step, 300);
  ASSERT_NO_THROW(read_checkpoint(files));
  test::TestRng rng(17);
  std::string scratch = dir + "/mutated.safetensors";
  for (const auto& [path, format] :
       {std::pair<std::string, std::string>{files.main, "sac-engine checkpoint"},
        {files.replay, "sac-engine replay"}}) {
    const std::string good = read_file(path);
    uint64_t header = 0;
    for (int i = 0; i < 8; ++i) header |= (uint64_t)(uint8_t)good[i] << (8 * i);
    const size_t body = 8 + header;
    ASSERT_LT(body, good.size());
    int tried = 0;
    auto expect_refused = [&](const std::string& bytes, const std::string& what) {
      write_file(scratch, bytes);
      ++tried;
      try {
        read_checkpoint_file(scratch, format);
        ADD_FAILURE() << what << " of " << path << " was accepted";
      } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find(scratch), std::string::npos) << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << what << ": not a CheckpointError: " << e.what();
      }
    };
    // the length prefix and the header's start and end byte by byte, 500 more header bytes and
    // 400 body bytes at random, flipped
    std::vector<size_t> header_positions;
    for (size_t i = 0; i < std::min<size_t>(body, 256); ++i) header_positions.push_back(i);
    for (size_t i = body - std::min<size_t>(body, 64); i < body; ++i) header_positions.push_back(i);
    for (int k = 0; k < 500; ++k) header_positions.push_back((size_t)(rng.unit() * body));
    for (size_t i : header_positions) {
      if (HasFailure()) break;
      std::string m = good;
      m[i] = (char)(m[i] ^ 0xff);
      expect_refused(m, "flip at " + std::to_string(i));
    }
    for (int k = 0; k < 400 && !HasFailure(); ++k) {
      std::string m = good;
      size_t i = body + (size_t)(rng.unit() * (good.size() - body));
      m[i] = (char)(m[i] ^ (1 + (int)(rng.unit() * 255)));
      expect_refused(m, "flip at " + std::to_string(i));
    }
    // truncations: the first 64 lengths, 16 around the header's end, 300 at random
    std::vector<size_t> lengths;
    for (size_t n = 0; n < 64; ++n) lengths.push_back(n);
    for (size_t n = body - 8; n < body + 8; ++n) lengths.push_back(n);
    for (int k = 0; k < 300; ++k) lengths.push_back((size_t)(rng.unit() * good.size()));
    for (size_t n : lengths) {
      if (HasFailure()) break;
      expect_refused(good.substr(0, n), "truncation to " + std::to_string(n));
    }
    // extra bytes at the end
    expect_refused(good + std::string(1, '\0'), "one extra byte");
    expect_refused(good + good, "the file twice");
    EXPECT_GT(tried, 1200);
  }
  // the pair must belong together: a replay file of another checkpoint is refused
  train(small_config(300, {"train.seed=4"}), dir + "/other", quiet());
  CheckpointFiles other = latest_checkpoint(dir + "/other/checkpoints");
  fs::copy_file(other.replay, files.replay, fs::copy_options::overwrite_existing);
  std::string e = checkpoint_error([&] { read_checkpoint(files); });
  EXPECT_NE(e.find("belongs to another checkpoint"), std::string::npos) << e;
}

TEST(CheckpointMismatch, AnotherTaskOrNetworkSizeIsRefused) {
  std::string dir = fresh_dir("mismatch");
  train(small_config(300), dir + "/run", quiet());
  train(small_config(300, {"sac.hidden=[16]"}), dir + "/narrow", quiet());
  train(small_config(300, {"env.id=InvertedPendulum-v5"}), dir + "/task", quiet());
  CheckpointFiles mine = latest_checkpoint(dir + "/run/checkpoints");
  Config run = resume_config(dir + "/run", {"train.total_steps=600"});

  // the config check names the setting
  for (const auto& [other, key] :
       {std::pair<std::string, std::string>{"narrow", "sac.hidden"}, {"task", "env.id"}}) {
    LoadedCheckpoint c = read_checkpoint(latest_checkpoint(dir + "/" + other + "/checkpoints"));
    std::string e = checkpoint_error([&] { check_resumable(c.config, run); });
    EXPECT_NE(e.find(key), std::string::npos) << e;
  }
  // restoring into components of another size fails on the first tensor, naming it
  {
    LoadedCheckpoint c = read_checkpoint(latest_checkpoint(dir + "/narrow/checkpoints"));
    auto backend = make_backend("cpu", 1);
    EnvPool pool("Pendulum-v1", 1, 3);
    AgentSpec spec = AgentSpec::from_config(run, 3, 1, 1);
    Agent agent(*backend, spec);
    ReplayBuffer replay(*backend, 1000, 3, 1);
    TrainerState st;
    std::string e =
        checkpoint_error([&] { restore_checkpoint(c, agent, replay, pool, nullptr, st); });
    EXPECT_NE(e.find("shape"), std::string::npos) << e;
  }
  // through resume: a foreign checkpoint copied into the run is refused, nothing is written
  for (const char* other : {"narrow", "task"}) {
    CheckpointFiles theirs = latest_checkpoint(dir + "/" + other + "/checkpoints");
    fs::copy_file(theirs.main, mine.main, fs::copy_options::overwrite_existing);
    fs::copy_file(theirs.replay, mine.replay, fs::copy_options::overwrite_existing);
    std::string before = read_file(dir + "/run/metrics.jsonl");
    EXPECT_THROW(resume(run, dir + "/run", quiet()), CheckpointError);
    EXPECT_EQ(read_file(dir + "/run/metrics.jsonl"), before);
    EXPECT_EQ(latest_checkpoint(dir + "/run/checkpoints").step, 300);
  }
}

// a restore checks every component before it changes any: a checkpoint whose replay fill is
// inconsistent (the last check) is refused with the agent, the pool, the replay buffer and the
// trainer state as they were; the intact checkpoint then restores, and the restored components
// list the checkpoint's tensors byte for byte
TEST(CheckpointRestore, ARefusedCheckpointChangesNothing) {
  std::string dir = fresh_dir("restore_checks");
  Config c = small_config(300);
  train(c, dir + "/run", quiet());
  LoadedCheckpoint good = read_checkpoint(latest_checkpoint(dir + "/run/checkpoints"));
  auto backend = make_backend("cpu", 1);
  EnvPool pool(c.env_id, c.num_envs, c.seed);
  const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
  Agent agent(*backend, AgentSpec::from_config(c, O, A, 1));
  ReplayBuffer replay(*backend, 1000, O, A);
  pool.reset();
  // the agent's tensors and the pool's state as they are now
  auto agent_file = [&] {
    SafetensorsFile f;
    put_state_tensors(f, agent.state_tensors(), *backend);
    return f;
  };
  const std::map<std::string, Tensor> agent_before = agent_file().tensors;
  const PoolState pool_before = save_pool_state(pool);
  TrainerState st;
  st.steps = -7;

  LoadedCheckpoint bad = good;
  int64_t head = 5;  // the ring is not full: its head must be its size (300)
  std::memcpy(bad.replay.tensors.at("head").bytes.data(), &head, sizeof head);
  std::string e =
      checkpoint_error([&] { restore_checkpoint(bad, agent, replay, pool, nullptr, st); });
  EXPECT_NE(e.find("inconsistent"), std::string::npos) << e;
  EXPECT_NE(e.find(good.files.replay), std::string::npos) << e;
  EXPECT_EQ(st.steps, -7);
  EXPECT_EQ(replay.size(), 0);
  const PoolState pool_after = save_pool_state(pool);
  EXPECT_EQ(pool_after.rng_counters, pool_before.rng_counters);
  EXPECT_EQ(pool_after.episode_steps, pool_before.episode_steps);
  EXPECT_EQ(pool_after.env_states, pool_before.env_states);
  EXPECT_EQ(pool_after.obs, pool_before.obs);
  for (const auto& [name, t] : agent_file().tensors)
    EXPECT_TRUE(t.bytes == agent_before.at(name).bytes) << name << " changed";

  restore_checkpoint(good, agent, replay, pool, nullptr, st);
  EXPECT_EQ(st.steps, 300);
  EXPECT_EQ(replay.size(), 300);
  EXPECT_EQ(replay.head(), 300);
  for (const auto& [name, t] : agent_file().tensors)
    EXPECT_TRUE(t.bytes == good.main.tensors.at(name).bytes) << name << " differs";
  SafetensorsFile ring;
  ReplayFill fill = replay.fill();
  put_state_tensors(ring, replay.state_tensors(fill), *backend);
  for (const auto& [name, t] : ring.tensors)
    if (name != "capacity") EXPECT_TRUE(t.bytes == good.replay.tensors.at(name).bytes) << name;
}

// the non-finite scan names the tensor and the value: the element of a network's buffer by its
// checkpoint name, the losses by what they are; Adam moments and losses only when asked
TEST(CheckpointDivergence, TheScanNamesTheFirstNonFiniteValue) {
  auto backend = make_backend("cpu", 1);
  Agent agent(*backend, AgentSpec::from_config(small_config(100), 3, 1, 1));
  const float zero = 0.0f, nan = NAN, inf = INFINITY;
  EXPECT_EQ(find_non_finite(agent, false, true), "");
  // bias 3 of critic 1 in layer 1 (mlp.h: per layer the members' weights, then their biases)
  const LayerOffsets& lo = agent.critic().layer(1);
  float* bias = agent.critic().params() + lo.bias + lo.out + 3;
  backend->upload(bias, &nan, sizeof nan);
  EXPECT_EQ(find_non_finite(agent, false, false), "critic.1.1.bias[3] = nan");
  backend->upload(bias, &zero, sizeof zero);
  backend->upload(agent.actor().adam_m() + agent.actor().layer(0).weight + 5, &inf, sizeof inf);
  EXPECT_EQ(find_non_finite(agent, false, false), "");
  EXPECT_EQ(find_non_finite(agent, false, true), "adam_m.actor.0.0.weight[5] = inf");
  const float losses[3] = {0.0f, -INFINITY, 0.0f};
  backend->upload(agent.losses(), losses, sizeof losses);
  EXPECT_EQ(find_non_finite(agent, true, true), "actor loss = -inf");
}

TEST(CheckpointCli, BadInputGivesOneMessageAndNonZeroExit) {
  std::string dir = fresh_dir("cli");
  std::string log = dir + "/log.txt";
  auto expect_error = [&](const std::vector<std::string>& args, int code, const std::string& text) {
    auto [rc, out] = run_sac(args, log);
    EXPECT_EQ(rc, code) << out;
    EXPECT_NE(out.find(text), std::string::npos) << "expected '" << text << "' in: " << out;
    EXPECT_EQ(out.find("terminate called"), std::string::npos) << out;
  };
  // no such run, no config.json, malformed config.json
  expect_error({"train", "--resume", dir + "/nope"}, 2, "not a readable directory");
  fs::create_directories(dir + "/empty");
  expect_error({"train", "--resume", dir + "/empty"}, 2, "no config.json");
  fs::create_directories(dir + "/bad");
  write_file(dir + "/bad/config.json", "{\"train\": {\"seed\": 1,");
  expect_error({"train", "--resume", dir + "/bad"}, 2, "malformed JSON");
  write_file(dir + "/bad/config.json", "{\"train\": {\"total_steps\": -5}}");
  expect_error({"train", "--resume", dir + "/bad"}, 2, "train.total_steps");

  // a real run, then what a resume may not do
  auto [rc, out] = run_sac(cli_train(dir + "/run", 300), log);
  ASSERT_EQ(rc, 0) << out;
  expect_error({"train", "--resume", dir + "/run", "--set", "sac.hidden=[64]"}, 2,
               "cannot change 'sac.hidden'");
  expect_error({"train", "--resume", dir + "/run"}, 2, "already at step 300");
  expect_error({"train", "--resume", dir + "/run", "--run-dir", dir + "/x"}, 2,
               "cannot be combined");
  expect_error({"train", "--resume", dir + "/run", "--set", "train.total_steps=0"}, 2,
               "train.total_steps");

  // a corrupted checkpoint: refused, and the files stay as they were
  CheckpointFiles f = latest_checkpoint(dir + "/run/checkpoints");
  std::string bytes = read_file(f.main);
  std::string bad = bytes;
  bad[bad.size() - 5] ^= 0x40;
  write_file(f.main, bad);
  expect_error({"train", "--resume", dir + "/run", "--set", "train.total_steps=600"}, 2,
               "checksum mismatch");
  EXPECT_TRUE(read_file(f.main) == bad);
  EXPECT_EQ(latest_checkpoint(dir + "/run/checkpoints").step, 300);
  write_file(f.main, bytes.substr(0, bytes.size() / 2));
  expect_error({"train", "--resume", dir + "/run", "--set", "train.total_steps=600"}, 2,
               "checkpoint");

  // a finished run whose checkpoints are gone is not started again over its results
  fs::remove_all(dir + "/run/checkpoints");
  const std::string policy = read_file(dir + "/run/policy.safetensors");
  expect_error({"train", "--resume", dir + "/run", "--set", "train.total_steps=600"}, 2,
               "already finished");
  EXPECT_TRUE(read_file(dir + "/run/policy.safetensors") == policy);

  // a replay buffer larger than the memory is refused before anything is written
  expect_error(cli_train(dir + "/huge", 4000000000000, {"sac.buffer_size=4000000000000"}), 2,
               "MiB");
  EXPECT_FALSE(path_exists(dir + "/huge"));
}

// ---------------------------------------------------------------------------------------------
// signals and kills

TEST(CheckpointSignal, SigintWritesACheckpointExitsZeroAndResumesExactly) {
  std::string dir = fresh_dir("sigint");
  const int64_t total = 30000;
  pid_t pid = spawn_sac(cli_train(dir + "/run", total), dir + "/log1.txt");
  ASSERT_TRUE(wait_for_file(dir + "/run/config.json", 30));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGINT);
  int rc = wait_child(pid, 60);
  std::string out = read_file(dir + "/log1.txt");
  ASSERT_EQ(rc, 0) << out;
  ASSERT_NE(out.find("stopped by signal 2"), std::string::npos)
      << "the run finished before the signal (make total larger): " << out;
  EXPECT_NE(out.find("\"interrupted\":true"), std::string::npos) << out;
  CheckpointFiles f = latest_checkpoint(dir + "/run/checkpoints");
  ASSERT_GT(f.step, 0);
  ASSERT_LT(f.step, total);
  EXPECT_NO_THROW(read_checkpoint(f));
  EXPECT_TRUE(path_exists(dir + "/run/policy.safetensors"));
  EXPECT_FALSE(path_exists(dir + "/run/summary.json"));

  auto [rc2, out2] = run_sac({"train", "--quiet", "--resume", dir + "/run"}, dir + "/log2.txt");
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find("\"resumed_from_step\":" + std::to_string(f.step)), std::string::npos)
      << out2;

  train(small_config(total), dir + "/one", quiet());
  EXPECT_TRUE(read_file(dir + "/one/policy.safetensors") ==
              read_file(dir + "/run/policy.safetensors"))
      << "resumed after SIGINT at step " << f.step << ": policy differs from the one-go run";
  expect_same_tensors(latest_checkpoint(dir + "/one/checkpoints").main,
                      latest_checkpoint(dir + "/run/checkpoints").main);
}

TEST(CheckpointSignal, SecondSignalExitsAtOnceKeepingTheLastCheckpoint) {
  std::string dir = fresh_dir("sigint2");
  // frequent checkpoints, so the second signal often lands during a write
  pid_t pid =
      spawn_sac(cli_train(dir + "/run", 1000000, {"train.checkpoint_every=200"}), dir + "/log.txt");
  ASSERT_TRUE(wait_for_file(dir + "/run/config.json", 30));
  ASSERT_TRUE(wait_for_file(dir + "/run/checkpoints", 30));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(pid, SIGTERM);
  ::kill(pid, SIGTERM);
  int rc = wait_child(pid, 20);
  std::string out = read_file(dir + "/log.txt");
  // at once: 128 + SIGTERM; if the first signal's checkpoint finished first, a clean 0
  EXPECT_TRUE(rc == 128 + SIGTERM || rc == 0) << rc << ": " << out;
  CheckpointFiles f = latest_checkpoint(dir + "/run/checkpoints");
  ASSERT_GT(f.step, 0) << out;
  EXPECT_NO_THROW(read_checkpoint(f));
}

TEST(CheckpointKill, Kill9DuringCheckpointWritesLeavesTheRunResumable) {
  std::string dir = fresh_dir("kill9");
  // frequent checkpoints with a growing replay file: kills often land inside a write
  const int64_t total = 12000;
  const std::vector<std::string> extra = {"train.checkpoint_every=100"};
  test::TestRng rng(2024);
  std::string run = dir + "/run";
  int kills = 0, restarts = 0, torn_writes = 0;
  for (int round = 0; round < 8; ++round) {
    // after the first kill always --resume: from the latest checkpoint, or from step 0 when
    // the kill came before the first one
    restarts += round > 0 && latest_checkpoint(run + "/checkpoints").step < 0;
    std::vector<std::string> args =
        round == 0 ? cli_train(run, total, extra)
                   : std::vector<std::string>{"train", "--quiet", "--resume", run};
    pid_t pid = spawn_sac(args, dir + "/log.txt");
    ASSERT_TRUE(wait_for_file(run + "/config.json", 30));
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + (int)(rng.unit() * 200)));
    ::kill(pid, SIGKILL);
    int rc = wait_child(pid, 30);
    if (rc == 0) break;  // finished before the kill
    ++kills;
    // whatever the kill interrupted, the latest checkpoint verifies
    for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
      torn_writes += e.path().extension() == ".tmp";
    CheckpointFiles f = latest_checkpoint(run + "/checkpoints");
    if (f.step >= 0) ASSERT_NO_THROW(read_checkpoint(f)) << "after kill " << kills;
  }
  // then to the end, and the same weights as the run done in one go
  if (!path_exists(run + "/summary.json")) {
    ASSERT_GE(latest_checkpoint(run + "/checkpoints").step, 0);
    auto [rc, out] = run_sac({"train", "--quiet", "--resume", run}, dir + "/log.txt");
    ASSERT_EQ(rc, 0) << out;
  }
  train(small_config(total, extra), dir + "/one", quiet());
  EXPECT_TRUE(read_file(dir + "/one/policy.safetensors") == read_file(run + "/policy.safetensors"))
      << "after " << kills << " kills: policy differs from the one-go run";
  std::printf("[ info ] %d kills (%d interrupted a write, %d before the first checkpoint)\n", kills,
              torn_writes, restarts);
}

// ---------------------------------------------------------------------------------------------
// divergence guard

TEST(CheckpointDivergence, NonFiniteValuesStopTheRunKeepingTheLastGoodCheckpoint) {
  std::string dir = fresh_dir("diverge");
  std::vector<std::string> settings = diverging_overrides();
  settings.insert(settings.end(), {"train.checkpoint_every=50", "train.log_every=20"});
  std::string message = train_failure(small_config(5000, settings), dir + "/run");
  ASSERT_NE(message.find("diverged at step"), std::string::npos) << message;
  EXPECT_NE(message.find("not finite"), std::string::npos) << message;
  EXPECT_NE(message.find("loss"), std::string::npos) << message;
  EXPECT_NE(message.find("last good checkpoint"), std::string::npos) << message;
  // the last checkpoint is complete and finite; no final policy was written
  CheckpointFiles f = latest_checkpoint(dir + "/run/checkpoints");
  ASSERT_GE(f.step, 100);  // the warm-up's end at least: updates only start there
  LoadedCheckpoint ckpt = read_checkpoint(f);
  for (const auto& [name, t] : ckpt.main.tensors) {
    if (t.dtype != "F32" || name.rfind("trainer.", 0) == 0) continue;
    for (float x : t.floats()) ASSERT_TRUE(std::isfinite(x)) << name;
  }
  EXPECT_FALSE(path_exists(dir + "/run/policy.safetensors"));
  EXPECT_FALSE(path_exists(dir + "/run/summary.json"));
}

// ---------------------------------------------------------------------------------------------
// the layout as Python's safetensors package (or the fallback parser) reads it

// A NaN written into one weight stops the run, named, whatever the activations do with it:
// cuBLASLt's ReLU epilogues turn a NaN pre-activation into 0 (the CPU and the fallback keep
// it), so on the GPU a poisoned network can give finite losses and actions. The guard reads the
// weights themselves: poisoned right before a scan (no update in between), the message names
// the weight; poisoned between scans (updates in between), the run stops by the next scan at
// the latest (earlier where the NaN reaches the actions), naming a non-finite value, and never
// as a bad action refused by the env pool (a std::invalid_argument: `sac train` would call it
// bad input, exit 2). On each device the run can use (the CUDA one skips without a GPU; the
// simulator and the GPU campaign run it).
class DivergenceGuard : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda") SAC_SKIP_WITHOUT_GPU();
  }
  Config config() const {
    return small_config(600, {"device=" + GetParam(), "train.log_every=100",
                              "train.checkpoint_every=0"});
  }
  // the message of the run poisoned at `tensor`[index] after step `step` (any other error fails)
  std::string stop(const std::string& tensor, int64_t index, int64_t step) {
    try {
      return train_failure(config(), fresh_dir("nan_" + tensor + "_" + GetParam()) + "/run",
                           test::poisoned_tensor(tensor, index, step));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the run ended with another error: " << e.what();
    }
    return "";
  }
  // the step the message says the run stopped at (-1: none)
  static long stopped_at(const std::string& message) {
    const std::string at = "diverged at step ";
    const size_t found = message.find(at);
    return found == std::string::npos ? -1 : std::stol(message.substr(found + at.size()));
  }
};

TEST_P(DivergenceGuard, ANanWeightStopsTheRunNamingTheTensor) {
  // the first layer of the first critic: its output goes through a ReLU
  const std::string message = stop("critic.0.0.weight", 5, 200);
  EXPECT_EQ(stopped_at(message), 200) << message;
  EXPECT_NE(message.find("critic.0.0.weight[5] = nan is not finite"), std::string::npos)
      << message;
}

TEST_P(DivergenceGuard, ANanWeightBetweenScansStopsTheRunByTheNextScan) {
  for (const char* tensor : {"critic.1.1.weight", "actor.0.0.weight"}) {
    SCOPED_TRACE(tensor);
    const std::string message = stop(tensor, 3, 150);
    EXPECT_GT(stopped_at(message), 150) << message;
    EXPECT_LE(stopped_at(message), 200) << message;
    EXPECT_NE(message.find("is not finite"), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, DivergenceGuard, testing::Values("cpu", "cuda"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(CheckpointPython, FilesLoadInPythonWithMatchingChecksums) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  std::string dir = fresh_dir("python");
  train(small_config(300), dir + "/run", quiet());
  CheckpointFiles f = latest_checkpoint(dir + "/run/checkpoints");
  std::string cmd = "/usr/bin/python3 " + std::string(SAC_SOURCE_DIR) +
                    "/tests/check_safetensors.py " + f.main + " " + f.replay + " " + dir +
                    "/run/policy.safetensors > " + dir + "/py.txt 2>&1";
  int rc = std::system(cmd.c_str());
  std::string out = read_file(dir + "/py.txt");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("checksum fnv1a64:"), std::string::npos) << out;
  EXPECT_EQ(out.find("MISMATCH"), std::string::npos) << out;
  EXPECT_NE(out.find("pool.env_state"), std::string::npos) << out;
}

}  // namespace
}  // namespace sac
