// main.cpp: the `sac` command line, on CLI11 (Debian's libcli11-dev). `sac --help` lists the
// subcommands, `sac SUB --help` every option of one with its default and meaning, `sac --version`
// the version, commit, backends, MuJoCo and BLAS. Every subcommand prints its figures as one JSON
// line on stdout; an error prints one `sac: error: ...` line naming the problem (CLI11's own
// errors are rewritten into that form). Exit status, for every subcommand: 2 for bad input
// (arguments, config, an unreadable or corrupt file, a run directory in use: InputError,
// sac/errors.h), found before any work; 1 for a failure during the work (disk full, an I/O error,
// a diverged run); 0 otherwise (--help and --version included).
//   sac train [CONFIG] [--set key.path=value ...] [--plugin LIB ...] [--run-dir DIR] [--quiet]
//   sac train --resume RUN_DIR [--set train.total_steps=N ...] [--quiet]
//   sac eval POLICY [--episodes N] [--device D] [--seed S]
//   sac envs [--plugin LIB ...]
//   sac config show [CONFIG] [--set key.path=value ...]     sac config keys
//   sac rollout --env ID [--policy random|POLICY] [--steps N] [--seed S] --record FILE.jsonl
//   sac plot RUN_DIR... -o curves.svg [--title T]
//   sac bench env|train|update ...
//   sac sweep plan|run|local|slurm|status|collect ...
// Tests: sac_tests --gtest_filter='Cli*'
#include <mujoco/mujoco.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_update.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sac/backend.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/env_pool.h"
#include "sac/errors.h"
#include "sac/plugin.h"
#include "sac/trainer.h"
#include "sac_git_commit.h"

// OpenBLAS's own description of itself, when the BLAS linked in is OpenBLAS
extern "C" char* openblas_get_config(void) __attribute__((weak));

namespace {

using sac::ConfigError;

struct TrainOptions {
  std::string config_path, run_dir, resume_dir;
  std::vector<std::string> overrides, plugins;
  bool quiet = false;
};

int cmd_train(const TrainOptions& o) {
  const std::string &config_path = o.config_path, &run_dir = o.run_dir, &resume_dir = o.resume_dir;
  const std::vector<std::string>& overrides = o.overrides;
  const bool quiet = o.quiet;
  sac::TrainOptions options;
  options.progress = !quiet;
  options.handle_signals = true;  // SIGINT/SIGTERM/SIGUSR1: checkpoint, then exit 0
  sac::Config config;
  sac::TrainSummary s;
  if (!resume_dir.empty()) {
    // the run's own config.json; only --set of settings that keep the run the same
    if (!config_path.empty())
      throw ConfigError("--resume takes the run's own config.json; drop '" + config_path + "'");
    if (!run_dir.empty()) throw ConfigError("--resume and --run-dir cannot be combined");
    if (!o.plugins.empty())
      throw ConfigError("--resume loads the run's own plugins (env.plugins of its config.json); "
                        "drop --plugin");
    config = sac::resume_config(resume_dir, overrides);
    s = sac::resume(config, resume_dir, options);
  } else {
    config = sac::load_config(config_path, overrides, o.plugins);
    s = sac::train(config, run_dir, options);
  }
  nlohmann::json out = sac::summary_json(config, s);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

struct EvalOptions {
  std::string path, device = "auto";
  int episodes = 10;
  int64_t seed = -1;
};

int cmd_eval(const EvalOptions& o) {
  const std::string &path = o.path, &device = o.device;
  const int episodes = o.episodes;
  const int64_t seed = o.seed;
  if (path.empty()) throw ConfigError("sac eval needs a policy file (policy.safetensors of a run)");
  sac::LoadedPolicy p = sac::load_policy(path, device, episodes);
  if (!p.python_env.empty())
    throw ConfigError("'" + path + "' is the policy of the Python env " + p.env_spec.id +
                      " (a sac_engine.SAC run), which sac eval cannot step: evaluate it in Python "
                      "(sac_engine.Policy.load)");
  uint64_t eval_seed = seed >= 0 ? (uint64_t)seed : p.config.seed + 2000003;
  sac::EnvPool pool(p.config.env_id, sac::env_kwargs(p.config),
                    sac::seeded_envs({eval_seed}, episodes));
  const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
  sac::DeviceArray<float> d_obs(*p.backend, (size_t)episodes * O), d_act(*p.backend, (size_t)episodes * A);
  sac::EvalResult r = sac::evaluate(*p.policy, *p.backend, pool, d_obs.data(), d_act.data());
  nlohmann::json out = {{"policy", path}, {"task", p.config.env_id}, {"episodes", r.episodes},
                        {"mean_return", r.mean}, {"min_return", r.min}, {"max_return", r.max}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int cmd_envs(const std::vector<std::string>& plugins) {
  sac::load_plugins(plugins);
  for (const std::string& id : sac::env_ids()) {
    std::unique_ptr<sac::Env> env = sac::make_env(id);
    const sac::EnvSpec& s = env->spec();
    nlohmann::json out = {{"id", s.id}, {"obs_dim", s.obs_dim}, {"act_dim", s.act_dim},
                          {"action_low", s.action_low}, {"action_high", s.action_high},
                          {"max_episode_steps", s.max_episode_steps}};
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}

std::string version_text() {
  std::string blas = SAC_BLAS_LIBRARY;
  if (openblas_get_config) blas += " (" + std::string(openblas_get_config()) + ")";
  return std::string("sac ") + SAC_VERSION + "\n" + "commit: " + SAC_GIT_COMMIT + "\n" +
         "backends: " + sac::backends_description() + "\n" + "mujoco: " + mj_versionString() +
         "\n" + "blas: " + blas + "\n";
}

// the subcommands, with their options; `run` is set to the work of the one the line selects
void add_commands(CLI::App& app, sac::CommandRunner& run) {
  using sac::add_command;
  using sac::add_int_option;

  auto train = std::make_shared<TrainOptions>();
  CLI::App* t = add_command(app, "train",
                            "train an agent into a run directory (config.json, metrics.jsonl, "
                            "eval.csv, summary.json, policy.safetensors, checkpoints/)",
                            run, [train] { return cmd_train(*train); });
  t->add_option("CONFIG", train->config_path,
                "a config file (JSON, e.g. configs/hopper.json); none: the paper's defaults");
  sac::add_set_option(t, train->overrides);
  sac::add_plugin_option(t, train->plugins);
  t->add_option("--run-dir", train->run_dir,
                "the run directory to create (default: runs/<task>-s<seed>-<time>)");
  t->add_option("--resume", train->resume_dir,
                "continue the run in this directory from its latest complete checkpoint (with "
                "--set only of settings that keep the run the same, e.g. train.total_steps); default: a new "
                "run");
  t->add_flag("--quiet", train->quiet, "no progress line on stderr");
  t->footer("Several seeds in one run: --set 'train.seeds=[1,2,3]'. SIGINT/SIGTERM/SIGUSR1: "
            "checkpoint, then exit 0.");

  auto eval = std::make_shared<EvalOptions>();
  CLI::App* e = add_command(app, "eval",
                            "deterministic evaluation of a policy file (or a checkpoint)", run,
                            [eval] { return cmd_eval(*eval); });
  e->add_option("POLICY", eval->path, "policy.safetensors of a run, or a checkpoint; required");
  add_int_option(e, "--episodes", eval->episodes, 1, 100000, "episodes, one env each");
  e->add_option("--device", eval->device, "auto, cpu or cuda")
      ->check(CLI::Validator(
          [](std::string& d) {
            if (d != "auto" && d != "cpu" && d != "cuda")
              throw ConfigError("--device must be auto, cpu or cuda, got '" + d + "'");
            return std::string();
          },
          "auto|cpu|cuda"));
  add_int_option(e, "--seed", eval->seed, 0, (int64_t)1 << 53,
                 "seed of the evaluation envs (default: the run's train.seed + 2000003)")
      ->default_str("");

  auto env_plugins = std::make_shared<std::vector<std::string>>();
  CLI::App* envs = add_command(app, "envs",
                               "task ids with observation and action sizes, one JSON line each",
                               run, [env_plugins] { return cmd_envs(*env_plugins); });
  sac::add_plugin_option(envs, *env_plugins);

  sac::add_config_command(app, run);
  sac::add_rollout_command(app, run);
  sac::add_plot_command(app, run);
  sac::add_sweep_command(app, run);
  CLI::App* bench = app.add_subcommand("bench", "benchmarks: update, env, train");
  bench->allow_extras();
  sac::add_bench_update_command(*bench, run);
  sac::add_bench_env_command(*bench, run);
  sac::add_bench_train_command(*bench, run);
}

int run_command_line(int argc, char** argv) {
  CLI::App app("sac: Soft Actor-Critic (Haarnoja et al. 2018b) on MuJoCo tasks, CPU and CUDA", "sac");
  app.allow_extras();
  app.option_defaults()->always_capture_default();
  app.add_flag("--version", "print the version, commit, backends, MuJoCo and BLAS, and exit");
  app.footer("Every subcommand prints its figures as JSON lines on stdout. Exit status: 2 for bad "
             "input (before any work), 1 for a failure during the work, 0 otherwise. "
             "'sac SUB --help' lists the options of SUB.");
  sac::CommandRunner run;
  add_commands(app, run);

  if (argc >= 2 && std::strcmp(argv[1], "help") == 0) {  // `sac help`, as `sac --help`
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  return sac::run_command_line(app, args, run, version_text);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_command_line(argc, argv);
  } catch (const sac::InputError& e) {
    std::fprintf(stderr, "sac: error: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {  // e.g. an unknown task id from make_env
    std::fprintf(stderr, "sac: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sac: error: %s\n", e.what());
    return 1;
  }
}
