// fuzz_metrics_jsonl.cpp: libFuzzer target of a run's metrics.jsonl as the engine reads it:
// `sac sweep status` and `sac sweep collect` (latest_logged_step, the latest line's step) and a
// resumed run trimming it (kept_log_lines). Neither throws on content.
// Run: build-fuzz/fuzz_metrics_jsonl -dict=tests/fuzz/json.dict tests/fuzz/corpus/metrics_jsonl
#include <string>

#include "fuzz_common.h"
#include "run/run_directory.h"
#include "run/log_progress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)sac::latest_logged_step(text);
  const std::string kept = sac::kept_log_lines(text, 100, false);
  if (sac::kept_log_lines(kept, 100, false) != kept)
    sac::fuzz::fail("trimming metrics.jsonl twice changes it", "");
  return 0;
}
