// test_gpu_requirement.cpp: SAC_REQUIRE_GPU works in every build. With it set, this test fails
// when no CUDA device is usable (also in a build without the CUDA backend, where every other
// GPU test is compiled out and a filter like 'Cuda*' would otherwise match nothing); and the
// GPU tests of this binary fail, naming the reason, instead of skipping. And the check that
// keeps every CUDA test in the simulated run (gpu_test.h) matches names as gtest's filter does
// and names what left a test out.
// Run: SAC_REQUIRE_GPU=1 ./build/sac_tests --gtest_filter='Cuda*:GpuTestList*'
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

#include "gpu_test.h"

namespace {

TEST(CudaRequirement, DeviceIsUsableWhenRequired) {
  if (!sac::test::gpu_required()) GTEST_SKIP() << "SAC_REQUIRE_GPU is not set";
  EXPECT_EQ(sac::cuda_unavailable_reason(), "")
      << "SAC_REQUIRE_GPU is set but no CUDA device is usable";
}

// This binary run again with SAC_REQUIRE_GPU=1 on one GPU test: without a device it must fail
// and say why (on a GPU machine there is nothing to show: the test then passes for real there).
TEST(CudaRequirement, RequiredGpuTestsFailWithTheReasonWhenNoDeviceIsUsable) {
  const std::string why = sac::cuda_unavailable_reason();
  if (why.empty()) GTEST_SKIP() << "a CUDA device is usable here: GPU tests run for real";
  const std::string cmd =
      "SAC_REQUIRE_GPU=1 /proc/" + std::to_string(::getpid()) +
      "/exe --gtest_filter='CudaRequirement.DeviceIsUsableWhenRequired:CudaBackendTest.*' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_NE(WEXITSTATUS(status), 0) << "required GPU tests passed without a device:\n" << out;
  EXPECT_NE(out.find("SAC_REQUIRE_GPU is set but no CUDA device is usable"), std::string::npos)
      << out;
  EXPECT_NE(out.find(why), std::string::npos) << "the reason is missing:\n" << out;
  // in a CUDA build the backend's op tests are among the failures, not skipped
#ifdef SAC_HAVE_CUDA
  EXPECT_NE(out.find("[  FAILED  ] CudaBackendTest."), std::string::npos) << out;
  EXPECT_EQ(out.find("[  SKIPPED ] CudaBackendTest."), std::string::npos) << out;
#endif
}

TEST(GpuTestList, TheFilterMatchesAsGtestDoes) {
  using sac::test::matches_test_filter;
  EXPECT_TRUE(matches_test_filter("CudaBackendTest.AdamMatchesCpuOverSteps", "*Cuda*"));
  EXPECT_TRUE(matches_test_filter("Backends/FusedOps.LossesEqualTheirUnfusedOps/cuda",
                                  "*Cuda*:*/cuda"));
  EXPECT_FALSE(matches_test_filter("Backends/FusedOps.LossesEqualTheirUnfusedOps/cpu",
                                   "*Cuda*:*/cuda"));
  EXPECT_FALSE(matches_test_filter("Backends/FusedOps.X/cudax", "*/cuda"));
  EXPECT_TRUE(matches_test_filter("GemmConformance.LtPlans", "*Cuda*:GemmConformance.*"));
  EXPECT_FALSE(matches_test_filter("GemmConformanceX.LtPlans", "GemmConformance.*"));
  EXPECT_TRUE(matches_test_filter("abc", "a?c"));
  EXPECT_FALSE(matches_test_filter("abbc", "a?c"));
  EXPECT_TRUE(matches_test_filter("aXbXc", "a*b*c"));
  EXPECT_FALSE(matches_test_filter("aXbXd", "a*b*c"));
  EXPECT_TRUE(matches_test_filter("", "*"));
  EXPECT_FALSE(matches_test_filter("ReplayBuffer.Wraps", ""));
  // the simulated tests' filter selects the CUDA tests' names and leaves the CPU twins out
  const std::string filter = sac::test::kCudaTestFilter;
  for (const char* name : {"CudaBackendTest.LinearForwardMatchesCpu",
                           "Modes/CudaGraphGolden.OneUpdateMatchesLossesGradientsAndWeights/1",
                           "Devices/DivergenceGuard.ANanWeightStopsTheRunNamingTheTensor/cuda",
                           "GemmConformance.LtPlans", "CudaSimKernels.X"})
    EXPECT_TRUE(matches_test_filter(name, filter)) << name;
  for (const char* name : {"Devices/DivergenceGuard.ANanWeightStopsTheRunNamingTheTensor/cpu",
                           "ReplayBuffer.Wraps"})
    EXPECT_FALSE(matches_test_filter(name, filter)) << name;
}

TEST(GpuTestList, AGpuTestTheSimulatedRunWouldLeaveOutIsNamedWithTheReason) {
  // this file holds no CUDA test, so it is not among the simulated build's files
  const std::string file_reason = sac::test::cuda_test_left_out_reason("tests/test_new_one.cpp");
  EXPECT_NE(file_reason.find("GpuTestList.AGpuTestTheSimulatedRunWouldLeaveOutIsNamedWithTheReason"
                             " is declared in test_new_one.cpp"),
            std::string::npos)
      << file_reason;
  EXPECT_NE(file_reason.find("run cmake again"), std::string::npos) << file_reason;
  // a listed file, but this test's name misses the filter
  const std::string name_reason =
      sac::test::cuda_test_left_out_reason("/somewhere/tests/test_cuda_backend.cpp");
  EXPECT_NE(name_reason.find("does not match the simulated CUDA tests' filter"),
            std::string::npos)
      << name_reason;
  bool listed = false;
  for (const char* file : sac::test::kCudaTestFiles)
    listed = listed || std::string(file) == "test_cuda_backend.cpp";
  EXPECT_TRUE(listed) << "test_cuda_backend.cpp holds CUDA tests but is not listed";
}

}  // namespace
