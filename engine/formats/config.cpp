// config.cpp: one table of settings (dotted key, member, range) drives parsing, type checks,
// range checks and the resolved JSON, so a setting is declared exactly once.
#include "sac/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/quoted.h"
#include "formats/whole_file.h"
#include "sac/env.h"
#include "sac/plugin.h"
#include "sac/task.h"

namespace sac {
namespace {

using nlohmann::json;

// the largest step count or seed a key takes (exact as a double)
constexpr double kBig = 9.0e15;

struct Field {
  std::string key;                                   // dotted path, e.g. "train.seed"
  std::function<json(const Config&)> get;            // value as JSON
  std::function<void(Config&, const json&)> set;     // throws ConfigError on a bad type/range
  std::string type, range, doc;                      // for `sac config keys` and the README
};

// a field with its getter and setter, type, allowed values and one-line meaning
Field described(std::string key, std::function<json(const Config&)> get,
                std::function<void(Config&, const json&)> set, std::string type,
                std::string range, std::string doc) {
  return Field{std::move(key), std::move(get), std::move(set), std::move(type), std::move(range),
               std::move(doc)};
}

std::string range_text(double lo, double hi, bool open_low) {
  return (open_low ? "(" : "[") + json(lo).dump() + ", " + json(hi).dump() + "]";
}

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw ConfigError("config key '" + key + "': " + what);
}

// a value for an error message (formats/quoted.h: no raw bytes of the file)
std::string show(const json& v) { return json_text(v, 200); }

std::string type_name(const json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

template <typename T>
Field integer(const std::string& key, T Config::*member, double lo, double hi,
              const std::string& doc) {
  return described(key, [member](const Config& c) { return json(c.*member); },
          [key, member, lo, hi](Config& c, const json& v) {
            bool integral = v.is_number_integer() || v.is_number_unsigned() ||
                            (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
            if (!integral) fail(key, "expected an integer, got " + type_name(v) + " " + show(v));
            double x = v.get<double>();
            if (x < lo || x > hi)
              fail(key, "value " + show(v) + " is out of range [" + json(lo).dump() + ", " +
                            json(hi).dump() + "]");
            c.*member = v.is_number_unsigned() ? (T)v.get<uint64_t>() : (T)v.get<int64_t>();
          },
                   "integer", "[" + std::to_string((int64_t)lo) + ", " + std::to_string((int64_t)hi) + "]", doc);
}

Field real(const std::string& key, double Config::*member, double lo, double hi,
           const std::string& doc, bool open_low = false) {
  return described(key, [member](const Config& c) { return json(c.*member); },
          [=](Config& c, const json& v) {
            if (!v.is_number()) fail(key, "expected a number, got " + type_name(v) + " " + show(v));
            double x = v.get<double>();
            if (!std::isfinite(x) || x < lo || x > hi || (open_low && x == lo))
              fail(key, "value " + show(v) + " is out of range " + (open_low ? "(" : "[") +
                            json(lo).dump() + ", " + json(hi).dump() + "]");
            c.*member = x;
          },
                   "number", range_text(lo, hi, open_low), doc);
}

Field boolean(const std::string& key, bool Config::*member, const std::string& doc) {
  return described(key, [member](const Config& c) { return json(c.*member); },
          [=](Config& c, const json& v) {
            if (!v.is_boolean()) fail(key, "expected true or false, got " + show(v));
            c.*member = v.get<bool>();
          },
                   "boolean", "true, false", doc);
}

Field choice(const std::string& key, std::string Config::*member,
             std::vector<std::string> allowed, const std::string& doc,
             const std::string& range = "") {
  std::string listed = range;
  for (const auto& a : allowed) listed += (listed.empty() ? "" : ", ") + a;
  return described(key, [member](const Config& c) { return json(c.*member); },
          [=](Config& c, const json& v) {
            if (!v.is_string()) fail(key, "expected a string, got " + type_name(v) + " " + show(v));
            std::string s = v.get<std::string>();
            if (!allowed.empty()) {
              bool ok = false;
              std::string list;
              for (const auto& a : allowed) ok |= a == s, list += (list.empty() ? "" : ", ") + a;
              if (!ok) fail(key, "value " + quoted_text(s) + " is not one of " + list);
            }
            c.*member = s;
          },
                   "string", listed, doc);
}

// a plugin's path as env.plugins records it: absolute, so the run finds it from any folder
std::string plugin_path(const std::string& path) {
  if (path.empty() || path.find('\0') != std::string::npos)
    fail("env.plugins", "expected paths of shared libraries, got " + show(json(path)));
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) fail("env.plugins", "cannot make " + show(json(path)) + " absolute: " + ec.message());
  return absolute.lexically_normal().string();
}

void add_plugin(Config& c, const std::string& path) {
  std::string absolute = plugin_path(path);
  if (std::find(c.env_plugins.begin(), c.env_plugins.end(), absolute) == c.env_plugins.end())
    c.env_plugins.push_back(absolute);
}

// a list of hidden-layer widths
Field widths(const std::string& key, std::vector<int> Config::*member, const std::string& doc) {
  return described(key, [member](const Config& c) { return json(c.*member); },
          [key, member](Config& c, const json& v) {
            if (!v.is_array() || v.empty())
              fail(key, "expected a non-empty array of widths, got " + show(v));
            std::vector<int> list;
            for (const json& w : v) {
              if (!w.is_number_integer() || w.get<int64_t>() < 1 || w.get<int64_t>() > 65536)
                fail(key, "each width must be an integer in [1, 65536], got " + show(w));
              list.push_back(w.get<int>());
            }
            c.*member = list;
          },
                   "array of integers", "each in [1, 65536], at least one", doc);
}

std::string listed(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return list;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// the learner: any known algo is taken here; validate() refuses one that is not built
Field algo_field() {
  return described("algo", [](const Config& c) { return json(c.algo); },
          [](Config& c, const json& v) {
            if (!v.is_string())
              fail("algo", "expected a string, got " + type_name(v) + " " + show(v));
            std::string s = v.get<std::string>();
            if (!contains(known_algos(), s))
              fail("algo", "value " + quoted_text(s) + " is not one of " + listed(known_algos()));
            c.algo = s;
          },
                   "string", "sac, tqc, crossq, redq (built: " + listed(built_algos()) + ")",
                   "the learner: sac (Soft Actor-Critic), tqc (truncated quantile critics, keys "
                   "tqc.*); crossq and redq are refused until built");
}

// TQC's own keys (sb3-contrib's names), read when algo is "tqc"
std::vector<Field> tqc_fields() {
  return {
      integer("tqc.n_critics", &Config::tqc_n_critics, 1, 64, "TQC: critics per seed (N)"),
      integer("tqc.n_quantiles", &Config::tqc_n_quantiles, 1, 2048,
              "TQC: quantiles each critic predicts (M; N x M at most 2048)"),
      integer("tqc.top_quantiles_to_drop_per_net", &Config::tqc_top_quantiles_to_drop_per_net, 0,
              2047,
              "TQC: d, the pooled target drops its top d x N of N x M atoms (d below M)"),
      widths("tqc.critic_hidden", &Config::tqc_critic_hidden,
             "TQC: hidden widths of each critic (ReLU; the actor's are sac.hidden)"),
  };
}

// the table's rows before the train.* keys: the top level, env.*, sac.*
std::vector<Field> env_and_sac_fields() {
  return {
      choice("device", &Config::device, {"auto", "cpu", "cuda"},
             "backend: cuda when a device is usable (auto), or cpu, or cuda"),
      algo_field(),
      choice("env.id", &Config::env_id, {}, "Gymnasium task id (sac envs lists them)", "a task id"),
      {"env.kwargs", [](const Config& c) { return json::parse(c.env_kwargs); },
       [](Config& c, const json& v) {
         if (!v.is_object())
           fail("env.kwargs", "expected an object, got " + type_name(v) + " " + show(v));
         c.env_kwargs = v.dump();
       }, "object", "the task's keyword arguments (sac config keys lists them per task)",
       "Gymnasium v5 keyword arguments of the task, e.g. {\"ctrl_cost_weight\": 0.05}; "
       "--set env.kwargs.NAME=VALUE sets one"},
      {"env.plugins", [](const Config& c) { return json(c.env_plugins); },
       [](Config& c, const json& v) {
         if (!v.is_array()) fail("env.plugins", "expected an array of paths, got " + show(v));
         c.env_plugins.clear();
         for (const json& p : v) {
           if (!p.is_string()) fail("env.plugins", "expected an array of paths, got " + show(v));
           add_plugin(c, p.get<std::string>());
         }
       }, "array of strings", "paths of shared libraries",
       "task plugins loaded before env.id is looked up (sac train --plugin adds one; recorded "
       "as absolute paths)"},
      integer("env.num_envs", &Config::num_envs, 1, 65536, "envs stepped per batch step"),
      integer("env.threads", &Config::env_threads, 0, 1024,
              "CPU threads stepping the envs (0 = one per core)"),
      widths("sac.hidden", &Config::hidden, "hidden widths of the actor and each critic (ReLU)"),
      real("sac.actor_lr", &Config::actor_lr, 0, 1, "Adam learning rate of the actor", true),
      real("sac.critic_lr", &Config::critic_lr, 0, 1, "Adam learning rate of the critics", true),
      real("sac.alpha_lr", &Config::alpha_lr, 0, 1, "Adam learning rate of log alpha", true),
      real("sac.adam_beta1", &Config::adam_beta1, 0, 0.999999, "Adam first-moment decay"),
      real("sac.adam_beta2", &Config::adam_beta2, 0, 0.999999999, "Adam second-moment decay"),
      real("sac.adam_eps", &Config::adam_eps, 0, 1, "Adam epsilon", true),
      integer("sac.batch_size", &Config::batch_size, 1, 1 << 20, "minibatch size of one update"),
      integer("sac.buffer_size", &Config::buffer_size, 1, kBig,
              "replay capacity in transitions (per seed; at least one batch)"),
      real("sac.gamma", &Config::gamma, 0, 1, "discount"),
      real("sac.tau", &Config::tau, 0, 1, "Polyak rate of the target critics"),
      integer("sac.num_critics", &Config::num_critics, 1, 64,
              "critics per seed (clipped double-Q takes the min; SAC's: TQC's is tqc.n_critics)"),
      real("sac.init_log_alpha", &Config::init_log_alpha, -20, 20, "log alpha at the start"),
      boolean("sac.learn_alpha", &Config::learn_alpha, "learn the temperature alpha"),
      {"sac.target_entropy",
       [](const Config& c) { return c.target_entropy_auto ? json("auto") : json(c.target_entropy); },
       [](Config& c, const json& v) {
         if (v.is_string() && v.get<std::string>() == "auto") {
           c.target_entropy_auto = true;
         } else if (v.is_number() && std::isfinite(v.get<double>())) {
           c.target_entropy_auto = false;
           c.target_entropy = v.get<double>();
         } else {
           fail("sac.target_entropy", "expected \"auto\" or a number, got " + show(v));
         }
       }, "\"auto\" or number", "\"auto\" or any finite number",
       "entropy target of the temperature loss (auto = -dim(A))"},
      real("sac.log_std_min", &Config::log_std_min, -50, 50,
           "lower end of the actor's log-std squash range (below sac.log_std_max)"),
      real("sac.log_std_max", &Config::log_std_max, -50, 50,
           "upper end of the actor's log-std squash range"),
      choice("sac.matmul_precision", &Config::matmul_precision, {"fp32", "tf32"},
             "GEMM arithmetic: fp32 (the reference) or tf32 (CUDA tensor cores; the CPU "
             "backend computes FP32 either way)"),
  };
}

// the rest: train.*, log.*, the provenance the engine writes
std::vector<Field> train_fields() {
  return {
      integer("train.total_steps", &Config::total_steps, 1, kBig,
              "env steps of the run (all envs together)"),
      integer("train.seed", &Config::seed, 0, kBig, "master seed; env i uses seed + i"),
      {"train.seeds", [](const Config& c) { return json(c.seeds); },
       [](Config& c, const json& v) {
         if (!v.is_array())
           fail("train.seeds", "expected an array of seeds, got " + type_name(v) + " " + show(v));
         if ((int)v.size() > kMaxSeeds)
           fail("train.seeds", "at most " + std::to_string(kMaxSeeds) + " seeds, got " +
                                   std::to_string(v.size()));
         std::vector<uint64_t> seeds;
         for (const json& x : v) {
           if (!(x.is_number_integer() || x.is_number_unsigned()) ||
               (x.is_number_integer() && x.get<int64_t>() < 0) || x.get<double>() > kBig)
             fail("train.seeds", "each seed must be an integer in [0, " + json(kBig).dump() +
                                     "], got " + show(x));
           uint64_t seed = x.get<uint64_t>();
           if (std::find(seeds.begin(), seeds.end(), seed) != seeds.end())
             fail("train.seeds", "seed " + std::to_string(seed) + " is listed twice");
           seeds.push_back(seed);
         }
         c.seeds = seeds;
       }, "array of integers", "at most 32 seeds, each in [0, 9e15], all different",
       "seeds trained together in one process (replaces train.seed; empty: train.seed alone)"},
      integer("train.warmup_steps", &Config::warmup_steps, 0, kBig,
              "env steps of uniform random actions before the first update"),
      real("train.updates_per_step", &Config::updates_per_step, 0, 1024,
           "updates per env step (update-to-data ratio)"),
      integer("train.eval_every", &Config::eval_every, 0, kBig,
              "env steps between evaluations (0 = only at the end)"),
      integer("train.eval_episodes", &Config::eval_episodes, 0, 100000,
              "deterministic episodes per evaluation (0 = no evaluation)"),
      integer("train.log_every", &Config::log_every, 1, kBig, "env steps between metrics lines"),
      integer("train.checkpoint_every", &Config::checkpoint_every, 0, kBig,
              "env steps between checkpoints (0 = only at the end)"),
      integer("train.video_every", &Config::video_every, 0, kBig,
              "env steps between MP4 videos of one deterministic episode per seed in "
              "videos/ (0 = none)"),
      integer("train.threads", &Config::threads, 0, 1024,
              "CPU backend worker threads (0 = one per core; any count gives the same results)"),
      choice("train.pipeline", &Config::pipeline, {"auto", "sequential", "overlapped"},
             "loop shape: sequential, overlapped (updates beside env steps), auto (overlapped "
             "on CUDA, sequential on the CPU)"),
      boolean("log.tensorboard", &Config::log_tensorboard,
              "write TensorBoard event files of metrics.jsonl and eval.csv (RUN_DIR/tb/)"),
      choice("mujoco_version", &Config::mujoco_version, {},
             "written by the engine: the MuJoCo version the run stepped on (a new run records "
             "this build's; a resume on another version is refused)", "a version"),
  };
}

const std::vector<Field>& fields() {
  static const std::vector<Field> table = [] {
    std::vector<Field> all = env_and_sac_fields();
    for (std::vector<Field> part : {tqc_fields(), train_fields()})
      all.insert(all.end(), part.begin(), part.end());
    return all;
  }();
  return table;
}

// the algo a key belongs to: "tqc" for tqc.*, "sac" for sac.num_critics (TQC counts its critics
// as tqc.n_critics), "" for the keys every algo shares
std::string owning_algo(const std::string& key) {
  if (key.rfind("tqc.", 0) == 0) return "tqc";
  if (key == "sac.num_critics") return "sac";
  return "";
}

// sets one key, remembering an algo's own key for validate()
void set_key(Config& c, const Field& f, const json& value) {
  f.set(c, value);
  if (!owning_algo(f.key).empty() && !contains(c.given_algo_keys, f.key))
    c.given_algo_keys.push_back(f.key);
}

// whether to_json writes key `f`: a key at a default that leaves it out (written only when set) or
// that belongs to another algo is not written, so a config is what it was before the key existed
bool written(const Field& f, const Config& c) {
  const std::string& k = f.key;
  const std::string owner = owning_algo(k);
  if (!owner.empty() && owner != c.algo) return false;
  return (k != "algo" || c.algo != "sac") && (k != "train.seeds" || !c.seeds.empty()) &&
         (k != "train.video_every" || c.video_every != 0) &&
         (k != "log.tensorboard" || !c.log_tensorboard) &&
         (k != "mujoco_version" || !c.mujoco_version.empty()) &&
         (k != "env.kwargs" || c.env_kwargs != "{}") &&
         (k != "env.plugins" || !c.env_plugins.empty());
}

const Field* find_field(const std::string& key) {
  for (const Field& f : fields())
    if (f.key == key) return &f;
  return nullptr;
}

// walks a (possibly nested) JSON object, setting each leaf by its dotted key
void apply_object(Config& c, const json& obj, const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (const Field* f = find_field(key)) {
      set_key(c, *f, it.value());
    } else if (it.value().is_object()) {
      bool is_section = false;
      for (const Field& f : fields()) is_section |= f.key.rfind(key + ".", 0) == 0;
      if (!is_section) throw ConfigError("unknown config key " + quoted_text(key));
      apply_object(c, it.value(), key);
    } else {
      bool is_section = false;
      for (const Field& f : fields()) is_section |= f.key.rfind(key + ".", 0) == 0;
      if (is_section) fail(key, "expected an object, got " + type_name(it.value()));
      throw ConfigError("unknown config key " + quoted_text(key));
    }
  }
}

}  // namespace

json Config::to_json() const {
  json out = json::object();
  // a SAC run has no algo and no tqc.*, a run of one seed no train.seeds, a run without videos
  // no train.video_every, a run with TensorBoard files no log.tensorboard (it is written only
  // when off), a config that names no MuJoCo version no mujoco_version: its config (and every
  // file that holds it, its policy among them) is what it was before the key existed
  for (const Field& f : fields()) {
    if (!written(f, *this)) continue;
    std::string pointer = "/" + f.key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    out[json::json_pointer(pointer)] = f.get(*this);
  }
  return out;
}

const std::vector<std::string>& known_algos() {
  static const std::vector<std::string> algos = {"sac", "tqc", "crossq", "redq"};
  return algos;
}

const std::vector<std::string>& built_algos() {
  static const std::vector<std::string> algos = {"sac"};
  return algos;
}

json env_kwargs(const Config& c) { return json::parse(c.env_kwargs); }

json resolved_env_kwargs(const Config& c) {
  try {
    return resolve_kwargs(c.env_id, env_kwargs(c)).values();
  } catch (const InputError& e) {
    fail("env.kwargs", e.what());
  }
}

std::vector<uint64_t> seed_list(const Config& c) {
  return c.seeds.empty() ? std::vector<uint64_t>{c.seed} : c.seeds;
}

Config seed_config(const Config& c, int index) {
  Config one = c;
  one.seed = seed_list(c).at(index);
  one.seeds.clear();
  return one;
}

std::vector<ConfigKey> config_keys() {
  const Config defaults;
  std::vector<ConfigKey> keys;
  for (const Field& f : fields())
    keys.push_back({f.key, f.type, f.range, f.doc, f.get(defaults).dump()});
  return keys;
}

Config config_from_json_text(const std::string& text, const std::string& source) {
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::exception& e) {
    // parse errors, and numbers too large for a double
    // (the library's message quotes the bytes it stopped at: escaped, never shown raw)
    throw ConfigError(source + ": malformed JSON: " + escaped_text(e.what(), 300));
  }
  if (!parsed.is_object()) throw ConfigError(source + ": expected a JSON object at the top level");
  Config c;
  apply_object(c, parsed, "");
  return c;
}

void apply_override(Config& c, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("override " + quoted_text(assignment) + " is not of the form key.path=value");
  // a value that is not JSON is kept as raw text, which a config (JSON) can hold only as UTF-8
  if (!is_valid_utf8(assignment))
    throw ConfigError("override " + quoted_text(assignment) + " is not valid UTF-8 text");
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const std::string kwargs_prefix = "env.kwargs.";
  if (key.rfind(kwargs_prefix, 0) == 0 && key.size() > kwargs_prefix.size()) {
    // one keyword argument: env.kwargs.ctrl_cost_weight=0.05
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    json kwargs = json::parse(c.env_kwargs);
    kwargs[key.substr(kwargs_prefix.size())] = value;
    c.env_kwargs = kwargs.dump();
    return;
  }
  const Field* f = find_field(key);
  if (!f) throw ConfigError("unknown config key " + quoted_text(key));
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) value = text;  // bare words are strings: env.id=Hopper-v5
  set_key(c, *f, value);
}

namespace {

// the most pooled target atoms TQC's sort takes (Backend::sort_truncate_atoms)
constexpr int64_t kMaxPooledAtoms = 2048;

// no key of another algo, TQC's truncation leaving target atoms, then a built learner
void validate_algo(const Config& c) {
  for (const std::string& key : c.given_algo_keys) {
    const std::string owner = owning_algo(key);
    if (owner != c.algo)
      fail(key, "belongs to algo " + quoted_text(owner) + ", and this config's algo is " +
                    quoted_text(c.algo) + " (set algo to " + quoted_text(owner) +
                    " or leave the key out)");
  }
  if (c.algo == "tqc") {
    const int64_t N = c.tqc_n_critics, M = c.tqc_n_quantiles,
                  d = c.tqc_top_quantiles_to_drop_per_net;
    if (N * M > kMaxPooledAtoms)
      fail("tqc.n_quantiles", std::to_string(N) + " critics x " + std::to_string(M) +
                                  " quantiles pool " + std::to_string(N * M) +
                                  " target atoms; at most " + std::to_string(kMaxPooledAtoms));
    if (d * N >= N * M)
      fail("tqc.top_quantiles_to_drop_per_net",
           "value " + std::to_string(d) + " drops d x N = " + std::to_string(d * N) +
               " of the N x M = " + std::to_string(N * M) +
               " pooled target atoms, leaving none (d must be below tqc.n_quantiles, " +
               std::to_string(M) + ")");
  }
  if (!contains(built_algos(), c.algo))
    fail("algo", quoted_text(c.algo) +
                     " is not built yet in this engine (built: " + listed(built_algos()) + ")");
}

}  // namespace

void validate(const Config& c) {
  // a plugin's tasks exist only once it is loaded (refused: InputError naming the plugin)
  load_plugins(c.env_plugins);
  bool known = false;
  for (const auto& id : env_ids()) known |= id == c.env_id;
  if (!known) {
    std::string list;
    for (const auto& id : env_ids()) list += (list.empty() ? "" : ", ") + id;
    fail("env.id", "unknown task " + quoted_text(c.env_id) + " (known: " + list + ")");
  }
  // the keyword arguments against the task's declaration (names, types, ranges); the model
  // file they name is checked by load_config (a run's own copy may stand in for it later)
  if (c.env_kwargs != "{}") {
    try {
      resolve_kwargs(c.env_id, env_kwargs(c));
    } catch (const InputError& e) {
      fail("env.kwargs", e.what());
    }
  }
  if (c.log_std_min >= c.log_std_max)
    fail("sac.log_std_min", "must be below sac.log_std_max");
  if (c.buffer_size < c.batch_size)
    fail("sac.buffer_size", "must hold at least one batch (" + std::to_string(c.batch_size) + ")");
  validate_algo(c);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   const std::vector<std::string>& plugins) {
  Config c;
  if (!path.empty()) {
    std::optional<std::string> text = read_whole_file(path);
    if (!text) throw ConfigError("cannot read config file " + quoted_text(path));
    c = config_from_json_text(*text, path);
  }
  for (const auto& o : overrides) apply_override(c, o);
  for (const auto& p : plugins) add_plugin(c, p);
  validate(c);
  // with keyword arguments, an env is made: a model file that is missing, refused by MuJoCo or
  // does not fit the task is refused here, before any work
  if (c.env_kwargs != "{}") {
    try {
      make_env(c.env_id, env_kwargs(c));
    } catch (const InputError& e) {
      fail("env.kwargs", e.what());
    }
  }
  return c;
}

}  // namespace sac
