// train_cheetah_run.cpp: a program that registers cheetah-run and trains it with sac::train(),
// what `sac train` does, or continues a run of it with sac::resume():
//   train_cheetah_run [--set key.path=value ...] [--run-dir DIR]
//   train_cheetah_run --resume DIR [--set train.total_steps=N ...]
// Prints the summary `sac train` prints (one JSON line); exit 2 for bad input, 1 for a failure.
#include <sac/config.h>
#include <sac/errors.h>
#include <sac/task.h>
#include <sac/trainer.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cheetah_run.h"

int main(int argc, char** argv) {
  std::vector<std::string> overrides = {std::string("env.id=") + cheetah_run::kId};
  std::string run_dir, resume_dir;
  try {
    for (int i = 1; i < argc; ++i) {
      const bool has_value = i + 1 < argc;
      if (!std::strcmp(argv[i], "--set") && has_value) overrides.push_back(argv[++i]);
      else if (!std::strcmp(argv[i], "--run-dir") && has_value) run_dir = argv[++i];
      else if (!std::strcmp(argv[i], "--resume") && has_value) resume_dir = argv[++i];
      else throw sac::InputError(std::string("unknown argument '") + argv[i] + "'");
    }
    // the task joins the registry before any config names it
    sac::register_env(cheetah_run::task());
    sac::TrainOptions options;
    options.handle_signals = true;  // Ctrl-C: checkpoint, then return
    sac::Config config;
    sac::TrainSummary summary;
    if (resume_dir.empty()) {
      config = sac::load_config("", overrides);
      summary = sac::train(config, run_dir, options);
    } else {
      overrides.erase(overrides.begin());  // a run keeps its task
      config = sac::resume_config(resume_dir, overrides);
      summary = sac::resume(config, resume_dir, options);
    }
    std::printf("%s\n", sac::summary_json(config, summary).dump().c_str());
    return 0;
  } catch (const sac::InputError& e) {
    std::fprintf(stderr, "train_cheetah_run: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_cheetah_run: %s\n", e.what());
    return 1;
  }
}
