// linear.h: the networks' linear layer Y = act(X W^T + b) over E stacked members and its
// backward (Backend's linear_forward, linear_backward, linear_grad_weights, linear_grad_input,
// concat_columns). CPU twins in linear.cpp: OpenBLAS GEMMs spread over a ThreadPool by member
// and row block. CUDA launchers in linear.cu (declared below for .cu files only): cuBLASLt GEMMs
// with the bias, ReLU, ReLU-gradient and bias-gradient epilogues fused, falling back to cuBLAS
// plus the kernels of linear.cu.
// Tests: sac_tests --gtest_filter='*Linear*:*ConcatColumns*' (the CUDA ones skip without a
// GPU); timings: sac_bench_kernels.
#pragma once
#include "cuda_source.h"
#include <cstddef>
#include <cstdint>

#include "sac/backend.h"
#include "thread_pool.h"

#ifdef SAC_CUDA_SOURCE
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cublaslt_matmul.h"
#include "gemm_plan.h"
#endif

namespace sac {

// ---- CPU twins (the reference; `pool` runs the tasks)

/// Backend::linear_forward: one GEMM per (member, row block), then bias and activation. The
/// CPU keeps no ReLU bit-mask (the mask is Y > 0): relu_mask is not written.
void linear_forward_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                        size_t x_member_stride, const float* W, const float* b, float* Y,
                        Activation act, uint32_t* relu_mask);
/// Backend::linear_backward: dY becomes dZ (masked where Y <= 0 for kRelu), then the non-null
/// of dX, dW and db.
void linear_backward_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                         size_t x_member_stride, const float* W, const float* Y, float* dY,
                         float* dX, float* dW, float* db, Activation act);
/// Backend::linear_grad_weights: dW = dZ^T X and db = sum_b dZ (fixed order); either may be
/// null.
void linear_grad_weights_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                             size_t x_member_stride, const float* dZ, float* dW, float* db);
/// Backend::linear_grad_input: dX = dZ W, masked where X_relu <= 0 for x_act = kRelu (relu_mask
/// is not read: X_relu > 0 is the mask).
void linear_grad_input_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* dZ,
                           const float* W, Activation x_act, const float* X_relu,
                           const uint32_t* relu_mask, float* dX);
/// Backend::concat_columns: out[r] = [a[r], b[r]].
void concat_columns_cpu(int rows, int na, const float* a, int nb, const float* b, float* out);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launchers: each checks its arguments (std::invalid_argument), then launches

/// What the GEMM launchers run on: one lane's stream, cuBLAS handle and workspace (also
/// cuBLASLt's), the backend's cuBLASLt plans (null: epilogues off, SAC_CUBLASLT=0), the GEMMs'
/// precision, and the registry of the ReLU masks given to forward passes (shared by the lanes).
/// Every GEMM is counted (gemm_plan.h: cuBLASLt per epilogue, or the fallback per reason).
struct GemmContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  LtMatmul* lt = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  bool tf32 = false;
  ReluMaskRegistry* lt_masks = nullptr;
};

/// Backend::linear_forward in one launch: the GEMM with bias (+ ReLU and its bit-mask into
/// `relu_mask`, nullable) in its epilogue; without cuBLASLt, cuBLAS then bias_activation_kernel.
void launch_linear_forward(const GemmContext& ctx, int E, int B, int in, int out, const float* X,
                           size_t x_member_stride, const float* W, const float* b, float* Y,
                           Activation act, uint32_t* relu_mask);
/// Backend::linear_backward: relu_grad_kernel, then cuBLAS for dX and dW, bias_grad_kernel
/// for db.
void launch_linear_backward(const GemmContext& ctx, int E, int B, int in, int out,
                            const float* X, size_t x_member_stride, const float* W,
                            const float* Y, float* dY, float* dX, float* dW, float* db,
                            Activation act);
/// Backend::linear_grad_weights in one launch: dW with the bias gradient in the epilogue.
void launch_linear_grad_weights(const GemmContext& ctx, int E, int B, int in, int out,
                                const float* X, size_t x_member_stride, const float* dZ,
                                float* dW, float* db);
/// Backend::linear_grad_input in one launch: dX with the ReLU gradient from the forward's
/// bit-mask (`relu_mask`, nullable: then masked from X_relu) in the epilogue. Where that
/// forward took the fallback (no mask written), cuBLAS then the mask from X_relu. Throws
/// std::invalid_argument for a mask no linear_forward was given (ReluMaskRegistry::use).
void launch_linear_grad_input(const GemmContext& ctx, int E, int B, int in, int out,
                              const float* dZ, const float* W, Activation x_act,
                              const float* X_relu, const uint32_t* relu_mask, float* dX);
/// Backend::concat_columns on `stream`.
void launch_concat_columns(cudaStream_t stream, int rows, int na, const float* a, int nb,
                           const float* b, float* out);
#endif

}  // namespace sac
