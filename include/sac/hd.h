// hd.h: the SAC_HD qualifier that lets one element-wise body compile for host and device.
// Public headers include this instead of any CUDA header, so a CPU-only build needs no toolkit.
#pragma once

#if defined(__CUDACC__)
#define SAC_HD __host__ __device__ __forceinline__
#else
#define SAC_HD inline
#endif
