// cublaslt_matmul.h: strided-batched FP32 GEMMs through cuBLASLt with a fused epilogue (bias,
// bias + ReLU with its bit-mask, ReLU gradient from that mask, bias gradient), so a linear
// layer's forward or either backward GEMM is one launch. Column-major, as cuBLAS: the caller
// (linear.cu) maps its row-major buffers. Every (shape, epilogue, precision, alignment)
// gets its plan once: descriptors, layouts (with the operands' real alignment as the
// MIN_ALIGNMENT preferences) and the heuristic's first algorithm without split-K, so results are
// run-to-run deterministic (gemm_plan.h: choose_lt_algorithm). When cuBLASLt declines a problem
// (NOT_SUPPORTED while planning or at run time, no usable algorithm), run() returns false with
// the reason and the caller falls back to cuBLAS plus its own kernels.
// Only .cu files include this header (it pulls in cublasLt.h).
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <tuple>

#include "gemm_plan.h"

namespace sac {

/// D[i] = op_a(A[i]) op_b(B[i]) for i < batch, then the epilogue (alpha 1, beta 0).
struct LtProblem {
  cublasOperation_t op_a = CUBLAS_OP_N, op_b = CUBLAS_OP_N;
  int m = 0, n = 0, k = 0, batch = 1;
  const float* A = nullptr;
  int lda = 0;
  long long stride_a = 0;
  const float* B = nullptr;
  int ldb = 0;
  long long stride_b = 0;
  float* D = nullptr;
  int ldd = 0;
  long long stride_d = 0;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  void* bias = nullptr;  // bias (input) or bias gradient (output), per batch bias_stride apart
  long long bias_stride = 0;
  void* aux = nullptr;  // the ReLU bit-mask, aux_ld bits per column, aux_stride bits per batch
  long long aux_ld = 0, aux_stride = 0;
  bool tf32 = false;
};

class LtMatmul {
 public:
  /// Throws std::runtime_error when the cuBLASLt handle cannot be created.
  LtMatmul();
  ~LtMatmul();
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;

  /// Runs `p` on `stream` with `workspace` (the lane's own); false when cuBLASLt declines it
  /// (nothing was launched), with the reason in `why`. A plan declined at run time
  /// (NOT_SUPPORTED from cublasLtMatmul) stays declined. Throws when a launch fails otherwise.
  bool run(const LtProblem& p, cudaStream_t stream, void* workspace, size_t workspace_bytes,
           GemmFallback* why);

 private:
  struct Plan {
    bool supported = false;
    GemmFallback why = GemmFallback::kNoAlgorithm;  // when not supported
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  using Key = std::tuple<int, int, int, int, int, int, int, long long, long long, long long, int,
                         long long, long long, int, int, size_t>;
  Plan& plan(const LtProblem& p, size_t workspace_bytes);
  // builds `plan`'s descriptors and picks its algorithm; the first failing status
  cublasStatus_t build(Plan& plan, const LtProblem& p, size_t workspace_bytes);
  [[noreturn]] static void plan_failed(cublasStatus_t status);
  static void destroy(Plan& plan) noexcept;
  // algorithms asked of the heuristic (the first without split-K is taken)
  static constexpr int kHeuristicResults = 8;

  cublasLtHandle_t m_handle = nullptr;
  std::map<Key, Plan> m_plans;
};

}  // namespace sac
