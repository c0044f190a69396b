// test_gemm_plan.cpp: the plain decisions behind the CUDA backend's GEMMs (kernels/gemm_plan.h),
// on the CPU: the alignment cuBLASLt is told for an operand, the choice among the heuristic's
// algorithms (the first without split-K), the per-process GEMM path counts, and the ReLU-mask
// registry (entries forgotten on release; a mask no forward was given is refused). Then the
// operands every task's update hands its GEMMs at batches 1, 7, 50 and 256, on a CPU backend
// whose allocations are 256-byte aligned as cudaMalloc's are: many are not 256-byte aligned
// (so cuBLASLt's default MIN_ALIGNMENT of 256 bytes would refuse them), none is below an FP32
// element's 4 bytes, and the preference the plan sets is exactly what each pointer has. What
// cuBLASLt then does with them is the GPU campaign's (tests/test_gemm_conformance.cpp).
// Run: sac_tests --gtest_filter='GemmPlan*'
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent_state.h"
#include "cpu_backend.h"
#include "gemm_plan.h"
#include "sac/agent.h"
#include "sac/env.h"
#include "sac/replay_buffer.h"

namespace sac {
namespace {

TEST(GemmPlan, PointerAlignmentIsTheLargestPowerOfTwoUpTo256) {
  alignas(256) static char block[1024];
  EXPECT_EQ(pointer_alignment(block), 256u);
  EXPECT_EQ(pointer_alignment(block + 512), 256u);  // never above 256
  EXPECT_EQ(pointer_alignment(block + 4), 4u);
  EXPECT_EQ(pointer_alignment(block + 8), 8u);
  EXPECT_EQ(pointer_alignment(block + 12), 4u);
  EXPECT_EQ(pointer_alignment(block + 16), 16u);
  EXPECT_EQ(pointer_alignment(block + 128), 128u);
  EXPECT_EQ(pointer_alignment(block + 2200), 8u);  // Hopper's s' at batch 50: 2 x 50 x 11 floats
  EXPECT_EQ(pointer_alignment(block + 1), 1u);
  EXPECT_EQ(pointer_alignment(nullptr), 256u);  // an absent operand constrains nothing
}

TEST(GemmPlan, TheFirstAlgorithmWithoutSplitKIsChosen) {
  const int32_t none[] = {1, 1, 4};
  LtChoice c = choose_lt_algorithm(HeuristicStatus::kSuccess, none, 3);
  EXPECT_EQ(c.index, 0);  // the heuristic's best, when it does not split K
  const int32_t split_first[] = {4, 2, 1, 1};
  c = choose_lt_algorithm(HeuristicStatus::kSuccess, split_first, 4);
  EXPECT_EQ(c.index, 2);
  const int32_t zero_is_unsplit[] = {0};
  EXPECT_EQ(choose_lt_algorithm(HeuristicStatus::kSuccess, zero_is_unsplit, 1).index, 0);
  const int32_t all_split[] = {2, 8, 16};
  c = choose_lt_algorithm(HeuristicStatus::kSuccess, all_split, 3);
  EXPECT_EQ(c.index, -1);
  EXPECT_EQ(c.why, GemmFallback::kOnlySplitK);
  c = choose_lt_algorithm(HeuristicStatus::kSuccess, nullptr, 0);
  EXPECT_EQ(c.index, -1);
  EXPECT_EQ(c.why, GemmFallback::kNoAlgorithm);
  c = choose_lt_algorithm(HeuristicStatus::kNotSupported, none, 3);
  EXPECT_EQ(c.index, -1);
  EXPECT_EQ(c.why, GemmFallback::kNotSupported);
  c = choose_lt_algorithm(HeuristicStatus::kFailed, none, 3);
  EXPECT_EQ(c.index, -1);
  EXPECT_EQ(c.why, GemmFallback::kNoAlgorithm);
}

TEST(GemmPlan, PathCountsCountEachEpilogueAndReasonAndReset) {
  reset_cuda_gemm_path_counts();
  EXPECT_EQ(cuda_gemm_path_counts().lt_total(), 0);
  EXPECT_EQ(cuda_gemm_path_counts().fallback_total(), 0);
  count_lt_gemm(LtEpilogue::kReluAuxBias);
  count_lt_gemm(LtEpilogue::kReluAuxBias);
  count_lt_gemm(LtEpilogue::kBgradB);
  count_fallback_gemm(GemmFallback::kNotSupported);
  GemmPathCounts c = cuda_gemm_path_counts();
  EXPECT_EQ(c.lt[(int)LtEpilogue::kReluAuxBias], 2);
  EXPECT_EQ(c.lt[(int)LtEpilogue::kBgradB], 1);
  EXPECT_EQ(c.lt_total(), 3);
  EXPECT_EQ(c.fallback[(int)GemmFallback::kNotSupported], 1);
  EXPECT_EQ(c.fallback_total(), 1);
  EXPECT_EQ(c.json(),
            "{\"cublaslt\":{\"relu_aux_bias\":2,\"bgradb\":1},\"fallback\":{\"not_supported\":1},"
            "\"cublaslt_total\":3,\"fallback_total\":1}");
  reset_cuda_gemm_path_counts();
  EXPECT_EQ(cuda_gemm_path_counts().json(),
            "{\"cublaslt\":{},\"fallback\":{},\"cublaslt_total\":0,\"fallback_total\":0}");
}

TEST(GemmPlan, ReluMaskRegistryRefusesMasksNoForwardWasGiven) {
  alignas(256) static uint32_t buffer[256];
  ReluMaskRegistry r;
  const void* a = buffer;
  const void* b = buffer + 64;
  EXPECT_EQ(r.use(nullptr, "op"), ReluMaskRegistry::Use::kFromInput);
  EXPECT_THROW(r.use(a, "op"), std::invalid_argument);  // never given to a forward
  r.forward(a, true);                                   // the epilogue wrote it
  r.forward(b, false);                                  // the forward took the fallback: no bits
  EXPECT_EQ(r.use(a, "op"), ReluMaskRegistry::Use::kEpilogue);
  EXPECT_EQ(r.use(b, "op"), ReluMaskRegistry::Use::kFromInput);
  r.forward(a, false);  // a later forward that fell back: the old bits are stale
  EXPECT_EQ(r.use(a, "op"), ReluMaskRegistry::Use::kFromInput);
  r.forward(a, true);
  // releasing the buffer of b forgets b only; a new buffer at a's address starts unknown
  r.released(b, 64 * sizeof(uint32_t));
  EXPECT_EQ(r.size(), 1u);
  EXPECT_THROW(r.use(b, "op"), std::invalid_argument);
  EXPECT_EQ(r.use(a, "op"), ReluMaskRegistry::Use::kEpilogue);
  r.released(a, 1);
  EXPECT_THROW(r.use(a, "op"), std::invalid_argument);
  // a mask inside a released buffer goes with it
  r.forward(buffer + 8, true);
  r.released(buffer, sizeof buffer);
  EXPECT_EQ(r.size(), 0u);
  try {
    r.use(buffer + 8, "linear_grad_input");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("linear_grad_input"), std::string::npos) << e.what();
  }
}

// The CPU reference with cudaMalloc's 256-byte alignment, noting the alignment of every GEMM
// operand it is handed (A, B and D of the cuBLASLt problem: W, X, Y and their gradients).
class AlignmentRecordingBackend final : public CpuBackend {
 public:
  AlignmentRecordingBackend() : CpuBackend(1) {}
  void* allocate(size_t bytes) override {
    size_t rounded = (bytes + 255) / 256 * 256;
    void* p = std::aligned_alloc(256, rounded ? rounded : 256);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, rounded ? rounded : 256);
    return p;
  }
  void release(void* ptr) override { std::free(ptr); }
  void linear_forward(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                      const float* W, const float* b, float* Y, Activation act,
                      uint32_t* relu_mask) override {
    note("forward", {X, W, Y});
    CpuBackend::linear_forward(E, B, in, out, X, x_member_stride, W, b, Y, act, relu_mask);
  }
  void linear_grad_weights(int E, int B, int in, int out, const float* X, size_t x_member_stride,
                           const float* dZ, float* dW, float* db) override {
    note("grad_weights", {X, dZ, dW});
    CpuBackend::linear_grad_weights(E, B, in, out, X, x_member_stride, dZ, dW, db);
  }
  void linear_grad_input(int E, int B, int in, int out, const float* dZ, const float* W,
                         Activation x_act, const float* X_relu, const uint32_t* relu_mask,
                         float* dX) override {
    note("grad_input", {dZ, W, dX});
    CpuBackend::linear_grad_input(E, B, in, out, dZ, W, x_act, X_relu, relu_mask, dX);
  }

  // per GEMM kind: how many operands had each alignment
  std::map<std::string, std::map<uint32_t, int>> seen;

 private:
  void note(const char* kind, std::initializer_list<const void*> operands) {
    for (const void* p : operands) {
      const uint32_t a = pointer_alignment(p);
      // what the plan tells cuBLASLt divides the address (so it never over-promises)
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % a, 0u) << kind;
      ++seen[kind][a];
    }
  }
};

TEST(GemmPlan, EveryTasksUpdateOperandsAtBatches1_7_50_256) {
  bool below_256 = false;
  for (const std::string& id : env_ids()) {
    std::unique_ptr<Env> env = make_env(id);
    for (int batch : {1, 7, 50, 256}) {
      SCOPED_TRACE(id + " batch " + std::to_string(batch));
      AlignmentRecordingBackend be;
      AgentSpec spec = test::half_cheetah_spec(1);
      spec.obs_dim = env->spec().obs_dim;
      spec.act_dim = env->spec().act_dim;
      spec.target_entropy = -(float)spec.act_dim;
      spec.batch_size = batch;
      auto replay = test::filled_replay(be, spec, 300, 5);
      Agent agent(be, spec);
      agent.update(*replay, 1);
      ASSERT_FALSE(be.seen.empty());
      for (const auto& [kind, counts] : be.seen)
        for (const auto& [alignment, n] : counts) {
          // an FP32 operand is at least 4-byte aligned (cuBLASLt's floor for CUDA_R_32F)
          EXPECT_GE(alignment, 4u)
              << kind << ": " << n << " operands " << alignment << "-byte aligned";
          below_256 |= alignment < 256;
        }
      // Hopper at batch 50 puts s' on an 8-byte boundary: the default preference would not hold
      if (id == "Hopper-v5" && batch == 50) EXPECT_GT(be.seen["forward"][8], 0);
    }
  }
  EXPECT_TRUE(below_256) << "every operand 256-byte aligned: the preferences would not matter";
}

}  // namespace
}  // namespace sac
