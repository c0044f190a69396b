// gpu_test.h: what a GPU test does on a machine without a usable CUDA device. It skips, with
// the CUDA error (and runtime and driver versions) in the message, unless SAC_REQUIRE_GPU is
// set (to anything but "" or "0"): then it fails instead, so a run on a GPU machine can never
// pass by skipping.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "sac/backend.h"

namespace sac {
namespace test {

/// True when SAC_REQUIRE_GPU asks every GPU test to run.
inline bool gpu_required() {
  const char* v = std::getenv("SAC_REQUIRE_GPU");
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace test
}  // namespace sac

/// In a test body or SetUp: skip (or, with SAC_REQUIRE_GPU, fail) when no CUDA device is usable.
#define SAC_SKIP_WITHOUT_GPU()                                                              \
  do {                                                                                      \
    const std::string sac_gpu_why_ = sac::cuda_unavailable_reason();                        \
    if (!sac_gpu_why_.empty()) {                                                            \
      if (sac::test::gpu_required())                                                        \
        GTEST_FAIL() << "SAC_REQUIRE_GPU is set but no CUDA device is usable: " << sac_gpu_why_; \
      GTEST_SKIP() << "no usable CUDA device: " << sac_gpu_why_;                            \
    }                                                                                       \
  } while (0)
