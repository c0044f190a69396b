// test_simulator.cpp: the CUDA simulator's own tests (CudaSim*): each rule it enforces, shown
// to hold on small kernels and streams written here, so that a simulated CUDA test that passes
// means what it says. Built only into sac_sim_tests (tests/cuda_sim/cuda_sim.cmake).
#include <gtest/gtest.h>

#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "sim.h"

namespace {

// ---- kernels

__global__ void write_index_kernel(size_t n, float* __restrict__ out) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = (float)i;
}

// one element past the end: the out-of-bounds plant in miniature
__global__ void write_one_past_kernel(size_t n, float* __restrict__ out) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i > n) return;
  out[i] = 1.0f;
}

template <bool BARRIER>
__global__ void block_sum_kernel(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float partial[64];
  int t = threadIdx.x;
  partial[t] = in[blockIdx.x * 64 + t];
  if (BARRIER) __syncthreads();
  for (int stride = 32; stride > 0; stride >>= 1) {
    if (t < stride) partial[t] += partial[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

__global__ void divergent_barrier_kernel(float* __restrict__ out) {
  if (threadIdx.x < 16) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void two_barriers_kernel(float* __restrict__ out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void big_shared_kernel(float* __restrict__ out) {
  __shared__ float big[13 * 1024];  // 52 KiB
  big[threadIdx.x] = 1.0f;
  out[threadIdx.x] = big[threadIdx.x];
}

struct Huge {
  float values[8200];  // 32,800 bytes of parameters
};
__global__ void huge_parameter_kernel(const __grid_constant__ Huge huge, float* out) {
  out[0] = huge.values[0];
}

__global__ void read_shared_uninitialised_kernel(float* __restrict__ out) {
  __shared__ float value;
  out[blockIdx.x] = value;  // never written: garbage on a GPU, NaN here
}

// ---- helpers

template <typename T>
T* device_alloc(size_t n) {
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
  return static_cast<T*>(p);
}

std::vector<float> download(const float* d, size_t n) {
  std::vector<float> host(n);
  EXPECT_EQ(cudaMemcpy(host.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  return host;
}

void upload(float* d, const std::vector<float>& host) {
  EXPECT_EQ(cudaMemcpy(d, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);
}

cudaStream_t new_stream() {
  cudaStream_t s = nullptr;
  EXPECT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  return s;
}

// ---- kernels and their limits

TEST(CudaSimKernels, EveryThreadOfEveryBlockRunsWithItsIndices) {
  const size_t n = 1000;
  float* d = device_alloc<float>(n);
  sac::linear_kernel(write_index_kernel, nullptr, n, d);
  std::vector<float> host = download(d, n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(host[i], (float)i) << i;
  // page-locked host memory is mapped for the device
  float* pinned = nullptr;
  ASSERT_EQ(cudaHostAlloc(&pinned, n * sizeof(float), cudaHostAllocDefault), cudaSuccess);
  sac::linear_kernel(write_index_kernel, nullptr, n, pinned);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(pinned[n - 1], (float)(n - 1));
  cudaFreeHost(pinned);
  cudaFree(d);
}

TEST(CudaSimKernels, BarriersMakeTheBlockSumRightAndTheirAbsenceWrong) {
  const int blocks = 8;
  std::vector<float> in(blocks * 64);
  for (size_t i = 0; i < in.size(); ++i) in[i] = (float)(i % 7) + 0.5f;
  float* d_in = device_alloc<float>(in.size());
  float* d_out = device_alloc<float>(blocks);
  upload(d_in, in);
  for (cudasim::ThreadOrder order : {cudasim::ThreadOrder::kAscending,
                                     cudasim::ThreadOrder::kDescending,
                                     cudasim::ThreadOrder::kRandom}) {
    cudasim::ThreadOrder old = cudasim::set_thread_order(order);
    sac::launch(block_sum_kernel<true>, blocks, 64, 0, nullptr, d_in, d_out);
    std::vector<float> with = download(d_out, blocks);
    sac::launch(block_sum_kernel<false>, blocks, 64, 0, nullptr, d_in, d_out);
    std::vector<float> without = download(d_out, blocks);
    cudasim::set_thread_order(old);
    for (int b = 0; b < blocks; ++b) {
      float expected = 0.0f;
      for (int t = 0; t < 64; ++t) expected += in[b * 64 + t];
      EXPECT_EQ(with[b], expected) << b;
      // in ascending order thread 0 runs ahead of the others' writes: uninitialised (NaN)
      // shared memory (descending order happens to write every partial before its first read)
      if (order == cudasim::ThreadOrder::kAscending) {
        EXPECT_TRUE(std::isnan(without[b])) << b << ": " << without[b];
      }
    }
  }
  cudaFree(d_in);
  cudaFree(d_out);
}

TEST(CudaSimKernels, SharedMemoryIsUninitialisedAtBlockStart) {
  float* d = device_alloc<float>(4);
  sac::launch(read_shared_uninitialised_kernel, 4, 1, 0, nullptr, d);
  for (float v : download(d, 4)) EXPECT_TRUE(std::isnan(v));
  cudaFree(d);
}

TEST(CudaSimKernels, LaunchesOverTheLimitsAreRefusedNamingTheKernel) {
  float* d = device_alloc<float>(2048);
  try {
    sac::launch(write_index_kernel, 1, 2048, 0, nullptr, (size_t)2048, d);
    FAIL() << "a block of 2048 threads was launched";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("write_index_kernel"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid configuration"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sac::launch(write_index_kernel, dim3(1, 70000), 32, 0, nullptr, (size_t)1, d),
               std::runtime_error);
  EXPECT_THROW(sac::launch(write_index_kernel, 1, dim3(1, 1, 65), 0, nullptr, (size_t)1, d),
               std::runtime_error);
  EXPECT_THROW(sac::launch(big_shared_kernel, 1, 32, 0, nullptr, d), std::runtime_error);
  Huge huge{};
  EXPECT_THROW(sac::launch(huge_parameter_kernel, 1, 1, 0, nullptr, huge, d), std::runtime_error);
  EXPECT_THROW(sac::launch(write_index_kernel, 1, 32, 16, nullptr, (size_t)1, d),
               std::runtime_error);  // dynamic shared memory: not simulated
  // within the limits it runs
  EXPECT_NO_THROW(sac::launch(write_index_kernel, 2, 1024, 0, nullptr, (size_t)2048, d));
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  cudaFree(d);
}

TEST(CudaSimKernels, KernelNamesComeFromTheSymbolTable) {
  const char* name = nullptr;
  ASSERT_EQ(cudaFuncGetName(&name, reinterpret_cast<const void*>(&write_index_kernel)),
            cudaSuccess);
  EXPECT_NE(std::string(name).find("write_index_kernel"), std::string::npos) << name;
  cudaFuncAttributes attributes{};
  ASSERT_EQ(cudaFuncGetAttributes(&attributes, block_sum_kernel<true>), cudaSuccess);
  EXPECT_EQ(attributes.sharedSizeBytes, 64 * sizeof(float));
}

using CudaSimDeathTest = ::testing::Test;

TEST(CudaSimDeathTest, ABarrierSomeThreadsNeverReachIsADeadlockNamingTheKernel) {
  float* d = device_alloc<float>(32);
  EXPECT_DEATH(
      {
        sac::launch(divergent_barrier_kernel, 1, 32, 0, nullptr, d);
        cudaDeviceSynchronize();
      },
      "divergent_barrier_kernel.*deadlock.*reached by 16 of the block's 32 threads");
  EXPECT_DEATH(
      {
        sac::launch(two_barriers_kernel, 1, 32, 0, nullptr, d);
        cudaDeviceSynchronize();
      },
      "two_barriers_kernel.*different barriers");
}

TEST(CudaSimDeathTest, AWriteOnePastTheEndFaultsNamingKernelBlockAndThread) {
  const size_t n = 300;
  float* d = device_alloc<float>(n);
  EXPECT_DEATH(
      {
        sac::linear_kernel(write_one_past_kernel, nullptr, n, d);
        cudaDeviceSynchronize();
      },
      "write_one_past_kernel.*<<<\\(2, 1, 1\\), \\(256, 1, 1\\)>>> block \\(1, 0, 0\\) thread "
      "\\(44, 0, 0\\): invalid write .* 0 bytes past the end of the device allocation of 1200 "
      "bytes");
}

TEST(CudaSimDeathTest, HostCodeThatDereferencesDeviceMemoryFaults) {
  float* d = device_alloc<float>(16);
  EXPECT_DEATH({ volatile float x = d[3]; (void)x; }, "host code read device memory");
  EXPECT_DEATH({ d[0] = 1.0f; }, "host code wrote device memory");
}

TEST(CudaSimDeathTest, AKernelGivenPageableHostMemoryIsReported) {
  std::vector<float> host(16);
  EXPECT_DEATH(sac::linear_kernel(write_index_kernel, nullptr, 16, host.data()),
               "write_index_kernel.*argument 1 points into host memory that is not page-locked");
}

TEST(CudaSimDeathTest, CopiesPastAnAllocationAreReported) {
  float* d = device_alloc<float>(16);
  std::vector<float> host(17, 1.0f);
  EXPECT_DEATH(cudaMemcpy(d, host.data(), 17 * sizeof(float), cudaMemcpyHostToDevice),
               "runs 4 bytes past the end");
}

// ---- streams and events

// random progress off for the test's scope: device work runs only where something forces it
struct ForcedOnly {
  bool old = cudasim::set_random_progress(false);
  ~ForcedOnly() { cudasim::set_random_progress(old); }
};

TEST(CudaSimStreams, WorkRunsOnlyWhenSomethingForcesIt) {
  // a missing wait between two streams gives stale data, the wait gives the right data
  ForcedOnly forced;
  const size_t n = 256;
  float* d = device_alloc<float>(n);
  float* h = nullptr;
  ASSERT_EQ(cudaHostAlloc(&h, n * sizeof(float), cudaHostAllocDefault), cudaSuccess);
  cudaStream_t producer = new_stream(), consumer = new_stream();
  cudaEvent_t written;
  ASSERT_EQ(cudaEventCreateWithFlags(&written, cudaEventDisableTiming), cudaSuccess);

  sac::linear_kernel(write_index_kernel, producer, n, d);
  ASSERT_EQ(cudaMemcpyAsync(h, d, n * sizeof(float), cudaMemcpyDeviceToHost, consumer),
            cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(consumer), cudaSuccess);
  EXPECT_EQ(h[n - 1], 0.0f) << "the consumer ran after the producer without a wait";

  ASSERT_EQ(cudaEventRecord(written, producer), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(consumer, written, 0), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(h, d, n * sizeof(float), cudaMemcpyDeviceToHost, consumer),
            cudaSuccess);
  EXPECT_EQ(h[n - 1], 0.0f) << "a queued copy into page-locked memory ran before any wait";
  ASSERT_EQ(cudaEventRecord(written, consumer), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(written), cudaSuccess);
  EXPECT_EQ(h[n - 1], (float)(n - 1));

  cudaEventDestroy(written);
  cudaStreamDestroy(producer);
  cudaStreamDestroy(consumer);
  cudaFreeHost(h);
  cudaFree(d);
}

TEST(CudaSimStreams, TheRandomSchedulerRunsUnforcedWorkAtUnknownTimes) {
  // with progress points on, queued work sometimes runs before anything forces it
  const size_t n = 64;
  float* d = device_alloc<float>(n);
  float* e = device_alloc<float>(1);
  cudaStream_t s = new_stream();
  int early = 0;
  const int trials = 200;
  for (int t = 0; t < trials; ++t) {
    ASSERT_EQ(cudaMemsetAsync(d, 0, n * sizeof(float), s), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
    sac::linear_kernel(write_index_kernel, s, n, d);
    // progress points: more work queued behind the kernel
    for (int k = 0; k < 4; ++k) ASSERT_EQ(cudaMemsetAsync(e, 0, 4, s), cudaSuccess);
    // peek without forcing: a copy on a side stream that does not wait
    cudaStream_t side = new_stream();
    std::vector<float> host(n);
    ASSERT_EQ(cudaMemcpyAsync(host.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, side),
              cudaSuccess);
    early += host[n - 1] == (float)(n - 1);
    cudaStreamDestroy(side);
    ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  }
  EXPECT_GT(early, 0);
  EXPECT_LT(early, trials);
  cudaStreamDestroy(s);
  cudaFree(d);
  cudaFree(e);
}

TEST(CudaSimStreams, PageableSourcesAreStagedAtTheCall) {
  float* d = device_alloc<float>(4);
  cudaStream_t s = new_stream();
  std::vector<float> host{1, 2, 3, 4};
  ASSERT_EQ(cudaMemcpyAsync(d, host.data(), 16, cudaMemcpyHostToDevice, s), cudaSuccess);
  host.assign(4, 9.0f);  // the caller may reuse a pageable source at once
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(download(d, 4), (std::vector<float>{1, 2, 3, 4}));
  std::vector<float> back(4, 0.0f);
  ASSERT_EQ(cudaMemcpyAsync(back.data(), d, 16, cudaMemcpyDeviceToHost, s), cudaSuccess);
  EXPECT_EQ(back, (std::vector<float>{1, 2, 3, 4})) << "into pageable memory: synchronous";
  EXPECT_EQ(cudaMemcpyAsync(d, host.data(), 16, cudaMemcpyDeviceToHost, s), cudaErrorInvalidValue)
      << "a copy whose kind does not match its pointers";
  cudaGetLastError();
  cudaStreamDestroy(s);
  cudaFree(d);
}

// ---- graph capture

TEST(CudaSimCapture, CapturedWorkIsRecordedNotRunAndReplaysWithItsArguments) {
  const size_t n = 64;
  float* d = device_alloc<float>(n);
  cudaStream_t s = new_stream();
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  sac::linear_kernel(write_index_kernel, s, n, d);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(download(d, n)[n - 1], 0.0f) << "captured work ran";
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(download(d, n)[n - 1], (float)(n - 1));
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(s);
  cudaFree(d);
}

TEST(CudaSimCapture, CallsCudaRefusesDuringCaptureFailAndInvalidateIt) {
  cudaStream_t s = new_stream();
  float* d = device_alloc<float>(4);
  // an allocation
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported);
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  // a synchronize, a synchronous copy, a free
  for (int which = 0; which < 3; ++which) {
    ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    float value = 1.0f;
    cudaError_t err = which == 0   ? cudaStreamSynchronize(s)
                      : which == 1 ? cudaMemcpy(d, &value, 4, cudaMemcpyHostToDevice)
                                   : cudaFree(d);
    EXPECT_EQ(err, cudaErrorStreamCaptureUnsupported) << which;
    EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated) << which;
  }
  // an event query of an event recorded in the capture
  cudaEvent_t e;
  cudaEventCreateWithFlags(&e, cudaEventDisableTiming);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(e, s), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(e), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  // a copy from pageable memory
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  float value = 2.0f;
  EXPECT_EQ(cudaMemcpyAsync(d, &value, 4, cudaMemcpyHostToDevice, s),
            cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorStreamCaptureInvalidated);
  cudaGetLastError();
  cudaEventDestroy(e);
  cudaStreamDestroy(s);
  cudaFree(d);
}

TEST(CudaSimCapture, AForkedStreamNotJoinedBackFailsTheCapture) {
  cudaStream_t origin = new_stream(), side = new_stream();
  cudaEvent_t fork, join;
  cudaEventCreateWithFlags(&fork, cudaEventDisableTiming);
  cudaEventCreateWithFlags(&join, cudaEventDisableTiming);
  float* d = device_alloc<float>(64);
  for (bool joined : {false, true}) {
    ASSERT_EQ(cudaStreamBeginCapture(origin, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    sac::linear_kernel(write_index_kernel, origin, 32, d);
    ASSERT_EQ(cudaEventRecord(fork, origin), cudaSuccess);
    ASSERT_EQ(cudaStreamWaitEvent(side, fork, 0), cudaSuccess);
    sac::linear_kernel(write_index_kernel, side, 64, d);
    if (joined) {
      ASSERT_EQ(cudaEventRecord(join, side), cudaSuccess);
      ASSERT_EQ(cudaStreamWaitEvent(origin, join, 0), cudaSuccess);
    }
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(origin, &graph),
              joined ? cudaSuccess : cudaErrorStreamCaptureUnjoined);
    cudaGetLastError();
    if (graph) {
      size_t nodes = 0;
      cudaGraphGetNodes(graph, nullptr, &nodes);
      EXPECT_EQ(nodes, 2u);
      cudaGraphDestroy(graph);
    }
    cudaStreamCaptureStatus status;
    cudaStreamIsCapturing(side, &status);
    EXPECT_EQ(status, cudaStreamCaptureStatusNone) << "the side stream left the capture";
  }
  cudaGetLastError();
  cudaFree(d);
}

// ---- cuBLAS

// C = op(A) op(B) in plain loops, column-major
void reference_gemm(bool ta, bool tb, int m, int n, int k, const float* A, int lda,
                    const float* B, int ldb, float* C, int ldc) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p)
        sum += (double)(ta ? A[i * lda + p] : A[p * lda + i]) *
               (double)(tb ? B[p * ldb + j] : B[j * ldb + p]);
      C[j * ldc + i] = (float)sum;
    }
}

TEST(CudaSimCublas, StridedBatchedGemmFollowsTheColumnMajorContract) {
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const int m = 5, n = 3, k = 4, batch = 2;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (long long shared_a : {0, 1}) {
        int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
        long long sa = shared_a ? 0 : (long long)lda * (ta ? m : k);
        long long sb = (long long)ldb * (tb ? k : n), sc = (long long)ldc * n;
        std::vector<float> A(lda * (ta ? m : k) * (shared_a ? 1 : batch)), B(sb * batch),
            C(sc * batch, 0.0f);
        for (size_t i = 0; i < A.size(); ++i) A[i] = std::sin(0.3f * i);
        for (size_t i = 0; i < B.size(); ++i) B[i] = std::cos(0.7f * i);
        float *dA = device_alloc<float>(A.size()), *dB = device_alloc<float>(B.size()),
              *dC = device_alloc<float>(C.size());
        upload(dA, A);
        upload(dB, B);
        const float one = 1.0f, zero = 0.0f;
        ASSERT_EQ(cublasSgemmStridedBatched(handle, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                            tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &one, dA,
                                            lda, sa, dB, ldb, sb, &zero, dC, ldc, sc, batch),
                  CUBLAS_STATUS_SUCCESS);
        std::vector<float> got = download(dC, C.size());
        for (int b = 0; b < batch; ++b) {
          reference_gemm(ta, tb, m, n, k, A.data() + b * sa, lda, B.data() + b * sb, ldb,
                         C.data() + b * sc, ldc);
          for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i)
              EXPECT_NEAR(got[b * sc + j * ldc + i], C[b * sc + j * ldc + i], 1e-5)
                  << "ta=" << ta << " tb=" << tb << " shared_a=" << shared_a << " b=" << b;
        }
        cudaFree(dA);
        cudaFree(dB);
        cudaFree(dC);
      }
  const float one = 1.0f;
  EXPECT_EQ(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, nullptr,
                                      3, 0, nullptr, 4, 0, &one, nullptr, 4, 0, 1),
            CUBLAS_STATUS_INVALID_VALUE)
      << "lda below m";
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "a cuBLAS status is not the runtime's last error";
  cublasDestroy(handle);
}

TEST(CudaSimCublas, Tf32MathRoundsTheInputsToTenMantissaBits) {
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const float x = 1.0f + 1.0f / 4096.0f;  // below TF32's resolution of 2^-10
  float* dA = device_alloc<float>(1);
  float* dC = device_alloc<float>(1);
  upload(dA, {x});
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, dA, 1, dA, 1, &zero, dC,
                        1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(download(dC, 1)[0], x * x);
  cublasSetMathMode(handle, CUBLAS_TF32_TENSOR_OP_MATH);
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, dA, 1, dA, 1, &zero, dC,
                        1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(download(dC, 1)[0], 1.0f);
  cublasDestroy(handle);
  cudaFree(dA);
  cudaFree(dC);
}

TEST(CudaSimDeathTest, AGemmOperandPastItsAllocationIsReportedNamingTheOperand) {
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  float* dA = device_alloc<float>(12);  // 4 x 3, but read with lda 5
  float* dC = device_alloc<float>(16);
  const float one = 1.0f, zero = 0.0f;
  EXPECT_DEATH(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 3, &one, dA, 5, dC, 4, &zero,
                           dC, 4),
               "operand A of batch member 0: the range of 56 bytes");
}

}  // namespace
