// sort_truncate.cpp: the CPU twin of TQC's sorted, truncated target atoms (see
// sort_truncate.h): each row's keys through the bitonic network the CUDA kernel runs, the
// lowest `keep` written back as floats; CpuBackend forwards to it.
// Tests: sac_tests --gtest_filter='*SortTruncate*'.
#include "sort_truncate.h"

#include <vector>

namespace sac {

void sort_truncate_atoms_cpu(int rows, int atoms, int keep, const float* pooled, float* kept) {
  check_sort_truncate_shape(rows, atoms, keep);
  const int P = padded_atom_count(atoms);
  std::vector<uint32_t> keys(P);
  for (int row = 0; row < rows; ++row) {
    const float* in = pooled + (size_t)row * atoms;
    // padding: the largest key, after every atom
    for (int i = 0; i < P; ++i) keys[i] = i < atoms ? atom_order_key(in[i]) : 0xffffffffu;
    for (int k = 2; k <= P; k <<= 1)
      for (int j = k >> 1; j > 0; j >>= 1)
        for (int i = 0; i < P; ++i) bitonic_exchange(keys.data(), i, j, k);
    float* out = kept + (size_t)row * keep;
    for (int i = 0; i < keep; ++i) out[i] = atom_of_key(keys[i]);
  }
}

}  // namespace sac
