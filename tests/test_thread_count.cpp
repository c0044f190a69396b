// test_thread_count.cpp: the CPU backend's results do not depend on its thread count. Each GEMM
// is cut into row blocks by the data (kernels/linear.cpp), so every op gives the same bits on 1,
// 2 or 3 threads, and so does a whole run, and a resume on another thread count.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cpu_backend.h"
#include "sac/safetensors.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

std::vector<float> random_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

// The outputs of the linear ops for one shape on a CPU backend of `threads` threads: forward,
// then backward (dX, dW, db) from a fixed dY.
std::vector<float> linear_ops(int threads, int E, int B, int in, int out) {
  CpuBackend cpu(threads);
  std::vector<float> X = random_values((size_t)E * B * in, 1), W = random_values((size_t)E * out * in, 2);
  std::vector<float> b = random_values((size_t)E * out, 3), dY = random_values((size_t)E * B * out, 4);
  std::vector<float> Y((size_t)E * B * out), dX((size_t)E * B * in), dW(W.size()), db(b.size());
  cpu.linear_forward(E, B, in, out, X.data(), (size_t)B * in, W.data(), b.data(), Y.data(),
                     Activation::kRelu, nullptr);
  cpu.linear_backward(E, B, in, out, X.data(), (size_t)B * in, W.data(), Y.data(), dY.data(),
                      dX.data(), dW.data(), db.data(), Activation::kRelu);
  std::vector<float> all = Y;
  for (const auto* part : {&dY, &dX, &dW, &db}) all.insert(all.end(), part->begin(), part->end());
  return all;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ThreadCount, LinearOpsGiveTheSameBitsOnAnyThreadCount) {
  // shapes of one and of several row blocks (batch 300: 128 + 128 + 44 rows), one member and
  // twin critics, wide enough that blocks are handed to other threads
  struct Shape { int E, B, in, out; };
  for (Shape s : {Shape{1, 100, 3, 64}, Shape{2, 300, 64, 64}, Shape{2, 300, 256, 256},
                  Shape{1, 1000, 17, 256}, Shape{3, 257, 256, 300}}) {
    std::vector<float> one = linear_ops(1, s.E, s.B, s.in, s.out);
    for (int threads : {2, 3})
      EXPECT_TRUE(same_bits(one, linear_ops(threads, s.E, s.B, s.in, s.out)))
          << "E=" << s.E << " B=" << s.B << " in=" << s.in << " out=" << s.out << ": " << threads
          << " threads differ from one";
  }
}

// The policy's tensors, names and bytes (the file's metadata holds the config, which names the
// thread count, so the files themselves differ)
std::map<std::string, std::vector<uint8_t>> policy_bits(const std::string& run_dir) {
  std::map<std::string, std::vector<uint8_t>> bits;
  for (const auto& [name, tensor] : SafetensorsFile::load(run_dir + "/policy.safetensors").tensors)
    bits[name] = tensor.bytes;
  return bits;
}

TEST(ThreadCount, RunGivesTheSamePolicyOnOneTwoAndThreeThreads) {
  test::TempDir dir("thread_count");
  // batch 300 (three row blocks) and 256-wide layers, so that blocks go to other threads
  const std::vector<std::string> shape = {"sac.batch_size=300", "sac.hidden=[256,256]"};
  std::map<std::string, std::vector<uint8_t>> policies[3];
  for (int threads = 1; threads <= 3; ++threads) {
    std::vector<std::string> extra = shape;
    extra.push_back("train.threads=" + std::to_string(threads));
    std::string run = dir.path() + "/t" + std::to_string(threads);
    auto [code, out] = test::run_sac(test::cli_train(run, 600, extra), run + ".log");
    ASSERT_EQ(code, 0) << out;
    policies[threads - 1] = policy_bits(run);
  }
  EXPECT_TRUE(policies[0] == policies[1]) << "2 threads give another policy than 1";
  EXPECT_TRUE(policies[0] == policies[2]) << "3 threads give another policy than 1";
}

TEST(ThreadCount, ResumeOnAnotherThreadCountIsByteIdentical) {
  test::TempDir dir("thread_count_resume");
  const std::vector<std::string> shape = {"sac.batch_size=300", "sac.hidden=[256,256]",
                                          "train.checkpoint_every=400"};
  std::vector<std::string> one = shape;
  one.push_back("train.threads=1");
  // straight through on one thread
  std::string straight = dir.path() + "/straight";
  auto [code, out] = test::run_sac(test::cli_train(straight, 700, one), straight + ".log");
  ASSERT_EQ(code, 0) << out;
  // stopped at 400 on one thread, resumed to 700 on three
  std::string resumed = dir.path() + "/resumed";
  std::tie(code, out) = test::run_sac(test::cli_train(resumed, 400, one), resumed + ".1.log");
  ASSERT_EQ(code, 0) << out;
  std::tie(code, out) = test::run_sac({"train", "--quiet", "--resume", resumed, "--set",
                                       "train.total_steps=700", "--set", "train.threads=3"},
                                      resumed + ".2.log");
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(policy_bits(straight) == policy_bits(resumed))
      << "resumed on 3 threads, the policy differs from the run on 1";
}

}  // namespace
}  // namespace sac
