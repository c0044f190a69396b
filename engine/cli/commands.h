// commands.h: subcommands of `sac` implemented outside main.cpp. Each adds its CLI11 subcommand
// (options with defaults and meanings, shown by `sac SUB --help`) to `parent`; when the command
// line selects it, `run` is set to its work, which prints its result as JSON lines on stdout and
// returns the exit code. Bad input throws ConfigError (exit 2) before any work.
#pragma once
#include "cli/cli_args.h"

namespace sac {

/// Parses `args` (the command line without the program name) with `app`, whose subcommands set
/// `run`, then runs the selected one and returns its exit code. --help prints the help of the
/// subcommand given on stdout (0); --version (when `app` has that flag) prints `version_text()`
/// (0); no subcommand prints the help on stderr (2). Bad input, CLI11's errors included, throws
/// ConfigError with one line naming the option and the subcommand.
int run_command_line(CLI::App& app, const std::vector<std::string>& args, CommandRunner& run,
                     const std::function<std::string()>& version_text);

/// `sac config show [CONFIG] [--set ...]` and `sac config keys [--markdown]`; see
/// engine/cli/config_command.cpp
void add_config_command(CLI::App& parent, CommandRunner& run);

/// `sac rollout --env ID [--policy random|POLICY] [--steps N] [--seed S] --record FILE.jsonl`
void add_rollout_command(CLI::App& parent, CommandRunner& run);

/// `sac bench env --env ID --num-envs N --threads T --steps K`
void add_bench_env_command(CLI::App& bench, CommandRunner& run);

/// `sac bench train --env ID --steps K --device cpu|cuda [--num-envs N] [--threads T]
/// [--updates-per-step R] [--pipeline auto|sequential|overlapped]`; see engine/cli/bench_train.cpp
void add_bench_train_command(CLI::App& bench, CommandRunner& run);

/// `sac bench update --env ID --batch B --device cpu|cuda ...`; see engine/cli/bench_update.cpp
void add_bench_update_command(CLI::App& bench, CommandRunner& run);

/// `sac plot RUN_DIR... -o curves.svg [--title T]`: eval return against env steps and wall time
/// (mean and min-max band over the runs) as one self-contained SVG; see engine/cli/plot.cpp.
void add_plot_command(CLI::App& parent, CommandRunner& run);

/// `sac sweep plan|run|local|slurm|status|collect`: sweeps of tasks x settings x seeds on this
/// machine or as a Slurm job array; see engine/cli/sweep_command.cpp
void add_sweep_command(CLI::App& parent, CommandRunner& run);

/// `sac plot ARGS...` in process (tests/test_plot.cpp): the plot command alone, parsed as `sac`
/// parses it; returns the exit code, throws ConfigError on bad input.
int plot_main(const std::vector<std::string>& args);

}  // namespace sac
