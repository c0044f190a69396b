// test_rollout.cpp: `sac rollout` end to end. Runs the `sac` binary (SAC_BINARY) to record
// random-policy rollouts of all ten MuJoCo tasks (and Pendulum-v1), then replays every recording
// independently of the env code on a test-loaded model: the project's file, and Gymnasium's
// reference file when SAC_SOURCE_DIR/../shared/mujoco/models exists (skipped with a note if not).
// Each reset line's state is put in (mj_resetData, qpos/qvel, mj_forward, which leaves qpos as it
// is), each step's action goes into
// ctrl for frame_skip mj_step calls (+ mj_rnePostConstraint for Ant/Humanoid, ENVS.md section 1),
// and observation, reward and termination are recomputed from mjData with ENVS.md's formulas,
// written here. Two replays per model:
//   continuous: one simulation per episode, never re-seeded: qpos/qvel/obs bit for bit, reward to
//     1e-12, flags exactly (project model always; reference model where it compiles equal in
//     what these trajectories touch: all but HalfCheetah, Hopper and Walker2d);
//   per step: every step re-seeded from the previous line's recorded qpos/qvel (mj_forward, the
//     replay's own warm start kept): to 1e-12 on the project model, 1e-9 on the reference.
// Reset lines are also checked against the task's reset distribution, and the TimeLimit against
// the registration (Reacher 50, Pusher 100, others 1000). Pendulum-v1 is replayed from its
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
#include <cstring>
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
#include "test_files.h"

namespace sac {
namespace {

using json = nlohmann::json;
using namespace mjtest;
using test::path_exists;
using test::read_file;
using test::TempDir;

struct RunResult {
  int code = -1;
  std::string out, err;
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
  r.out = read_file(out);
  r.err = read_file(err);
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
  int max_steps;            // TimeLimit of the registration
  bool contact_forces;      // mj_rnePostConstraint after the physics (the task observes cfrc_ext)
  bool exact_on_reference;  // one continuous replay on the reference file is bit-exact
};

// ENVS.md section 2. exact_on_reference: the project's file compiles to the reference's mjModel
// bit for bit where it matters for these trajectories (measured); elsewhere (Hopper: body_pos,
// masses and inertias differ by an ulp or so; HalfCheetah: masses from one geom density where
// the reference rescales them to 14 kg with the deprecated settotalmass, the same to ~1e-16) only
// the one-step replay is compared, to 1e-9.
constexpr TaskInfo kTasks[] = {
    {"InvertedPendulum-v5", "inverted_pendulum.xml", 2, 1000, false, true},
    {"InvertedDoublePendulum-v5", "inverted_double_pendulum.xml", 5, 1000, false, true},
    {"HalfCheetah-v5", "half_cheetah.xml", 5, 1000, false, false},
    {"Hopper-v5", "hopper.xml", 4, 1000, false, false},
    {"Walker2d-v5", "walker2d_v5.xml", 4, 1000, false, false},
    {"Ant-v5", "ant.xml", 5, 1000, true, true},
    {"Humanoid-v5", "humanoid.xml", 5, 1000, true, true},
    {"Swimmer-v5", "swimmer.xml", 4, 1000, false, true},
    {"Reacher-v5", "reacher.xml", 2, 50, false, true},
    {"Pusher-v5", "pusher_v5.xml", 5, 100, false, true},
};

const TaskInfo* find_task(const std::string& id) {
  for (const TaskInfo& t : kTasks)
    if (id == t.id) return &t;
  return nullptr;
}

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

int body(const mjModel* m, const char* name) {
  int id = mj_name2id(m, mjOBJ_BODY, name);
  EXPECT_GE(id, 0) << "no body '" << name << "'";
  return std::max(id, 0);
}

// |xpos[a] - xpos[b]| (3-D)
double body_distance(const mjModel* m, const mjData* d, const char* a, const char* b) {
  const double* pa = d->xpos + 3 * body(m, a);
  const double* pb = d->xpos + 3 * body(m, b);
  return std::sqrt((pa[0] - pb[0]) * (pa[0] - pb[0]) + (pa[1] - pb[1]) * (pa[1] - pb[1]) +
                   (pa[2] - pb[2]) * (pa[2] - pb[2]));
}

// the x coordinate whose finite difference is the task's forward velocity, read from mjData as
// it is (for xpos/xipos: as the last mj_step left it, ENVS.md section 1)
double forward_x(const std::string& id, const mjModel* m, const mjData* d) {
  if (id == "Ant-v5") return d->xpos[3 * 1];  // torso = body 1
  if (id == "Humanoid-v5") {                  // whole-body centre of mass
    double mx = 0, mass = 0;
    for (int b = 0; b < m->nbody; ++b) mx += m->body_mass[b] * d->xipos[3 * b], mass += m->body_mass[b];
    return mx / mass;
  }
  return d->qpos[0];
}

// obs of the state in `d` (ENVS.md section 3; also used for reset lines)
std::vector<double> observe(const std::string& id, const mjModel* m, const mjData* d) {
  std::vector<double> obs;
  auto add = [&obs](const double* v, int from, int to) { obs.insert(obs.end(), v + from, v + to); };
  auto add_clipped = [&obs](const double* v, int from, int to, double lim) {
    for (int i = from; i < to; ++i) obs.push_back(std::clamp(v[i], -lim, lim));
  };
  if (id == "HalfCheetah-v5") {
    add(d->qpos, 1, 9), add(d->qvel, 0, 9);
  } else if (id == "Hopper-v5") {
    add(d->qpos, 1, 6), add_clipped(d->qvel, 0, 6, 10.0);
  } else if (id == "Walker2d-v5") {
    add(d->qpos, 1, 9), add_clipped(d->qvel, 0, 9, 10.0);
  } else if (id == "Ant-v5") {  // qpos[2:15], qvel, clip(cfrc_ext[1:14], -1, 1)
    add(d->qpos, 2, 15), add(d->qvel, 0, 14), add_clipped(d->cfrc_ext, 6, 6 * 14, 1.0);
  } else if (id == "Humanoid-v5") {
    add(d->qpos, 2, 24), add(d->qvel, 0, 23);
    add(d->cinert, 10, 10 * 14), add(d->cvel, 6, 6 * 14);
    add(d->qfrc_actuator, 6, 23), add(d->cfrc_ext, 6, 6 * 14);
  } else if (id == "InvertedPendulum-v5") {
    add(d->qpos, 0, 2), add(d->qvel, 0, 2);
  } else if (id == "InvertedDoublePendulum-v5") {
    obs.push_back(d->qpos[0]);
    obs.push_back(std::sin(d->qpos[1])), obs.push_back(std::sin(d->qpos[2]));
    obs.push_back(std::cos(d->qpos[1])), obs.push_back(std::cos(d->qpos[2]));
    add_clipped(d->qvel, 0, 3, 10.0), add_clipped(d->qfrc_constraint, 0, 1, 10.0);
  } else if (id == "Swimmer-v5") {
    add(d->qpos, 2, 5), add(d->qvel, 0, 5);
  } else if (id == "Reacher-v5") {
    obs.push_back(std::cos(d->qpos[0])), obs.push_back(std::cos(d->qpos[1]));
    obs.push_back(std::sin(d->qpos[0])), obs.push_back(std::sin(d->qpos[1]));
    add(d->qpos, 2, 4), add(d->qvel, 0, 2);
    const double* tip = d->xpos + 3 * body(m, "fingertip");
    const double* target = d->xpos + 3 * body(m, "target");
    obs.push_back(tip[0] - target[0]), obs.push_back(tip[1] - target[1]);
  } else if (id == "Pusher-v5") {
    add(d->qpos, 0, 7), add(d->qvel, 0, 7);
    for (const char* b : {"tips_arm", "object", "goal"}) add(d->xpos, 3 * body(m, b), 3 * body(m, b) + 3);
  } else {
    ADD_FAILURE() << "no observation formula for " << id;
  }
  return obs;
}

// obs, reward and termination after a step; x_before = forward_x before it
Outcome outcome(const TaskInfo& task, const mjModel* m, const mjData* d, double x_before,
                const std::vector<double>& action) {
  const std::string id = task.id;
  Outcome o;
  o.obs = observe(id, m, d);
  const double vx = (forward_x(id, m, d) - x_before) / (m->opt.timestep * task.frame_skip);
  const double* qpos = d->qpos;
  const double* qvel = d->qvel;
  if (id == "HalfCheetah-v5") {
    o.reward = 1.0 * vx - 0.1 * sq_norm(action);
  } else if (id == "Hopper-v5") {
    bool healthy = qpos[1] > 0.7 && qpos[2] > -0.2 && qpos[2] < 0.2;
    for (int i = 2; i < 6; ++i) healthy = healthy && std::fabs(qpos[i]) < 100.0;
    for (int i = 0; i < 6; ++i) healthy = healthy && std::fabs(qvel[i]) < 100.0;
    o.reward = 1.0 * vx + (healthy ? 1.0 : 0.0) - 1e-3 * sq_norm(action);
    o.terminated = !healthy;
  } else if (id == "Walker2d-v5") {
    bool healthy = qpos[1] > 0.8 && qpos[1] < 2.0 && qpos[2] > -1.0 && qpos[2] < 1.0;
    o.reward = 1.0 * vx + (healthy ? 1.0 : 0.0) - 1e-3 * sq_norm(action);
    o.terminated = !healthy;
  } else if (id == "Ant-v5") {
    bool healthy = qpos[2] >= 0.2 && qpos[2] <= 1.0;
    for (int i = 0; i < m->nq; ++i) healthy = healthy && std::isfinite(qpos[i]);
    for (int i = 0; i < m->nv; ++i) healthy = healthy && std::isfinite(qvel[i]);
    double contact = 0;  // every body, the world's row included
    for (int i = 0; i < 6 * m->nbody; ++i) {
      double f = std::clamp(d->cfrc_ext[i], -1.0, 1.0);
      contact += f * f;
    }
    o.reward = 1.0 * vx + (healthy ? 1.0 : 0.0) - 0.5 * sq_norm(action) - 5e-4 * contact;
    o.terminated = !healthy;
  } else if (id == "Humanoid-v5") {
    bool healthy = qpos[2] > 1.0 && qpos[2] < 2.0;
    double contact = 0, ctrl = 0;
    for (int i = 0; i < 6 * m->nbody; ++i) contact += d->cfrc_ext[i] * d->cfrc_ext[i];
    for (int j = 0; j < m->nu; ++j) ctrl += d->ctrl[j] * d->ctrl[j];
    o.reward = 1.25 * vx + (healthy ? 5.0 : 0.0) - 0.1 * ctrl - std::min(5e-7 * contact, 10.0);
    o.terminated = !healthy;
  } else if (id == "InvertedPendulum-v5") {
    bool finite = true;
    for (double x : o.obs) finite = finite && std::isfinite(x);
    o.terminated = !finite || std::fabs(qpos[1]) > 0.2;
    o.reward = o.terminated ? 0.0 : 1.0;
  } else if (id == "InvertedDoublePendulum-v5") {
    const double* tip = d->site_xpos + 3 * mj_name2id(m, mjOBJ_SITE, "tip");
    double x = tip[0], y = tip[2];
    o.terminated = y <= 1.0;
    o.reward = (o.terminated ? 0.0 : 10.0) - (0.01 * x * x + (y - 2) * (y - 2)) -
               (1e-3 * qvel[1] * qvel[1] + 5e-3 * qvel[2] * qvel[2]);
  } else if (id == "Swimmer-v5") {
    o.reward = 1.0 * vx - 1e-4 * sq_norm(action);
  } else if (id == "Reacher-v5") {
    o.reward = -body_distance(m, d, "fingertip", "target") - sq_norm(action);
  } else if (id == "Pusher-v5") {
    o.reward = -body_distance(m, d, "object", "goal") - 0.1 * sq_norm(action) -
               0.5 * body_distance(m, d, "object", "tips_arm");
  }
  return o;
}

// a reset line's state lies in the task's reset distribution (ENVS.md section 3)
void check_reset_state(const std::string& id, const mjModel* m, const std::vector<double>& qpos,
                       const std::vector<double>& qvel, const std::string& where) {
  auto within = [&](const std::vector<double>& v, const double* center, int from, int to,
                    double scale, const char* what) {
    for (int i = from; i < to; ++i)
      EXPECT_LE(std::fabs(v[i] - (center ? center[i] : 0.0)), scale * (1 + 1e-12))
          << where << " " << what << "[" << i << "]";
  };
  const int nq = m->nq, nv = m->nv;
  double qpos_scale = 0, qvel_scale = 0;  // U(-scale, scale) noise; 0 = not bounded (N(0,1))
  if (id == "InvertedPendulum-v5") qpos_scale = qvel_scale = 0.01;
  else if (id == "InvertedDoublePendulum-v5" || id == "HalfCheetah-v5" || id == "Ant-v5") qpos_scale = 0.1;
  else if (id == "Hopper-v5" || id == "Walker2d-v5") qpos_scale = qvel_scale = 5e-3;
  else if (id == "Humanoid-v5") qpos_scale = qvel_scale = 0.01;
  else if (id == "Swimmer-v5") qpos_scale = qvel_scale = 0.1;
  if (qpos_scale > 0) within(qpos, m->qpos0, 0, nq, qpos_scale, "qpos");
  if (qvel_scale > 0) within(qvel, nullptr, 0, nv, qvel_scale, "qvel");
  if (id == "Reacher-v5") {
    within(qpos, m->qpos0, 0, 2, 0.1, "qpos");
    EXPECT_LT(std::hypot(qpos[2], qpos[3]), 0.2) << where << " goal";
    within(qvel, nullptr, 0, 2, 0.005, "qvel");
    EXPECT_TRUE(qvel[2] == 0.0 && qvel[3] == 0.0) << where;
  } else if (id == "Pusher-v5") {
    within(qpos, m->qpos0, 0, 7, 0.0, "qpos");
    EXPECT_TRUE(qpos[7] >= -0.3 && qpos[7] <= 0.0 && qpos[8] >= -0.2 && qpos[8] <= 0.2) << where;
    EXPECT_GT(std::hypot(qpos[7], qpos[8]), 0.17) << where;
    EXPECT_TRUE(qpos[9] == 0.0 && qpos[10] == 0.0) << where;
    within(qvel, nullptr, 0, 7, 0.005, "qvel");
    within(qvel, nullptr, 7, 11, 0.0, "qvel");
  }
}

// How a recording is replayed on a test-loaded model:
//   continuous: one simulation per episode from the reset line's state (mj_resetData, qpos/qvel
//     written, mj_forward), stepped with the recorded actions; qpos/qvel/obs must equal the
//     recording bit for bit, the reward to 1e-12, the flags exactly;
//   per_step: every step starts again from the previous line's recorded qpos/qvel (written,
//     then mj_forward) and must agree within `rtol` (relative, floor 1). For a model that equals
//     ours only to the last bits: chaotic contact dynamics would amplify ulp differences over an
//     episode, and the warm start and lagged quantities come from the replay's previous step.
enum class Replay { continuous, per_step };

struct ReplayResult {
  int steps = 0;       // step lines checked
  double worst = 0.0;  // largest relative deviation seen
};

ReplayResult replay_mujoco(const TaskInfo& task, const mjModel* m, const std::vector<json>& lines,
                           const std::string& what, Replay mode, double rtol = 0.0) {
  const std::string id = task.id;
  const bool exact = mode == Replay::continuous;
  DataPtr d(mj_makeData(m));
  ReplayResult res;
  int t = 0;
  std::vector<double> prev_qpos, prev_qvel;
  // A recorded state is put in with mj_forward, which in MuJoCo 4 leaves qpos as it is (the
  // quaternions of Ant and Humanoid too), so the derived quantities and the warm start come from
  // exactly the env's qpos.
  auto set_recorded_state = [&](mjData* data, const std::vector<double>& q, const std::vector<double>& v) {
    std::copy(q.begin(), q.end(), data->qpos);
    std::copy(v.begin(), v.end(), data->qvel);
    mj_forward(m, data);
  };
  auto check = [&](const std::vector<double>& recorded, const double* replayed, int n,
                   const std::string& where) {
    if (exact) return expect_exact(recorded, replayed, n, where);
    ASSERT_EQ((int)recorded.size(), n) << where;
    for (int i = 0; i < n; ++i) {
      double dev = std::fabs(recorded[i] - replayed[i]) / std::max(1.0, std::fabs(recorded[i]));
      if (!(dev <= rtol)) dev = INFINITY;  // NaN on one side only
      res.worst = std::max(res.worst, dev);
      ASSERT_LE(dev, rtol) << where << " [" << i << "]: " << recorded[i] << " vs " << replayed[i];
    }
  };
  for (size_t n = 0; n < lines.size(); ++n) {
    const json& line = lines[n];
    std::string where = what + " line " + std::to_string(n + 1);
    std::vector<double> qpos = doubles(line["qpos"]), qvel = doubles(line["qvel"]);
    EXPECT_EQ((int)qpos.size(), m->nq) << where;
    EXPECT_EQ((int)qvel.size(), m->nv) << where;
    if (::testing::Test::HasFailure()) return res;
    if (line["t"].get<int>() == 0) {
      // a reset: the env's reset is mj_resetData, qpos/qvel written, mj_forward
      check_reset_state(id, m, qpos, qvel, where);
      mj_resetData(m, d.get());
      set_recorded_state(d.get(), qpos, qvel);
      std::vector<double> obs = observe(id, m, d.get());
      check(doubles(line["obs"]), obs.data(), (int)obs.size(), where + " reset obs");
      prev_qpos = qpos, prev_qvel = qvel;
      t = 0;
      continue;
    }
    ++t;
    EXPECT_EQ(line["t"].get<int>(), t) << where;
    std::vector<double> action = doubles(line["action"]);
    EXPECT_EQ((int)action.size(), m->nu) << where;
    // before any re-seeding: xpos/xipos as the last mj_step left them, as the env reads them
    double x_before = forward_x(id, m, d.get());
    if (!exact) {
      // re-seed from the recorded state, keeping the warm start the replay's previous step left
      // (the env's step started from the one its previous step left; mj_forward would replace
      // it, and with contacts the solver's result depends on it to about 1e-5)
      std::vector<double> warmstart(d->qacc_warmstart, d->qacc_warmstart + m->nv);
      set_recorded_state(d.get(), prev_qpos, prev_qvel);
      std::copy(warmstart.begin(), warmstart.end(), d->qacc_warmstart);
    }
    // one env step: the unclipped action into ctrl, frame_skip mj_step, and when the task
    // observes contact forces mj_rnePostConstraint (ENVS.md section 1)
    for (int j = 0; j < m->nu; ++j) d->ctrl[j] = action[j];
    for (int k = 0; k < task.frame_skip; ++k) mj_step(m, d.get());
    if (task.contact_forces) mj_rnePostConstraint(m, d.get());
    check(qpos, d->qpos, m->nq, where + " qpos");
    check(qvel, d->qvel, m->nv, where + " qvel");
    Outcome o = outcome(task, m, d.get(), x_before, action);
    check(doubles(line["obs"]), o.obs.data(), (int)o.obs.size(), where + " obs");
    double reward = line["reward"].get<double>();
    if (exact) {
      EXPECT_TRUE(close(reward, o.reward, 1e-12, 1e-12)) << where << " reward " << reward << " vs " << o.reward;
    } else {
      std::vector<double> recorded_reward{reward};
      check(recorded_reward, &o.reward, 1, where + " reward");
    }
    EXPECT_EQ(line["terminated"].get<bool>(), o.terminated) << where;
    EXPECT_EQ(line["truncated"].get<bool>(),
              !line["terminated"].get<bool>() && t >= task.max_steps) << where;
    EXPECT_FALSE(line.contains("unstable")) << where;
    if (::testing::Test::HasFailure()) return res;
    prev_qpos = qpos, prev_qvel = qvel;
    ++res.steps;
  }
  return res;
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
  TempDir tmp("sac_rollout");
  const std::string& dir = tmp;
  std::string record = dir + "/" + id + ".jsonl";
  RunResult r = run_sac(dir, {"rollout", "--env", id, "--policy", "random", "--steps",
                              std::to_string(steps), "--seed", "3", "--record", record});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json summary = json::parse(r.out);
  EXPECT_EQ(summary["record"], record);
  EXPECT_FALSE(path_exists(record + ".tmp"));
  std::vector<json> lines = read_lines(record);
  check_structure(id, lines, steps, summary);
  if (id == "Hopper-v5" || id == "InvertedPendulum-v5")
    EXPECT_GT(summary["episodes"].get<int>(), 2) << "random actions should end several episodes";
  if (id == "Pendulum-v1") EXPECT_EQ(summary["episodes"], 1);  // truncated at 200

  // the same command again gives the same bytes; another seed differs
  std::string again = dir + "/again.jsonl", other = dir + "/other.jsonl";
  ASSERT_EQ(run_sac(dir, {"rollout", "--env", id, "--steps", std::to_string(steps), "--seed", "3",
                          "--record", again}).code, 0);
  EXPECT_EQ(read_file(record), read_file(again));
  ASSERT_EQ(run_sac(dir, {"rollout", "--env", id, "--steps", "5", "--seed", "4", "--record", other}).code, 0);
  EXPECT_NE(read_lines(other)[0], lines[0]);

  if (id == "Pendulum-v1") {
    replay_pendulum(lines);
    return;
  }
  const TaskInfo* task = find_task(id);
  ASSERT_TRUE(task);
  if (id == "Reacher-v5" || id == "Pusher-v5")  // the TimeLimit (50, 100) ended episodes
    EXPECT_GE(summary["episodes"].get<int>(), steps / task->max_steps);

  // the project's model: continuous replay bit for bit; re-seeded every step, to 1e-12
  ModelPtr ours = load_model_or_fail(model_dir() + "/" + task->file);
  ASSERT_TRUE(ours);
  EXPECT_EQ(replay_mujoco(*task, ours.get(), lines, id + " (project model)", Replay::continuous).steps,
            steps);
  ReplayResult ours_step = replay_mujoco(*task, ours.get(), lines, id + " (project model, per step)",
                                         Replay::per_step, 1e-12);
  EXPECT_EQ(ours_step.steps, steps);

  std::string ref_dir = reference_model_dir();
  if (!is_dir(ref_dir)) {
    std::printf("[ note     ] reference models not found at %s: replayed on the project model only\n",
                ref_dir.c_str());
    return;
  }
  // The reference file (Gymnasium's): every step from the recorded state to 1e-9, and where the
  // compiled models agree bit for bit in what these trajectories touch, one continuous run.
  ModelPtr ref = load_model_or_fail(ref_dir + "/" + task->file);
  ASSERT_TRUE(ref);
  ReplayResult ref_step = replay_mujoco(*task, ref.get(), lines, id + " (reference model, per step)",
                                        Replay::per_step, 1e-9);
  EXPECT_EQ(ref_step.steps, steps);
  if (task->exact_on_reference)
    EXPECT_EQ(replay_mujoco(*task, ref.get(), lines, id + " (reference model)", Replay::continuous).steps,
              steps);
  std::printf("[ note     ] %s: one-step relative deviation: project model %.3g, reference model %.3g;"
              " continuous replay bit-exact on the project model%s\n",
              id.c_str(), ours_step.worst, ref_step.worst,
              task->exact_on_reference ? " and the reference model" : "");
}

INSTANTIATE_TEST_SUITE_P(Tasks, RolloutRandom,
                         ::testing::Values("InvertedPendulum-v5", "InvertedDoublePendulum-v5",
                                           "HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5",
                                           "Humanoid-v5", "Swimmer-v5", "Reacher-v5", "Pusher-v5",
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
  TempDir tmp("sac_rollout");
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
  EXPECT_EQ(replay_mujoco(*find_task(id), m.get(), lines, "policy rollout", Replay::continuous).steps,
            steps);

  // a policy of another task is refused
  RunResult wrong = run_sac(dir, {"rollout", "--env", "Hopper-v5", "--policy", policy,
                                  "--record", dir + "/wrong.jsonl"});
  EXPECT_EQ(wrong.code, 2);
  EXPECT_NE(wrong.err.find("HalfCheetah-v5"), std::string::npos) << wrong.err;
  EXPECT_FALSE(path_exists(dir + "/wrong.jsonl"));
}

// Bad input: exit 2, one line naming the problem, and no record file left behind.
TEST(Rollout, BadInputExitsTwoBeforeWriting) {
  TempDir tmp("sac_rollout");
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
    EXPECT_FALSE(path_exists(record)) << shown;
    EXPECT_FALSE(path_exists(record + ".tmp")) << shown;
  }
}

}  // namespace
}  // namespace sac
