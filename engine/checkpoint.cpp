// checkpoint.cpp: writing, finding, verifying and restoring checkpoints (see checkpoint.h).
#include "checkpoint.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "group_tensors.h"
#include "pool_state.h"

namespace sac {
namespace {

constexpr const char* kFormatMain = "sac-engine checkpoint";
constexpr const char* kFormatReplay = "sac-engine replay";
constexpr const char* kVersion = "1";
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// ---- building tensors
Tensor raw_tensor(const std::string& dtype, std::vector<int64_t> shape, const void* data,
                  size_t bytes) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(bytes);
  if (bytes) std::memcpy(t.bytes.data(), data, bytes);
  return t;
}
Tensor i64_tensor(const std::vector<int64_t>& v) {
  return raw_tensor("I64", {(int64_t)v.size()}, v.data(), v.size() * 8);
}
Tensor f64_tensor(const std::vector<double>& v, std::vector<int64_t> shape) {
  return raw_tensor("F64", std::move(shape), v.data(), v.size() * 8);
}
Tensor f32_tensor(const float* v, size_t n, std::vector<int64_t> shape) {
  return raw_tensor("F32", std::move(shape), v, n * 4);
}

std::vector<float> download_floats(Backend& be, const float* src, size_t n) {
  std::vector<float> out(n);
  if (n) be.download(out.data(), src, n * sizeof(float));
  return out;
}

// the name of element i of a flat buffer of `group`
std::string flat_element_name(const MlpGroup& group, const std::string& prefix, size_t i) {
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    size_t w = (size_t)lo.out * lo.in, E = (size_t)group.members();
    std::string layer = "." + std::to_string(l);
    if (i >= lo.weight && i < lo.weight + E * w)
      return prefix + "." + std::to_string((i - lo.weight) / w) + layer + ".weight[" +
             std::to_string((i - lo.weight) % w) + "]";
    if (i >= lo.bias && i < lo.bias + E * lo.out)
      return prefix + "." + std::to_string((i - lo.bias) / lo.out) + layer + ".bias[" +
             std::to_string((i - lo.bias) % lo.out) + "]";
  }
  return prefix + "[" + std::to_string(i) + "]";
}

std::string value_text(double v) { return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"); }

// ---- reading tensors with dtype and shape checks
class Reader {
 public:
  Reader(const SafetensorsFile& f, const std::string& path) : m_f(f), m_path(path) {}

  const Tensor& get(const std::string& name, const std::string& dtype,
                    const std::vector<int64_t>& shape) const {
    auto it = m_f.tensors.find(name);
    if (it == m_f.tensors.end()) throw fail("tensor '" + name + "' is missing");
    const Tensor& t = it->second;
    if (t.dtype != dtype) throw fail("tensor '" + name + "' is " + t.dtype + ", expected " + dtype);
    if (t.shape != shape)
      throw fail("tensor '" + name + "' has shape " + shape_text(t.shape) + ", this run needs " +
                 shape_text(shape) + " (a checkpoint of another network or task?)");
    return t;
  }
  template <typename T>
  std::vector<T> values(const std::string& name, const std::string& dtype,
                        const std::vector<int64_t>& shape) const {
    const Tensor& t = get(name, dtype, shape);
    std::vector<T> out(t.bytes.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
  }
  int64_t i64(const std::string& name) const { return values<int64_t>(name, "I64", {1})[0]; }
  double f64(const std::string& name) const { return values<double>(name, "F64", {1})[0]; }
  std::vector<float> f32(const std::string& name, const std::vector<int64_t>& shape) const {
    return values<float>(name, "F32", shape);
  }

  // a flat buffer of `group` from its per-layer tensors
  std::vector<float> group(const std::string& prefix, const MlpGroup& g) const {
    return group_from_tensors(prefix, g, [this](const std::string& name,
                                                const std::vector<int64_t>& shape) {
      return f32(name, shape);
    });
  }

  CheckpointError fail(const std::string& what) const {
    return CheckpointError("checkpoint '" + m_path + "': " + what);
  }

 private:
  const SafetensorsFile& m_f;
  std::string m_path;
};

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

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
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

std::string find_non_finite(Agent& agent, bool with_losses, bool with_moments) {
  Backend& be = agent.backend();
  if (with_losses) {
    std::vector<float> l = download_floats(be, agent.losses(), 3);
    const char* names[3] = {"critic loss (Q values)", "actor loss", "alpha loss"};
    for (int i = 0; i < 3; ++i)
      if (!std::isfinite(l[i])) return std::string(names[i]) + " = " + value_text(l[i]);
  }
  std::vector<float> la = download_floats(be, agent.log_alpha(), 1);
  if (!std::isfinite(la[0])) return "log alpha = " + value_text(la[0]);
  // kind ("weight", "adam_m", "adam_v"), tensor prefix, group and buffer
  struct Buffer {
    const char* kind;
    const char* prefix;
    MlpGroup* group;
    const float* data;
  };
  std::vector<Buffer> buffers = {{"weight", "critic", &agent.critic(), agent.critic().params()},
                                 {"weight", "actor", &agent.actor(), agent.actor().params()},
                                 {"weight", "target", &agent.target(), agent.target().params()}};
  if (with_moments) {
    buffers.push_back({"adam_m", "critic", &agent.critic(), agent.critic().adam_m()});
    buffers.push_back({"adam_v", "critic", &agent.critic(), agent.critic().adam_v()});
    buffers.push_back({"adam_m", "actor", &agent.actor(), agent.actor().adam_m()});
    buffers.push_back({"adam_v", "actor", &agent.actor(), agent.actor().adam_v()});
  }
  for (const Buffer& b : buffers) {
    std::vector<float> v = download_floats(be, b.data, b.group->num_params());
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        return std::string(b.kind) + " " + flat_element_name(*b.group, b.prefix, i) + " = " +
               value_text(v[i]);
  }
  if (with_moments) {
    std::vector<float> m = download_floats(be, agent.log_alpha_adam_m(), 1);
    std::vector<float> v = download_floats(be, agent.log_alpha_adam_v(), 1);
    if (!std::isfinite(m[0])) return "adam_m log_alpha = " + value_text(m[0]);
    if (!std::isfinite(v[0])) return "adam_v log_alpha = " + value_text(v[0]);
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// writing

CheckpointFiles write_checkpoint(const std::string& dir, const Config& config, Agent& agent,
                                 const ReplayBuffer& replay, const EnvPool& pool,
                                 const EnvPool* eval_pool, const TrainerState& st) {
  // never write a non-finite checkpoint: the previous one stays the last good one
  std::string bad = find_non_finite(agent, true, true);
  if (!bad.empty())
    throw std::runtime_error("non-finite value at step " + std::to_string(st.steps) + ": " + bad);

  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw CheckpointWriteError("cannot create checkpoint folder '" + dir +
                               "': " + std::strerror(errno));
  CheckpointFiles files = checkpoint_files(dir, st.steps);
  Backend& be = agent.backend();
  const int O = replay.obs_dim(), A = replay.act_dim();
  const int64_t size = replay.size();

  // ---- the replay buffer: only the filled rows [0, size)
  SafetensorsFile r;
  // rows of `width` floats (width 0: one float per row, stored as a vector)
  auto rows = [&](const std::string& name, const float* src, int width) {
    Tensor t;
    t.dtype = "F32";
    t.shape = width == 0 ? std::vector<int64_t>{size} : std::vector<int64_t>{size, width};
    width = std::max(width, 1);
    t.bytes.resize((size_t)size * width * sizeof(float));
    if (size) be.download(t.bytes.data(), src, t.bytes.size());
    r.tensors[name] = std::move(t);
  };
  const TransitionBatch& s = replay.storage();
  rows("obs", s.obs, O);
  rows("action", s.action, A);
  rows("reward", s.reward, 0);
  rows("next_obs", s.next_obs, O);
  rows("terminated", s.terminated, 0);
  r.tensors["head"] = i64_tensor({replay.head()});
  r.tensors["size"] = i64_tensor({size});
  r.tensors["capacity"] = i64_tensor({replay.capacity()});
  r.metadata["format"] = kFormatReplay;
  r.metadata["version"] = kVersion;
  r.metadata["step"] = std::to_string(st.steps);
  r.metadata["env_id"] = config.env_id;
  r.stamp_checksum();

  // ---- networks and optimiser state
  SafetensorsFile m;
  put_group_tensors(m, "actor", agent.actor(),
            download_floats(be, agent.actor().params(), agent.actor().num_params()));
  put_group_tensors(m, "critic", agent.critic(),
            download_floats(be, agent.critic().params(), agent.critic().num_params()));
  put_group_tensors(m, "target", agent.target(),
            download_floats(be, agent.target().params(), agent.target().num_params()));
  put_group_tensors(m, "adam_m.actor", agent.actor(),
            download_floats(be, agent.actor().adam_m(), agent.actor().num_params()));
  put_group_tensors(m, "adam_v.actor", agent.actor(),
            download_floats(be, agent.actor().adam_v(), agent.actor().num_params()));
  put_group_tensors(m, "adam_m.critic", agent.critic(),
            download_floats(be, agent.critic().adam_m(), agent.critic().num_params()));
  put_group_tensors(m, "adam_v.critic", agent.critic(),
            download_floats(be, agent.critic().adam_v(), agent.critic().num_params()));
  auto scalar = [&](const std::string& name, const float* d) {
    m.tensors[name] = f32_tensor(download_floats(be, d, 1).data(), 1, {1});
  };
  scalar("log_alpha", agent.log_alpha());
  scalar("log_alpha_grad", agent.log_alpha_grad());
  scalar("adam_m.log_alpha", agent.log_alpha_adam_m());
  scalar("adam_v.log_alpha", agent.log_alpha_adam_v());
  m.tensors["losses"] = f32_tensor(download_floats(be, agent.losses(), 3).data(), 3, {3});
  int64_t counters[2];
  be.download(&counters[0], agent.update_counter(), sizeof(int64_t));
  be.download(&counters[1], agent.act_draw_counter(), sizeof(int64_t));
  m.tensors["counters.updates"] = i64_tensor({counters[0]});
  m.tensors["counters.act_draws"] = i64_tensor({counters[1]});

  // ---- trainer loop state
  m.tensors["trainer.steps"] = i64_tensor({st.steps});
  m.tensors["trainer.updates"] = i64_tensor({st.updates});
  m.tensors["trainer.warmup_rng_counter"] = i64_tensor({(int64_t)st.warmup_rng_counter});
  m.tensors["trainer.update_debt"] = f64_tensor({st.update_debt}, {1});
  m.tensors["trainer.next_log"] = i64_tensor({st.next_log});
  m.tensors["trainer.next_eval"] = i64_tensor({st.next_eval});
  m.tensors["trainer.recent_return_sum"] = f64_tensor({st.recent_return_sum}, {1});
  m.tensors["trainer.recent_episodes"] = i64_tensor({st.recent_episodes});
  m.tensors["trainer.last_eval"] = f64_tensor({st.last_eval}, {1});
  m.tensors["trainer.final_eval"] = f64_tensor({st.final_eval}, {1});
  m.tensors["trainer.best_eval"] = f64_tensor({st.best_eval}, {1});
  m.tensors["trainer.wall_seconds"] = f64_tensor({st.wall_seconds}, {1});

  // ---- env pools: physics, noise counters, running episodes, observations
  PoolState ps = save_pool_state(pool);
  const int N = ps.num_envs;
  std::vector<int64_t> seeds_i64(ps.rng_seeds.begin(), ps.rng_seeds.end());
  std::vector<int64_t> counters_i64(ps.rng_counters.begin(), ps.rng_counters.end());
  std::vector<int64_t> steps_i64(ps.episode_steps.begin(), ps.episode_steps.end());
  size_t S = ps.env_states[0].size();
  std::vector<double> env_states;
  for (const auto& e : ps.env_states) env_states.insert(env_states.end(), e.begin(), e.end());
  m.tensors["pool.rng_seeds"] = i64_tensor(seeds_i64);
  m.tensors["pool.rng_counters"] = i64_tensor(counters_i64);
  m.tensors["pool.episode_steps"] = i64_tensor(steps_i64);
  m.tensors["pool.episode_returns"] = f64_tensor(ps.episode_returns, {N});
  m.tensors["pool.obs"] = f32_tensor(ps.obs.data(), ps.obs.size(), {N, ps.obs_dim});
  m.tensors["pool.env_state"] = f64_tensor(env_states, {N, (int64_t)S});
  m.tensors["pool.unstable_episodes"] = i64_tensor({ps.unstable_episodes});
  if (eval_pool) {
    std::vector<int64_t> eval_counters;
    for (int i = 0; i < eval_pool->size(); ++i)
      eval_counters.push_back((int64_t)eval_pool->rng(i).counter());
    m.tensors["eval_pool.rng_counters"] = i64_tensor(eval_counters);
  }

  m.metadata["format"] = kFormatMain;
  m.metadata["version"] = kVersion;
  m.metadata["step"] = std::to_string(st.steps);
  m.metadata["config"] = config.to_json().dump();
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

SafetensorsFile read_checkpoint_file(const std::string& path, const std::string& format,
                                     bool verify_checksum) {
  SafetensorsFile f;
  try {
    f = SafetensorsFile::load(path);
  } catch (const InputError& e) {
    throw CheckpointError(e.what());
  }
  auto fail = [&](const std::string& what) {
    return CheckpointError("checkpoint '" + path + "': " + what);
  };
  auto it = f.metadata.find("format");
  if (it == f.metadata.end() || it->second != format)
    throw fail("not a " + format + " file (format '" +
               (it == f.metadata.end() ? std::string("none") : it->second) + "')");
  it = f.metadata.find("version");
  if (it == f.metadata.end() || it->second != kVersion)
    throw fail("unsupported version '" +
               (it == f.metadata.end() ? std::string("none") : it->second) +
               "' (this build reads version " + kVersion + ")");
  if (verify_checksum) {
    try {
      f.verify_checksum(path);  // checkpoints always had one: none means damage
    } catch (const InputError& e) {
      throw CheckpointError(std::string("checkpoint ") + e.what());
    }
  }
  return f;
}

Config checkpoint_config(const SafetensorsFile& main, const std::string& path) {
  auto it = main.metadata.find("config");
  if (it == main.metadata.end())
    throw CheckpointError("checkpoint '" + path + "': no config in the metadata");
  try {
    Config c = config_from_json_text(it->second, path + " (config metadata)");
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
  LoadedCheckpoint c;
  c.files = files;
  c.main = read_checkpoint_file(files.main, kFormatMain);
  c.replay = read_checkpoint_file(files.replay, kFormatReplay);
  c.config = checkpoint_config(c.main, files.main);
  auto meta = [](const SafetensorsFile& f, const std::string& key) {
    auto it = f.metadata.find(key);
    return it == f.metadata.end() ? std::string() : it->second;
  };
  std::string step = std::to_string(files.step);
  if (meta(c.main, "step") != step || meta(c.replay, "step") != step)
    throw CheckpointError("checkpoint '" + files.main + "': holds step '" + meta(c.main, "step") +
                          "' and its replay file step '" + meta(c.replay, "step") +
                          "', the file name says " + step);
  if (meta(c.main, "replay_checksum") != meta(c.replay, "checksum"))
    throw CheckpointError("checkpoint '" + files.main + "': the replay file '" + files.replay +
                          "' belongs to another checkpoint (checksum differs)");
  return c;
}

const std::vector<std::string>& resumable_keys() {
  static const std::vector<std::string> keys = {"train.total_steps",
                                                "train.log_every",
                                                "train.eval_every",
                                                "train.checkpoint_every",
                                                "train.threads",
                                                "env.threads",
                                                "device"};
  return keys;
}

void check_resumable(const Config& checkpoint, const Config& run) {
  std::vector<std::pair<std::string, nlohmann::json>> a, b;
  flatten(checkpoint.to_json(), "", a);
  flatten(run.to_json(), "", b);
  const auto& allowed = resumable_keys();
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::find(allowed.begin(), allowed.end(), a[i].first) != allowed.end()) continue;
    if (a[i].first != b[i].first || a[i].second != b[i].second)
      throw CheckpointError("the checkpoint was written with " + a[i].first + " = " +
                            a[i].second.dump() + ", this run has " + b[i].first + " = " +
                            b[i].second.dump());
  }
}

// ---------------------------------------------------------------------------------------------
// restoring

void restore_checkpoint(const LoadedCheckpoint& ckpt, Agent& agent, ReplayBuffer& replay,
                        EnvPool& pool, EnvPool* eval_pool, TrainerState& st) {
  Reader m(ckpt.main, ckpt.files.main);
  Reader r(ckpt.replay, ckpt.files.replay);
  Backend& be = agent.backend();

  // ---- read and check everything before changing anything
  std::vector<float> actor = m.group("actor", agent.actor());
  std::vector<float> critic = m.group("critic", agent.critic());
  std::vector<float> target = m.group("target", agent.target());
  std::vector<float> actor_m = m.group("adam_m.actor", agent.actor());
  std::vector<float> actor_v = m.group("adam_v.actor", agent.actor());
  std::vector<float> critic_m = m.group("adam_m.critic", agent.critic());
  std::vector<float> critic_v = m.group("adam_v.critic", agent.critic());
  float log_alpha = m.f32("log_alpha", {1})[0];
  float log_alpha_grad = m.f32("log_alpha_grad", {1})[0];
  float log_alpha_m = m.f32("adam_m.log_alpha", {1})[0];
  float log_alpha_v = m.f32("adam_v.log_alpha", {1})[0];
  std::vector<float> losses = m.f32("losses", {3});
  int64_t agent_updates = m.i64("counters.updates"), act_draws = m.i64("counters.act_draws");

  TrainerState t;
  t.steps = m.i64("trainer.steps");
  t.updates = m.i64("trainer.updates");
  t.warmup_rng_counter = (uint64_t)m.i64("trainer.warmup_rng_counter");
  t.update_debt = m.f64("trainer.update_debt");
  t.next_log = m.i64("trainer.next_log");
  t.next_eval = m.i64("trainer.next_eval");
  t.recent_return_sum = m.f64("trainer.recent_return_sum");
  t.recent_episodes = m.i64("trainer.recent_episodes");
  t.last_eval = m.f64("trainer.last_eval");
  t.final_eval = m.f64("trainer.final_eval");
  t.best_eval = m.f64("trainer.best_eval");
  t.wall_seconds = m.f64("trainer.wall_seconds");
  if (t.steps != ckpt.files.step)
    throw m.fail("trainer.steps is " + std::to_string(t.steps) + ", the file name says " +
                 std::to_string(ckpt.files.step));
  if (t.updates < 0 || agent_updates != t.updates || act_draws < 0)
    throw m.fail("update counters disagree (trainer " + std::to_string(t.updates) + ", agent " +
                 std::to_string(agent_updates) + ")");
  if (!(t.update_debt >= 0.0 && t.update_debt < 1.0) || t.recent_episodes < 0 ||
      !std::isfinite(t.recent_return_sum) || !(t.wall_seconds >= 0.0))
    throw m.fail("trainer state out of range");

  const int N = pool.size(), O = pool.spec().obs_dim, A = pool.spec().act_dim;
  PoolState ps;
  ps.num_envs = N;
  ps.obs_dim = O;
  for (int64_t c : m.values<int64_t>("pool.rng_seeds", "I64", {N}))
    ps.rng_seeds.push_back((uint64_t)c);
  for (int64_t c : m.values<int64_t>("pool.rng_counters", "I64", {N}))
    ps.rng_counters.push_back((uint64_t)c);
  for (int64_t s : m.values<int64_t>("pool.episode_steps", "I64", {N})) {
    if (s < 0 || s > (int64_t)1 << 30) throw m.fail("pool.episode_steps out of range");
    ps.episode_steps.push_back((int)s);
  }
  ps.episode_returns = m.values<double>("pool.episode_returns", "F64", {N});
  ps.obs = m.f32("pool.obs", {N, O});
  int64_t S = (int64_t)pool.env(0).save_state().size();
  std::vector<double> env_states = m.values<double>("pool.env_state", "F64", {N, S});
  for (int i = 0; i < N; ++i)
    ps.env_states.emplace_back(env_states.begin() + i * S, env_states.begin() + (i + 1) * S);
  ps.unstable_episodes = m.i64("pool.unstable_episodes");
  std::vector<int64_t> eval_counters;
  if (eval_pool)
    eval_counters = m.values<int64_t>("eval_pool.rng_counters", "I64", {eval_pool->size()});

  int64_t capacity = r.i64("capacity"), size = r.i64("size"), head = r.i64("head");
  if (size < 0 || size > capacity || head < 0 || (size > 0 && head >= capacity) ||
      (size < capacity && head != size))
    throw r.fail("replay head " + std::to_string(head) + ", size " + std::to_string(size) +
                 " and capacity " + std::to_string(capacity) + " are inconsistent");
  if (size > replay.capacity() || (size == capacity && capacity != replay.capacity()))
    throw r.fail("replay of " + std::to_string(size) + " transitions (capacity " +
                 std::to_string(capacity) + ") does not fit this run's buffer of " +
                 std::to_string(replay.capacity()));
  std::vector<float> obs = r.f32("obs", {size, O}), action = r.f32("action", {size, A});
  std::vector<float> reward = r.f32("reward", {size}), next_obs = r.f32("next_obs", {size, O});
  std::vector<float> terminated = r.f32("terminated", {size});
  if (replay.size() != 0) throw r.fail("the replay buffer to restore into is not empty");

  // ---- apply
  try {
    load_pool_state(pool, ps);
  } catch (const std::invalid_argument& e) {
    throw m.fail(e.what());
  }
  for (size_t i = 0; i < eval_counters.size(); ++i)
    eval_pool->rng((int)i).set_counter((uint64_t)eval_counters[i]);
  auto up = [&](float* dst, const std::vector<float>& src) {
    if (!src.empty()) be.upload(dst, src.data(), src.size() * sizeof(float));
  };
  up(agent.actor().params(), actor);
  up(agent.critic().params(), critic);
  up(agent.target().params(), target);
  up(agent.actor().adam_m(), actor_m);
  up(agent.actor().adam_v(), actor_v);
  up(agent.critic().adam_m(), critic_m);
  up(agent.critic().adam_v(), critic_v);
  be.upload(agent.log_alpha(), &log_alpha, sizeof(float));
  be.upload(agent.log_alpha_grad(), &log_alpha_grad, sizeof(float));
  be.upload(agent.log_alpha_adam_m(), &log_alpha_m, sizeof(float));
  be.upload(agent.log_alpha_adam_v(), &log_alpha_v, sizeof(float));
  be.upload(agent.losses(), losses.data(), 3 * sizeof(float));
  be.upload(agent.update_counter(), &agent_updates, sizeof(int64_t));
  be.upload(agent.act_draw_counter(), &act_draws, sizeof(int64_t));

  // replay rows go back to the same ring positions: rows [0, size) then, for a full ring,
  // rows [0, head) again so the head lands where it was
  auto insert = [&](int64_t begin, int64_t end) {
    constexpr int64_t kChunk = 1 << 20;
    for (int64_t i = begin; i < end; i += kChunk) {
      int n = (int)std::min(kChunk, end - i);
      replay.insert_host(n, obs.data() + i * O, action.data() + i * A, reward.data() + i,
                         next_obs.data() + i * O, terminated.data() + i);
    }
  };
  insert(0, size);
  if (size == capacity && head > 0) insert(0, head);
  st = t;
}

}  // namespace sac
