// sort_truncate.cu: the CUDA kernel of TQC's sorted, truncated target atoms and its launcher
// (see sort_truncate.h): one block per row, its keys padded to a power of two in shared memory
// and put through the bitonic network (a barrier after every stage), then the lowest `keep`
// written. The same SAC_HD compare-exchange as the CPU twin: the same bits on both backends.
// Tests: sac_tests --gtest_filter='*SortTruncate*' (skip without a GPU; sim:* on the simulator).
#include "sort_truncate.h"

#include "cuda_check.h"

namespace sac {
namespace {

constexpr int kSortThreads = 256;

// the row blockIdx: keys in, bitonic stages, the lowest `keep` out
__global__ void sort_truncate_atoms_kernel(int atoms, int keep, int P,
                                           const float* __restrict__ pooled,
                                           float* __restrict__ kept) {
  __shared__ uint32_t keys[kMaxPooledAtoms];
  const size_t row = blockIdx.x;
  const float* in = pooled + row * atoms;
  for (int i = threadIdx.x; i < P; i += kSortThreads)
    keys[i] = i < atoms ? atom_order_key(in[i]) : 0xffffffffu;
  __syncthreads();
  for (int k = 2; k <= P; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < P; i += kSortThreads) bitonic_exchange(keys, i, j, k);
      __syncthreads();  // the stage complete before the next one reads its pairs
    }
  float* out = kept + row * keep;
  for (int i = threadIdx.x; i < keep; i += kSortThreads) out[i] = atom_of_key(keys[i]);
}

}  // namespace

void launch_sort_truncate_atoms(cudaStream_t stream, int rows, int atoms, int keep,
                                const float* pooled, float* kept) {
  check_sort_truncate_shape(rows, atoms, keep);
  if (rows == 0) return;
  require(pooled && kept, "sort_truncate_atoms", "null pointer");
  launch(sort_truncate_atoms_kernel, dim3((unsigned)rows), dim3(kSortThreads), 0, stream, atoms,
         keep, padded_atom_count(atoms), pooled, kept);
}

}  // namespace sac
