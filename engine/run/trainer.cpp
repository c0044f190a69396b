// trainer.cpp: train() and resume() (trainer.h): the components of a run, sized before
// anything is written, put together with the step loop (step_loop.h) and the run around it
// (training_run.h) in the run directory (run_directory.h).
#include "sac/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "formats/checkpoint.h"
#include "formats/path_checks.h"
#include "formats/python_env.h"
#include "formats/quoted.h"
#include "formats/whole_file.h"
#include "run/run_directory.h"
#include "run/run_lock.h"
#include "run/run_model.h"
#include "sac/errors.h"
#include "sac/replay_buffer.h"
#include "run/signals.h"
#include "run/step_loop.h"
#include "run/training_run.h"

namespace sac {
namespace {

constexpr uint64_t kEvalSeedOffset = 1000003;  // eval envs are seeded apart from training envs

// MemAvailable of /proc/meminfo in bytes; 0 when unknown
uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == "MemAvailable:" && in >> kib) return kib * 1024;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

}  // namespace

// a run never holds more than total_steps transitions: the ring is sized accordingly
int64_t replay_capacity(const Config& c) {
  return std::min<int64_t>(c.buffer_size, c.total_steps + c.num_envs);
}

void check_replay_fits(const Config& c, const std::string& device) {
  check_replay_fits(c, device, env_kwargs(c));
}

void check_replay_fits(const Config& c, const std::string& device, const nlohmann::json& kwargs) {
  if (device != "cpu") return;
  EnvSpec spec = make_env(c.env_id, kwargs)->spec();
  int64_t capacity = replay_capacity(c);
  const uint64_t rings = seed_list(c).size();  // one per seed
  uint64_t need = rings * ReplayBuffer::bytes_needed(capacity, spec.obs_dim, spec.act_dim);
  uint64_t avail = available_memory();
  if (avail > 0 && need > avail)
    throw ConfigError("sac.buffer_size: a replay buffer of " + std::to_string(capacity) +
                      " transitions of " + c.env_id +
                      (rings > 1 ? " for each of " + std::to_string(rings) + " seeds" : "") +
                      " needs " + std::to_string(need >> 20) +
                      " MiB, but only " + std::to_string(avail >> 20) +
                      " MiB of memory are available (MemAvailable); lower sac.buffer_size");
}

std::string resolve_pipeline(const std::string& pipeline, const std::string& device) {
  if (pipeline == "sequential" || pipeline == "overlapped") return pipeline;
  if (pipeline == "auto") return device == "cuda" ? "overlapped" : "sequential";
  throw ConfigError("config key 'train.pipeline': value '" + pipeline +
                    "' is not one of auto, sequential, overlapped");
}

namespace {

// the task's keyword arguments for the run in `run_dir`: as configured, or on the run's own
// copy of its custom model when it resumes
nlohmann::json run_kwargs(const Config& c, const std::string& run_dir, bool resuming) {
  if (resuming && !custom_model_path(c).empty())
    return kwargs_with_model(c, run_model_copy(c, run_dir));
  return env_kwargs(c);
}

// Trains from scratch (`from` null) or from a verified checkpoint, whose tensors are released
// once restored (the replay copy can be large). `lock`: the run directory's lock when the caller
// holds it already (resume); null: a fresh run, locked before anything is written.
TrainSummary run_training(const Config& c, const std::string& run_dir, LoadedCheckpoint* from,
                          const TrainOptions& o, const RunLock* lock) {
  std::unique_ptr<StopSignals> signals;
  if (o.handle_signals) signals = std::make_unique<StopSignals>();

  // ---- components, all memory sized here; nothing is written before they all exist
  // a custom model (env.kwargs.xml_file): a fresh run reads it now and copies it into the run
  // directory below; a resumed run (the lock held already) builds from that copy
  const std::string model_text = lock ? "" : read_custom_model(c);
  const nlohmann::json kwargs = run_kwargs(c, run_dir, lock != nullptr);
  const std::string device = resolve_device(c.device);
  check_replay_fits(c, device, kwargs);
  std::unique_ptr<Backend> backend = make_backend(device, c.threads);
  // N envs per seed, seeded as a run of that seed alone seeds them
  const std::vector<uint64_t> seeds = seed_list(c);
  EnvPool pool(c.env_id, kwargs, seeded_envs(seeds, c.num_envs), c.env_threads);
  const int N = c.num_envs, O = pool.spec().obs_dim, A = pool.spec().act_dim;
  // eval envs are stepped by as many threads as the training envs (the results do not depend
  // on it)
  std::unique_ptr<EnvPool> eval_pool;
  if (c.eval_episodes > 0)
    eval_pool = std::make_unique<EnvPool>(
        c.env_id, kwargs, seeded_envs(seeds, c.eval_episodes, kEvalSeedOffset), c.env_threads);
  std::unique_ptr<Learner> learner =
      make_learner(*backend, AgentSpec::from_config(c, O, A, std::max(N, c.eval_episodes)));
  Learner& agent = *learner;
  SeedRings rings(*backend, seeds.size(), replay_capacity(c), O, A);
  const bool overlapped = resolve_pipeline(c.pipeline, backend->name()) == "overlapped";
  // declared after the agent and the rings: its update thread (if any) ends before they go
  StepLoop loop(c, overlapped, *backend, pool, agent, rings.rings(), nullptr);
  // videos (train.video_every): their OpenGL context and encoder checked here, before any write
  std::unique_ptr<BackgroundVideo> videos;
  if (c.video_every > 0) {
    std::vector<std::string> video_dirs;
    for (uint64_t s : c.seeds) video_dirs.push_back(seed_dir(run_dir, s) + "/videos");
    if (c.seeds.empty()) video_dirs.push_back(run_dir + "/videos");
    videos = std::make_unique<BackgroundVideo>(AgentSpec::from_config(c, O, A, 1), c.env_id,
                                               kwargs, video_dirs, VideoSettings());
  }

  // ---- loop state: fresh, or the checkpoint's
  if (from) {
    TrainerState st;
    restore_checkpoint(*from, agent, rings.rings(), pool, eval_pool.get(), st);
    from->main = SafetensorsFile();
    from->replay = SafetensorsFile();
    try {
      loop.resume(st);
    } catch (const std::invalid_argument& e) {
      throw CheckpointError("cannot resume from '" + from->files.main + "': " + e.what());
    }
    // schedules follow the settings a resumed run may change
    TrainerState& s = loop.state();
    if (c.log_every != from->config.log_every)
      s.next_log = (s.steps / c.log_every + 1) * c.log_every;
    if (c.eval_every == 0) s.next_eval = c.total_steps;
    else if (c.eval_every != from->config.eval_every)
      s.next_eval = (s.steps / c.eval_every + 1) * c.eval_every;
  } else {
    pool.reset();
  }
  const TrainerState& st = loop.state();
  // resumed from the final checkpoint of a run stopped before it wrote its policy and summary:
  // a sequential run's final checkpoint follows its final evaluation, so only the files remain
  const bool finishing = from && st.steps >= c.total_steps;

  // ---- the run directory, locked first: one process at a time writes a run. An overlapped
  // run's final evaluation comes after its final checkpoint: finishing it evaluates again (the
  // same episodes), so a row the stopped run wrote then goes
  const int64_t resumed_step = from ? st.steps : -1;
  const int64_t eval_keep_step = finishing && overlapped ? resumed_step - 1 : resumed_step;
  RunDirectory dir(run_dir, c, resumed_step, eval_keep_step, lock, c.seeds.empty());
  if (!lock) write_run_model(c, run_dir, model_text);
  // a run given train.seeds: each seed's folder, under the run's lock
  std::vector<std::unique_ptr<RunDirectory>> seed_dirs;
  std::vector<RunDirectory*> seed_dir_list;
  for (size_t k = 0; k < c.seeds.size(); ++k) {
    seed_dirs.push_back(std::make_unique<RunDirectory>(seed_dir(run_dir, c.seeds[k]),
                                                       seed_config(c, (int)k), resumed_step,
                                                       eval_keep_step, &dir.lock()));
    seed_dir_list.push_back(seed_dirs.back().get());
  }
  TrainingRun run(c, {*backend, pool, eval_pool.get(), agent, rings.const_rings(), loop, overlapped,
                      videos.get()},
                  dir, seed_dir_list, from ? from->files : CheckpointFiles{}, o);

  while (st.steps < c.total_steps) {
    loop.step();  // act, step the envs, store, updates (trainer.h: sequential or overlapped)
    const bool stop = signals && StopSignals::requested();
    run.after_step(stop);
    if (stop && st.steps < c.total_steps) return run.interrupt(StopSignals::signal_number());
  }
  return run.finish(finishing);
}

}  // namespace

TrainSummary train(const Config& c, const std::string& run_dir, bool progress) {
  TrainOptions o;
  o.progress = progress;
  return train(c, run_dir, o);
}

namespace {

// `c` as this build runs it: with the MuJoCo version its tasks step on (a config naming another,
// e.g. a copied config.json of an older run, is told and recorded anew)
Config with_this_physics(const Config& c) {
  Config recorded = c;
  recorded.mujoco_version = mujoco_version();
  if (!c.mujoco_version.empty() && c.mujoco_version != recorded.mujoco_version)
    std::fprintf(stderr, "sac: warning: the config names MuJoCo %s; this build runs MuJoCo %s, "
                 "which the run records\n", c.mujoco_version.c_str(),
                 recorded.mujoco_version.c_str());
  return recorded;
}

}  // namespace

TrainSummary train(const Config& c, const std::string& run_dir_arg, const TrainOptions& o) {
  // refuse to overwrite an existing run
  std::string run_dir = run_dir_arg.empty() ? default_run_dir(c) : run_dir_arg;
  refuse_existing_run(run_dir);  // early, before the components are built; again once locked
  return run_training(with_this_physics(c), run_dir, nullptr, o, nullptr);
}

Config resume_config(const std::string& run_dir, const std::vector<std::string>& overrides) {
  const auto& allowed = resumable_keys();
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    if (eq == std::string::npos) continue;  // load_config reports the malformed override
    std::string key = o.substr(0, eq);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError("cannot change '" + key + "' when resuming (the run would not continue " +
                        "the same training); settings a resumed run may change: " + list);
    }
  }
  struct stat st;
  if (::stat(run_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ConfigError("cannot resume: '" + run_dir + "' is not a readable directory");
  if (!path_exists(run_dir + "/config.json"))
    throw ConfigError("cannot resume: '" + run_dir +
                      "' holds no config.json (not a run directory)");
  // a sac_engine.SAC run steps a Python env that sac train cannot run
  std::optional<std::string> text = read_whole_file(run_dir + "/config.json");
  if (!text) throw ConfigError("cannot read config file " + quoted_text(run_dir + "/config.json"));
  std::string env = take_python_env(*text);
  if (!env.empty())
    throw ConfigError("cannot resume '" + run_dir + "' with sac train: it is a sac_engine.SAC "
                      "run of the Python env " + python_env_spec(env, run_dir).id +
                      " (config.json's env), which sac train cannot step; resume it in Python "
                      "with sac_engine.SAC.load('" + run_dir + "', env).learn(total_timesteps)");
  // validated on the run's own copy of a custom model (the original may be gone)
  Config c = config_from_json_text(*text, run_dir + "/config.json");
  for (const std::string& o : overrides) apply_override(c, o);
  Config check = c;
  if (!custom_model_path(c).empty())
    check.env_kwargs = kwargs_with_model(c, run_model_copy(c, run_dir)).dump();
  validate(check);
  return c;
}

TrainSummary resume(const Config& c, const std::string& run_dir, const TrainOptions& o) {
  RunLock lock(run_dir);  // before reading anything: the run there may still be going
  CheckpointFiles files = latest_checkpoint(run_dir + "/checkpoints");
  if (files.step < 0) {
    // A finished run whose checkpoints are gone has results that a restart would overwrite.
    if (path_exists(run_dir + "/summary.json") || path_exists(run_dir + "/policy.safetensors"))
      throw InputError("cannot resume '" + run_dir + "': no complete checkpoint in '" + run_dir +
                       "/checkpoints', and the run has already finished " +
                       "(summary.json or policy.safetensors is there)");
    // Stopped before its first checkpoint: nothing was saved, so starting again from step 0
    // with the same config loses nothing and (on the CPU) reproduces the same run.
    std::fprintf(stderr,
                 "sac: no complete checkpoint in '%s/checkpoints' (the run stopped before its "
                 "first one): starting it again from step 0\n",
                 run_dir.c_str());
    return run_training(with_this_physics(c), run_dir, nullptr, o, &lock);
  }
  if (files.step > c.total_steps ||
      (files.step == c.total_steps && summary_steps(run_dir) >= files.step))
    throw ConfigError("the run in '" + run_dir + "' is already at step " +
                      std::to_string(files.step) + " (train.total_steps = " +
                      std::to_string(c.total_steps) +
                      "); to train longer pass --set train.total_steps=N with N > " +
                      std::to_string(files.step));
  check_replay_fits(c, resolve_device(c.device), run_kwargs(c, run_dir, true));
  LoadedCheckpoint ckpt = read_checkpoint(files);
  try {
    check_resumable(ckpt.config, c);
    check_same_physics(ckpt, c);
  } catch (const CheckpointError& e) {
    throw CheckpointError("cannot resume from '" + files.main + "': " + e.what());
  }
  if (files.step == c.total_steps)
    std::fprintf(stderr,
                 "sac: the run in '%s' stopped after its final checkpoint (step %lld): finishing "
                 "it (policy.safetensors, summary.json)\n",
                 run_dir.c_str(), (long long)files.step);
  return run_training(with_this_physics(c), run_dir, &ckpt, o, &lock);
}

}  // namespace sac
