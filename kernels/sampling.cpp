// sampling.cpp: the CPU twins of the minibatch draws and gathers (see sampling.h): plain loops
// over the Philox bodies of sac/philox.h; CpuBackend forwards to them.
// Tests: sac_tests --gtest_filter='*Philox*:*Fill*:*Sample*:*Gather*'.
#include "sampling.h"

#include <algorithm>
#include <cstring>

#include "sac/philox.h"

namespace sac {

void fill_normal_cpu(size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                     float* out) {
  uint64_t offset = (uint64_t)*d_counter * n;
  for (size_t i = 0; i < n; ++i) out[i] = philox_normal(key, stream, offset + i);
}

void sample_indices_cpu(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                        const int64_t* d_bound, int64_t* idx) {
  uint64_t offset = (uint64_t)*d_counter * n;
  for (int i = 0; i < n; ++i)
    idx[i] = (int64_t)philox_below(key, stream, offset + i, (uint64_t)*d_bound);
}

void gather_rows_cpu(int n, int dim, const float* src, const int64_t* idx, float* dst) {
  for (int i = 0; i < n; ++i)
    std::memcpy(dst + (size_t)i * dim, src + (size_t)idx[i] * dim, dim * sizeof(float));
}

void sample_minibatch_cpu(int B, int O, int A, const RingView& ring, const MinibatchDraws& draws,
                          const MinibatchLayout& out) {
  sample_indices_cpu(B, draws.key, draws.index_stream, draws.d_counter, ring.d_size, out.indices);
  const int W = O + A;
  for (int r = 0; r < B; ++r) {
    const size_t k = (size_t)out.indices[r];
    const float* s = ring.obs + k * O;
    const float* s_next = ring.next_obs + k * O;
    std::copy(s, s + O, out.obs + (size_t)r * O);
    std::copy(s, s + O, out.critic_in + (size_t)r * W);
    std::copy(s, s + O, out.critic_in_pi + (size_t)r * W);
    std::copy(ring.action + k * A, ring.action + (k + 1) * A, out.critic_in + (size_t)r * W + O);
    std::copy(s_next, s_next + O, out.next_obs + (size_t)r * O);
    std::copy(s_next, s_next + O, out.target_in + (size_t)r * W);
    out.reward[r] = ring.reward[k];
    out.terminated[r] = ring.terminated[k];
  }
  const size_t noise = (size_t)B * A;
  fill_normal_cpu(noise, draws.key, draws.next_noise_stream, draws.d_counter, out.eps_next);
  fill_normal_cpu(noise, draws.key, draws.cur_noise_stream, draws.d_counter, out.eps_cur);
}

}  // namespace sac
