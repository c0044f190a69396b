// linear.cu: the CUDA launchers of the linear layer (see linear.h) and the kernels of their
// cuBLAS fallback. GEMMs are strided-batched (one call covers all E members), through cuBLASLt
// with a fused epilogue where it supports the problem (cublaslt_matmul.h), else plain cuBLAS
// followed by bias_activation_kernel / relu_grad_kernel / bias_grad_kernel.
//
// Determinism: the bias gradient is reduced along a fixed tree (no float atomics); cuBLAS SGEMM
// is run-to-run deterministic on one GPU model and toolkit (atomics mode off, the lane's own
// workspace). Tests: sac_tests --gtest_filter='*Linear*:*ConcatColumns*' (skip without a GPU).
#include "linear.h"

#include <climits>
#include <string>

#include "cuda_check.h"

namespace sac {
namespace {

// tile of the bias-gradient reduction: 32 columns (one warp, coalesced) x 8 row phases
constexpr int kBiasCols = 32;
constexpr int kBiasRows = 8;

// ---------------------------------------------------------------------------------------------
// kernels: count first, then scalars, then pointers (inputs const), then the bounds guard

// z = y + b[e], then the activation, in place on the GEMM output (rows of `out` columns)
template <bool RELU>
__global__ void bias_activation_kernel(size_t n, int out, size_t member_size,
                                       const float* __restrict__ b, float* __restrict__ Y) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t e = i / member_size;
  int o = (int)(i % (size_t)out);
  float z = Y[i] + b[e * out + o];
  Y[i] = (RELU && z < 0.0f) ? 0.0f : z;
}

// ReLU gradient mask, in place: dY = 0 where the forward output was clamped (Y <= 0)
__global__ void relu_grad_kernel(size_t n, const float* __restrict__ Y, float* __restrict__ dY) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (Y[i] <= 0.0f) dY[i] = 0.0f;
}

// db[e][o] = sum_r dZ[e][r][o]. One block per (32-column tile, member): thread (x, y) sums rows
// y, y + 8, ... of column x in order, then the 8 partial sums meet in a fixed tree.
__global__ void bias_grad_kernel(int B, int out, const float* __restrict__ dZ,
                                 float* __restrict__ db) {
  __shared__ float partial[kBiasRows][kBiasCols + 1];
  int tx = threadIdx.x, ty = threadIdx.y;
  int o = blockIdx.x * kBiasCols + tx;
  size_t e = blockIdx.y;
  const float* dz = dZ + e * (size_t)B * out;
  float sum = 0.0f;
  if (o < out)
    for (int r = ty; r < B; r += kBiasRows) sum += dz[(size_t)r * out + o];
  partial[ty][tx] = sum;
  __syncthreads();
  for (int stride = kBiasRows / 2; stride > 0; stride >>= 1) {
    if (ty < stride) partial[ty][tx] += partial[ty + stride][tx];
    __syncthreads();
  }
  if (ty == 0 && o < out) db[e * out + o] = partial[0][tx];
}

// out[r] = [a[r], b[r]]
__global__ void concat_columns_kernel(size_t n, int na, int nb, const float* __restrict__ a,
                                      const float* __restrict__ b, float* __restrict__ out) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  size_t width = (size_t)na + nb;
  size_t r = i / width;
  int c = (int)(i % width);
  out[i] = c < na ? a[r * na + c] : b[r * nb + (c - na)];
}

// ---------------------------------------------------------------------------------------------
// Row-major and cuBLAS's column-major meet through one fact: a row-major r x c matrix with
// leading dimension c is, read column-major, its c x r transpose. So every row-major product
// P = Q R is computed as the column-major product P^T = R^T Q^T, and each operand's op is N when
// the needed transpose is just the buffer read column-major, T otherwise:
//   forward  Y = X W^T    ->  Y^T (out x B)  = W (T of the in x out buffer W^T) * X^T (N)
//   backward dX = dZ W    ->  dX^T (in x B)  = W^T (N) * dZ^T (N)
//            dW = dZ^T X  ->  dW^T (in x out) = X^T (N) * dZ (T of the out x B buffer dZ^T)
// Member e uses X + e * x_member_stride (stride 0: one input shared by all members),
// W + e * out * in, and its own B x out slice of Y / dZ.

// C = op(A) op(B) for `batch` column-major problems (alpha 1, beta 0), plain cuBLAS: the
// fallback, counted with the reason it was taken
void gemm_batched(const GemmContext& ctx, GemmFallback why, cublasOperation_t op_a,
                  cublasOperation_t op_b, int m, int n, int k, const float* A, int lda,
                  long long stride_a, const float* Bm, int ldb, long long stride_b, float* C,
                  int ldc, long long stride_c, int batch) {
  // host pointer mode: the scalars are read at call time (and baked into a captured graph)
  const float one = 1.0f, zero = 0.0f;
  CUBLAS_CHECK(cublasSgemmStridedBatched(ctx.cublas, op_a, op_b, m, n, k, &one, A, lda, stride_a,
                                         Bm, ldb, stride_b, &zero, C, ldc, stride_c, batch));
  count_fallback_gemm(why);
  if (cuda_debug_sync()) check_launch("cublasSgemmStridedBatched", ctx.stream);
}

LtEpilogue counted_epilogue(cublasLtEpilogue_t e) {
  switch (e) {
    case CUBLASLT_EPILOGUE_BIAS: return LtEpilogue::kBias;
    case CUBLASLT_EPILOGUE_RELU_BIAS: return LtEpilogue::kReluBias;
    case CUBLASLT_EPILOGUE_RELU_AUX_BIAS: return LtEpilogue::kReluAuxBias;
    case CUBLASLT_EPILOGUE_DRELU: return LtEpilogue::kDrelu;
    case CUBLASLT_EPILOGUE_BGRADB: return LtEpilogue::kBgradB;
    default: return LtEpilogue::kDefault;
  }
}

// the same through cuBLASLt with an epilogue, counted; false when cuBLASLt is off or declines
// (nothing launched), with the reason in `why`
bool lt_gemm(const GemmContext& ctx, LtProblem p, GemmFallback* why) {
  if (!ctx.lt) {
    *why = GemmFallback::kLtOff;
    return false;
  }
  p.tf32 = ctx.tf32;
  if (!ctx.lt->run(p, ctx.stream, ctx.workspace, ctx.workspace_bytes, why)) return false;
  count_lt_gemm(counted_epilogue(p.epilogue));
  return true;
}

// db = column sums of dZ (E x B x out), fixed reduction tree
void bias_grad(const GemmContext& ctx, int E, int B, int out, const float* dZ, float* db) {
  dim3 grid((unsigned)((out + kBiasCols - 1) / kBiasCols), (unsigned)E);
  dim3 block(kBiasCols, kBiasRows);
  launch(bias_grad_kernel, grid, block, 0, ctx.stream, B, out, dZ, db);
}

void check_linear_shape(const char* op, int E, int B, int in, int out) {
  require(E >= 1 && E <= 65535 && B >= 0 && in >= 1 && out >= 1, op,
          "need 1 <= E <= 65535, B >= 0, in >= 1, out >= 1 (got E=" + std::to_string(E) +
              " B=" + std::to_string(B) + " in=" + std::to_string(in) +
              " out=" + std::to_string(out) + ")");
}

// the ReLU bit-mask's leading dimension in bits (Backend::relu_mask_bytes' layout)
long long mask_ld(int width) { return (long long)(width + 127) / 128 * 128; }

}  // namespace

void launch_linear_forward(const GemmContext& ctx, int E, int B, int in, int out, const float* X,
                           size_t x_member_stride, const float* W, const float* b, float* Y,
                           Activation act, uint32_t* relu_mask) {
  check_linear_shape("linear_forward", E, B, in, out);
  require(act == Activation::kNone || act == Activation::kRelu, "linear_forward",
          "unknown activation");
  if (B == 0) return;
  require(X && W && b && Y, "linear_forward", "null pointer");
  require(x_member_stride <= (size_t)LLONG_MAX, "linear_forward", "x_member_stride too large");
  // one launch: the GEMM with bias (+ ReLU and its bit-mask) in its epilogue
  LtProblem p;
  p.op_a = CUBLAS_OP_T;
  p.op_b = CUBLAS_OP_N;
  p.m = out, p.n = B, p.k = in, p.batch = E;
  p.A = W, p.lda = in, p.stride_a = (long long)out * in;
  p.B = X, p.ldb = in, p.stride_b = (long long)x_member_stride;
  p.D = Y, p.ldd = out, p.stride_d = (long long)B * out;
  p.bias = const_cast<float*>(b), p.bias_stride = out;
  if (act == Activation::kNone) {
    p.epilogue = CUBLASLT_EPILOGUE_BIAS;
  } else if (relu_mask) {
    p.epilogue = CUBLASLT_EPILOGUE_RELU_AUX_BIAS;
    p.aux = relu_mask, p.aux_ld = mask_ld(out), p.aux_stride = mask_ld(out) * B;
  } else {
    p.epilogue = CUBLASLT_EPILOGUE_RELU_BIAS;
  }
  GemmFallback why;
  const bool fused = lt_gemm(ctx, p, &why);
  // the mask was written only by the epilogue (linear_grad_input masks from the output else)
  ctx.lt_masks->forward(relu_mask, fused && p.epilogue == CUBLASLT_EPILOGUE_RELU_AUX_BIAS);
  if (fused) return;
  // fallback: plain GEMM, then bias and activation in one pass
  gemm_batched(ctx, why, CUBLAS_OP_T, CUBLAS_OP_N, out, B, in, W, in, (long long)out * in, X, in,
               (long long)x_member_stride, Y, out, (long long)B * out, E);
  size_t n = (size_t)E * B * out;
  if (act == Activation::kRelu)
    linear_kernel(bias_activation_kernel<true>, ctx.stream, n, out, (size_t)B * out, b, Y);
  else
    linear_kernel(bias_activation_kernel<false>, ctx.stream, n, out, (size_t)B * out, b, Y);
}

void launch_linear_backward(const GemmContext& ctx, int E, int B, int in, int out,
                            const float* X, size_t x_member_stride, const float* W,
                            const float* Y, float* dY, float* dX, float* dW, float* db,
                            Activation act) {
  check_linear_shape("linear_backward", E, B, in, out);
  require(act == Activation::kNone || act == Activation::kRelu, "linear_backward",
          "unknown activation");
  require(x_member_stride <= (size_t)LLONG_MAX, "linear_backward", "x_member_stride too large");
  if (B == 0) {
    // an empty batch contributes nothing: zero gradients, as the CPU's GEMM with k = 0 gives
    if (dW) CUDA_CHECK(cudaMemsetAsync(dW, 0, (size_t)E * out * in * sizeof(float), ctx.stream));
    if (db) CUDA_CHECK(cudaMemsetAsync(db, 0, (size_t)E * out * sizeof(float), ctx.stream));
    return;
  }
  require(dY, "linear_backward", "null dY");
  require(!dX || W, "linear_backward", "dX needs W");
  require(!dW || X, "linear_backward", "dW needs X");
  // gradient through the activation, in place
  if (act == Activation::kRelu) {
    require(Y, "linear_backward", "ReLU needs the forward output Y");
    linear_kernel(relu_grad_kernel, ctx.stream, (size_t)E * B * out, Y, dY);
  }
  if (dX)
    gemm_batched(ctx, GemmFallback::kNoFusedForm, CUBLAS_OP_N, CUBLAS_OP_N, in, B, out, W, in,
                 (long long)out * in, dY, out, (long long)B * out, dX, in, (long long)B * in, E);
  if (dW)
    gemm_batched(ctx, GemmFallback::kNoFusedForm, CUBLAS_OP_N, CUBLAS_OP_T, in, out, B, X, in,
                 (long long)x_member_stride, dY, out, (long long)B * out, dW, in,
                 (long long)out * in, E);
  if (db) bias_grad(ctx, E, B, out, dY, db);
}

void launch_linear_grad_weights(const GemmContext& ctx, int E, int B, int in, int out,
                                const float* X, size_t x_member_stride, const float* dZ,
                                float* dW, float* db) {
  check_linear_shape("linear_grad_weights", E, B, in, out);
  require(x_member_stride <= (size_t)LLONG_MAX, "linear_grad_weights",
          "x_member_stride too large");
  if (B == 0) {
    if (dW) CUDA_CHECK(cudaMemsetAsync(dW, 0, (size_t)E * out * in * sizeof(float), ctx.stream));
    if (db) CUDA_CHECK(cudaMemsetAsync(db, 0, (size_t)E * out * sizeof(float), ctx.stream));
    return;
  }
  require(dZ && (!dW || X), "linear_grad_weights", "null pointer");
  if (!dW) {
    if (db) bias_grad(ctx, E, B, out, dZ, db);
    return;
  }
  // one launch: dW^T (in x out) = X^T (N) dZ (T), the bias gradient (sum over k = B of the
  // B operand) in the epilogue
  LtProblem p;
  p.op_a = CUBLAS_OP_N;
  p.op_b = CUBLAS_OP_T;
  p.m = in, p.n = out, p.k = B, p.batch = E;
  p.A = X, p.lda = in, p.stride_a = (long long)x_member_stride;
  p.B = dZ, p.ldb = out, p.stride_b = (long long)B * out;
  p.D = dW, p.ldd = in, p.stride_d = (long long)out * in;
  if (db) {
    p.epilogue = CUBLASLT_EPILOGUE_BGRADB;
    p.bias = db, p.bias_stride = out;
  }
  GemmFallback why;
  if (lt_gemm(ctx, p, &why)) return;
  gemm_batched(ctx, why, CUBLAS_OP_N, CUBLAS_OP_T, in, out, B, X, in, (long long)x_member_stride,
               dZ, out, (long long)B * out, dW, in, (long long)out * in, E);
  if (db) bias_grad(ctx, E, B, out, dZ, db);
}

void launch_linear_grad_input(const GemmContext& ctx, int E, int B, int in, int out,
                              const float* dZ, const float* W, Activation x_act,
                              const float* X_relu, const uint32_t* relu_mask, float* dX) {
  check_linear_shape("linear_grad_input", E, B, in, out);
  require(x_act == Activation::kNone || x_act == Activation::kRelu, "linear_grad_input",
          "unknown activation");
  if (B == 0) return;
  require(dZ && W && dX, "linear_grad_input", "null pointer");
  require(x_act != Activation::kRelu || X_relu, "linear_grad_input",
          "the ReLU gradient needs the layer's input X_relu");
  // one launch: dX^T (in x B) = W^T (N) dZ^T (N), the ReLU gradient from the forward's bit-mask
  // in the epilogue
  LtProblem p;
  p.op_a = CUBLAS_OP_N;
  p.op_b = CUBLAS_OP_N;
  p.m = in, p.n = B, p.k = out, p.batch = E;
  p.A = W, p.lda = in, p.stride_a = (long long)out * in;
  p.B = dZ, p.ldb = out, p.stride_b = (long long)B * out;
  p.D = dX, p.ldd = in, p.stride_d = (long long)B * in;
  // the mask is used only where the forward's epilogue wrote it; a mask no forward was given
  // is refused (a DRELU would read bits nobody wrote)
  const ReluMaskRegistry::Use use = ctx.lt_masks->use(relu_mask, "linear_grad_input");
  const bool masked = x_act == Activation::kRelu && use == ReluMaskRegistry::Use::kEpilogue;
  if (masked) {
    p.epilogue = CUBLASLT_EPILOGUE_DRELU;
    p.aux = const_cast<uint32_t*>(relu_mask), p.aux_ld = mask_ld(in),
    p.aux_stride = mask_ld(in) * B;
  }
  GemmFallback why = GemmFallback::kNoReluMask;
  if ((x_act == Activation::kNone || masked) && lt_gemm(ctx, p, &why)) return;
  gemm_batched(ctx, why, CUBLAS_OP_N, CUBLAS_OP_N, in, B, out, W, in, (long long)out * in, dZ,
               out, (long long)B * out, dX, in, (long long)B * in, E);
  if (x_act == Activation::kRelu)
    linear_kernel(relu_grad_kernel, ctx.stream, (size_t)E * B * in, X_relu, dX);
}

void launch_concat_columns(cudaStream_t stream, int rows, int na, const float* a, int nb,
                           const float* b, float* out) {
  require(rows >= 0 && na >= 0 && nb >= 0, "concat_columns", "negative size");
  size_t n = (size_t)rows * ((size_t)na + nb);
  if (n == 0) return;
  require(out && (na == 0 || a) && (nb == 0 || b), "concat_columns", "null pointer");
  linear_kernel(concat_columns_kernel, stream, n, na, nb, a, b, out);
}

}  // namespace sac
