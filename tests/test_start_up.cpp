// test_start_up.cpp: what a process pays before it does any work. A CPU run, `sac envs` and
// `sac eval` load no CUDA library (the dynamic loader's own log of the files it opens says so);
// in a build with the CUDA backend, cuBLAS and cuBLASLt open on demand and forward correctly.
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

#include "small_run.h"
#include "test_files.h"
#if defined(SAC_HAVE_CUDA) && !defined(SAC_CUDA_SIM)
#include <cublas_v2.h>

#include "cublas_on_demand.h"
#endif

namespace sac {
namespace {

struct LoaderLog {
  int exit_code;
  std::string files;  // the loader's "file=..." lines: every shared library the process opened
};

// Runs `sac ARGS` with the dynamic loader logging each shared library it opens (LD_DEBUG=files,
// on stderr); the command's own output is discarded.
LoaderLog run_sac_logging_libraries(const std::string& args) {
  test::CliRun run =
      test::run_shell("LD_DEBUG=files " + std::string(SAC_BINARY) + " " + args + " 2>&1 >/dev/null");
  std::istringstream lines(run.output);
  std::string files, line;
  while (std::getline(lines, line))
    if (line.find("file=") != std::string::npos) files += line + "\n";
  return {run.exit_code, files};
}

void expect_no_cuda_library(const LoaderLog& log, const std::string& what) {
  EXPECT_EQ(log.exit_code, 0) << what;
  // the log is real: MuJoCo is a link-time dependency of every command
  EXPECT_NE(log.files.find("libmujoco"), std::string::npos) << what << ": no loader log?\n"
                                                             << log.files;
  for (const char* cuda : {"libcublas", "libcudart", "libcuda.so", "libcurand"})
    EXPECT_EQ(log.files.find(cuda), std::string::npos) << what << " loaded " << cuda << ":\n"
                                                       << log.files;
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " '" + a + "'";
  return s;
}

TEST(StartUp, EnvsLoadsNoCudaLibrary) {
  expect_no_cuda_library(run_sac_logging_libraries("envs"), "sac envs");
}

TEST(StartUp, CpuTrainingAndEvalLoadNoCudaLibrary) {
  test::TempDir dir("start_up");
  std::string run_dir = dir.path() + "/run";
  expect_no_cuda_library(run_sac_logging_libraries(joined(test::cli_train(run_dir, 300))),
                         "sac train device=cpu");
  expect_no_cuda_library(
      run_sac_logging_libraries("eval " + run_dir + "/policy.safetensors --episodes 1 --device cpu"),
      "sac eval --device cpu");
}

#if defined(SAC_HAVE_CUDA) && !defined(SAC_CUDA_SIM)
// Where the toolkit is installed (every machine that builds the CUDA backend), the libraries open
// and a forwarded call reaches the real cuBLAS, with or without a GPU: cublasGetStatusString
// needs no device.
TEST(StartUp, CublasOpensOnDemandAndForwards) {
  ASSERT_EQ(cublas_libraries_unavailable_reason(), "");
  // cuBLAS's own words for the status, not the "could not be loaded" of the forwarder
  std::string text = cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_NE(text.find("unsupported value"), std::string::npos) << text;
}
#endif

}  // namespace
}  // namespace sac
