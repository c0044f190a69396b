// cublas.cpp (CUDA simulator): cuBLAS's strided-batched SGEMM over OpenBLAS, and cuBLASLt's
// refusal of every plan (cublasLt.h says why it is not simulated).
//
// cublasSgemmStridedBatched as documented (cuBLAS Library, "Data Layout" and
// cublas<t>gemmStridedBatched): column-major storage; op(A) is m x k, op(B) k x n, C m x n; lda
// is the leading dimension of A as stored (at least max(1, m) for op N, max(1, k) for op T),
// likewise ldb and ldc; member i uses A + i * stride_a (a stride of 0 repeats one matrix);
// CUBLAS_STATUS_INVALID_VALUE for negative sizes or too small leading dimensions. With the
// host pointer mode alpha and beta are read at the call (so a captured graph keeps the values
// of capture time); with beta 0, C is not read. The GEMM is device work queued on the handle's
// stream; every element it will touch is checked against the device allocations at the call,
// so a wrong leading dimension or stride that reaches outside an operand fails at once, naming
// the operand. In TF32 math mode (CUBLAS_TF32_TENSOR_OP_MATH) A and B are rounded to TF32 (10
// mantissa bits, to nearest) before the multiply, accumulation in FP32, as tensor cores do.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cublasLt.h"
#include "sim.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
  cublasAtomicsMode_t atomics = CUBLAS_ATOMICS_NOT_ALLOWED;
};
struct cublasLtContext {};
struct cublasLtMatmulDescOpaque {};
struct cublasLtMatrixLayoutOpaque {};
struct cublasLtMatmulPreferenceOpaque {};

namespace {

using namespace cudasim;

float round_to_tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0x1000u) & 0xFFFFE000u;  // finite: 10 bits
  std::memcpy(&x, &u, sizeof u);
  return x;
}

// the floats a stored rows x cols matrix with leading dimension ld spans
size_t extent(int rows, int cols, int ld) {
  return rows == 0 || cols == 0 ? 0 : (size_t)(cols - 1) * ld + rows;
}

void check_operand(const char* name, const float* base, long long stride, int batch,
                   size_t floats, const std::string& shape) {
  if (floats == 0) return;
  for (int i = 0; i < batch; ++i) {
    std::string why = check_device_range(base + i * stride, floats * sizeof(float));
    if (!why.empty())
      fatal("cublasSgemmStridedBatched(" + shape + "): operand " + name + " of batch member " +
            std::to_string(i) + ": " + why);
  }
}

CBLAS_TRANSPOSE cblas_op(cublasOperation_t op) { return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans; }

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  // as documented: setting the stream resets the workspace to cuBLAS's own pool
  handle->workspace = nullptr;
  handle->workspace_bytes = 0;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle || !stream) return CUBLAS_STATUS_NOT_INITIALIZED;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, size_t bytes) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  DeviceLock lock(device_mutex());
  if (bytes > 0 && !check_device_range(workspace, bytes).empty())
    return CUBLAS_STATUS_INVALID_VALUE;
  handle->workspace = workspace;
  handle->workspace_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (!handle || !mode) return CUBLAS_STATUS_NOT_INITIALIZED;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetAtomicsMode(cublasHandle_t handle, cublasAtomicsMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->atomics = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) { return cublasGetStatusName(status); }

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t op_a,
                                         cublasOperation_t op_b, int m, int n, int k,
                                         const float* alpha, const float* A, int lda,
                                         long long stride_a, const float* B, int ldb,
                                         long long stride_b, const float* beta, float* C, int ldc,
                                         long long stride_c, int batch) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  DeviceLock lock(device_mutex());
  const int rows_a = op_a == CUBLAS_OP_N ? m : k, cols_a = op_a == CUBLAS_OP_N ? k : m;
  const int rows_b = op_b == CUBLAS_OP_N ? k : n, cols_b = op_b == CUBLAS_OP_N ? n : k;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || lda < std::max(1, rows_a) ||
      ldb < std::max(1, rows_b) || ldc < std::max(1, m) || !alpha || !beta) {
    report("cublasSgemmStridedBatched",
           "negative size or too small leading dimension (CUBLAS_STATUS_INVALID_VALUE)");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  if (handle->pointer_mode != CUBLAS_POINTER_MODE_HOST) return CUBLAS_STATUS_NOT_SUPPORTED;
  const float a_scale = *alpha, b_scale = *beta;  // read at the call
  std::string shape = "m=" + std::to_string(m) + " n=" + std::to_string(n) +
                      " k=" + std::to_string(k) + " lda=" + std::to_string(lda) +
                      " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc) +
                      " batch=" + std::to_string(batch);
  const size_t a_floats = k == 0 ? 0 : extent(rows_a, cols_a, lda);
  const size_t b_floats = k == 0 ? 0 : extent(rows_b, cols_b, ldb);
  const size_t c_floats = extent(m, n, ldc);
  check_operand("A", A, stride_a, batch, a_floats, shape);
  check_operand("B", B, stride_b, batch, b_floats, shape);
  check_operand("C", C, stride_c, batch, c_floats, shape);
  const bool tf32 = handle->math == CUBLAS_TF32_TENSOR_OP_MATH;
  auto run = [=] {
    std::vector<float> a_round, b_round;
    for (int i = 0; i < batch; ++i) {
      const float* a = A + i * stride_a;
      const float* b = B + i * stride_b;
      float* c = C + i * stride_c;
      if (k == 0) {  // no product: C = beta C (beta 0: C is not read)
        for (int col = 0; col < n; ++col)
          for (int row = 0; row < m; ++row) {
            float& x = c[(size_t)col * ldc + row];
            x = b_scale == 0.0f ? 0.0f : b_scale * x;
          }
        continue;
      }
      if (tf32) {
        a_round.assign(a, a + a_floats);
        b_round.assign(b, b + b_floats);
        for (float& x : a_round) x = round_to_tf32(x);
        for (float& x : b_round) x = round_to_tf32(x);
        a = a_round.data();
        b = b_round.data();
      }
      cblas_sgemm(CblasColMajor, cblas_op(op_a), cblas_op(op_b), m, n, k, a_scale, a, lda, b,
                  ldb, b_scale, c, ldc);
    }
  };
  cudaError_t err = enqueue(handle->stream,
                            Work{"cublasSgemmStridedBatched(" + shape + ")", run},
                            "cublasSgemmStridedBatched");
  return err == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b,
                           int m, int n, int k, const float* alpha, const float* A, int lda,
                           const float* B, int ldb, const float* beta, float* C, int ldc) {
  return cublasSgemmStridedBatched(handle, op_a, op_b, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta,
                                   C, ldc, 0, 1);
}

// ---- cuBLASLt: handles and descriptors exist; no plan is ever supported

namespace {
template <typename T>
cublasStatus_t create(T** out) {
  if (!out) return CUBLAS_STATUS_INVALID_VALUE;
  *out = new T;
  return CUBLAS_STATUS_SUCCESS;
}
template <typename T>
cublasStatus_t destroy(T* object) {
  delete object;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t set(const void* object, const void* value) {
  return object && value ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_INVALID_VALUE;
}
}  // namespace

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) { return create(handle); }
cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) { return destroy(handle); }
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc, cublasComputeType_t,
                                        cudaDataType_t) {
  return create(desc);
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) { return destroy(desc); }
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc,
                                              cublasLtMatmulDescAttributes_t, const void* value,
                                              size_t) {
  return set(desc, value);
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType_t, uint64_t,
                                          uint64_t, int64_t) {
  return create(layout);
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) { return destroy(layout); }
cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t layout,
                                                cublasLtMatrixLayoutAttribute_t, const void* value,
                                                size_t) {
  return set(layout, value);
}
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* preference) {
  return create(preference);
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t preference) {
  return destroy(preference);
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t preference,
                                                    cublasLtMatmulPreferenceAttributes_t,
                                                    const void* value, size_t) {
  return set(preference, value);
}
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatmulPreference_t, int,
                                              cublasLtMatmulHeuristicResult_t*, int* found) {
  if (found) *found = 0;
  return CUBLAS_STATUS_NOT_SUPPORTED;
}
cublasStatus_t cublasLtMatmulAlgoConfigGetAttribute(const cublasLtMatmulAlgo_t*,
                                                    cublasLtMatmulAlgoConfigAttributes_t, void*,
                                                    size_t, size_t*) {
  return CUBLAS_STATUS_NOT_SUPPORTED;
}
cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t, const void*, const void*,
                              cublasLtMatrixLayout_t, const void*, cublasLtMatrixLayout_t,
                              const void*, const void*, cublasLtMatrixLayout_t, void*,
                              cublasLtMatrixLayout_t, const cublasLtMatmulAlgo_t*, void*, size_t,
                              cudaStream_t) {
  return CUBLAS_STATUS_NOT_SUPPORTED;
}

// The real build opens cuBLAS on demand (kernels/cublas_on_demand.cpp); here it is in-process.
namespace sac {
std::string cublas_libraries_unavailable_reason() { return ""; }
}  // namespace sac
