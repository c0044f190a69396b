// sampling.h: the random draws and replay gathers of a minibatch (Backend's fill_normal,
// sample_indices, gather_rows and the fused sample_minibatch). Random numbers are Philox,
// counter-based (sac/philox.h, SAC_HD): the same draw offsets give the same numbers on both
// backends, and the offsets come from a device counter so graph replays draw fresh numbers.
// CPU twins in sampling.cpp; CUDA kernels and launchers in sampling.cu (declared below for .cu
// files only).
// Tests: sac_tests --gtest_filter='*Philox*:*Fill*:*Sample*:*Gather*' (the CUDA ones skip
// without a GPU); timings: sac_bench_kernels.
#pragma once
#include "cuda_source.h"
#include <cstddef>
#include <cstdint>

#include "sac/backend.h"

#ifdef SAC_CUDA_SOURCE
#include <cuda_runtime.h>
#endif

namespace sac {

// ---- CPU twins (the reference; arguments as the Backend ops of the same name)

/// Backend::fill_normal: out[i] = standard normal number (*d_counter * n + i) of (key, stream).
void fill_normal_cpu(size_t n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                     float* out);
/// Backend::fill_normal_seeds: fill_normal_cpu of each seed's key into its block of n.
void fill_normal_seeds_cpu(int S, size_t n, const uint64_t* keys, uint64_t stream,
                           const int64_t* d_counter, float* out);
/// Backend::sample_indices: idx[i] = uniform integer in [0, *d_bound) number
/// (*d_counter * n + i) of (key, stream).
void sample_indices_cpu(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                        const int64_t* d_bound, int64_t* idx);
/// Backend::gather_rows: dst[i] = src[idx[i]] for i < n; rows are `dim` floats.
void gather_rows_cpu(int n, int dim, const float* src, const int64_t* idx, float* dst);
/// Backend::sample_minibatch: per seed, sample_indices_cpu, the rows gathered into `out`'s
/// layouts (the critic inputs in `copies` copies), then both noise blocks by fill_normal_cpu.
void sample_minibatch_cpu(int S, int B, int O, int A, int copies, const RingView* rings,
                          const MinibatchDraws* draws, const MinibatchLayout& out);

#ifdef SAC_CUDA_SOURCE
// ---- CUDA launchers: each checks its arguments (std::invalid_argument), then one launch on
// `stream`

void launch_fill_normal(cudaStream_t stream, size_t n, uint64_t key, uint64_t philox_stream,
                        const int64_t* d_counter, float* out);
void launch_fill_normal_seeds(cudaStream_t stream, int S, size_t n, const uint64_t* keys,
                              uint64_t philox_stream, const int64_t* d_counter, float* out);
void launch_sample_indices(cudaStream_t stream, int n, uint64_t key, uint64_t philox_stream,
                           const int64_t* d_counter, const int64_t* d_bound, int64_t* idx);
void launch_gather_rows(cudaStream_t stream, int n, int dim, const float* src, const int64_t* idx,
                        float* dst);
void launch_sample_minibatch(cudaStream_t stream, int S, int B, int O, int A, int copies,
                             const RingView* rings, const MinibatchDraws* draws,
                             const MinibatchLayout& out);
#endif

}  // namespace sac
