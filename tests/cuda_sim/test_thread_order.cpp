// test_thread_order.cpp: the CUDA simulator's thread orders (CudaSimThreadOrder*): the threads
// of a block run between barriers in ascending, descending or random order (picked by
// SAC_CUDA_SIM_SEED, or set here), so a missing __syncthreads() after one thread writes a shared
// value is caught. Two such bugs are planted in copies of real kernels written here
// (sample_minibatch_kernel and adam_polyak_kernel without their barrier; the real kernels are
// untouched): the reversed and shuffled orders catch both, ascending order (the simulator's only
// order before) catches neither, and the real kernels give the same bits under every order.
// Built only into sac_sim_tests (tests/cuda_sim/cuda_sim.cmake).
// Run: ./build/sac_sim_tests --gtest_filter='CudaSimThreadOrder*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "cuda_check.h"
#include "optimizer.h"
#include "sac/philox.h"
#include "sampling.h"
#include "sim.h"
#include "thread_pool.h"

namespace {

using cudasim::ThreadOrder;
using sac::MinibatchDraws;
using sac::MinibatchLayout;
using sac::RingView;

constexpr ThreadOrder kOrders[] = {ThreadOrder::kAscending, ThreadOrder::kDescending,
                                   ThreadOrder::kRandom};

// the thread order for the test's scope, restored after it
struct OrderScope {
  ThreadOrder old;
  explicit OrderScope(ThreadOrder order) : old(cudasim::set_thread_order(order)) {}
  ~OrderScope() { cudasim::set_thread_order(old); }
};

// ---- the order itself

// each thread of one block writes its index into the next free slot, in two phases split by a
// barrier (a race on a GPU; here the record of the order the simulator runs the threads in)
__global__ void record_order_kernel(int* __restrict__ out) {
  __shared__ int next;
  if (threadIdx.x == 0) next = 0;
  __syncthreads();
  int slot = next;
  next = slot + 1;
  out[slot] = (int)threadIdx.x;
  __syncthreads();
  slot = next;
  next = slot + 1;
  out[slot] = (int)threadIdx.x;
}

// ---- plant 1: sample_minibatch_kernel (kernels/sampling.cu) for one seed, its barrier after
// thread 0 sets `row` present only when BARRIER

template <bool BARRIER>
__global__ void planted_sample_minibatch_kernel(int B, int O, int A, int copies,
                                                const RingView ring, const MinibatchDraws draws,
                                                MinibatchLayout out) {
  __shared__ int64_t row;
  const int r = blockIdx.x;
  const size_t i = blockIdx.x;
  uint64_t counter = (uint64_t)*draws.d_counter;
  if (threadIdx.x == 0) {
    int64_t bound = *ring.d_size;
    row = bound > 0 ? (int64_t)sac::philox_below(draws.key, draws.index_stream,
                                                 counter * (uint64_t)B + r, (uint64_t)bound)
                    : 0;
    out.indices[i] = row;
    out.reward[i] = ring.reward[row];
    out.terminated[i] = ring.terminated[row];
  }
  if (BARRIER) __syncthreads();
  const size_t k = (size_t)row, W = (size_t)O + A;
  const size_t first = (size_t)r * W, copy_stride = (size_t)B * W;
  for (int c = threadIdx.x; c < O; c += blockDim.x) {
    float s = ring.obs[k * O + c], s_next = ring.next_obs[k * O + c];
    out.obs[i * O + c] = s;
    out.next_obs[i * O + c] = s_next;
    for (int copy = 0; copy < copies; ++copy) {
      size_t at = first + copy * copy_stride + c;
      out.critic_in[at] = s;
      out.critic_in_pi[at] = s;
      out.target_in[at] = s_next;
    }
  }
  const uint64_t noise_base = counter * (uint64_t)B * A;
  for (int c = threadIdx.x; c < A; c += blockDim.x) {
    float a = ring.action[k * A + c];
    for (int copy = 0; copy < copies; ++copy)
      out.critic_in[first + copy * copy_stride + O + c] = a;
    uint64_t index = noise_base + (uint64_t)r * A + c;
    out.eps_next[i * A + c] = sac::philox_normal(draws.key, draws.next_noise_stream, index);
    out.eps_cur[i * A + c] = sac::philox_normal(draws.key, draws.cur_noise_stream, index);
  }
}

// ---- plant 2: adam_polyak_kernel (kernels/optimizer.cu), its barrier after thread 0 computes
// the block's shared Adam scalars present only when BARRIER

template <bool BARRIER>
__global__ void planted_adam_polyak_kernel(size_t n, float lr, float beta1, float beta2,
                                           float eps, float tau,
                                           const int64_t* __restrict__ d_step,
                                           float* __restrict__ online,
                                           const float* __restrict__ grads,
                                           float* __restrict__ m, float* __restrict__ v,
                                           float* target) {
  __shared__ sac::AdamScalars scalars;
  if (threadIdx.x == 0) scalars = sac::adam_scalars(lr, beta1, beta2, (long long)*d_step);
  if (BARRIER) __syncthreads();
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  sac::adam_step(online + i, m + i, v + i, grads[i], beta1, beta2, eps, scalars.step_size,
                 scalars.sqrt_bias_correction2);
  if (target) target[i] = sac::polyak(target[i], online[i], tau);
}

// ---- helpers

template <typename T>
T* device_upload(const std::vector<T>& host) {
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, host.size() * sizeof(T)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            cudaSuccess);
  return static_cast<T*>(p);
}

template <typename T>
std::vector<T> download(const T* d, size_t n) {
  std::vector<T> host(n);
  EXPECT_EQ(cudaMemcpy(host.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  return host;
}

std::vector<float> wave(size_t n, float phase) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(0.37f * (float)i + phase);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// one seed's ring and minibatch on the device. The ring has 64 rows of 16 observation floats
// (4,096 bytes: the allocation starts on a page, after the simulator's guard page), so a row
// index read before it is set (0xFF bytes: -1) reads just before the allocation and faults
struct Minibatch {
  static constexpr int kRows = 64, B = 8, O = 16, A = 4, kCopies = 2, W = O + A;
  std::vector<float> obs = wave((size_t)kRows * O, 0.1f), action = wave((size_t)kRows * A, 0.2f),
                     reward = wave(kRows, 0.3f), next_obs = wave((size_t)kRows * O, 0.4f),
                     terminated = std::vector<float>(kRows, 0.0f);
  std::vector<int64_t> size{50}, counter{3};
  RingView ring{};
  MinibatchDraws draws{};
  MinibatchLayout out{};
  std::vector<void*> owned;

  Minibatch() {
    for (int k = 0; k < kRows; k += 5) terminated[k] = 1.0f;
    ring = RingView{keep(device_upload(obs)),      keep(device_upload(action)),
                    keep(device_upload(reward)),   keep(device_upload(next_obs)),
                    keep(device_upload(terminated)), keep(device_upload(size))};
    draws = MinibatchDraws{42, 1, 2, 3, keep(device_upload(counter))};
    out = MinibatchLayout{keep(zeros<int64_t>(B)),           keep(zeros<float>((size_t)B * O)),
                          keep(zeros<float>((size_t)B * O)), keep(zeros<float>(kCopies * B * W)),
                          keep(zeros<float>(kCopies * B * W)), keep(zeros<float>(kCopies * B * W)),
                          keep(zeros<float>(B)),             keep(zeros<float>(B)),
                          keep(zeros<float>((size_t)B * A)), keep(zeros<float>((size_t)B * A))};
  }
  ~Minibatch() {
    for (void* p : owned) cudaFree(p);
  }
  template <typename T>
  T* keep(T* p) {
    owned.push_back((void*)p);
    return p;
  }
  template <typename T>
  T* zeros(size_t n) {
    return device_upload(std::vector<T>(n, T{}));
  }
  // every output as floats (the indices converted), in one vector
  std::vector<float> result() const {
    std::vector<float> all;
    for (int64_t i : download(out.indices, B)) all.push_back((float)i);
    const size_t sizes[] = {(size_t)B * O,       (size_t)B * O,       (size_t)kCopies * B * W,
                            (size_t)kCopies * B * W, (size_t)kCopies * B * W, (size_t)B,
                            (size_t)B,           (size_t)B * A,       (size_t)B * A};
    const float* parts[] = {out.obs,       out.next_obs, out.critic_in,
                            out.critic_in_pi, out.target_in, out.reward,
                            out.terminated, out.eps_next,  out.eps_cur};
    for (int p = 0; p < 9; ++p) {
      std::vector<float> part = download(parts[p], sizes[p]);
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }
  // the outputs of the real kernel (one seed)
  std::vector<float> real() {
    sac::launch_sample_minibatch(nullptr, 1, B, O, A, kCopies, &ring, &draws, out);
    return result();
  }
  // the outputs of the planted copy, launched as the real launcher launches (64 threads a row)
  template <bool BARRIER>
  std::vector<float> planted() {
    sac::launch(planted_sample_minibatch_kernel<BARRIER>, B, 64, 0, nullptr, B, O, A, kCopies,
                ring, draws, out);
    return result();
  }
  // the CPU twin's outputs
  std::vector<float> cpu() const {
    std::vector<int64_t> idx(B);
    std::vector<float> s((size_t)B * O), s2((size_t)B * O), ci(kCopies * B * W),
        cpi(kCopies * B * W), ti(kCopies * B * W), r(B), d(B), en((size_t)B * A),
        ec((size_t)B * A);
    RingView host_ring{obs.data(),      action.data(),     reward.data(),
                       next_obs.data(), terminated.data(), size.data()};
    MinibatchDraws host_draws{42, 1, 2, 3, counter.data()};
    MinibatchLayout host_out{idx.data(), s.data(), s2.data(), ci.data(), cpi.data(),
                             ti.data(),  r.data(), d.data(),  en.data(), ec.data()};
    sac::sample_minibatch_cpu(1, B, O, A, kCopies, &host_ring, &host_draws, host_out);
    std::vector<float> all;
    for (int64_t i : idx) all.push_back((float)i);
    for (const std::vector<float>* part : {&s, &s2, &ci, &cpi, &ti, &r, &d, &en, &ec})
      all.insert(all.end(), part->begin(), part->end());
    return all;
  }
};

// Adam + Polyak on n values over two blocks of 256 (the second one partial)
struct AdamPolyak {
  static constexpr size_t n = 300;
  std::vector<float> online = wave(n, 0.5f), grads = wave(n, 1.5f), m = wave(n, 2.5f),
                     v = std::vector<float>(n, 0.25f), target = wave(n, 3.5f);
  std::vector<int64_t> step{4};
  static constexpr float lr = 3e-4f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, tau = 0.005f;

  // the new online and target values of one kernel (the real one unless a plant is given)
  template <typename Launch>
  std::vector<float> run(Launch launch_kernel) const {
    float *d_online = device_upload(online), *d_grads = device_upload(grads),
          *d_m = device_upload(m), *d_v = device_upload(v), *d_target = device_upload(target);
    int64_t* d_step = device_upload(step);
    launch_kernel(d_online, d_grads, d_m, d_v, d_step, d_target);
    std::vector<float> result = download(d_online, n), new_target = download(d_target, n);
    result.insert(result.end(), new_target.begin(), new_target.end());
    for (void* p : {(void*)d_online, (void*)d_grads, (void*)d_m, (void*)d_v, (void*)d_target,
                    (void*)d_step})
      cudaFree(p);
    return result;
  }
  std::vector<float> real() const {
    return run([](float* o, const float* g, float* m_, float* v_, const int64_t* s, float* t) {
      sac::launch_adam_polyak(nullptr, n, o, g, m_, v_, lr, beta1, beta2, eps, s, t, tau);
    });
  }
  template <bool BARRIER>
  std::vector<float> planted() const {
    return run([](float* o, const float* g, float* m_, float* v_, const int64_t* s, float* t) {
      sac::linear_kernel(planted_adam_polyak_kernel<BARRIER>, nullptr, n, lr, beta1, beta2, eps,
                         tau, s, o, g, m_, v_, t);
    });
  }
  std::vector<float> cpu() const {
    std::vector<float> o = online, m_ = m, v_ = v, t = target;
    sac::ThreadPool pool(1);
    sac::adam_polyak_cpu(pool, n, o.data(), grads.data(), m_.data(), v_.data(), lr, beta1, beta2,
                         eps, step.data(), t.data(), tau);
    o.insert(o.end(), t.begin(), t.end());
    return o;
  }
};

// ---- tests

TEST(CudaSimThreadOrder, TheSeedPicksTheOrder) {
  const uint64_t seed = cudasim::scheduler_seed();
  const ThreadOrder expected = seed % 3 == 0   ? ThreadOrder::kAscending
                               : seed % 3 == 1 ? ThreadOrder::kRandom
                                               : ThreadOrder::kDescending;
  EXPECT_EQ(cudasim::thread_order(), expected)
      << "seed " << seed << " runs " << cudasim::thread_order_name(cudasim::thread_order());
}

TEST(CudaSimThreadOrder, ThreadsRunInTheOrderBetweenBarriers) {
  const int n = 64;
  int* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 2 * n * sizeof(int)), cudaSuccess);
  std::vector<int> ascending(n), descending(n);
  std::iota(ascending.begin(), ascending.end(), 0);
  for (int t = 0; t < n; ++t) descending[t] = n - 1 - t;
  for (ThreadOrder order : kOrders) {
    OrderScope scope(order);
    sac::launch(record_order_kernel, 1, n, 0, nullptr, d);
    std::vector<int> got = download(d, 2 * n);
    std::vector<int> first(got.begin(), got.begin() + n), second(got.begin() + n, got.end());
    const char* name = cudasim::thread_order_name(order);
    if (order == ThreadOrder::kAscending) {
      EXPECT_EQ(first, ascending) << name;
      EXPECT_EQ(second, ascending) << name;
    } else if (order == ThreadOrder::kDescending) {
      EXPECT_EQ(first, descending) << name;
      EXPECT_EQ(second, descending) << name;
    } else {
      // a permutation of the block, another one after the barrier
      for (const std::vector<int>* phase : {&first, &second}) {
        std::vector<int> sorted = *phase;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(sorted, ascending) << name;
        EXPECT_NE(*phase, ascending) << name;
        EXPECT_NE(*phase, descending) << name;
      }
      EXPECT_NE(first, second) << name;
    }
  }
  cudaFree(d);
}

TEST(CudaSimThreadOrder, RealSampleMinibatchGivesTheSameBitsInEveryOrder) {
  Minibatch batch;
  const std::vector<float> cpu = batch.cpu();
  for (ThreadOrder order : kOrders) {
    OrderScope scope(order);
    const char* name = cudasim::thread_order_name(order);
    std::vector<float> real = batch.real();
    ASSERT_EQ(real.size(), cpu.size());
    for (size_t i = 0; i < cpu.size(); ++i)
      ASSERT_NEAR(real[i], cpu[i], 1e-6 * (1.0 + std::fabs(cpu[i]))) << name << " value " << i;
    // the copy with its barrier is the real kernel
    EXPECT_TRUE(same_bits(batch.planted<true>(), real)) << name;
  }
}

TEST(CudaSimThreadOrder, RealAdamPolyakGivesTheSameBitsInEveryOrder) {
  AdamPolyak adam;
  const std::vector<float> cpu = adam.cpu();
  std::vector<float> first;
  for (ThreadOrder order : kOrders) {
    OrderScope scope(order);
    const char* name = cudasim::thread_order_name(order);
    std::vector<float> real = adam.real();
    ASSERT_EQ(real.size(), cpu.size());
    for (size_t i = 0; i < cpu.size(); ++i)
      ASSERT_NEAR(real[i], cpu[i], 1e-6 * (1.0 + std::fabs(cpu[i]))) << name << " value " << i;
    if (first.empty()) first = real;
    EXPECT_TRUE(same_bits(real, first)) << name;
    EXPECT_TRUE(same_bits(adam.planted<true>(), real)) << name;
  }
}

// the gap the orders close: in ascending order thread 0 sets the shared value before any other
// thread reads it, so the missing barrier goes unseen
TEST(CudaSimThreadOrder, AscendingOrderAloneMissesBothPlants) {
  OrderScope scope(ThreadOrder::kAscending);
  Minibatch batch;
  EXPECT_TRUE(same_bits(batch.planted<false>(), batch.real()));
  AdamPolyak adam;
  EXPECT_TRUE(same_bits(adam.planted<false>(), adam.real()));
}

TEST(CudaSimThreadOrder, ReversedAndShuffledOrdersCatchAdamPolyakWithoutItsBarrier) {
  AdamPolyak adam;
  for (ThreadOrder order : {ThreadOrder::kDescending, ThreadOrder::kRandom}) {
    OrderScope scope(order);
    const char* name = cudasim::thread_order_name(order);
    std::vector<float> real = adam.real(), planted = adam.planted<false>();
    // threads that ran before thread 0 read the uninitialised scalars: their values are NaN
    size_t wrong = 0;
    for (size_t i = 0; i < real.size(); ++i)
      if (!(planted[i] == real[i])) {
        ++wrong;
        EXPECT_TRUE(std::isnan(planted[i])) << name << " value " << i << ": " << planted[i];
      }
    if (order == ThreadOrder::kDescending) {
      // all but thread 0 of each of the two blocks, online and target values alike
      EXPECT_EQ(wrong, real.size() - 4) << name;
    } else {
      EXPECT_GT(wrong, 0u) << name;
    }
  }
}

using CudaSimThreadOrderDeathTest = ::testing::Test;

TEST(CudaSimThreadOrderDeathTest, ReversedAndShuffledOrdersCatchSampleMinibatchWithoutItsBarrier) {
  for (ThreadOrder order : {ThreadOrder::kDescending, ThreadOrder::kRandom}) {
    const std::string name = cudasim::thread_order_name(order);
    // threads that ran before thread 0 read row -1 (the fill): the observation just before the
    // ring's allocation
    EXPECT_DEATH(
        {
          OrderScope scope(order);
          Minibatch batch;
          batch.planted<false>();
        },
        "planted_sample_minibatch_kernel.*invalid read.*bytes before the device allocation of "
        "4096 bytes.*threads of a block in " +
            name + " order")
        << name;
  }
}

}  // namespace
