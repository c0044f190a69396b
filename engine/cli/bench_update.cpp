// bench_update.cpp: `sac bench update --env ID --batch B --device D [--threads T]
// [--seconds S] [--hidden 256,256] [--precision fp32|tf32] [--seeds S]`: fills a replay buffer
// per seed with random transitions, warms up, then times back-to-back updates of the S seeds
// (members of one agent: one update of all seeds is one update here) and prints
// {"updates_per_second", "seed_updates_per_second" (S x updates/s), "launches_per_update",
// "critical_path_launches", ...} as one JSON line; on CUDA also "gemm_paths" (GEMMs issued
// through cuBLASLt per epilogue and through the cuBLAS fallback per reason, gemm_plan.h).
#include "cli/bench_update.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cpu_backend.h"
#include "gemm_plan.h"
#include "tracing_backend.h"
#include "sac/learner.h"
#include "sac/env.h"
#include "sac/replay_buffer.h"

namespace sac {
namespace {

double layer_flops(int batch, const MlpSpec& spec) {
  double f = 0;
  for (int l = 0; l < spec.num_layers(); ++l) f += 2.0 * batch * spec.layer_in(l) * spec.layer_out(l);
  return f;
}

}  // namespace

UpdateShape update_shape(const AgentSpec& spec) {
  CpuBackend cpu(1);
  TracingOptions counts_only;  // the shape needs launches and the critical path, not hazards
  counts_only.check_hazards = false;
  TracingBackend traced(cpu, counts_only);
  std::vector<std::unique_ptr<ReplayBuffer>> rings;
  std::vector<const ReplayBuffer*> views;
  for (uint64_t seed : spec.seed_list()) {
    rings.push_back(std::make_unique<ReplayBuffer>(traced, 2 * spec.batch_size, spec.obs_dim,
                                                   spec.act_dim));
    fill_replay_random(*rings.back(), seed, spec.batch_size);
    views.push_back(rings.back().get());
  }
  std::unique_ptr<Learner> learner = make_learner(traced, spec);
  Learner& agent = *learner;
  agent.update(views, 2);  // the eager first update and the recording
  traced.reset();
  agent.update(views, 1);
  return {traced.launches(), traced.critical_path()};
}

void fill_replay_random(ReplayBuffer& replay, uint64_t seed, int chunk) {
  const int O = replay.obs_dim(), A = replay.act_dim();
  HostRng rng(seed, 99);
  std::vector<float> obs((size_t)chunk * O), act((size_t)chunk * A), rew(chunk),
      next((size_t)chunk * O), term(chunk);
  for (int64_t filled = 0; filled < replay.capacity(); filled += chunk) {
    for (float& x : obs) x = (float)rng.normal();
    for (float& x : next) x = (float)rng.normal();
    for (float& x : act) x = (float)rng.uniform(-1, 1);
    for (float& x : rew) x = (float)rng.normal();
    for (float& x : term) x = rng.uniform(0, 1) < 0.01 ? 1.0f : 0.0f;
    replay.insert_host(chunk, obs.data(), act.data(), rew.data(), next.data(), term.data());
  }
}

double update_gemm_flops(int obs_dim, int act_dim, const std::vector<int>& hidden, int batch,
                         int num_critics) {
  double actor = layer_flops(batch, {obs_dim, hidden, 2 * act_dim});
  double critic = layer_flops(batch, {obs_dim + act_dim, hidden, 1});
  // actor: forward on s' and s, backward with weight grads
  // critics: target forward, forward + full backward for the critic loss,
  //          forward + input-only backward for the actor loss
  return 4.0 * actor + num_critics * critic * (1.0 + 1.0 + 2.0 + 1.0 + 1.0);
}

namespace {

struct BenchUpdateOptions {
  std::unique_ptr<KeyOptions> keys;
  double seconds = 10.0;
  int num_seeds = 1;
};

int bench_update_run(const BenchUpdateOptions& o) {
  Config c;
  o.keys->apply(c);
  const double seconds = o.seconds;
  const int num_seeds = o.num_seeds;
  c.buffer_size = 100000;
  validate(c);

  std::unique_ptr<Env> env = make_env(c.env_id, env_kwargs(c));
  const int O = env->spec().obs_dim, A = env->spec().act_dim, B = c.batch_size;
  std::unique_ptr<Backend> backend = make_backend(resolve_device(c.device), c.threads);
  // seeds seed, seed + 1, ...: members of one agent, each with its own ring
  AgentSpec spec = AgentSpec::from_config(c, O, A, 1);
  for (int s = 0; s < num_seeds; ++s) spec.seeds.push_back(c.seed + (uint64_t)s);
  reset_cuda_gemm_path_counts();  // the GEMMs this bench issues (CUDA), by path
  std::unique_ptr<Learner> learner = make_learner(*backend, spec);
  Learner& agent = *learner;
  std::vector<std::unique_ptr<ReplayBuffer>> rings;
  std::vector<const ReplayBuffer*> replay;
  for (uint64_t seed : spec.seeds) {
    rings.push_back(std::make_unique<ReplayBuffer>(*backend, c.buffer_size, O, A));
    fill_replay_random(*rings.back(), seed, 1000);
    replay.push_back(rings.back().get());
  }

  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 20; ++i) agent.update(replay);  // warm-up
  backend->synchronize();
  int64_t updates = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int i = 0; i < 10; ++i) agent.update(replay);
    updates += 10;
    backend->synchronize();
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  UpdateMetrics m = agent.read_metrics();
  double ups = updates / elapsed;
  UpdateShape shape = update_shape(spec);
  double flops = num_seeds * update_gemm_flops(O, A, c.hidden, B, c.num_critics);
  nlohmann::json out = {{"impl", "sac-engine"}, {"env", c.env_id}, {"device", backend->name()},
                        {"threads", backend->name() == "cpu" ? (c.threads > 0 ? c.threads : (int)std::thread::hardware_concurrency()) : 0}, {"batch", B}, {"hidden", c.hidden},
                        {"seeds", num_seeds}, {"updates", updates}, {"seconds", elapsed},
                        {"updates_per_second", ups}, {"seed_updates_per_second", num_seeds * ups},
                        {"ms_per_update", 1000.0 / ups}, {"gflops", flops * ups / 1e9},
                        {"final_critic_loss", m.critic_loss},
                        {"matmul_precision", c.matmul_precision},
                        {"launches_per_update", shape.launches},
                        {"critical_path_launches", shape.critical_path}};
  // proof the fused path ran: GEMMs issued through cuBLASLt per epilogue and through the
  // cuBLAS fallback per reason (issued: a recorded block's GEMMs count once, at capture)
  if (backend->name() == "cuda")
    out["gemm_paths"] = nlohmann::json::parse(cuda_gemm_path_counts().json());
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

void add_bench_update_command(CLI::App& bench, CommandRunner& run) {
  auto o = std::make_shared<BenchUpdateOptions>();
  CLI::App* sub = add_command(bench, "update",
                              "SAC update throughput (updates_per_second) on a replay buffer of "
                              "random transitions",
                              run, [o] { return bench_update_run(*o); });
  o->keys = std::make_unique<KeyOptions>(
      sub, std::vector<KeyOption>{
               {"--env", "env.id", "task id: its observation and action sizes"},
               {"--batch", "sac.batch_size", "minibatch size of one update"},
               {"--device", "device", "auto, cpu or cuda"},
               {"--threads", "train.threads", "CPU backend threads (0: one per core)"},
               {"--hidden", "sac.hidden", "hidden widths, comma-separated"},
               {"--seed", "train.seed", "seed of the networks and the first replay ring"},
               {"--precision", "sac.matmul_precision", "GEMM arithmetic: fp32 or tf32"},
           });
  add_int_option(sub, "--seeds", o->num_seeds, 1, Backend::kMaxSeeds,
                 "seeds updated together as members of one agent");
  sub->add_option("--seconds", o->seconds, "timed seconds of back-to-back updates")
      ->check(CLI::Validator(
          [](std::string& v) {
            double x = -1;
            try {
              size_t used = 0;
              x = std::stod(v, &used);
              if (used != v.size()) x = -1;
            } catch (...) {
            }
            if (!(x > 0 && x < 3600)) throw ConfigError("--seconds must be in (0, 3600), got " + v);
            return std::string();
          },
          "(0, 3600)"));
}

}  // namespace sac
