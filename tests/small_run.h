// small_run.h: the small Pendulum-v1 run the checkpoint and run-file tests train (32x32 nets,
// batch 32, CPU, one thread, no evaluation unless asked), as a Config, as --set overrides and as
// `sac train` arguments, so in-process and CLI runs are the same run.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sac/config.h"
#include "sac/trainer.h"

namespace sac {
namespace test {

/// The small run as --set overrides (so CLI runs use the same config).
inline std::vector<std::string> small_overrides(int64_t total_steps) {
  return {"env.id=Pendulum-v1",
          "sac.hidden=[32,32]",
          "sac.batch_size=32",
          "train.warmup_steps=100",
          "train.eval_episodes=0",
          "train.log_every=100",
          "device=cpu",
          "train.threads=1",
          "train.seed=3",
          "train.total_steps=" + std::to_string(total_steps)};
}

inline Config small_config(int64_t total_steps, std::vector<std::string> extra = {}) {
  std::vector<std::string> o = small_overrides(total_steps);
  o.insert(o.end(), extra.begin(), extra.end());
  return load_config("", o);
}

inline TrainOptions quiet() {
  TrainOptions o;
  o.progress = false;
  return o;
}

/// Settings under which the small run diverges: an unreachable target entropy with a huge alpha
/// step makes log alpha grow by about 1 per update, so alpha overflows float after about 90
/// updates and the soft targets become non-finite.
inline std::vector<std::string> diverging_overrides() {
  return {"sac.target_entropy=1000", "sac.alpha_lr=1"};
}

/// Trains `config` into `run_dir` with `options` (quiet unless set); the message of the
/// std::runtime_error that stopped the run, or "" when it ended.
inline std::string train_failure(const Config& config, const std::string& run_dir,
                                 const TrainOptions& options = quiet()) {
  try {
    train(config, run_dir, options);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

/// Options under which value `index` of the agent's tensor `tensor` ("critic.0.0.weight")
/// becomes NaN after the batch step that reaches env step `step` (TrainOptions' test hook).
inline TrainOptions poisoned_tensor(const std::string& tensor, int64_t index, int64_t step) {
  TrainOptions o = quiet();
  o.poison_step = step;
  o.poison_tensor = tensor;
  o.poison_index = index;
  return o;
}

/// `sac train` arguments of small_overrides into `run_dir`, plus `extra` overrides.
inline std::vector<std::string> cli_train(const std::string& run_dir, int64_t total,
                                          std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"train", "--quiet", "--run-dir", run_dir};
  std::vector<std::string> o = small_overrides(total);
  o.insert(o.end(), extra.begin(), extra.end());
  for (const auto& s : o) a.push_back("--set"), a.push_back(s);
  return a;
}

}  // namespace test
}  // namespace sac
