// main.cpp: the `sac` command line. Every subcommand prints its figures as one JSON line on
// stdout; an error prints one `sac: error: ...` line naming the problem. Exit status, for every
// subcommand: 2 for bad input (arguments, config, an unreadable or corrupt file, a run directory
// in use: InputError, sac/errors.h), 1 for a failure during the work (disk full, an I/O error, a
// diverged run), 0 otherwise.
//   sac train [CONFIG] [--set key.path=value ...] [--run-dir DIR] [--quiet]
//   sac train --resume RUN_DIR [--set train.total_steps=N ...] [--quiet]
//   sac eval POLICY [--episodes N] [--device D] [--seed S]
//   sac envs
//   sac rollout --env ID [--policy random|POLICY] [--steps N] [--seed S] --record FILE.jsonl
//   sac bench env --env ID --num-envs N --threads T --steps K
//   sac plot RUN_DIR... -o curves.svg [--title T]
//   sac bench train --env ID --steps K --device cpu|cuda [--num-envs N] [--pipeline P] [--seeds S]
//   sac bench update --env ID --batch B --device cpu|cuda [--threads T] [--seconds S] [--seeds S]
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_update.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/env_pool.h"
#include "sac/errors.h"
#include "sac/trainer.h"

namespace {

using sac::ConfigError;
using sac::option_value;
using sac::parse_int;

constexpr const char* kUsage =
    "usage:\n"
    "  sac train [CONFIG] [--set key.path=value ...] [--run-dir DIR] [--quiet]\n"
    "            (several seeds in one run: --set 'train.seeds=[1,2,3]')\n"
    "  sac train --resume RUN_DIR [--set train.total_steps=N ...] [--quiet]\n"
    "  sac eval POLICY [--episodes N] [--device auto|cpu|cuda] [--seed S]\n"
    "  sac envs\n"
    "  sac rollout --env ID [--policy random|POLICY] [--steps N] [--seed S] --record FILE.jsonl\n"
    "  sac bench env --env ID --num-envs N --threads T --steps K\n"
    "  sac plot RUN_DIR... -o curves.svg [--title T]\n"
    "  sac bench train --env ID --steps K --device cpu|cuda [--num-envs N] [--pipeline P]\n"
    "                  [--seeds S]\n"
    "  sac bench update --env ID --batch B --device cpu|cuda [--threads T] [--seconds S]\n"
    "                   [--seeds S]\n";

int cmd_train(const std::vector<std::string>& args) {
  std::string config_path, run_dir, resume_dir;
  std::vector<std::string> overrides;
  bool quiet = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--set") overrides.push_back(option_value(args, i));
    else if (args[i] == "--run-dir") run_dir = option_value(args, i);
    else if (args[i] == "--resume") resume_dir = option_value(args, i);
    else if (args[i] == "--quiet") quiet = true;
    else if (args[i].rfind("--", 0) == 0) throw ConfigError("unknown option '" + args[i] + "' for 'sac train'");
    else if (config_path.empty()) config_path = args[i];
    else throw ConfigError("more than one config file given ('" + config_path + "', '" + args[i] + "')");
  }
  sac::TrainOptions options;
  options.progress = !quiet;
  options.handle_signals = true;  // SIGINT/SIGTERM: checkpoint, then exit 0
  sac::Config config;
  sac::TrainSummary s;
  if (!resume_dir.empty()) {
    // the run's own config.json; only --set of settings that keep the run the same
    if (!config_path.empty())
      throw ConfigError("--resume takes the run's own config.json; drop '" + config_path + "'");
    if (!run_dir.empty()) throw ConfigError("--resume and --run-dir cannot be combined");
    config = sac::resume_config(resume_dir, overrides);
    s = sac::resume(config, resume_dir, options);
  } else {
    config = sac::load_config(config_path, overrides);
    s = sac::train(config, run_dir, options);
  }
  nlohmann::json out = sac::summary_json(config, s);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int cmd_eval(const std::vector<std::string>& args) {
  std::string path, device = "auto";
  int episodes = 10;
  int64_t seed = -1;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--episodes") episodes = (int)parse_int("--episodes", option_value(args, i), 1, 100000);
    else if (args[i] == "--device") device = option_value(args, i);
    else if (args[i] == "--seed") seed = parse_int("--seed", option_value(args, i), 0, (int64_t)1 << 53);
    else if (args[i].rfind("--", 0) == 0) throw ConfigError("unknown option '" + args[i] + "' for 'sac eval'");
    else if (path.empty()) path = args[i];
    else throw ConfigError("more than one policy file given");
  }
  if (path.empty()) throw ConfigError("sac eval needs a policy file (policy.safetensors of a run)");
  if (device != "auto" && device != "cpu" && device != "cuda")
    throw ConfigError("--device must be auto, cpu or cuda, got '" + device + "'");
  sac::LoadedPolicy p = sac::load_policy(path, device, episodes);
  uint64_t eval_seed = seed >= 0 ? (uint64_t)seed : p.config.seed + 2000003;
  sac::EnvPool pool(p.config.env_id, episodes, eval_seed);
  const int O = pool.spec().obs_dim, A = pool.spec().act_dim;
  sac::DeviceArray<float> d_obs(*p.backend, (size_t)episodes * O), d_act(*p.backend, (size_t)episodes * A);
  sac::EvalResult r = sac::evaluate(*p.agent, *p.backend, pool, d_obs.data(), d_act.data());
  nlohmann::json out = {{"policy", path}, {"task", p.config.env_id}, {"episodes", r.episodes},
                        {"mean_return", r.mean}, {"min_return", r.min}, {"max_return", r.max}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int cmd_envs(const std::vector<std::string>& args) {
  if (!args.empty()) throw ConfigError("'sac envs' takes no arguments");
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

int dispatch(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    std::fputs(kUsage, argv.empty() ? stderr : stdout);
    return argv.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "train") return cmd_train(rest);
  if (argv[0] == "eval") return cmd_eval(rest);
  if (argv[0] == "envs") return cmd_envs(rest);
  if (argv[0] == "rollout") return sac::rollout_main(rest);
  if (argv[0] == "plot") return sac::plot_main(rest);
  if (argv[0] == "bench") {
    std::vector<std::string> bench_args(rest.empty() ? rest.end() : rest.begin() + 1, rest.end());
    if (!rest.empty() && rest[0] == "update") return sac::bench_update_main(bench_args);
    if (!rest.empty() && rest[0] == "env") return sac::bench_env_main(bench_args);
    if (!rest.empty() && rest[0] == "train") return sac::bench_train_main(bench_args);
    throw ConfigError("unknown benchmark (known: update, env, train)");
  }
  throw ConfigError("unknown command '" + argv[0] + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return dispatch(args);
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
