// cuda_source.h: SAC_CUDA_SOURCE is defined in a translation unit that is CUDA code: compiled
// by nvcc (__CUDACC__) or by the host compiler against the CUDA simulator's stand-in runtime
// (SAC_CUDA_SIM, tests/cuda_sim). The op families' headers declare their CUDA launchers under
// it, so plain .cpp files of the CPU build never see a CUDA type.
#pragma once

#if defined(__CUDACC__) || defined(SAC_CUDA_SIM)
#define SAC_CUDA_SOURCE 1
#endif
