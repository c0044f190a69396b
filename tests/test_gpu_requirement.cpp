// test_gpu_requirement.cpp: SAC_REQUIRE_GPU works in every build. With it set, this test fails
// when no CUDA device is usable (also in a build without the CUDA backend, where every other
// GPU test is compiled out and a filter like 'Cuda*' would otherwise match nothing); and the
// GPU tests of this binary fail, naming the reason, instead of skipping.
// Run: SAC_REQUIRE_GPU=1 ./build/sac_tests --gtest_filter='Cuda*'
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

}  // namespace
