// run_directory.h: the files of one training run (trainer.h lists them): the folder, its lock,
// config.json, the appended logs metrics.jsonl and eval.csv (and the same numbers as TensorBoard
// scalars in tb/, unless log.tensorboard is off: event_file.h), and the atomically written
// summary.json; plus the checks a new run or a resume makes on a folder before writing.
// Every write that fails throws std::runtime_error naming the file.
#pragma once
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "formats/event_file.h"
#include "run/run_lock.h"
#include "sac/config.h"
#include "sac/trainer.h"

namespace sac {

/// The lines of a log (`text`: metrics.jsonl, or eval.csv when `csv`) that a run resumed at
/// `step` keeps: eval.csv's header, and the lines of steps in [0, step]; a line whose step cannot
/// be read (cut short by a crash) goes. What a resume writes back in place of each log.
std::string kept_log_lines(const std::string& text, int64_t step, bool csv);

/// runs/<task>-s<seed>-<local time> (several seeds: s<first>-<last>).
std::string default_run_dir(const Config& config);

/// The folder of seed `seed` of a run of several seeds in `run_dir`: run_dir/seed-<seed>.
std::string seed_dir(const std::string& run_dir, uint64_t seed);

/// Throws InputError when `run_dir` already holds a run (its config.json is there).
void refuse_existing_run(const std::string& run_dir);

/// The `steps` of the run's summary.json (the step its last finished segment ended at); -1 when
/// there is no readable summary.
int64_t summary_steps(const std::string& run_dir);

class RunDirectory {
 public:
  /// A fresh run (`resumed_step` < 0): creates the folder and locks it unless `held` (the
  /// caller's lock) is given, refuses a folder holding a run, writes config.json and starts the
  /// logs. A resumed run: rewrites config.json (a longer run) and keeps the log lines up to
  /// `resumed_step` (eval.csv: up to `eval_keep_step`), which the run writes again otherwise;
  /// the events of tb/ likewise, and the resumed run writes a new event file there.
  /// Without `logs` (the folder of a run of several seeds, whose seeds log in folders of their
  /// own, each a RunDirectory under the run's lock) there are no logs to append to.
  RunDirectory(const std::string& path, const Config& config, int64_t resumed_step,
               int64_t eval_keep_step, const RunLock* held, bool logs = true);

  const std::string& path() const { return m_path; }
  std::string checkpoints() const { return m_path + "/checkpoints"; }
  std::string tensorboard() const { return m_path + "/tb"; }
  std::string policy() const { return m_path + "/policy.safetensors"; }
  /// The lock this run directory is written under (its own, or the one it was given).
  const RunLock& lock() const { return *m_lock; }

  void append_metrics(const nlohmann::json& line);
  void append_eval(int64_t step, double wall_seconds, const EvalResult& result);
  void write_summary(const nlohmann::json& summary);

 private:
  void flushed(std::ofstream& log, const char* name);

  std::string m_path;
  std::unique_ptr<RunLock> m_own_lock;
  const RunLock* m_lock;
  std::ofstream m_metrics, m_eval;
  std::unique_ptr<EventFileWriter> m_tensorboard;  // null: log.tensorboard off, or no logs
};

}  // namespace sac
