// log_progress.cpp: a run's progress from the tail of its logs (log_progress.h).
#include "run/log_progress.h"

#include <nlohmann/json.hpp>

namespace sac {
namespace {

// the last complete line of a log (a line still being appended has no newline yet)
std::string last_line(const std::string& all) {
  if (all.empty()) return "";
  size_t end = all.rfind('\n');
  if (end == std::string::npos) return "";
  size_t begin = all.rfind('\n', end - 1);
  begin = begin == std::string::npos || end == 0 ? 0 : begin + 1;
  return all.substr(begin, end - begin);
}

}  // namespace

int64_t latest_logged_step(const std::string& metrics_jsonl) {
  nlohmann::json m = nlohmann::json::parse(last_line(metrics_jsonl), nullptr, false);
  // an integer only: a float outside int64's range has no int64 value (undefined behaviour)
  if (m.is_object() && m.contains("step") && m["step"].is_number_integer())
    return m["step"].get<int64_t>();
  return -1;
}

std::optional<double> latest_eval_return(const std::string& eval_csv) {
  std::string row = last_line(eval_csv);
  // step,wall_seconds,mean_return,...
  size_t a = row.find(','), b = a == std::string::npos ? a : row.find(',', a + 1);
  if (b == std::string::npos || row.compare(0, 4, "step") == 0) return std::nullopt;
  try {
    return std::stod(row.substr(b + 1));
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace sac
