// cublas_on_demand.h: cuBLAS and cuBLASLt, opened when first needed (cublas_on_demand.cpp), so
// a process that never makes a CUDA backend never loads them.
#pragma once
#include <string>

namespace sac {

/// Opens libcublasLt and libcublas (once; later calls answer at once) and says why they cannot
/// be used: "" when both are loaded, else which library failed and the loader's message.
std::string cublas_libraries_unavailable_reason();

}  // namespace sac
