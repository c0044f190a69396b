// fuzz_sweep.cpp: libFuzzer target of the sweep file as `sac sweep plan SWEEP.json` reads it:
// parse_sweep_file (what read_sweep_file runs on the file's text), then expand_sweep into runs
// (each run's config: the base file, or the task's file in configs/, with "set", the grid point
// and the seeds applied, validated). Run it from the repository root: a sweep's "base" is a path
// relative to the working folder, and configs/ holds the task files. Every input is accepted
// or refused with ConfigError.
// Run: build-fuzz/fuzz_sweep -dict=tests/fuzz/config.dict tests/fuzz/corpus/sweep
#include <string>

#include "fuzz_common.h"
#include "sweep/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  sac::fuzz::expect_accept_or_refuse([&] {
    sac::SweepFile sweep = sac::parse_sweep_file(text, "fuzz-sweep.json");
    for (const sac::PlannedRun& run : sac::expand_sweep(sweep, SAC_SOURCE_DIR "/configs"))
      (void)sac::setting_label(run);
  });
  return 0;
}
