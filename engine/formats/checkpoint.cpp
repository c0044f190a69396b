// checkpoint.cpp: writing, finding, verifying and restoring checkpoints (see checkpoint.h).
#include "formats/checkpoint.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "formats/path_checks.h"
#include "sac/env.h"
#include "formats/pool_state.h"
#include "formats/python_env.h"
#include "formats/quoted.h"
#include "formats/state_tensors.h"

namespace sac {
namespace {

constexpr const char* kFormatMain = "sac-engine checkpoint";
constexpr const char* kFormatReplay = "sac-engine replay";
constexpr const char* kVersion = "1";
// host copies of the main file's state beside the agent's (the trainer's loop state, the env
// pools'), of the live components' shapes: what is written, or what a restore reads into
struct MainHostState {
  TrainerState trainer;
  PoolState pool;
  std::vector<uint64_t> eval_rng_counters;
  bool with_pool;  // a run whose envs step outside the engine (Python) has no pool
  bool with_eval;
  bool per_seed;  // a run given train.seeds: its per-seed state is named per seed

  MainHostState(const Config& c, const TrainerState& st, const EnvPool* p, const EnvPool* eval)
      : trainer(st), pool(p ? save_pool_state(*p, (int)seed_list(c).size()) : PoolState()),
        with_pool(p != nullptr), with_eval(p != nullptr && eval != nullptr),
        per_seed(!c.seeds.empty()) {
    if (with_eval) eval_rng_counters = rng_counters(*eval);
    trainer.seeds.resize(seed_list(c).size());
  }

  // the main file's tensors: each component's own list
  std::vector<StateTensor> tensors(Learner& agent) {
    std::vector<StateTensor> list = agent.state_tensors();
    std::vector<StateTensor> part = trainer_state_tensors(trainer, per_seed);
    list.insert(list.end(), part.begin(), part.end());
    if (!with_pool) return list;
    part = pool_state_tensors(pool, with_eval ? &eval_rng_counters : nullptr);
    list.insert(list.end(), part.begin(), part.end());
    return list;
  }
};

// the replay file's name of ring k's tensor `name`: obs, action, ...; seed<k>.obs, ... in a run
// given train.seeds (one ring per seed)
std::string ring_tensor_name(int k, bool per_seed, const std::string& name) {
  return per_seed ? "seed" + std::to_string(k) + "." + name : name;
}

std::vector<StateTensor> ring_tensors(const ReplayBuffer& ring, ReplayFill& fill, int k,
                                      bool per_seed) {
  std::vector<StateTensor> list = ring.state_tensors(fill);
  for (StateTensor& t : list) t.name = ring_tensor_name(k, per_seed, t.name);
  return list;
}

// the value of tensor `name` of `f`, an I64 of one value (read_state_tensors checked it)
int64_t stored_i64(const SafetensorsFile& f, const std::string& name) {
  int64_t v;
  std::memcpy(&v, f.tensors.at(name).bytes.data(), sizeof v);
  return v;
}

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "ckpt-%012lld", (long long)step);
  return buf;
}

// the step of a main checkpoint file name "ckpt-<digits>.safetensors", or -1
int64_t parse_main_name(const std::string& name) {
  const std::string pre = "ckpt-", post = ".safetensors";
  if (name.size() <= pre.size() + post.size() || name.compare(0, pre.size(), pre) != 0 ||
      name.compare(name.size() - post.size(), post.size(), post) != 0)
    return -1;
  std::string digits = name.substr(pre.size(), name.size() - pre.size() - post.size());
  if (digits.empty() || digits.size() > 18) return -1;
  for (char ch : digits)
    if (ch < '0' || ch > '9') return -1;
  return std::stoll(digits);
}

// the step of any file of a checkpoint ("ckpt-<digits>..."), or -1
int64_t parse_any_step(const std::string& name) {
  if (name.compare(0, 5, "ckpt-") != 0) return -1;
  size_t end = 5;
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == 5 || end - 5 > 18) return -1;
  return std::stoll(name.substr(5, end - 5));
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) names.push_back(e->d_name);
  ::closedir(d);
  return names;
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// dotted leaves of a config JSON
void flatten(const nlohmann::json& j, const std::string& prefix,
             std::vector<std::pair<std::string, nlohmann::json>>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it.value().is_object())
      flatten(it.value(), key, out);
    else
      out.emplace_back(key, it.value());
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// names

CheckpointFiles checkpoint_files(const std::string& dir, int64_t step) {
  CheckpointFiles c;
  c.step = step;
  c.main = dir + "/" + step_name(step) + ".safetensors";
  c.replay = dir + "/" + step_name(step) + ".replay.safetensors";
  return c;
}

CheckpointFiles latest_checkpoint(const std::string& dir) {
  int64_t best = -1;
  for (const std::string& name : list_dir(dir)) best = std::max(best, parse_main_name(name));
  if (best < 0) return {};
  return checkpoint_files(dir, best);
}

// ---------------------------------------------------------------------------------------------
// finiteness

std::string find_non_finite(Learner& agent, bool with_losses, bool with_moments, int seed_index) {
  return first_non_finite(seed_index < 0 ? agent.state_tensors()
                                         : agent.seed_state_tensors(seed_index),
                          agent.backend(), with_losses, with_moments);
}

namespace {
// the first non-finite value of the seeds still training (a stopped seed's numbers are not
// finite by definition, and a checkpoint keeps them as they are)
std::string find_non_finite_training(Learner& agent, const TrainerState& st) {
  bool any_stopped = false;
  for (const SeedProgress& p : st.seeds) any_stopped |= !p.training();
  if (!any_stopped) return find_non_finite(agent, true, true);
  for (size_t k = 0; k < st.seeds.size(); ++k) {
    if (!st.seeds[k].training()) continue;
    std::string bad = find_non_finite(agent, true, true, (int)k);
    if (!bad.empty()) return bad;
  }
  return "";
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// writing

CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Learner& agent,
                                 const ReplayBuffer& replay, const EnvPool& pool,
                                 const EnvPool* eval_pool, const TrainerState& st) {
  return write_checkpoint(dir, config, agent, std::vector<const ReplayBuffer*>{&replay}, pool,
                          eval_pool, st);
}

CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Learner& agent,
                                 const std::vector<const ReplayBuffer*>& rings,
                                 const EnvPool& pool, const EnvPool* eval_pool,
                                 const TrainerState& st) {
  return write_checkpoint(dir, config, agent, rings, &pool, eval_pool, st);
}

CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Learner& agent,
                                 const std::vector<const ReplayBuffer*>& rings,
                                 const EnvPool* pool, const EnvPool* eval_pool,
                                 const TrainerState& st, const std::string& python_env) {
  // never write a non-finite checkpoint: the previous one stays the last good one
  std::string bad = find_non_finite_training(agent, st);
  if (!bad.empty())
    throw std::runtime_error("non-finite value at step " + std::to_string(st.steps) + ": " + bad);

  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw CheckpointWriteError("cannot create checkpoint folder '" + dir +
                               "': " + std::strerror(errno));
  CheckpointFiles files = checkpoint_files(dir, st.steps);
  Backend& be = agent.backend();

  // ---- the replay buffer: only the filled rows [0, size)
  SafetensorsFile r;
  const bool per_seed = !config.seeds.empty();
  for (size_t k = 0; k < rings.size(); ++k) {
    ReplayFill fill = rings[k]->fill();
    put_state_tensors(r, ring_tensors(*rings[k], fill, (int)k, per_seed), be);
  }
  r.metadata["format"] = kFormatReplay;
  r.metadata["version"] = kVersion;
  r.metadata["step"] = std::to_string(st.steps);
  r.metadata["env_id"] = python_env.empty() ? config.env_id : "python";
  r.stamp_checksum();

  // ---- the agent (networks, optimiser state, counters), the trainer's loop state and the env
  // pools (physics, noise counters, running episodes, observations)
  MainHostState host(config, st, pool, eval_pool);
  SafetensorsFile m;
  put_state_tensors(m, host.tensors(agent), be);

  m.metadata["format"] = kFormatMain;
  m.metadata["version"] = kVersion;
  m.metadata["step"] = std::to_string(st.steps);
  m.metadata["config"] = python_env.empty() ? config.to_json().dump()
                                            : config_text_with_python_env(config, python_env);
  m.metadata["mujoco_version"] = mujoco_version();
  m.metadata["replay_file"] = base_name(files.replay);
  m.metadata["replay_checksum"] = r.metadata["checksum"];
  m.stamp_checksum();

  // ---- replay first, the main file last: a present main file means a complete pair. A failed
  // write (its temp file is gone already) takes this checkpoint's replay file with it, unless a
  // complete checkpoint of the same step owns that name (finishing an overlapped run rewrites
  // its final checkpoint)
  try {
    r.save(files.replay);
    m.save(files.main);
  } catch (const std::runtime_error& e) {
    struct stat main_st;
    if (::stat(files.main.c_str(), &main_st) != 0) ::unlink(files.replay.c_str());
    throw CheckpointWriteError(std::string("cannot write the checkpoint of step ") +
                               std::to_string(st.steps) + ": " + e.what());
  }

  // ---- older checkpoints and temp files left by an interrupted write go only now
  for (const std::string& name : list_dir(dir)) {
    int64_t step = parse_any_step(name);
    if (step < 0) continue;
    if (step < st.steps || ends_with(name, ".tmp")) ::unlink((dir + "/" + name).c_str());
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// reading

namespace {

// the checks of one checkpoint file already read (`f`, from `path`): its format, its version
// and, when `verify_checksum`, its checksum
SafetensorsFile checked_checkpoint_file(SafetensorsFile f, const std::string& path,
                                        const std::string& format, bool verify_checksum) {
  auto fail = [&](const std::string& what) {
    return CheckpointError("checkpoint '" + path + "': " + what);
  };
  auto it = f.metadata.find("format");
  if (it == f.metadata.end() || it->second != format)
    throw fail("not a " + format + " file (format " +
               (it == f.metadata.end() ? std::string("none") : quoted_text(it->second)) + ")");
  it = f.metadata.find("version");
  if (it == f.metadata.end() || it->second != kVersion)
    throw fail("unsupported version " +
               (it == f.metadata.end() ? std::string("none") : quoted_text(it->second)) +
               " (this build reads version " + kVersion + ")");
  if (verify_checksum) {
    try {
      f.verify_checksum(path);  // checkpoints always had one: none means damage
    } catch (const InputError& e) {
      throw CheckpointError(std::string("checkpoint ") + e.what());
    }
  }
  return f;
}

// a checkpoint file's bytes already in memory, read and checked as read_checkpoint_file does
SafetensorsFile parse_checkpoint_file(const std::string& data, const std::string& path,
                                      const std::string& format) {
  SafetensorsFile f;
  try {
    f = SafetensorsFile::parse(data, path);
  } catch (const InputError& e) {
    throw CheckpointError(e.what());
  }
  return checked_checkpoint_file(std::move(f), path, format, true);
}

// the config of a checkpoint whose files are read and checked, and that they are a pair
LoadedCheckpoint paired_checkpoint(const CheckpointFiles& files, SafetensorsFile main,
                                   SafetensorsFile replay) {
  LoadedCheckpoint c;
  c.files = files;
  c.main = std::move(main);
  c.replay = std::move(replay);
  c.config = checkpoint_config(c.main, files.main);
  auto meta = [](const SafetensorsFile& f, const std::string& key) {
    auto it = f.metadata.find(key);
    return it == f.metadata.end() ? std::string() : it->second;
  };
  std::string step = std::to_string(files.step);
  if (meta(c.main, "step") != step || meta(c.replay, "step") != step)
    throw CheckpointError("checkpoint '" + files.main + "': holds step " +
                          quoted_text(meta(c.main, "step")) + " and its replay file step " +
                          quoted_text(meta(c.replay, "step")) + ", the file name says " + step);
  c.mujoco_version = meta(c.main, "mujoco_version");
  if (meta(c.main, "replay_checksum") != meta(c.replay, "checksum"))
    throw CheckpointError("checkpoint '" + files.main + "': the replay file '" + files.replay +
                          "' belongs to another checkpoint (checksum differs)");
  return c;
}

}  // namespace

SafetensorsFile read_checkpoint_file(const std::string& path, const std::string& format,
                                     bool verify_checksum) {
  SafetensorsFile f;
  try {
    f = SafetensorsFile::load(path);
  } catch (const InputError& e) {
    throw CheckpointError(e.what());
  }
  return checked_checkpoint_file(std::move(f), path, format, verify_checksum);
}

Config checkpoint_config(const SafetensorsFile& main, const std::string& path) {
  auto it = main.metadata.find("config");
  if (it == main.metadata.end())
    throw CheckpointError("checkpoint '" + path + "': no config in the metadata");
  try {
    std::string text = it->second;
    take_python_env(text);  // a Python env's run: its config is the rest (env.* defaults)
    Config c = config_from_json_text(text, path + " (config metadata)");
    validate(c);
    return c;
  } catch (const ConfigError& e) {
    throw CheckpointError(std::string("checkpoint '") + path + "': " + e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double
    throw CheckpointError(std::string("checkpoint '") + path +
                          "': bad config metadata: " + e.what());
  }
}

LoadedCheckpoint read_checkpoint(const CheckpointFiles& files) {
  SafetensorsFile main = read_checkpoint_file(files.main, kFormatMain);
  SafetensorsFile replay = read_checkpoint_file(files.replay, kFormatReplay);
  return paired_checkpoint(files, std::move(main), std::move(replay));
}

LoadedCheckpoint parse_checkpoint(const CheckpointFiles& files, const std::string& main_data,
                                  const std::string& replay_data) {
  SafetensorsFile main = parse_checkpoint_file(main_data, files.main, kFormatMain);
  SafetensorsFile replay = parse_checkpoint_file(replay_data, files.replay, kFormatReplay);
  return paired_checkpoint(files, std::move(main), std::move(replay));
}

const std::vector<std::string>& resumable_keys() {
  static const std::vector<std::string> keys = {"train.total_steps",
                                                "train.log_every",
                                                "train.eval_every",
                                                "train.checkpoint_every",
                                                "train.threads",
                                                "env.threads",
                                                "device",
                                                "log.tensorboard"};
  return keys;
}

void check_same_physics(const LoadedCheckpoint& checkpoint, const Config& run) {
  if (make_env(run.env_id)->nq() == 0) return;  // no MuJoCo in the task (Pendulum-v1)
  const std::string here = mujoco_version();
  if (checkpoint.mujoco_version == here) return;
  const std::string then = checkpoint.mujoco_version.empty()
                               ? std::string("an older MuJoCo (none recorded: Debian's 2.2.2)")
                               : "MuJoCo " + escaped_text(checkpoint.mujoco_version);
  throw CheckpointError("it was written with " + then + " and this build runs MuJoCo " + here +
                        ": " + run.env_id + "'s physics differ, so the run would not continue " +
                        "the same training (start a new run, or resume with a build of that " +
                        "version)");
}

void check_resumable(const Config& checkpoint, const Config& run) {
  std::vector<std::pair<std::string, nlohmann::json>> a, b;
  flatten(checkpoint.to_json(), "", a);
  flatten(run.to_json(), "", b);
  const auto& allowed = resumable_keys();
  // key by key, by name: a key left out of one config (written only when set) is no shift
  std::map<std::string, nlohmann::json> in_run(b.begin(), b.end());
  for (const auto& kv : a) in_run.emplace(kv.first, nlohmann::json());
  for (const auto& kv : in_run) {
    const std::string& key = kv.first;
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    if (key == "mujoco_version") continue;  // the checkpoint's own record: check_same_physics
    auto it = std::find_if(a.begin(), a.end(), [&](const auto& x) { return x.first == key; });
    const nlohmann::json written = it == a.end() ? nlohmann::json() : it->second;
    if (written != kv.second)
      throw CheckpointError(
          "the checkpoint was written with " + key + " = " +
          (written.is_null() ? std::string("(not set)") : json_text(written)) + ", this run has " +
          key + " = " + (kv.second.is_null() ? std::string("(not set)") : json_text(kv.second)));
  }
}

// ---------------------------------------------------------------------------------------------
// restoring

void restore_checkpoint(const LoadedCheckpoint& ckpt, Learner& agent, ReplayBuffer& replay,
                        EnvPool& pool, EnvPool* eval_pool, TrainerState& st) {
  restore_checkpoint(ckpt, agent, std::vector<ReplayBuffer*>{&replay}, pool, eval_pool, st);
}

void restore_checkpoint(const LoadedCheckpoint& ckpt, Learner& agent,
                        const std::vector<ReplayBuffer*>& rings, EnvPool& pool,
                        EnvPool* eval_pool, TrainerState& st) {
  restore_checkpoint(ckpt, agent, rings, &pool, eval_pool, st);
}

void restore_checkpoint(const LoadedCheckpoint& ckpt, Learner& agent,
                        const std::vector<ReplayBuffer*>& rings, EnvPool* pool,
                        EnvPool* eval_pool, TrainerState& st) {
  const std::string& main_path = ckpt.files.main;
  const std::string& replay_path = ckpt.files.replay;
  auto fail = [](const std::string& path, const std::string& what) {
    return CheckpointError("checkpoint '" + path + "': " + what);
  };
  // a checkpoint resumes only as the learner that wrote it
  if (ckpt.config.algo != agent.algo())
    throw fail(main_path, "written by algo " + quoted_text(ckpt.config.algo) +
                              "; it cannot be resumed as algo " + quoted_text(agent.algo()));

  // ---- read and check everything before changing anything: host tensors land in the copies
  // below, backend ones stay in the files until applied
  MainHostState host(ckpt.config, TrainerState(), pool, eval_pool);
  const TrainerState& t = host.trainer;
  std::vector<StateTensor> main = host.tensors(agent);
  read_state_tensors(ckpt.main, main_path, main);
  const int64_t agent_updates = stored_i64(ckpt.main, "counters.updates");
  const int64_t act_draws = stored_i64(ckpt.main, "counters.act_draws");
  if (t.steps != ckpt.files.step)
    throw fail(main_path, "trainer.steps is " + std::to_string(t.steps) +
                              ", the file name says " + std::to_string(ckpt.files.step));
  if (t.updates < 0 || agent_updates != t.updates || act_draws < 0)
    throw fail(main_path, "update counters disagree (trainer " + std::to_string(t.updates) +
                              ", agent " + std::to_string(agent_updates) + ")");
  bool in_range = t.update_debt >= 0.0 && t.update_debt < 1.0 && t.wall_seconds >= 0.0;
  for (const SeedProgress& p : t.seeds)
    in_range &= p.recent_episodes >= 0 && std::isfinite(p.recent_return_sum) &&
                p.stopped_step >= -1 && p.stopped_step <= t.steps;
  if (!in_range) throw fail(main_path, "trainer state out of range");
  try {
    if (pool) check_pool_state(*pool, host.pool);
  } catch (const std::invalid_argument& e) {
    throw fail(main_path, e.what());
  }

  // the replay file holds as many rows of each ring as its "size" says
  const bool per_seed = !ckpt.config.seeds.empty();
  std::vector<ReplayFill> fills(rings.size());
  std::vector<std::vector<StateTensor>> ring_lists;
  for (size_t k = 0; k < rings.size(); ++k) {
    ReplayFill& fill = fills[k];
    read_state_tensors(ckpt.replay, replay_path,
                       {host_tensor(ring_tensor_name((int)k, per_seed, "size"), &fill.size)});
    ring_lists.push_back(ring_tensors(*rings[k], fill, (int)k, per_seed));
    read_state_tensors(ckpt.replay, replay_path, ring_lists.back());
    try {
      rings[k]->check_fill(fill);
    } catch (const std::invalid_argument& e) {
      throw fail(replay_path, e.what());
    }
  }

  // ---- apply
  if (pool) load_pool_state(*pool, host.pool);
  if (pool && eval_pool) set_rng_counters(*eval_pool, host.eval_rng_counters);
  upload_state_tensors(ckpt.main, main, agent.backend());
  for (size_t k = 0; k < rings.size(); ++k) {
    upload_state_tensors(ckpt.replay, ring_lists[k], agent.backend());
    rings[k]->restore_fill(fills[k]);
  }
  st = t;
}

}  // namespace sac
