// sort_truncate.h: TQC's pooled target atoms, sorted and truncated (Backend's
// sort_truncate_atoms; Kuznetsov et al. 2020, "Controlling Overestimation Bias with Truncated
// Mixture of Continuous Distributional Quantile Critics"). Each row's A = N x M atoms (the N
// target critics' M quantiles, pooled) are sorted ascending and the lowest K = A - d x N kept:
// the top d atoms per critic are dropped. The order is a total order on the floats' bits
// (atom_order_key: -0 before +0, NaNs above +inf), so ties are equal bits and every sort gives
// the same output. Both backends run the same bitonic network over the row padded to a power
// of two P with +inf keys (SAC_HD compare-exchange): the CPU twin (sort_truncate.cpp) in plain
// loops, the CUDA kernel (sort_truncate.cu) one block per row in shared memory.
// Tests: sac_tests --gtest_filter='*SortTruncate*' (the CUDA one skips without a GPU; sim:*
// runs it on the CUDA simulator); timings: sac_bench_kernels --filter sort_truncate.
#pragma once
#include "cuda_source.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sac/hd.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

/// The most atoms one row may pool (the CUDA block sorts them in shared memory).
constexpr int kMaxPooledAtoms = 2048;

// the unsigned key whose order is the floats' total order: negative floats' bits inverted,
// non-negative ones' sign bit set
SAC_HD uint32_t atom_order_key(float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// the float of an order key (atom_order_key's inverse)
SAC_HD float atom_of_key(uint32_t key) {
  const uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

// the smallest power of two >= n
SAC_HD int padded_atom_count(int n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

// one compare-exchange of the bitonic network's stage (k, j) at element i of keys[0, P): the
// pair (i, i ^ j) put in ascending order where i & k is 0, descending elsewhere (i < i ^ j only)
SAC_HD void bitonic_exchange(uint32_t* keys, int i, int j, int k) {
  const int partner = i ^ j;
  if (partner <= i) return;
  const uint32_t a = keys[i], b = keys[partner];
  const bool ascending = (i & k) == 0;
  if (ascending ? a > b : a < b) {
    keys[i] = b;
    keys[partner] = a;
  }
}

/// Throws std::invalid_argument naming sort_truncate_atoms and the values unless rows >= 0,
/// 1 <= atoms <= kMaxPooledAtoms and 1 <= keep <= atoms (both backends check alike).
inline void check_sort_truncate_shape(int rows, int atoms, int keep) {
  if (rows < 0 || atoms < 1 || atoms > kMaxPooledAtoms || keep < 1 || keep > atoms)
    throw std::invalid_argument("sort_truncate_atoms: need rows >= 0, 1 <= atoms <= " +
                                std::to_string(kMaxPooledAtoms) + " and 1 <= keep <= atoms, got rows=" +
                                std::to_string(rows) + " atoms=" + std::to_string(atoms) +
                                " keep=" + std::to_string(keep));
}

// ---- CPU twin (the reference; arguments as Backend::sort_truncate_atoms)

/// Backend::sort_truncate_atoms on the CPU: the same bitonic network, row by row.
void sort_truncate_atoms_cpu(int rows, int atoms, int keep, const float* pooled, float* kept);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launcher: checks its arguments (std::invalid_argument), then one launch on `stream`

/// Backend::sort_truncate_atoms: one block per row, the keys in shared memory.
void launch_sort_truncate_atoms(cudaStream_t stream, int rows, int atoms, int keep,
                                const float* pooled, float* kept);
#endif

}  // namespace sac
