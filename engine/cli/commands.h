// commands.h: subcommands of `sac` implemented outside main.cpp. Each takes the arguments after
// its name, prints its result as JSON lines on stdout and returns the exit code; bad input
// throws ConfigError (exit 2) before any work.
#pragma once
#include <string>
#include <vector>

namespace sac {

/// `sac rollout --env ID [--policy random|POLICY] [--steps N] [--seed S] --record FILE.jsonl`
int rollout_main(const std::vector<std::string>& args);

/// `sac bench env --env ID --num-envs N --threads T --steps K`
int bench_env_main(const std::vector<std::string>& args);

/// `sac bench train --env ID --steps K --device cpu|cuda [--num-envs N] [--threads T]
/// [--updates-per-step R] [--pipeline auto|sequential|overlapped]`; see engine/cli/bench_train.cpp
int bench_train_main(const std::vector<std::string>& args);

/// `sac plot RUN_DIR... -o curves.svg [--title T]`: eval return against env steps and wall time
/// (mean and min-max band over the runs) as one self-contained SVG; see engine/cli/plot.cpp.
int plot_main(const std::vector<std::string>& args);

}  // namespace sac
