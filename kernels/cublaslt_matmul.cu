// cublaslt_matmul.cu: see cublaslt_matmul.h.
#include "cublaslt_matmul.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda_check.h"

namespace sac {

LtMatmul::LtMatmul() { CUBLAS_CHECK(cublasLtCreate(&m_handle)); }

LtMatmul::~LtMatmul() {
  for (auto& [key, plan] : m_plans) destroy(plan);
  if (m_handle) cublasLtDestroy(m_handle);
}

void LtMatmul::destroy(Plan& plan) noexcept {
  if (plan.desc) cublasLtMatmulDescDestroy(plan.desc);
  if (plan.a) cublasLtMatrixLayoutDestroy(plan.a);
  if (plan.b) cublasLtMatrixLayoutDestroy(plan.b);
  if (plan.d) cublasLtMatrixLayoutDestroy(plan.d);
  plan = Plan{};
}

LtMatmul::Plan& LtMatmul::plan(const LtProblem& p, size_t workspace_bytes) {
  // the operands' alignments are part of the key: the algorithm is chosen for them
  Key key{(int)p.op_a,        (int)p.op_b,        p.m,          p.n,
          p.k,                p.batch,            (int)p.epilogue, p.stride_a,
          p.stride_b,         p.stride_d,         p.tf32 ? 1 : 0, p.aux_ld,
          p.aux_stride,       (int)pointer_alignment(p.A) * 1000 + (int)pointer_alignment(p.B),
          (int)pointer_alignment(p.D) * 1000 + (int)pointer_alignment(p.bias) * 10 +
              (pointer_alignment(p.aux) >= 16),
          workspace_bytes};
  auto found = m_plans.find(key);
  if (found != m_plans.end()) return found->second;
  Plan& plan = m_plans[key];
  cublasStatus_t status = build(plan, p, workspace_bytes);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED) {
    plan.supported = false;
    plan.why = GemmFallback::kNotSupported;
  } else if (status != CUBLAS_STATUS_SUCCESS) {
    // not a "no": a real failure (the half-built plan goes; the next call tries again)
    destroy(plan);
    m_plans.erase(key);
    plan_failed(status);
  }
  return plan;
}

void LtMatmul::plan_failed(cublasStatus_t status) {
  throw std::runtime_error(std::string("cuBLASLt: planning a GEMM failed: ") +
                           cublasGetStatusString(status));
}

cublasStatus_t LtMatmul::build(Plan& plan, const LtProblem& p, size_t workspace_bytes) {
  // the first failing status is the answer (a call after it may still run: harmless, and the
  // plan is then destroyed or marked unsupported as a whole)
  cublasStatus_t s = CUBLAS_STATUS_SUCCESS;
  auto call = [&s](cublasStatus_t r) {
    if (s == CUBLAS_STATUS_SUCCESS) s = r;
    return s == CUBLAS_STATUS_SUCCESS;
  };
  cublasComputeType_t compute = p.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  if (!call(cublasLtMatmulDescCreate(&plan.desc, compute, CUDA_R_32F))) return s;
  call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &p.op_a,
                                      sizeof(p.op_a)));
  call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &p.op_b,
                                      sizeof(p.op_b)));
  call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &p.epilogue,
                                      sizeof(p.epilogue)));
  // the real bias and aux pointers before the heuristic: it reads their alignment from them
  if (p.bias) {
    call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias,
                                        sizeof(p.bias)));
    int64_t stride = p.bias_stride;
    call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE,
                                        &stride, sizeof(stride)));
  }
  if (p.aux) {
    call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
                                        &p.aux, sizeof(p.aux)));
    int64_t ld = p.aux_ld, stride = p.aux_stride;
    call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &ld,
                                        sizeof(ld)));
    call(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE,
                                        &stride, sizeof(stride)));
  }

  auto layout = [&](cublasLtMatrixLayout_t* l, int rows, int cols, int ld, long long stride) {
    if (!call(cublasLtMatrixLayoutCreate(l, CUDA_R_32F, rows, cols, ld))) return;
    int32_t count = p.batch;
    int64_t offset = stride;
    call(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                          sizeof(count)));
    call(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                          &offset, sizeof(offset)));
  };
  // stored shapes: op(A) is m x k, op(B) is k x n
  bool ta = p.op_a != CUBLAS_OP_N, tb = p.op_b != CUBLAS_OP_N;
  layout(&plan.a, ta ? p.k : p.m, ta ? p.m : p.k, p.lda, p.stride_a);
  layout(&plan.b, tb ? p.n : p.k, tb ? p.k : p.n, p.ldb, p.stride_b);
  layout(&plan.d, p.m, p.n, p.ldd, p.stride_d);
  if (s != CUBLAS_STATUS_SUCCESS) return s;

  cublasLtMatmulPreference_t pref = nullptr;
  if (!call(cublasLtMatmulPreferenceCreate(&pref))) return s;
  uint64_t ws = workspace_bytes;
  call(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                            sizeof(ws)));
  // the operands' real alignment: the default (256 bytes) would make the heuristic refuse, or
  // pick algorithms that refuse, the minibatch slices that start mid-buffer (C is D here)
  const uint32_t align_a = pointer_alignment(p.A), align_b = pointer_alignment(p.B),
                 align_d = pointer_alignment(p.D);
  call(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                            &align_a, sizeof(align_a)));
  call(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                            &align_b, sizeof(align_b)));
  call(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                            &align_d, sizeof(align_d)));
  call(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                            &align_d, sizeof(align_d)));
  // Determinism: the reduction-scheme mask keeps its default (restricting it to NONE can leave
  // the heuristic no algorithm at all, and every GEMM would silently fall back); instead ask for
  // several algorithms and take the first without split-K, whose partial sums would be reduced
  // in an order the library picks (choose_lt_algorithm)
  cublasLtMatmulHeuristicResult_t results[kHeuristicResults] = {};
  int found_count = 0;
  if (s == CUBLAS_STATUS_SUCCESS) {
    cublasStatus_t h = cublasLtMatmulAlgoGetHeuristic(m_handle, plan.desc, plan.a, plan.b,
                                                      plan.d, plan.d, pref, kHeuristicResults,
                                                      results, &found_count);
    cublasLtMatmulPreferenceDestroy(pref);
    int32_t split_k[kHeuristicResults] = {};
    for (int i = 0; h == CUBLAS_STATUS_SUCCESS && i < found_count; ++i) {
      split_k[i] = 1;
      size_t written = 0;
      // an algorithm whose split-K count cannot be read is taken as split (never chosen)
      if (cublasLtMatmulAlgoConfigGetAttribute(&results[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
                                               &split_k[i], sizeof(split_k[i]),
                                               &written) != CUBLAS_STATUS_SUCCESS ||
          results[i].state != CUBLAS_STATUS_SUCCESS)
        split_k[i] = INT32_MAX;
    }
    HeuristicStatus hs = h == CUBLAS_STATUS_SUCCESS       ? HeuristicStatus::kSuccess
                         : h == CUBLAS_STATUS_NOT_SUPPORTED ? HeuristicStatus::kNotSupported
                                                            : HeuristicStatus::kFailed;
    LtChoice choice = choose_lt_algorithm(hs, split_k, found_count);
    plan.supported = choice.index >= 0;
    plan.why = choice.why;
    if (plan.supported) plan.algo = results[choice.index].algo;
    return CUBLAS_STATUS_SUCCESS;
  }
  cublasLtMatmulPreferenceDestroy(pref);
  return s;
}

bool LtMatmul::run(const LtProblem& p, cudaStream_t stream, void* workspace,
                   size_t workspace_bytes, GemmFallback* why) {
  Plan& pl = plan(p, workspace_bytes);
  if (!pl.supported) {
    *why = pl.why;
    return false;
  }
  // this call's pointers (the plan was chosen for pointers of the same alignment)
  if (p.bias)
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                  &p.bias, sizeof(p.bias)));
  if (p.aux)
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
        pl.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &p.aux, sizeof(p.aux)));
  const float one = 1.0f, zero = 0.0f;
  cublasStatus_t status = cublasLtMatmul(m_handle, pl.desc, &one, p.A, pl.a, p.B, pl.b, &zero,
                                         p.D, pl.d, p.D, pl.d, &pl.algo, workspace,
                                         workspace_bytes, stream);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED) {
    // declined at launch (nothing ran): this plan takes the fallback from now on
    pl.supported = false;
    pl.why = *why = GemmFallback::kNotSupportedAtRun;
    return false;
  }
  CUBLAS_CHECK(status);
  if (cuda_debug_sync()) check_launch("cublasLtMatmul", stream);
  return true;
}

}  // namespace sac
