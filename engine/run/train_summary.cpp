// train_summary.cpp: summary_json() (trainer.h), the one JSON form of a run's summary that
// `sac train` prints and the Python module's train() returns.
#include <cmath>
#include <nlohmann/json.hpp>

#include "sac/trainer.h"

namespace sac {
namespace {

// a figure, or null where nothing was measured (NaN, or the -inf of "no evaluation yet")
nlohmann::json measured(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }

}  // namespace

nlohmann::json summary_json(const Config& config, const TrainSummary& s) {
  nlohmann::json out = {{"task", config.env_id}, {"steps", s.steps}, {"updates", s.updates},
                        {"wall_seconds", s.wall_seconds}, {"final_eval_return", measured(s.final_eval_return)},
                        {"best_eval_return", measured(s.best_eval_return)},
                        {"env_steps_per_second", measured(s.env_steps_per_second)},
                        {"updates_per_second", measured(s.updates_per_second)}, {"run_dir", s.run_dir},
                        {"interrupted", s.interrupted}, {"checkpoint", s.checkpoint}};
  if (s.resumed_from >= 0) out["resumed_from_step"] = s.resumed_from;
  if (!s.seeds.empty()) {
    nlohmann::json seeds = nlohmann::json::array();
    for (const SeedSummary& seed : s.seeds) {
      nlohmann::json e = {{"seed", seed.seed},
                          {"run_dir", seed.run_dir},
                          {"final_eval_return", measured(seed.final_eval_return)},
                          {"best_eval_return", measured(seed.best_eval_return)}};
      if (seed.stopped_step >= 0)
        e["diverged"] = {{"step", seed.stopped_step}, {"what", seed.stopped_because}};
      seeds.push_back(e);
    }
    out["seeds"] = seeds;
  }
  return out;
}

}  // namespace sac
