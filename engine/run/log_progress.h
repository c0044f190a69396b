// log_progress.h: how far a run has come, read from the tail of its logs alone (metrics.jsonl,
// eval.csv), as `sac sweep status` and `sac sweep collect` show it (sweep/results.cpp).
// Only the last complete line counts: a line still being appended has no newline yet.
// Tests: sac_tests --gtest_filter='Sweep*'; fuzzed by tests/fuzz/fuzz_{metrics_jsonl,eval_csv}.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace sac {

/// The step (an integer) of the last complete line of a run's metrics.jsonl (`metrics_jsonl`: its
/// text), or -1 when that line holds none.
int64_t latest_logged_step(const std::string& metrics_jsonl);

/// The mean_return of the last complete row of a run's eval.csv (`eval_csv`: its text); none
/// when that row holds none.
std::optional<double> latest_eval_return(const std::string& eval_csv);

}  // namespace sac
