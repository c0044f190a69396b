// test_matmul_precision.cpp: sac.matmul_precision belongs to the agent, not to the backend. Two
// agents on one backend, one in TF32 and one in FP32, each have every GEMM of their updates
// (eager and recorded) and of their acting issued in their own precision, whichever agent was
// built last or ran last; ops issued outside any agent keep the backend's default. Checked on
// the CPU with a backend that notes the precision each GEMM is issued with (the CPU computes
// FP32 either way; the CUDA backend sets its cuBLAS math mode and cuBLASLt compute type from
// the same matmul_precision(), and a graph captured inside an agent's scope keeps it).
// Run: sac_tests --gtest_filter='MatmulPrecision*'
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "agent_state.h"
#include "cpu_backend.h"
#include "sac/agent.h"
#include "sac/backend.h"

namespace sac {
namespace {

// the CPU reference, counting the GEMM launches issued in each precision
class PrecisionRecordingBackend final : public CpuBackend {
 public:
  PrecisionRecordingBackend() : CpuBackend(1) {}
  void linear_forward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                      const float* W, const float* b, float* Y, Activation act,
                      uint32_t* relu_mask) override {
    ++issued[matmul_precision()];
    CpuBackend::linear_forward(E, B, in, out, X, x_member_stride, W, b, Y, act, relu_mask);
  }
  void linear_grad_weights(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                           const float* dZ, float* dW, float* db) override {
    ++issued[matmul_precision()];
    CpuBackend::linear_grad_weights(E, B, in, out, X, x_member_stride, dZ, dW, db);
  }
  void linear_grad_input(int E, int B, int in, int out, const float* dZ, const float* W,
                         Activation x_act, const float* X_relu, const uint32_t* relu_mask,
                         float* dX) override {
    ++issued[matmul_precision()];
    CpuBackend::linear_grad_input(E, B, in, out, dZ, W, x_act, X_relu, relu_mask, dX);
  }

  // GEMMs issued since the last take(), by precision
  std::map<MatmulPrecision, int> take() {
    std::map<MatmulPrecision, int> t;
    t.swap(issued);
    return t;
  }

 private:
  std::map<MatmulPrecision, int> issued;
};

std::string describe(const std::map<MatmulPrecision, int>& m) {
  auto get = [&](MatmulPrecision p) { return m.count(p) ? m.at(p) : 0; };
  return "fp32 " + std::to_string(get(MatmulPrecision::kFp32)) + ", tf32 " +
         std::to_string(get(MatmulPrecision::kTf32));
}

// every GEMM since the last take() in `want`, and at least one
void expect_all(PrecisionRecordingBackend& be, MatmulPrecision want, const std::string& what) {
  std::map<MatmulPrecision, int> got = be.take();
  EXPECT_EQ(got.size(), 1u) << what << ": " << describe(got);
  EXPECT_GT(got[want], 0) << what << ": " << describe(got);
}

TEST(MatmulPrecision, TwoAgentsOnOneBackendEachUseTheirOwn) {
  PrecisionRecordingBackend be;
  AgentSpec tf32_spec = test::half_cheetah_spec(1), fp32_spec = test::half_cheetah_spec(2);
  tf32_spec.hidden = fp32_spec.hidden = {32, 32};
  tf32_spec.batch_size = fp32_spec.batch_size = 16;
  tf32_spec.matmul_precision = MatmulPrecision::kTf32;
  fp32_spec.matmul_precision = MatmulPrecision::kFp32;
  auto replay = test::filled_replay(be, tf32_spec, 200, 3);
  DeviceArray<float> obs(be, (size_t)tf32_spec.obs_dim), actions(be, (size_t)tf32_spec.act_dim);

  Agent tf32(be, tf32_spec);
  Agent fp32(be, fp32_spec);  // built last: it must not change the first agent's precision
  be.take();
  tf32.update(*replay, 1);  // eager
  expect_all(be, MatmulPrecision::kTf32, "the TF32 agent's first update");
  fp32.update(*replay, 1);
  expect_all(be, MatmulPrecision::kFp32, "the FP32 agent's first update");
  tf32.update(*replay, 3);  // recorded, then replayed
  expect_all(be, MatmulPrecision::kTf32, "the TF32 agent's recorded updates");
  fp32.update(*replay, 3);
  expect_all(be, MatmulPrecision::kFp32, "the FP32 agent's recorded updates");
  tf32.update(*replay, 3);  // a replay after the other agent ran
  expect_all(be, MatmulPrecision::kTf32, "the TF32 agent's replayed updates");
  tf32.act(1, obs.data(), false, actions.data());
  expect_all(be, MatmulPrecision::kTf32, "the TF32 agent's acting");
  fp32.act(1, obs.data(), true, actions.data());
  expect_all(be, MatmulPrecision::kFp32, "the FP32 agent's acting");

  // outside any agent: the backend's default, which no agent changed
  EXPECT_EQ(be.matmul_precision(), MatmulPrecision::kFp32);
  {
    Backend::MatmulPrecisionScope scope(MatmulPrecision::kTf32);
    EXPECT_EQ(be.matmul_precision(), MatmulPrecision::kTf32);
    {
      Backend::MatmulPrecisionScope inner(MatmulPrecision::kFp32);
      EXPECT_EQ(be.matmul_precision(), MatmulPrecision::kFp32);
    }
    EXPECT_EQ(be.matmul_precision(), MatmulPrecision::kTf32);
  }
  EXPECT_EQ(be.matmul_precision(), MatmulPrecision::kFp32);
  be.set_matmul_precision(MatmulPrecision::kTf32);
  EXPECT_EQ(be.matmul_precision(), MatmulPrecision::kTf32);
  fp32.update(*replay, 1);  // the agent's own wins over the backend's default
  expect_all(be, MatmulPrecision::kFp32, "the FP32 agent on a TF32-default backend");
}

}  // namespace
}  // namespace sac
