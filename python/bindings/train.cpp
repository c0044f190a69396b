// train.cpp: `sac_engine._core.train_file` / `train_text`, which run exactly what `sac train
// CONFIG --set ... --run-dir DIR` runs (load_config, then train() with the command line's
// options, SIGINT/SIGTERM included: the first one stops the run with a checkpoint, as on the
// command line) and return summary_json(), the object the command prints, as JSON text. The GIL
// is released for the whole run. python/sac_engine/training.py wraps them as sac_engine.train().
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bindings.h"
#include "sac/config.h"
#include "sac/trainer.h"

namespace sac::python {
namespace {

std::string run(const Config& config, const std::string& run_dir, bool progress) {
  TrainOptions options;
  options.progress = progress;
  options.handle_signals = true;  // as `sac train`: Ctrl-C checkpoints and returns
  TrainSummary s;
  {
    py::gil_scoped_release release;
    s = train(config, run_dir, options);
  }
  return summary_json(config, s).dump();
}

}  // namespace

void bind_train(py::module_& m) {
  m.def(
      "train_file",
      [](const std::string& path, const std::vector<std::string>& overrides,
         const std::string& run_dir,
         bool progress) {
        if (!path.empty()) require_existing_file(path, "config file");
        return run(load_config(path, overrides), run_dir, progress);
      },
      py::arg("path"), py::arg("overrides"), py::arg("run_dir"), py::arg("progress"),
      "`sac train PATH --set ... --run-dir RUN_DIR`; returns the summary as JSON text.");
  m.def(
      "train_text",
      [](const std::string& text, const std::vector<std::string>& overrides,
         const std::string& run_dir, bool progress) {
        // load_config() on text instead of a file
        Config c = config_from_json_text(text, "config dict");
        for (const std::string& o : overrides) apply_override(c, o);
        validate(c);
        return run(c, run_dir, progress);
      },
      py::arg("text"), py::arg("overrides"), py::arg("run_dir"), py::arg("progress"),
      "The same with the config given as JSON text.");
}

}  // namespace sac::python
