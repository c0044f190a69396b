// config.h: every setting of a run in one struct, with the 2018b paper's defaults, and the
// JSON layer that fills it. Unknown keys, wrong types and out-of-range values are refused with
// the key's dotted name, before any work starts.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sac/errors.h"

namespace sac {

struct Config {
  // ---- top level
  std::string device = "auto";  // auto | cpu | cuda
  // the learner (sac/learner.h): "sac", Soft Actor-Critic, the default; "tqc" (its keys are
  // tqc.*), "crossq" and "redq" are known and refused until their learners are built
  std::string algo = "sac";

  // ---- env
  std::string env_id = "HalfCheetah-v5";  // Gymnasium task id
  int num_envs = 1;                       // envs stepped per batch step
  int env_threads = 1;                    // CPU threads stepping the envs (0 = one per core)
  // the task's keyword arguments (Gymnasium's v5 names, sac/task.h) as JSON object text; "{}"
  // is every default. Checked against the task by validate().
  std::string env_kwargs = "{}";
  // task plugins (shared libraries, sac/plugin.h) loaded before env.id is looked up, as absolute
  // paths (a relative one is taken from the working folder), so a resumed or evaluated run
  // loads them again
  std::vector<std::string> env_plugins;

  // ---- sac (Haarnoja et al. 2018b, table of hyperparameters)
  std::vector<int> hidden = {256, 256};  // hidden widths of actor and each critic (ReLU)
  double actor_lr = 3e-4;                // Adam learning rate of the actor
  double critic_lr = 3e-4;               // Adam learning rate of the critics
  double alpha_lr = 3e-4;                // Adam learning rate of log alpha
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  int batch_size = 256;                  // minibatch size of one update
  int64_t buffer_size = 1000000;         // replay capacity in transitions
  double gamma = 0.99;                   // discount
  double tau = 0.005;                    // Polyak rate of the target critics
  int num_critics = 2;                   // critics per seed (clipped double-Q takes the min)
  double init_log_alpha = 0.0;           // log alpha at start (alpha = 1)
  bool learn_alpha = true;               // learn the temperature
  double target_entropy = 0.0;           // used when target_entropy_auto is false
  bool target_entropy_auto = true;       // target entropy = -dim(A)
  double log_std_min = -5.0;             // log-std squash range
  double log_std_max = 2.0;
  // GEMM arithmetic: "fp32" (the reference) or "tf32" (CUDA tensor cores; the CPU backend
  // computes FP32 either way)
  std::string matmul_precision = "fp32";

  // ---- tqc (Kuznetsov et al. 2020, truncated quantile critics; sb3-contrib's names), read when
  // algo is "tqc"; the sac.* settings apply to TQC too, but for sac.num_critics
  int tqc_n_critics = 5;     // N critics per seed
  int tqc_n_quantiles = 25;  // M quantiles each critic predicts
  // d: d x N atoms dropped from the top of the pooled, sorted N x M target atoms (the paper: 0
  // HalfCheetah, 5 Hopper, 2 otherwise)
  int tqc_top_quantiles_to_drop_per_net = 2;
  std::vector<int> tqc_critic_hidden = {512, 512, 512};  // hidden widths of each critic (ReLU)

  // the keys that belong to one algo (tqc.*, and sac.num_critics) given by a file or --set,
  // which validate() refuses under another algo; not part of the resolved JSON
  std::vector<std::string> given_algo_keys;

  // ---- train
  int64_t total_steps = 1000000;   // env steps (all envs together)
  uint64_t seed = 1;               // master seed; env i uses seed + i
  // seeds trained together in one process (DESIGN.md section 12): each behaves as a run of its
  // own with train.seed = that seed, in its own folder RUN_DIR/seed-<seed>; empty: one run of
  // train.seed. At most kMaxSeeds, all different.
  std::vector<uint64_t> seeds;
  int64_t warmup_steps = 5000;     // uniform random actions before the first update
  double updates_per_step = 1.0;   // updates per env step (update-to-data ratio)
  int64_t eval_every = 10000;      // env steps between evaluations (0 = only at the end)
  int eval_episodes = 10;          // deterministic episodes per evaluation
  int64_t log_every = 1000;        // env steps between metrics lines
  int64_t checkpoint_every = 0;    // env steps between checkpoints (0 = only at the end)
  // env steps between videos of one deterministic episode per seed, recorded off the training
  // thread into the seed's videos/ folder (0 = none; run/background_video.h)
  int64_t video_every = 0;
  int threads = 0;                 // CPU worker threads (0 = one per core)
  // loop shape (trainer.h): "sequential" (act, step envs, insert, update), "overlapped" (the
  // update block for the previous step's data runs while the envs step: DESIGN.md section 7),
  // or "auto" (overlapped on the CUDA backend, sequential on the CPU backend, where the update
  // already uses every core)
  std::string pipeline = "auto";

  // ---- log
  bool log_tensorboard = true;  // TensorBoard event files beside metrics.jsonl (RUN_DIR/tb/)

  // ---- provenance, written by the engine
  // the MuJoCo version the run's tasks stepped on (train() records this build's; empty in a
  // config file that does not name one)
  std::string mujoco_version;

  /// The resolved configuration as JSON (the layout config files use).
  nlohmann::json to_json() const;
};

/// The env.kwargs of `config` as a JSON object.
nlohmann::json env_kwargs(const Config& config);

/// env.kwargs with every keyword argument of the task, given or default (`sac config show`).
nlohmann::json resolved_env_kwargs(const Config& config);

/// Most seeds one run trains together (Backend::kMaxSeeds).
constexpr int kMaxSeeds = 32;

/// The seeds a run trains, in order: train.seeds, or {train.seed} when that is empty.
std::vector<uint64_t> seed_list(const Config& config);

/// The config of seed number `index` of a run of several seeds: train.seed = that seed and no
/// train.seeds, what a run of that seed alone is given (its folder's config.json).
Config seed_config(const Config& config, int index);

/// Parses `text` (a config file's contents; `source` names it in messages) over the defaults.
/// Throws ConfigError naming the offending key.
Config config_from_json_text(const std::string& text, const std::string& source);

/// Applies one `key.path=value` override; value is parsed as JSON, or taken as a string.
void apply_override(Config& config, const std::string& assignment);

/// Loads env.plugins (sac/plugin.h; InputError naming a plugin refused), then checks ranges and
/// cross-field rules (e.g. a known task id, an algo that is built, no key of another algo, TQC's
/// truncation leaving target atoms); throws ConfigError.
void validate(const Config& config);

/// The algos `algo` may name and, of those, the ones this engine builds a learner for.
const std::vector<std::string>& known_algos();
const std::vector<std::string>& built_algos();

/// Reads a config file, applies the overrides, adds `plugins` to env.plugins (`sac train
/// --plugin`), validates (loading the plugins), and with env.kwargs makes one env of the task
/// (its model file loaded and fitted). Throws ConfigError, or InputError for a plugin refused.
Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   const std::vector<std::string>& plugins = {});

/// One config key as `sac config keys` prints it: dotted name, JSON type, allowed values,
/// one-line meaning and the default (as JSON text).
struct ConfigKey {
  std::string key, type, range, doc, default_json;
};

/// Every config key, in the order of the one table that defines them (engine/formats/config.cpp).
std::vector<ConfigKey> config_keys();

/// A bad setting or option (bad input: `sac` exits 2).
struct ConfigError : InputError {
  using InputError::InputError;
};

}  // namespace sac
