// eval_csv.cpp: a run's eval.csv as `sac plot` reads it (eval_csv.h).
#include "formats/eval_csv.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "formats/quoted.h"
#include "sac/config.h"

namespace sac {
namespace {

bool parse_double(const std::string& text, double& v) {
  if (text.empty()) return false;
  char* end = nullptr;
  v = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(v);
}

bool parse_int64(const std::string& text, int64_t& v) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(text.c_str(), &end, 10);
  v = x;
  return errno == 0 && end == text.c_str() + text.size();
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::stringstream ss(line);
  while (std::getline(ss, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

EvalRows parse_eval_csv(const std::string& text, const std::string& path) {
  EvalRows run;
  std::stringstream in(text);
  std::string line;
  int line_no = 0;
  int c_step = -1, c_wall = -1, c_ret = -1;
  size_t columns = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> f = split_csv(line);
    // the header names the columns
    if (columns == 0) {
      columns = f.size();
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "step") c_step = (int)i;
        if (f[i] == "wall_seconds") c_wall = (int)i;
        if (f[i] == "mean_return") c_ret = (int)i;
      }
      if (c_step < 0 || c_wall < 0 || c_ret < 0)
        throw ConfigError("'" + path + "' is malformed: line 1 must be the header " +
                          "'step,wall_seconds,mean_return,...', got " + quoted_text(line));
      continue;
    }
    // one evaluation per row
    std::string where = "'" + path + "' is malformed: line " + std::to_string(line_no);
    if (f.size() != columns)
      throw ConfigError(where + " has " + std::to_string(f.size()) + " fields, the header " +
                        std::to_string(columns));
    int64_t step = 0;
    double wall = 0, ret = 0;
    if (!parse_int64(f[c_step], step) || step < 0)
      throw ConfigError(where + ": step " + quoted_text(f[c_step]) +
                        " is not a non-negative integer");
    if (!parse_double(f[c_wall], wall))
      throw ConfigError(where + ": wall_seconds " + quoted_text(f[c_wall]) +
                        " is not a finite number");
    if (!parse_double(f[c_ret], ret))
      throw ConfigError(where + ": mean_return " + quoted_text(f[c_ret]) +
                        " is not a finite number");
    if (!run.step.empty() && step <= run.step.back())
      throw ConfigError(where + ": step " + std::to_string(step) + " does not follow step " +
                        std::to_string(run.step.back()));
    run.step.push_back(step);
    run.wall.push_back(wall);
    run.ret.push_back(ret);
  }
  if (columns == 0) throw ConfigError("'" + path + "' is empty (no header, no evaluations)");
  if (run.step.empty()) throw ConfigError("'" + path + "' holds no evaluations (header only)");
  return run;
}

}  // namespace sac
