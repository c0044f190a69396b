// fuzz_eval_csv.cpp: libFuzzer target of a run's eval.csv as the engine reads it: `sac plot`
// (parse_eval_csv), `sac sweep status` and `sac sweep collect` (latest_eval_return, the
// latest row), and a resumed run trimming it (kept_log_lines). Every input is accepted or
// refused with ConfigError (plot); the others never throw.
// Run: build-fuzz/fuzz_eval_csv tests/fuzz/corpus/eval_csv
#include <string>

#include "formats/eval_csv.h"
#include "fuzz_common.h"
#include "run/run_directory.h"
#include "run/log_progress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  sac::fuzz::expect_accept_or_refuse([&] { sac::parse_eval_csv(text, "fuzz/eval.csv"); });
  (void)sac::latest_eval_return(text);
  const std::string kept = sac::kept_log_lines(text, 100, true);
  if (sac::kept_log_lines(kept, 100, true) != kept)
    sac::fuzz::fail("trimming eval.csv twice changes it", "");
  return 0;
}
