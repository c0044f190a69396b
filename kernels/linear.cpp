// linear.cpp: the CPU twins of the linear layer (see linear.h); CpuBackend forwards to them.
// OpenBLAS runs one thread per call; the ThreadPool spreads members and row blocks over the
// cores. Tests: sac_tests --gtest_filter='*Linear*:*ConcatColumns*:*ThreadCount*'.
//
// The blocks follow the data, never the thread count: OpenBLAS rounds differently by call size,
// so a GEMM cut by threads would give other bits with 1, 2 or 16 threads (and a seed other bits
// beside other seeds). Each GEMM is cut into blocks of kBlockRows rows, whatever runs them;
// the threads only decide who computes which block, and only where a block is worth a handoff.
// The element-wise passes around the GEMMs (bias and ReLU, the ReLU's gradient, the bias
// gradient) run as vector clones of the CPU's width (vector_clones.h), with the same bits.
#include "linear.h"
#include "vector_clones.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>

namespace sac {
namespace {

// rows per GEMM call: large enough that packing the other operand once per block stays cheap,
// small enough that a batch of 256 gives two cores a block each
constexpr int kBlockRows = 128;
// multiply-adds below which a task is cheaper to run here than to hand to another thread: a
// 64x64 layer of batch 100 (410k) stays on the calling thread, a 128-row block of a 23x256
// layer (754k) goes
constexpr int64_t kHandoffWork = 1 << 19;

int blocks_of(int rows) { return std::max(1, (rows + kBlockRows - 1) / kBlockRows); }
std::pair<int, int> block_range(int rows, int k) {
  return {k * kBlockRows, std::min(rows, (k + 1) * kBlockRows)};
}

// Runs task(0 .. n - 1) on the pool when each is worth a handoff, else on this thread (the same
// tasks either way, so the same bits).
template <typename Task>
void run_blocks(ThreadPool& pool, int n, int64_t work_per_task, const Task& task) {
  if (n > 1 && work_per_task >= kHandoffWork) {
    pool.run(n, task);
  } else {
    for (int i = 0; i < n; ++i) task(i);
  }
}

// dy[i] = 0 where y[i] <= 0, branch-free so it vectorises
SAC_VECTOR_CLONES void zero_where_not_positive(size_t n, const float* __restrict y,
                                               float* __restrict dy) {
  for (size_t i = 0; i < n; ++i) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// y[r][o] = act(y[r][o] + bias[o]) over `rows` rows of `out`
SAC_VECTOR_CLONES void add_bias_activate(int rows, int out, const float* __restrict bias,
                                         Activation act, float* __restrict y) {
  for (int r = 0; r < rows; ++r) {
    float* row = y + (size_t)r * out;
    if (act == Activation::kRelu) {
      for (int o = 0; o < out; ++o) {
        float z = row[o] + bias[o];
        row[o] = z < 0.0f ? 0.0f : z;
      }
    } else {
      for (int o = 0; o < out; ++o) row[o] += bias[o];
    }
  }
}

// sums[o] = sum over the rows of x[r][o] for o in [o0, o1), rows in order (a fixed summation
// order whatever the vector width: each lane sums its own column)
SAC_VECTOR_CLONES void sum_columns(int rows, int ld, int o0, int o1, const float* __restrict x,
                                   float* __restrict sums) {
  for (int o = o0; o < o1; ++o) sums[o] = 0.0f;
  for (int r = 0; r < rows; ++r)
    for (int o = o0; o < o1; ++o) sums[o] += x[(size_t)r * ld + o];
}

// dY = 0 where Y <= 0 (E x B x width), in place (relu_grad_kernel's twin); element-wise, so any
// split gives the same bits
void relu_grad_cpu(ThreadPool& pool, int E, int B, int width, const float* Y, float* dY) {
  const int blocks = blocks_of(B);
  run_blocks(pool, E * blocks, (int64_t)kBlockRows * width, [&](int task) {
    auto [r0, r1] = block_range(B, task % blocks);
    size_t begin = ((size_t)(task / blocks) * B + r0) * width;
    zero_where_not_positive((size_t)(r1 - r0) * width, Y + begin, dY + begin);
  });
}

// dX = dZ W, dW = dZ^T X, db = sum_b dZ for the non-null outputs, as one task list
void linear_backward_gemms_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                               size_t x_member_stride, const float* W, const float* dZ,
                               float* dX, float* dW, float* db) {
  // dX row blocks (of the batch) and dW output-row blocks are independent: one task list
  int dx_tasks = dX ? blocks_of(B) : 0;
  int dw_tasks = (dW || db) ? blocks_of(out) : 0;
  int per_member = dx_tasks + dw_tasks;
  int64_t work = (int64_t)B * in * out / std::max(1, per_member);
  run_blocks(pool, E * per_member, work, [&](int task) {
    int e = task / per_member, k = task % per_member;
    const float* dz = dZ + (size_t)e * B * out;
    const float* x = X ? X + e * x_member_stride : nullptr;
    if (k < dx_tasks) {
      auto [r0, r1] = block_range(B, k);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, in, out, 1.0f,
                  dz + (size_t)r0 * out, out, W + (size_t)e * out * in, in, 0.0f,
                  dX + ((size_t)e * B + r0) * in, in);
      return;
    }
    auto [o0, o1] = block_range(out, k - dx_tasks);
    if (dW)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, in, B, 1.0f, dz + o0, out, x,
                  in, 0.0f, dW + (size_t)e * out * in + (size_t)o0 * in, in);
    if (db) sum_columns(B, out, o0, o1, dz, db + (size_t)e * out);
  });
}

}  // namespace

void linear_forward_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                        size_t x_member_stride, const float* W, const float* b, float* Y,
                        Activation act, uint32_t* /*relu_mask: the mask is Y > 0 here*/) {
  // one task per (member, row block)
  const int blocks = blocks_of(B);
  run_blocks(pool, E * blocks, (int64_t)std::min(B, kBlockRows) * in * out, [&](int task) {
    int e = task / blocks;
    auto [r0, r1] = block_range(B, task % blocks);
    const float* x = X + e * x_member_stride + (size_t)r0 * in;
    const float* w = W + (size_t)e * out * in;
    const float* bias = b + (size_t)e * out;
    float* y = Y + ((size_t)e * B + r0) * out;
    // y = x w^T, then bias and activation in one pass over the block
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.0f, x, in, w, in,
                0.0f, y, out);
    add_bias_activate(r1 - r0, out, bias, act, y);
  });
}

void linear_backward_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                         size_t x_member_stride, const float* W, const float* Y, float* dY,
                         float* dX, float* dW, float* db, Activation act) {
  if (act == Activation::kRelu) relu_grad_cpu(pool, E, B, out, Y, dY);
  linear_backward_gemms_cpu(pool, E, B, in, out, X, x_member_stride, W, dY, dX, dW, db);
}

void linear_grad_weights_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* X,
                             size_t x_member_stride, const float* dZ, float* dW, float* db) {
  linear_backward_gemms_cpu(pool, E, B, in, out, X, x_member_stride, nullptr, dZ, nullptr, dW,
                            db);
}

void linear_grad_input_cpu(ThreadPool& pool, int E, int B, int in, int out, const float* dZ,
                           const float* W, Activation x_act, const float* X_relu,
                           const uint32_t* /*relu_mask: X_relu > 0 is the mask here*/,
                           float* dX) {
  linear_backward_gemms_cpu(pool, E, B, in, out, nullptr, 0, W, dZ, dX, nullptr, nullptr);
  if (x_act == Activation::kRelu) relu_grad_cpu(pool, E, B, in, X_relu, dX);
}

void concat_columns_cpu(int rows, int na, const float* a, int nb, const float* b, float* out) {
  for (int r = 0; r < rows; ++r) {
    std::memcpy(out + (size_t)r * (na + nb), a + (size_t)r * na, na * sizeof(float));
    std::memcpy(out + (size_t)r * (na + nb) + na, b + (size_t)r * nb, nb * sizeof(float));
  }
}

}  // namespace sac
