// philox.h: Philox4x32-10, the counter-based generator used for every random number in the
// engine (env noise, replay indices, policy noise). Counter-based means draw k of stream s is
// a pure function of (seed, s, k): the CPU and CUDA backends produce identical numbers, and a
// checkpoint only needs the counters.
#pragma once
#include <cmath>
#include <cstdint>

#include "sac/hd.h"

namespace sac {

struct Philox4 {
  uint32_t v[4];
};

// one Philox4x32-10 block: 4 random 32-bit words for (key, counter).
SAC_HD Philox4 philox4x32(uint64_t key, uint64_t counter_lo, uint64_t counter_hi) {
  uint32_t c0 = (uint32_t)counter_lo, c1 = (uint32_t)(counter_lo >> 32);
  uint32_t c2 = (uint32_t)counter_hi, c3 = (uint32_t)(counter_hi >> 32);
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c0;
    uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = (uint32_t)p0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// uniform in (0, 1], never 0 so log() is safe.
SAC_HD float u32_to_unit_float(uint32_t x) { return ((float)(x >> 8) + 1.0f) * (1.0f / 16777216.0f); }
SAC_HD double u64_to_unit_double(uint32_t hi, uint32_t lo) {
  uint64_t x = ((uint64_t)hi << 21) ^ (uint64_t)(lo >> 11);
  return ((double)(x & ((1ull << 53) - 1)) + 1.0) * (1.0 / 9007199254740992.0);
}

// standard normal number `index` of stream (key, stream): Box-Muller on one Philox block.
SAC_HD float philox_normal(uint64_t key, uint64_t stream, uint64_t index) {
  Philox4 r = philox4x32(key, index >> 1, stream);
  float u1 = u32_to_unit_float((index & 1) ? r.v[2] : r.v[0]);
  float u2 = u32_to_unit_float((index & 1) ? r.v[3] : r.v[1]);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
}

// uniform integer in [0, n) number `index` of stream (key, stream).
SAC_HD uint64_t philox_below(uint64_t key, uint64_t stream, uint64_t index, uint64_t n) {
  Philox4 r = philox4x32(key, index, stream);
  uint64_t x = ((uint64_t)r.v[0] << 32) | r.v[1];
  return x % n;  // bias below 2^-32 for any n a replay buffer can hold
}

/// Host-side sequential generator for env noise and random actions: a Philox stream with a
/// running counter, so its whole state is (seed, stream, counter) and checkpoints exactly.
class HostRng {
 public:
  HostRng(uint64_t seed = 0, uint64_t stream = 0) : m_seed(seed), m_stream(stream) {}

  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) {
    Philox4 r = philox4x32(m_seed, m_counter++, m_stream);
    return lo + (hi - lo) * (u64_to_unit_double(r.v[0], r.v[1]) - 1.0 / 9007199254740992.0);
  }
  /// Standard normal double (Box-Muller, one block per draw).
  double normal() {
    Philox4 r = philox4x32(m_seed, m_counter++, m_stream);
    double u1 = u64_to_unit_double(r.v[0], r.v[1]);
    double u2 = u64_to_unit_double(r.v[2], r.v[3]);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  uint64_t seed() const { return m_seed; }
  uint64_t stream() const { return m_stream; }
  uint64_t counter() const { return m_counter; }
  void set_counter(uint64_t c) { m_counter = c; }

 private:
  uint64_t m_seed, m_stream, m_counter = 0;
};

}  // namespace sac
