// bench_train.cpp: `sac bench train --env ID --steps K --device cpu|cuda [--num-envs N]
// [--threads T] [--env-threads T] [--updates-per-step R] [--pipeline auto|sequential|overlapped]
// [--batch B] [--hidden 256,256] [--seed S] [--seeds S] [--set key.path=value ...]`: the training loop
// (trainer.h: bench_train()) for K env steps from the paper's defaults, with no run directory, no
// evaluation and no checkpoints, and the warm-up shortened to the batch size so updates start at
// once. Prints one JSON line: env_steps_per_second, updates_per_second, gpu_busy_fraction (CUDA
// only, else null), env_busy_fraction, and the host seconds per stage (see StageTimes).
// --seeds S trains seeds 1..S together (train.seeds; --steps K counts each seed's env steps):
// env_steps_per_second then counts every seed's envs, and seed_updates_per_second is S x
// updates_per_second (one update updates every seed).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sac/config.h"
#include "sac/trainer.h"
#include "run/step_loop.h"
#include "run/training_run.h"

namespace sac {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

// the loop of a run without its run (trainer.h)
BenchTrainResult bench_train(const Config& c) {
  const std::string device = resolve_device(c.device);
  check_replay_fits(c, device);
  std::unique_ptr<Backend> backend = make_backend(device, c.threads);
  const std::vector<uint64_t> seeds = seed_list(c);
  EnvPool pool(c.env_id, env_kwargs(c), seeded_envs(seeds, c.num_envs), c.env_threads);
  const int N = c.num_envs, O = pool.spec().obs_dim, A = pool.spec().act_dim;
  std::unique_ptr<Learner> learner = make_learner(*backend, AgentSpec::from_config(c, O, A, N));
  Learner& agent = *learner;
  SeedRings rings(*backend, seeds.size(), replay_capacity(c), O, A);
  const std::vector<const ReplayBuffer*> replay = rings.const_rings();
  BenchTrainResult r;
  r.device = backend->name();
  r.pipeline = resolve_pipeline(c.pipeline, backend->name());
  r.warmup_steps = c.warmup_steps;
  pool.reset();
  StepLoop loop(c, r.pipeline == "overlapped", *backend, pool, agent, rings.rings(), &r.stages);
  const TrainerState& st = loop.state();
  backend->synchronize();
  auto t0 = Clock::now();
  while (st.steps < c.total_steps) loop.step();
  loop.drain();
  backend->synchronize();
  r.wall_seconds = std::max(1e-9, seconds_since(t0));
  r.steps = st.steps * (int64_t)seeds.size();  // every seed's env steps
  r.updates = st.updates;
  r.env_steps_per_second = r.steps / r.wall_seconds;
  r.updates_per_second = r.updates / r.wall_seconds;
  r.env_busy_fraction = r.stages.env_step / r.wall_seconds;
  if (r.device != "cpu" && r.updates > 0) {
    // GPU time of one update: blocks replayed back to back between two synchronisations
    const int block = update_block(c, N);
    const int reps = std::max(1, 200 / block);
    agent.update(replay, block);  // the recording in use, warm
    backend->synchronize();
    auto t1 = Clock::now();
    for (int i = 0; i < reps; ++i) agent.update(replay, block);
    backend->synchronize();
    double per_update = seconds_since(t1) / ((double)reps * block);
    r.gpu_busy_fraction = std::min(1.0, per_update * r.updates / r.wall_seconds);
  }
  return r;
}


namespace {

struct BenchTrainOptions {
  std::unique_ptr<KeyOptions> keys;
  int64_t seeds = 0;
  std::vector<std::string> sets;
};

int bench_train_run(const BenchTrainOptions& o) {
  Config c;
  o.keys->apply(c);
  if (o.seeds > 0) {
    std::string list;
    for (int64_t s = 1; s <= o.seeds; ++s) list += (list.empty() ? "" : ",") + std::to_string(s);
    apply_override(c, "train.seeds=[" + list + "]");
  }
  const std::vector<std::string>& sets = o.sets;
  for (const std::string& s : sets) apply_override(c, s);
  // updates start as soon as one batch is in the ring; nothing is evaluated or written
  c.warmup_steps = c.batch_size;
  c.eval_episodes = 0;
  c.checkpoint_every = 0;
  validate(c);

  BenchTrainResult r = bench_train(c);
  auto nullable = [](double x) { return std::isnan(x) ? nlohmann::json() : nlohmann::json(x); };
  const StageTimes& t = r.stages;
  nlohmann::json out = {
      {"bench", "train"},
      {"env", c.env_id},
      {"device", r.device},
      {"pipeline", r.pipeline},
      {"num_envs", c.num_envs},
      {"threads", r.device == "cpu" ? (c.threads > 0 ? c.threads
                                                     : (int)std::thread::hardware_concurrency())
                                    : 0},
      {"env_threads", c.env_threads},
      {"updates_per_step", c.updates_per_step},
      {"batch", c.batch_size},
      {"hidden", c.hidden},
      {"warmup_steps", r.warmup_steps},
      {"steps", r.steps},
      {"updates", r.updates},
      {"wall_seconds", r.wall_seconds},
      {"env_steps_per_second", r.env_steps_per_second},
      {"updates_per_second", r.updates_per_second},
      {"seeds", seed_list(c).size()},
      {"seed_updates_per_second", r.updates_per_second * seed_list(c).size()},
      {"gpu_busy_fraction", nullable(r.gpu_busy_fraction)},
      {"env_busy_fraction", r.env_busy_fraction},
      {"stages_seconds",
       {{"inference", t.inference},
        {"copy", t.copy},
        {"env_step", t.env_step},
        {"update", t.update},
        {"update_wait", t.update_wait},
        {"insert", t.insert},
        {"eval", t.eval}}},
  };
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

void add_bench_train_command(CLI::App& bench, CommandRunner& run) {
  auto o = std::make_shared<BenchTrainOptions>();
  CLI::App* sub = add_command(bench, "train",
                              "training-loop throughput (env steps/s, updates/s) and seconds per "
                              "stage, without a run directory",
                              run, [o] { return bench_train_run(*o); });
  o->keys = std::make_unique<KeyOptions>(
      sub, std::vector<KeyOption>{
               {"--env", "env.id", "task id (see 'sac envs')", true},
               {"--steps", "train.total_steps", "env steps of each seed (all envs together)", true},
               {"--device", "device", "auto, cpu or cuda"},
               {"--num-envs", "env.num_envs", "envs stepped per batch step"},
               {"--threads", "train.threads", "CPU backend threads (0: one per core)"},
               {"--env-threads", "env.threads", "threads stepping the envs (0: one per core)"},
               {"--updates-per-step", "train.updates_per_step", "updates per env step"},
               {"--pipeline", "train.pipeline", "auto, sequential or overlapped"},
               {"--batch", "sac.batch_size", "minibatch size of one update"},
               {"--hidden", "sac.hidden", "hidden widths, comma-separated"},
               {"--seed", "train.seed", "master seed"},
           });
  add_int_option(sub, "--seeds", o->seeds, 1, kMaxSeeds, "train seeds 1..S together (train.seeds)")
      ->default_str("1");
  add_set_option(sub, o->sets);
}

}  // namespace sac
