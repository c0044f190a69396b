// vector_clones.h: SAC_VECTOR_CLONES marks the CPU backend's hottest element-wise loops to be
// compiled once per vector width (AVX-512, AVX2, the x86-64 baseline), the widest the CPU runs
// picked when the program loads (GCC's target_clones). A build for any x86-64 (a pip wheel, a
// Debian package) then still uses the vector units of the machine it runs on.
//
// The clones give the same bits: the project builds with -ffp-contract=off (no multiply-add
// fusion, CMakeLists.txt), and the marked loops use only operations that are exactly rounded in
// every lane (add, multiply, divide, sqrt, compare-and-select). Test:
// sac_tests --gtest_filter='VectorClones.*'.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define SAC_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SAC_VECTOR_CLONES
#endif
