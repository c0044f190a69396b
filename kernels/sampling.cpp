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

void fill_normal_seeds_cpu(int S, size_t n, const uint64_t* keys, uint64_t stream,
                           const int64_t* d_counter, float* out) {
  for (int s = 0; s < S; ++s) fill_normal_cpu(n, keys[s], stream, d_counter, out + (size_t)s * n);
}

void sample_minibatch_cpu(int S, int B, int O, int A, int copies, const RingView* rings,
                          const MinibatchDraws* draws, const MinibatchLayout& out) {
  const int W = O + A;
  for (int seed = 0; seed < S; ++seed) {
    const RingView& ring = rings[seed];
    const MinibatchDraws& d = draws[seed];
    const size_t row0 = (size_t)seed * B;
    int64_t* indices = out.indices + row0;
    sample_indices_cpu(B, d.key, d.index_stream, d.d_counter, ring.d_size, indices);
    for (int r = 0; r < B; ++r) {
      const size_t k = (size_t)indices[r];
      const float* s = ring.obs + k * O;
      const float* s_next = ring.next_obs + k * O;
      std::copy(s, s + O, out.obs + (row0 + r) * O);
      std::copy(s_next, s_next + O, out.next_obs + (row0 + r) * O);
      for (int c = 0; c < copies; ++c) {
        const size_t at = (((size_t)seed * copies + c) * B + r) * W;
        std::copy(s, s + O, out.critic_in + at);
        std::copy(s, s + O, out.critic_in_pi + at);
        std::copy(ring.action + k * A, ring.action + (k + 1) * A, out.critic_in + at + O);
        std::copy(s_next, s_next + O, out.target_in + at);
      }
      out.reward[row0 + r] = ring.reward[k];
      out.terminated[row0 + r] = ring.terminated[k];
    }
    const size_t noise = (size_t)B * A;
    fill_normal_cpu(noise, d.key, d.next_noise_stream, d.d_counter, out.eps_next + row0 * A);
    fill_normal_cpu(noise, d.key, d.cur_noise_stream, d.d_counter, out.eps_cur + row0 * A);
  }
}

}  // namespace sac
