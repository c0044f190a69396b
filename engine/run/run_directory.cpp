// run_directory.cpp: the files of a training run (run_directory.h).
#include "run/run_directory.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <stdexcept>

#include "formats/path_checks.h"
#include "formats/whole_file.h"
#include "sac/errors.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

void make_dirs(const std::string& path) {
  std::string partial;
  std::stringstream ss(path);
  std::string part;
  if (!path.empty() && path[0] == '/') partial = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    partial += part + "/";
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
      throw InputError("cannot create run directory '" + path + "': " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw InputError("cannot create run directory '" + path + "': " + std::strerror(ENOTDIR));
}

// keeps the lines of a log written up to `step`: a run that crashed after its checkpoint left
// lines the resumed run writes again. `csv`: a header line, then the step in the first field.
void truncate_log(const std::string& path, int64_t step, bool csv) {
  std::optional<std::string> text = read_whole_file(path);
  if (!text) return;
  write_file_atomic(path, kept_log_lines(*text, step, csv));
}

// TensorBoard's tags: the metrics line's keys under train/, eval.csv's columns under eval/
const std::string kTrainTag = "train/", kEvalTag = "eval/";

bool is_eval_event(const ScalarEvent& e) {
  return !e.scalars.empty() && e.scalars.front().first.rfind(kEvalTag, 0) == 0;
}

}  // namespace

std::string kept_log_lines(const std::string& text, int64_t step, bool csv) {
  std::istringstream in(text);
  std::string out, line;
  bool first = true;
  while (std::getline(in, line)) {
    if (csv && first) {
      out += line + "\n";
      first = false;
      continue;
    }
    int64_t s = -1;
    if (csv) {
      char* end = nullptr;
      long long v = std::strtoll(line.c_str(), &end, 10);
      if (end != line.c_str() && *end == ',') s = v;
    } else {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("step") && j["step"].is_number_integer())
        s = j["step"].get<int64_t>();
    }
    if (s >= 0 && s <= step) out += line + "\n";
  }
  return out;
}

std::string default_run_dir(const Config& c) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const std::vector<uint64_t> seeds = seed_list(c);
  std::string s = std::to_string(seeds.front());
  if (seeds.size() > 1) s += "-" + std::to_string(seeds.back());
  return "runs/" + c.env_id + "-s" + s + "-" + stamp;
}

std::string seed_dir(const std::string& run_dir, uint64_t seed) {
  return run_dir + "/seed-" + std::to_string(seed);
}

void refuse_existing_run(const std::string& run_dir) {
  if (path_exists(run_dir + "/config.json"))
    throw InputError("run directory '" + run_dir +
                     "' already holds a run; choose another --run-dir, or continue it "
                     "with --resume " + run_dir);
}

int64_t summary_steps(const std::string& run_dir) {
  std::ifstream in(run_dir + "/summary.json");
  if (!in) return -1;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("steps") || !j["steps"].is_number_integer()) return -1;
  return j["steps"].get<int64_t>();
}

RunDirectory::RunDirectory(const std::string& path, const Config& c, int64_t resumed_step,
                           int64_t eval_keep_step, const RunLock* held, bool logs)
    : m_path(path), m_lock(held) {
  const bool resumed = resumed_step >= 0;
  make_dirs(path);  // a seed's folder, under its run's lock, may be new
  if (!held) {
    m_own_lock = std::make_unique<RunLock>(path);  // before anything is written
    m_lock = m_own_lock.get();
    refuse_existing_run(path);  // one begun there while this process was starting
  }
  write_file_atomic(path + "/config.json", c.to_json().dump(2) + "\n");
  if (!logs) return;
  if (resumed) {
    truncate_log(path + "/metrics.jsonl", resumed_step, false);
    truncate_log(path + "/eval.csv", eval_keep_step, true);
    // the events of those lines, whether or not this segment writes event files
    keep_events(tensorboard(), [&](const ScalarEvent& e) {
      return e.step <= (is_eval_event(e) ? eval_keep_step : resumed_step);
    });
  }
  const bool eval_header = !resumed || !path_exists(path + "/eval.csv");
  const auto mode = resumed ? std::ios::app : std::ios::trunc;
  m_metrics.open(path + "/metrics.jsonl", mode);
  m_eval.open(path + "/eval.csv", mode);
  if (eval_header) m_eval << "step,wall_seconds,mean_return,min_return,max_return,episodes\n";
  if (c.log_tensorboard) m_tensorboard = std::make_unique<EventFileWriter>(tensorboard());
}

void RunDirectory::flushed(std::ofstream& log, const char* name) {
  if (!log.flush()) throw std::runtime_error("cannot write '" + m_path + "/" + name + "'");
}

void RunDirectory::append_metrics(const nlohmann::json& line) {
  m_metrics << line.dump() << "\n";
  flushed(m_metrics, "metrics.jsonl");
  if (!m_tensorboard) return;
  std::vector<Scalar> scalars;  // every number of the line but its step, the x axis
  for (auto it = line.begin(); it != line.end(); ++it)
    if (it.key() != "step" && it.value().is_number())
      scalars.emplace_back(kTrainTag + it.key(), it.value().get<double>());
  m_tensorboard->write_scalars(line.at("step").get<int64_t>(), scalars);
}

void RunDirectory::append_eval(int64_t step, double wall_seconds, const EvalResult& r) {
  m_eval << step << "," << wall_seconds << "," << r.mean << "," << r.min << "," << r.max << ","
         << r.episodes << "\n";
  flushed(m_eval, "eval.csv");
  if (!m_tensorboard) return;
  m_tensorboard->write_scalars(step, {{kEvalTag + "wall_seconds", wall_seconds},
                                      {kEvalTag + "mean_return", r.mean},
                                      {kEvalTag + "min_return", r.min},
                                      {kEvalTag + "max_return", r.max},
                                      {kEvalTag + "episodes", (double)r.episodes}});
}

void RunDirectory::write_summary(const nlohmann::json& summary) {
  write_file_atomic(m_path + "/summary.json", summary.dump(2) + "\n");
}

}  // namespace sac
