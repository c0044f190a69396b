// rollout.cpp: `sac rollout --env ID [--plugin LIB ...] [--policy random|POLICY] [--steps N |
// --episodes N] [--seed S] [--record FILE.jsonl] [--video FILE.mp4 [--width W] [--height H] [--camera C]]`.
// Drives one env (no pool) with uniform random actions or a loaded policy's deterministic
// actions. --record writes every reset and every step as one JSON line, so that an independent
// simulation can replay the trajectory (tests/test_rollout.cpp does):
//   reset: {"t":0,"qpos":[..],"qvel":[..],"obs":[..]}
//   step:  {"t":k,"action":[..],"obs":[..],"reward":r,"terminated":b,"truncated":b,
//           "qpos":[..],"qvel":[..]}            (+ "unstable":true when the physics blew up)
// t counts the steps of the running episode. Doubles are printed round-trip exact ("%.17g";
// a non-finite value as null); actions are the doubles actually applied. --video renders each
// reset and each step with MuJoCo's renderer into an H.264 MP4 at the task's real-time rate
// (engine/video/, tests/test_video.cpp). Randomness: reset noise from HostRng(seed, 0) as env 0
// of a pool with that seed; random actions U(low, high) per dimension from HostRng(seed, 1). The
// TimeLimit truncates at the task's max_episode_steps and the env is reset (a reset line
// follows) unless the run is over; a blow-up ends the episode as truncated, as in the pool. The
// rollout ends after --steps steps, or after --episodes whole episodes. Files are streamed to
// FILE.tmp, then fsynced and renamed. Summary on stdout: {"env","steps","episodes" (episodes that
// ended),"record","video","frames","fps","renderer"}. Bad input throws InputError before anything is
// written or rendered.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sac/backend.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/philox.h"
#include "sac/plugin.h"
#include "sac/trainer.h"
#include "video/gl_context.h"
#include "video/video_recorder.h"

namespace sac {
namespace {

constexpr uint64_t kResetStream = 0;   // reset noise, as env 0 of a pool seeded `seed`
constexpr uint64_t kActionStream = 1;  // random-policy actions

// one JSON line built in a reused string
class JsonLine {
 public:
  void begin() { m_s.clear(); m_s += '{'; m_first = true; }
  void end() { m_s += "}\n"; }
  void key(const char* k) {
    if (!m_first) m_s += ',';
    m_first = false;
    m_s += '"';
    m_s += k;
    m_s += "\":";
  }
  void integer(const char* k, int64_t v) { key(k); m_s += std::to_string(v); }
  void boolean(const char* k, bool v) { key(k); m_s += v ? "true" : "false"; }
  void number(const char* k, double v) { key(k); append(v); }
  void array(const char* k, const double* v, int n) {
    key(k);
    m_s += '[';
    for (int i = 0; i < n; ++i) {
      if (i) m_s += ',';
      append(v[i]);
    }
    m_s += ']';
  }
  const std::string& str() const { return m_s; }

 private:
  void append(double v) {
    if (!std::isfinite(v)) { m_s += "null"; return; }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    m_s += buf;
  }
  std::string m_s;
  bool m_first = true;
};

// streams lines to PATH.tmp; commit() fsyncs and renames it to PATH. The temp file is removed
// when the rollout fails.
class RecordFile {
 public:
  explicit RecordFile(const std::string& path) : m_path(path), m_tmp(path + ".tmp") {
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      throw ConfigError("--record '" + path + "' is a directory");
    m_file = std::fopen(m_tmp.c_str(), "wb");
    if (!m_file)
      throw ConfigError("cannot write --record file '" + path + "' (" + m_tmp +
                        "): " + std::strerror(errno));
  }
  ~RecordFile() {
    if (m_file) {
      std::fclose(m_file);
      std::remove(m_tmp.c_str());
    }
  }
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  void write(const std::string& line) {
    if (std::fwrite(line.data(), 1, line.size(), m_file) != line.size())
      throw std::runtime_error("cannot write '" + m_tmp + "': " + std::strerror(errno));
  }

  void commit() {
    bool ok = std::fflush(m_file) == 0 && fsync(fileno(m_file)) == 0;
    int err = errno;
    ok = std::fclose(m_file) == 0 && ok;
    m_file = nullptr;
    if (!ok) {
      std::remove(m_tmp.c_str());
      throw std::runtime_error("cannot write '" + m_tmp + "': " + std::strerror(err));
    }
    if (std::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
      err = errno;
      std::remove(m_tmp.c_str());
      throw std::runtime_error("cannot rename '" + m_tmp + "' to '" + m_path + "': " +
                               std::strerror(err));
    }
  }

 private:
  std::string m_path, m_tmp;
  std::FILE* m_file = nullptr;
};

struct RolloutOptions {
  std::string env_id, policy = "random", record, video;
  std::vector<std::string> plugins;  // --plugin: task plugins loaded before --env is looked up
  int64_t steps = 1000, episodes = 0;  // episodes > 0: whole episodes instead of steps
  uint64_t seed = 0;
  VideoSettings video_settings;
  CLI::Option* steps_option = nullptr;  // to tell --steps given from its default
};

int rollout_run(const RolloutOptions& o) {
  // ---- arguments, all checked before any work (the ranges by CLI11, the rest here)
  const std::string &env_id = o.env_id, &policy = o.policy, &record = o.record;
  const int64_t steps = o.steps;
  const uint64_t seed = o.seed;
  if (policy.empty()) throw ConfigError("--policy must be 'random' or a policy file");
  if (record.empty() && o.video.empty())
    throw ConfigError("sac rollout needs --record FILE.jsonl, --video FILE.mp4 or both");

  // the policy first: its run's plugins (env.plugins) load with it, before --env is looked up
  load_plugins(o.plugins);
  LoadedPolicy loaded;
  std::unique_ptr<DeviceArray<float>> d_obs, d_act;
  const bool random_policy = policy == "random";
  if (!random_policy) {
    try {
      loaded = load_policy(policy, "cpu", 1);
    } catch (const std::exception& e) {
      throw ConfigError("cannot load policy '" + policy + "': " + e.what());
    }
    if (!loaded.python_env.empty())
      throw ConfigError("policy '" + policy + "' is the policy of the Python env " +
                        loaded.env_spec.id + " (a sac_engine.SAC run), not of a built-in task");
  }
  std::unique_ptr<Env> env;
  try {
    env = make_env(env_id);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  if (!random_policy) {
    if (loaded.config.env_id != env_id)
      throw ConfigError("policy '" + policy + "' was trained on " + loaded.config.env_id +
                        ", not " + env_id);
    // the task as the policy was trained on it (its keyword arguments, its model)
    if (loaded.config.env_kwargs != "{}") env = make_env(env_id, env_kwargs(loaded.config));
  }
  const EnvSpec& spec = env->spec();
  const int O = spec.obs_dim, A = spec.act_dim, nq = env->nq(), nv = env->nv();
  if (!random_policy) {
    d_obs = std::make_unique<DeviceArray<float>>(*loaded.backend, (size_t)O);
    d_act = std::make_unique<DeviceArray<float>>(*loaded.backend, (size_t)A);
  }

  std::unique_ptr<RecordFile> file;
  if (!record.empty()) file = std::make_unique<RecordFile>(record);
  // the video's checks (OpenGL context, camera, size, encoder, path) before any step
  std::unique_ptr<GlContext> gl;
  std::unique_ptr<VideoRecorder> video;
  if (!o.video.empty()) {
    gl = GlContext::create();
    video = std::make_unique<VideoRecorder>(o.video, *env, o.video_settings);
  }
  auto write = [&](const std::string& l) {
    if (file) file->write(l);
  };

  // ---- the rollout
  HostRng reset_rng(seed, kResetStream), action_rng(seed, kActionStream);
  std::vector<double> obs(O), action(A), qpos(nq), qvel(nv);
  std::vector<float> obs_f(O), act_f(A);
  JsonLine line;

  auto reset = [&] {
    env->reset(reset_rng, obs.data());
    env->get_state(qpos.data(), qvel.data());
    line.begin();
    line.integer("t", 0);
    line.array("qpos", qpos.data(), nq);
    line.array("qvel", qvel.data(), nv);
    line.array("obs", obs.data(), O);
    line.end();
    write(line.str());
    if (video) video->add_frame();
  };

  int64_t episodes = 0, k = 0;
  int t = 0;
  auto more = [&](int64_t step) { return o.episodes > 0 ? episodes < o.episodes : step < steps; };
  reset();
  for (; more(k); ++k) {
    if (random_policy) {
      for (int j = 0; j < A; ++j) action[j] = action_rng.uniform(spec.action_low[j], spec.action_high[j]);
    } else {
      for (int j = 0; j < O; ++j) obs_f[j] = (float)obs[j];
      d_obs->upload(obs_f.data(), O);
      loaded.policy->act(1, d_obs->data(), true, d_act->data());
      d_act->download(act_f.data(), A);
      // [-1, 1] -> [low, high], as the env pool scales
      for (int j = 0; j < A; ++j) {
        if (!std::isfinite(act_f[j]))
          throw std::runtime_error("policy produced a non-finite action at step " + std::to_string(k));
        double lo = spec.action_low[j], hi = spec.action_high[j];
        action[j] = lo + 0.5 * ((double)act_f[j] + 1.0) * (hi - lo);
      }
    }
    StepResult r = env->step(action.data(), obs.data());
    ++t;
    bool terminated = r.terminated && !r.unstable;
    bool truncated = !terminated && (r.unstable || t >= spec.max_episode_steps);
    env->get_state(qpos.data(), qvel.data());
    line.begin();
    line.integer("t", t);
    line.array("action", action.data(), A);
    line.array("obs", obs.data(), O);
    line.number("reward", r.reward);
    line.boolean("terminated", terminated);
    line.boolean("truncated", truncated);
    line.array("qpos", qpos.data(), nq);
    line.array("qvel", qvel.data(), nv);
    if (r.unstable) line.boolean("unstable", true);
    line.end();
    write(line.str());
    if (video) video->add_frame();
    if (terminated || truncated) {
      ++episodes;
      if (more(k + 1)) {
        reset();
        t = 0;
      }
    }
  }
  if (file) file->commit();
  if (video) video->finish();

  nlohmann::json out = {{"env", env_id}, {"steps", k}, {"episodes", episodes}};
  if (!record.empty()) out["record"] = record;
  if (video) {
    out["video"] = o.video;
    out["frames"] = video->frames();
    out["fps"] = 1.0 / video->frame_seconds();
    out["renderer"] = gl->description();
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

void add_rollout_command(CLI::App& parent, CommandRunner& run) {
  auto o = std::make_shared<RolloutOptions>();
  CLI::App* sub = add_command(parent, "rollout",
                              "record one env's trajectory (qpos, qvel, obs, action, reward, "
                              "terminated, truncated per step) as JSON lines, and/or as an MP4 video",
                              run, [o] {
                                if (o->episodes > 0 && o->steps_option->count() > 0)
                                  throw ConfigError("--steps and --episodes cannot be combined");
                                return rollout_run(*o);
                              });
  sub->add_option("--env", o->env_id, "task id (see 'sac envs')")->required();
  add_plugin_option(sub, o->plugins);
  sub->add_option("--policy", o->policy,
                  "'random' (uniform actions) or a policy file (deterministic actions)");
  o->steps_option =
      add_int_option(sub, "--steps", o->steps, 1, (int64_t)1 << 40, "env steps to record");
  add_int_option(sub, "--episodes", o->episodes, 1, (int64_t)1 << 30,
                 "whole episodes to record instead of --steps (default: none, --steps counts)");
  add_int_option(sub, "--seed", o->seed, 0, (int64_t)1 << 53, "seed of resets and random actions");
  sub->add_option("--record", o->record, "the JSON-lines file to write (atomically); default: none (--record, --video or both "
                  "are required)");
  sub->add_option("--video", o->video,
                  "an H.264 MP4 of the rollout to write (atomically), rendered headless (EGL or "
                  "OSMesa, MUJOCO_GL=egl|osmesa); default: none");
  VideoSettings& v = o->video_settings;
  add_int_option(sub, "--width", v.width, VideoSettings::kMinSide, VideoSettings::kMaxSide,
                 "video width in pixels (even)");
  add_int_option(sub, "--height", v.height, VideoSettings::kMinSide, VideoSettings::kMaxSide,
                 "video height in pixels (even)");
  sub->add_option("--camera", v.camera,
                  "a camera of the task's model, 'track' (the tracking camera) or 'free' "
                  "(Gymnasium's free camera); default: track where the model has one, else free");
}

}  // namespace sac
