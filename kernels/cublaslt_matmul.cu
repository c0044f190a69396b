// cublaslt_matmul.cu: see cublaslt_matmul.h.
#include "cublaslt_matmul.h"

#include <stdexcept>
#include <string>

#include "cuda_check.h"

namespace sac {

LtMatmul::LtMatmul() { CUBLAS_CHECK(cublasLtCreate(&m_handle)); }

LtMatmul::~LtMatmul() {
  for (auto& [key, plan] : m_plans) {
    if (plan.desc) cublasLtMatmulDescDestroy(plan.desc);
    if (plan.a) cublasLtMatrixLayoutDestroy(plan.a);
    if (plan.b) cublasLtMatrixLayoutDestroy(plan.b);
    if (plan.d) cublasLtMatrixLayoutDestroy(plan.d);
  }
  if (m_handle) cublasLtDestroy(m_handle);
}

// the largest power of two up to 256 that divides the address (the heuristic reads it)
int LtMatmul::alignment(const void* p) {
  auto v = reinterpret_cast<uintptr_t>(p);
  int a = 1;
  while (a < 256 && v % (2 * a) == 0) a *= 2;
  return a;
}

LtMatmul::Plan& LtMatmul::plan(const LtProblem& p, size_t workspace_bytes) {
  Key key{(int)p.op_a,        (int)p.op_b,        p.m,          p.n,
          p.k,                p.batch,            (int)p.epilogue, p.stride_a,
          p.stride_b,         p.stride_d,         p.tf32 ? 1 : 0, p.aux_ld,
          p.aux_stride,       alignment(p.A) * 1000 + alignment(p.B),
          alignment(p.D) * 1000 + alignment(p.bias) * 10 + (alignment(p.aux) >= 16),
          workspace_bytes};
  auto found = m_plans.find(key);
  if (found != m_plans.end()) return found->second;
  Plan& plan = m_plans[key];

  cublasComputeType_t compute = p.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.desc, compute, CUDA_R_32F));
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &p.op_a,
                                                sizeof(p.op_a)));
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &p.op_b,
                                                sizeof(p.op_b)));
  CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                &p.epilogue, sizeof(p.epilogue)));
  if (p.bias) {
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                  &p.bias, sizeof(p.bias)));
    int64_t stride = p.bias_stride;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
        plan.desc, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE, &stride, sizeof(stride)));
  }
  if (p.aux) {
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
        plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &p.aux, sizeof(p.aux)));
    int64_t ld = p.aux_ld, stride = p.aux_stride;
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD,
                                                  &ld, sizeof(ld)));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
        plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE, &stride, sizeof(stride)));
  }

  auto layout = [&](cublasLtMatrixLayout_t* l, int rows, int cols, int ld, long long stride) {
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(l, CUDA_R_32F, rows, cols, ld));
    int32_t count = p.batch;
    int64_t offset = stride;
    CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                                    sizeof(count)));
    CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(
        *l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &offset, sizeof(offset)));
  };
  // stored shapes: op(A) is m x k, op(B) is k x n
  bool ta = p.op_a != CUBLAS_OP_N, tb = p.op_b != CUBLAS_OP_N;
  layout(&plan.a, ta ? p.k : p.m, ta ? p.m : p.k, p.lda, p.stride_a);
  layout(&plan.b, tb ? p.n : p.k, tb ? p.k : p.n, p.ldb, p.stride_b);
  layout(&plan.d, p.m, p.n, p.ldd, p.stride_d);

  cublasLtMatmulPreference_t pref = nullptr;
  CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  uint64_t ws = workspace_bytes;
  // no split-K reduction: the same inputs give the same bits
  uint32_t reduction = CUBLASLT_REDUCTION_SCHEME_NONE;
  cublasLtMatmulHeuristicResult_t result{};
  int found_count = 0;
  cublasStatus_t status =
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                           sizeof(ws));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &reduction, sizeof(reduction));
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmulAlgoGetHeuristic(m_handle, plan.desc, plan.a, plan.b, plan.d, plan.d,
                                            pref, 1, &result, &found_count);
  cublasLtMatmulPreferenceDestroy(pref);
  plan.supported = status == CUBLAS_STATUS_SUCCESS && found_count > 0;
  if (plan.supported) plan.algo = result.algo;
  return plan;
}

bool LtMatmul::run(const LtProblem& p, cudaStream_t stream, void* workspace,
                   size_t workspace_bytes) {
  Plan& pl = plan(p, workspace_bytes);
  if (!pl.supported) return false;
  // this call's pointers (the plan was chosen for pointers of the same alignment)
  if (p.bias)
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pl.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                  &p.bias, sizeof(p.bias)));
  if (p.aux)
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
        pl.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &p.aux, sizeof(p.aux)));
  const float one = 1.0f, zero = 0.0f;
  CUBLAS_CHECK(cublasLtMatmul(m_handle, pl.desc, &one, p.A, pl.a, p.B, pl.b, &zero, p.D, pl.d,
                                p.D, pl.d, &pl.algo, workspace, workspace_bytes, stream));
  if (cuda_debug_sync()) check_launch("cublasLtMatmul", stream);
  return true;
}

}  // namespace sac
