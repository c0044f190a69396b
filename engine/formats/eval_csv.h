// eval_csv.h: a run's eval.csv as `sac plot` reads it (the header
// step,wall_seconds,mean_return,... locates the columns; one evaluation per row, steps strictly
// increasing, values finite). Tests: sac_tests --gtest_filter='*Plot*:QuotedText*'; fuzzed by
// tests/fuzz/fuzz_eval_csv.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sac {

/// The evaluations of one eval.csv, in file order.
struct EvalRows {
  std::vector<int64_t> step;
  std::vector<double> wall, ret;  // wall_seconds, mean_return
};

/// Parses `text`, the whole of the eval.csv at `path` (named in errors). Throws ConfigError
/// naming the file, the line and the field (quoted, quoted.h) when the header lacks a column, a
/// row has another number of fields, a step is not a non-negative integer above the previous
/// one, or a value is not a finite number; and when the file holds no evaluation.
EvalRows parse_eval_csv(const std::string& text, const std::string& path);

}  // namespace sac
