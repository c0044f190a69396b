// test_rollout.cpp: `sac rollout` end to end. Runs the `sac` binary (SAC_BINARY) to record
// random-policy rollouts, then replays every recording independently of the env code: for the
// MuJoCo tasks a test-loaded model (the project's file, and the Gymnasium reference file when
// SAC_SOURCE_DIR/../shared/mujoco/models exists) is put in each reset line's state, each step's
// action is applied for frame_skip mj_step calls (ENVS.md section 2), and the recorded qpos/qvel
// must match bit for bit; observation, reward and termination are recomputed from mjData with
// ENVS.md's formulas (HalfCheetah, Hopper, InvertedPendulum). Pendulum-v1 is replayed from its
// observations with Gymnasium's equations. Also: a policy-file rollout (actions = the actor's
// deterministic output, scaled), determinism, and bad input (exit 2, one message, no file).
// Run: ./sac_tests --gtest_filter='*Rollout*'
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "model_compare.h"
#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/trainer.h"

namespace sac {
namespace {

using json = nlohmann::json;
using namespace mjtest;

struct RunResult {
  int code = -1;
  std::string out, err;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// a fresh folder for one test's files, removed afterwards unless the test failed
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "sac_rollout_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* dir = mkdtemp(buf.data());
    if (!dir) throw std::runtime_error("mkdtemp failed for " + pattern);
    m_path = dir;
  }
  ~TempDir() {
    std::error_code ec;
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(m_path, ec);
  }
  operator const std::string&() const { return m_path; }

 private:
  std::string m_path;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// runs `sac ARGS`, stdout and stderr captured through files in `dir`
RunResult run_sac(const std::string& dir, const std::vector<std::string>& args) {
  std::string cmd = quote(SAC_BINARY);
  for (const std::string& a : args) cmd += " " + quote(a);
  std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  cmd += " >" + quote(out) + " 2>" + quote(err);
  int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  return lines;
}

std::vector<double> doubles(const json& j) {
  std::vector<double> v;
  for (const json& x : j) v.push_back(x.is_null() ? NAN : x.get<double>());
  return v;
}

// the recorded values must equal the replayed ones bit for bit
void expect_exact(const std::vector<double>& recorded, const double* replayed, int n,
                  const std::string& what) {
  ASSERT_EQ((int)recorded.size(), n) << what;
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(recorded[i], replayed[i]) << what << " [" << i << "] differs by "
                                        << recorded[i] - replayed[i];
}

// ---------------------------------------------------------------------------------------------
// independent task formulas (ENVS.md section 3) on the replayed mjData

struct TaskInfo {
  const char* id;
  const char* file;
  int frame_skip;
};

constexpr TaskInfo kTasks[] = {
    {"HalfCheetah-v5", "half_cheetah.xml", 5},
    {"Hopper-v5", "hopper.xml", 4},
    {"InvertedPendulum-v5", "inverted_pendulum.xml", 2},
};

struct Outcome {
  std::vector<double> obs;
  double reward = 0;
  bool terminated = false;
};

double sq_norm(const std::vector<double>& a) {
  double s = 0;
  for (double x : a) s += x * x;
  return s;
}

// obs of the state in `d` (also used for reset lines)
std::vector<double> observe(const std::string& id, const mjModel* m, const mjData* d) {
  std::vector<double> obs;
  if (id == "HalfCheetah-v5") {  // qpos[1:9], qvel[0:9]
    for (int i = 1; i < 9; ++i) obs.push_back(d->qpos[i]);
    for (int i = 0; i < 9; ++i) obs.push_back(d->qvel[i]);
  } else if (id == "Hopper-v5") {  // qpos[1:6], clip(qvel[0:6], -10, 10)
    for (int i = 1; i < 6; ++i) obs.push_back(d->qpos[i]);
    for (int i = 0; i < 6; ++i) obs.push_back(std::clamp(d->qvel[i], -10.0, 10.0));
  } else {  // InvertedPendulum: qpos, qvel
    for (int i = 0; i < m->nq; ++i) obs.push_back(d->qpos[i]);
    for (int i = 0; i < m->nv; ++i) obs.push_back(d->qvel[i]);
  }
  return obs;
}

Outcome outcome(const std::string& id, const mjModel* m, const mjData* d, double x_before,
                const std::vector<double>& action, int frame_skip) {
  Outcome o;
  o.obs = observe(id, m, d);
  double dt = m->opt.timestep * frame_skip;
  if (id == "HalfCheetah-v5") {
    double vx = (d->qpos[0] - x_before) / dt;
    o.reward = 1.0 * vx - 0.1 * sq_norm(action);
  } else if (id == "Hopper-v5") {
    bool healthy = d->qpos[1] > 0.7 && d->qpos[2] > -0.2 && d->qpos[2] < 0.2;
    for (int i = 2; i < 6; ++i) healthy = healthy && std::fabs(d->qpos[i]) < 100.0;
    for (int i = 0; i < 6; ++i) healthy = healthy && std::fabs(d->qvel[i]) < 100.0;
    double vx = (d->qpos[0] - x_before) / dt;
    o.reward = 1.0 * vx + (healthy ? 1.0 : 0.0) - 1e-3 * sq_norm(action);
    o.terminated = !healthy;
  } else {  // InvertedPendulum-v5: terminated when |angle| > 0.2; reward 1 unless terminated
    bool finite = true;
    for (double x : o.obs) finite = finite && std::isfinite(x);
    o.terminated = !finite || std::fabs(d->qpos[1]) > 0.2;
    o.reward = o.terminated ? 0.0 : 1.0;
  }
  return o;
}

// replays `lines` on `m` and checks states, obs, reward (1e-12) and the flags; returns the
// number of steps checked. With `exact`, one continuous simulation per episode must reproduce
// qpos/qvel/obs bit for bit. Otherwise (a model equal to ours only to the last bits) each step
// starts from the recorded state (chaotic contact dynamics would amplify ulp differences over
// an episode) and must agree within `rtol`; the largest relative deviation goes to *worst.
int replay_mujoco(const std::string& id, const mjModel* m, int frame_skip,
                  const std::vector<json>& lines, const std::string& what, bool exact = true,
                  double rtol = 0.0, double* worst = nullptr) {
  DataPtr d(mj_makeData(m));
  int steps = 0, t = 0, max_steps = 1000;
  auto check = [&](const std::vector<double>& recorded, const double* replayed, int n,
                   const std::string& where) {
    if (exact) return expect_exact(recorded, replayed, n, where);
    ASSERT_EQ((int)recorded.size(), n) << where;
    for (int i = 0; i < n; ++i) {
      double dev = std::fabs(recorded[i] - replayed[i]) / std::max(1.0, std::fabs(recorded[i]));
      if (worst) *worst = std::max(*worst, dev);
      ASSERT_LE(dev, rtol) << where << " [" << i << "]: " << recorded[i] << " vs " << replayed[i];
    }
  };
  for (size_t n = 0; n < lines.size(); ++n) {
    const json& line = lines[n];
    std::string where = what + " line " + std::to_string(n + 1);
    std::vector<double> qpos = doubles(line["qpos"]), qvel = doubles(line["qvel"]);
    EXPECT_EQ((int)qpos.size(), m->nq) << where;
    EXPECT_EQ((int)qvel.size(), m->nv) << where;
    if (line["t"].get<int>() == 0) {
      // a reset: the env's reset is mj_resetData, qpos/qvel written, mj_forward
      mj_resetData(m, d.get());
      std::copy(qpos.begin(), qpos.end(), d->qpos);
      std::copy(qvel.begin(), qvel.end(), d->qvel);
      mj_forward(m, d.get());
      std::vector<double> obs = observe(id, m, d.get());
      expect_exact(doubles(line["obs"]), obs.data(), (int)obs.size(), where + " reset obs");
      t = 0;
      continue;
    }
    ++t;
    EXPECT_EQ(line["t"].get<int>(), t) << where;
    std::vector<double> action = doubles(line["action"]);
    EXPECT_EQ((int)action.size(), m->nu) << where;
    double x_before = d->qpos[0];
    for (int j = 0; j < m->nu; ++j) d->ctrl[j] = action[j];
    for (int k = 0; k < frame_skip; ++k) mj_step(m, d.get());
    check(qpos, d->qpos, m->nq, where + " qpos");
    check(qvel, d->qvel, m->nv, where + " qvel");
    Outcome o = outcome(id, m, d.get(), x_before, action, frame_skip);
    check(doubles(line["obs"]), o.obs.data(), (int)o.obs.size(), where + " obs");
    if (exact) {
      EXPECT_TRUE(close(line["reward"].get<double>(), o.reward, 1e-12, 1e-12))
          << where << " reward " << line["reward"].get<double>() << " vs " << o.reward;
      EXPECT_EQ(line["terminated"].get<bool>(), o.terminated) << where;
    } else {
      std::copy(qpos.begin(), qpos.end(), d->qpos);  // continue from the recorded state
      std::copy(qvel.begin(), qvel.end(), d->qvel);
    }
    EXPECT_EQ(line["truncated"].get<bool>(), !line["terminated"].get<bool>() && t >= max_steps) << where;
    EXPECT_FALSE(line.contains("unstable")) << where;
    if (::testing::Test::HasFailure()) return steps;
    ++steps;
  }
  return steps;
}

// Gymnasium's Pendulum-v1 equations, replayed from the recorded observations
void replay_pendulum(const std::vector<json>& lines) {
  const double g = 10.0, m = 1.0, l = 1.0, dt = 0.05, max_speed = 8.0, max_torque = 2.0;
  double th = 0, thdot = 0;
  int t = 0;
  for (size_t n = 0; n < lines.size(); ++n) {
    const json& line = lines[n];
    std::string where = "Pendulum-v1 line " + std::to_string(n + 1);
    EXPECT_TRUE(line["qpos"].empty() && line["qvel"].empty()) << where;
    std::vector<double> obs = doubles(line["obs"]);
    ASSERT_EQ(obs.size(), 3u) << where;
    EXPECT_NEAR(obs[0] * obs[0] + obs[1] * obs[1], 1.0, 1e-12) << where;
    if (line["t"].get<int>() == 0) {
      th = std::atan2(obs[1], obs[0]), thdot = obs[2];
      EXPECT_LE(std::fabs(thdot), 1.0) << where;  // reset: theta_dot ~ U(-1, 1)
      t = 0;
      continue;
    }
    ++t;
    double u = doubles(line["action"]).at(0);
    EXPECT_LE(std::fabs(u), max_torque) << where;
    double angle = std::remainder(th, 2 * M_PI);
    double reward = -(angle * angle + 0.1 * thdot * thdot + 0.001 * u * u);
    double new_thdot = std::clamp(thdot + (3 * g / (2 * l) * std::sin(th) + 3.0 / (m * l * l) * u) * dt,
                                  -max_speed, max_speed);
    th = th + new_thdot * dt, thdot = new_thdot;
    EXPECT_NEAR(line["reward"].get<double>(), reward, 1e-9) << where;
    EXPECT_NEAR(obs[0], std::cos(th), 1e-9) << where;
    EXPECT_NEAR(obs[1], std::sin(th), 1e-9) << where;
    EXPECT_NEAR(obs[2], thdot, 1e-9) << where;
    EXPECT_FALSE(line["terminated"].get<bool>()) << where;
    EXPECT_EQ(line["truncated"].get<bool>(), t == 200) << where;
    if (::testing::Test::HasFailure()) return;
    th = std::atan2(obs[1], obs[0]), thdot = obs[2];  // continue from the recorded state
  }
}

// line structure common to every task: resets after episode ends, actions in bounds
void check_structure(const std::string& id, const std::vector<json>& lines, int steps,
                     const json& summary) {
  std::unique_ptr<Env> env = make_env(id);
  const EnvSpec& spec = env->spec();
  int step_lines = 0, resets = 0, ended = 0;
  bool expect_reset = true;
  for (size_t n = 0; n < lines.size(); ++n) {
    const json& line = lines[n];
    std::string where = id + " line " + std::to_string(n + 1);
    bool is_reset = line["t"].get<int>() == 0;
    EXPECT_EQ(is_reset, expect_reset) << where;
    if (is_reset) {
      ++resets;
      EXPECT_EQ(line.size(), 4u) << where;  // t, qpos, qvel, obs
      expect_reset = false;
      continue;
    }
    ++step_lines;
    EXPECT_EQ(line.size(), 8u) << where;
    EXPECT_EQ((int)line["obs"].size(), spec.obs_dim) << where;
    std::vector<double> a = doubles(line["action"]);
    ASSERT_EQ((int)a.size(), spec.act_dim) << where;
    for (int j = 0; j < spec.act_dim; ++j) {
      EXPECT_GE(a[j], spec.action_low[j]) << where;
      EXPECT_LE(a[j], spec.action_high[j]) << where;
    }
    bool term = line["terminated"].get<bool>(), trunc = line["truncated"].get<bool>();
    EXPECT_FALSE(term && trunc) << where;
    if (term || trunc) ++ended, expect_reset = true;
  }
  EXPECT_EQ(step_lines, steps);
  EXPECT_EQ(resets, 1 + ended - (expect_reset ? 1 : 0)) << "a reset follows every ended episode but the last step's";
  EXPECT_EQ(summary["env"], id);
  EXPECT_EQ(summary["steps"], steps);
  EXPECT_EQ(summary["episodes"], ended);
}

// ---------------------------------------------------------------------------------------------

class RolloutRandom : public ::testing::TestWithParam<const char*> {};

TEST_P(RolloutRandom, RecordingReplaysIndependently) {
  const std::string id = GetParam();
  const int steps = 300;
  TempDir tmp;
  const std::string& dir = tmp;
  std::string record = dir + "/" + id + ".jsonl";
  RunResult r = run_sac(dir, {"rollout", "--env", id, "--policy", "random", "--steps",
                              std::to_string(steps), "--seed", "3", "--record", record});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json summary = json::parse(r.out);
  EXPECT_EQ(summary["record"], record);
  EXPECT_FALSE(exists(record + ".tmp"));
  std::vector<json> lines = read_lines(record);
  check_structure(id, lines, steps, summary);
  if (id == "Hopper-v5" || id == "InvertedPendulum-v5")
    EXPECT_GT(summary["episodes"].get<int>(), 2) << "random actions should end several episodes";
  if (id == "Pendulum-v1") EXPECT_EQ(summary["episodes"], 1);  // truncated at 200

  // the same command again gives the same bytes; another seed differs
  std::string again = dir + "/again.jsonl", other = dir + "/other.jsonl";
  ASSERT_EQ(run_sac(dir, {"rollout", "--env", id, "--steps", std::to_string(steps), "--seed", "3",
                          "--record", again}).code, 0);
  EXPECT_EQ(read_text(record), read_text(again));
  ASSERT_EQ(run_sac(dir, {"rollout", "--env", id, "--steps", "5", "--seed", "4", "--record", other}).code, 0);
  EXPECT_NE(read_lines(other)[0], lines[0]);

  if (id == "Pendulum-v1") {
    replay_pendulum(lines);
    return;
  }
  const TaskInfo* task = nullptr;
  for (const TaskInfo& t : kTasks)
    if (id == t.id) task = &t;
  ASSERT_TRUE(task);
  ModelPtr ours = load_model_or_fail(model_dir() + "/" + task->file);
  ASSERT_TRUE(ours);
  EXPECT_EQ(replay_mujoco(id, ours.get(), task->frame_skip, lines, id + " (project model)"), steps);

  std::string ref_dir = reference_model_dir();
  if (!is_dir(ref_dir)) {
    std::printf("[ note     ] reference models not found at %s: replayed on the project model only\n",
                ref_dir.c_str());
    return;
  }
  // The project's model compiles to the reference's mjModel up to the last bits of some reals
  // (Hopper: body_pos, body_mass, inertias differ by an ulp or so; HalfCheetah: none that
  // matter; InvertedPendulum: an ulp in two quaternions). Where the replay on the reference file
  // is bit-exact we require it; otherwise each step from the recorded state must agree to 1e-9.
  ModelPtr ref = load_model_or_fail(ref_dir + "/" + task->file);
  ASSERT_TRUE(ref);
  bool exact_on_ref = id != "Hopper-v5";
  double worst = 0.0;
  EXPECT_EQ(replay_mujoco(id, ref.get(), task->frame_skip, lines, id + " (reference model)",
                          exact_on_ref, 1e-9, &worst), steps);
  if (!exact_on_ref)
    std::printf("[ note     ] %s on the reference model: largest one-step relative deviation %.3g\n",
                id.c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(Tasks, RolloutRandom,
                         ::testing::Values("HalfCheetah-v5", "Hopper-v5", "InvertedPendulum-v5",
                                           "Pendulum-v1"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum((unsigned char)c)) c = '_';
                           return s;
                         });

// --policy FILE: the actions are the actor's deterministic output for the recorded
// observation, scaled from [-1, 1] to the bounds; the physics replays as before.
TEST(Rollout, PolicyFileActsDeterministically) {
  const std::string id = "HalfCheetah-v5";
  TempDir tmp;
  const std::string& dir = tmp;
  std::string policy = dir + "/policy.safetensors", record = dir + "/p.jsonl";
  Config c;
  c.env_id = id;
  c.hidden = {32, 32};
  c.threads = 1;
  c.seed = 5;
  std::unique_ptr<Env> env = make_env(id);
  const EnvSpec& spec = env->spec();
  const int O = spec.obs_dim, A = spec.act_dim;
  std::unique_ptr<Backend> backend = make_backend("cpu", 1);
  AgentSpec as = AgentSpec::from_config(c, O, A, 1);
  as.batch_size = 1;
  Agent agent(*backend, as);
  save_policy(agent, c, policy);

  const int steps = 120;
  RunResult r = run_sac(dir, {"rollout", "--env", id, "--policy", policy, "--steps",
                              std::to_string(steps), "--seed", "9", "--record", record});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json> lines = read_lines(record);
  check_structure(id, lines, steps, json::parse(r.out));

  DeviceArray<float> d_obs(*backend, O), d_act(*backend, A);
  std::vector<float> obs_f(O), act_f(A);
  for (size_t n = 1; n < lines.size(); ++n) {
    std::vector<double> prev_obs = doubles(lines[n - 1]["obs"]), action = doubles(lines[n]["action"]);
    for (int j = 0; j < O; ++j) obs_f[j] = (float)prev_obs[j];
    d_obs.upload(obs_f.data(), O);
    agent.act(1, d_obs.data(), true, d_act.data());
    d_act.download(act_f.data(), A);
    for (int j = 0; j < A; ++j) {
      double lo = spec.action_low[j], hi = spec.action_high[j];
      ASSERT_EQ(action[j], lo + 0.5 * ((double)act_f[j] + 1.0) * (hi - lo)) << "line " << n + 1;
    }
  }
  ModelPtr m = load_model_or_fail(model_dir() + "/half_cheetah.xml");
  ASSERT_TRUE(m);
  EXPECT_EQ(replay_mujoco(id, m.get(), 5, lines, "policy rollout"), steps);

  // a policy of another task is refused
  RunResult wrong = run_sac(dir, {"rollout", "--env", "Hopper-v5", "--policy", policy,
                                  "--record", dir + "/wrong.jsonl"});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.err.find("HalfCheetah-v5"), std::string::npos) << wrong.err;
  EXPECT_FALSE(exists(dir + "/wrong.jsonl"));
}

// Bad input: exit 2, one line naming the problem, and no record file left behind.
TEST(Rollout, BadInputExitsTwoBeforeWriting) {
  TempDir tmp;
  const std::string& dir = tmp;
  std::string record = dir + "/bad.jsonl";
  struct Case {
    std::vector<std::string> args;
    std::string message;  // a part of the expected message
  };
  const std::vector<Case> cases = {
      {{"rollout", "--env", "NoSuchTask-v0", "--record", record}, "unknown task 'NoSuchTask-v0'"},
      {{"rollout", "--env", "Hopper-v5", "--steps", "abc", "--record", record}, "--steps"},
      {{"rollout", "--env", "Hopper-v5", "--steps", "0", "--record", record}, "--steps"},
      {{"rollout", "--env", "Hopper-v5", "--steps", "10x", "--record", record}, "--steps"},
      {{"rollout", "--env", "Hopper-v5", "--seed", "-1", "--record", record}, "--seed"},
      {{"rollout", "--env", "Hopper-v5"}, "--record"},
      {{"rollout", "--record", record}, "--env"},
      {{"rollout", "--env", "Hopper-v5", "--record"}, "needs a value"},
      {{"rollout", "--env", "Hopper-v5", "--bogus", "1", "--record", record}, "--bogus"},
      {{"rollout", "--env", "Hopper-v5", "--record", dir + "/no/such/dir/x.jsonl"}, "cannot write"},
      {{"rollout", "--env", "Hopper-v5", "--record", dir}, "is a directory"},
      {{"rollout", "--env", "Hopper-v5", "--policy", dir + "/missing.safetensors", "--record", record},
       "cannot load policy"},
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const std::string& a : c.args) shown += a + " ";
    RunResult r = run_sac(dir, c.args);
    EXPECT_EQ(r.code, 2) << shown << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << shown << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << shown;
    EXPECT_FALSE(exists(record)) << shown;
    EXPECT_FALSE(exists(record + ".tmp")) << shown;
  }
}

}  // namespace
}  // namespace sac
