// cublas_on_demand.cpp: cuBLAS and cuBLASLt are opened when the first CUDA backend is made,
// never at process start. Linked normally, libcublasLt alone costs every process ~0.2 s and
// ~200 MB of memory in its constructors, even a CPU run or `sac envs`. So the binaries do not
// name these libraries; this file defines the cuBLAS functions the backend calls, each of which
// opens its library on first use (dlopen) and forwards to the real function (dlsym).
//
// The definitions are checked against the declarations of <cublas_v2.h> and <cublasLt.h> by the
// compiler (a C function with another signature is an error), and a function the backend starts
// calling without a line here is an undefined symbol at link time, so the list cannot drift.
// Built only with nvcc (the CUDA simulator brings its own cuBLAS); compiled with hidden
// visibility so these names never interpose on the real ones for a library loaded later.
#include "cublas_on_demand.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <dlfcn.h>

#include <mutex>
#include <string>

namespace sac {
namespace {

// One shared library, opened once: by its soname (the loader's search path:
// LD_LIBRARY_PATH, the system's cache), else in the toolkit's folder this build was made with.
class OnDemandLibrary {
 public:
  explicit OnDemandLibrary(const char* stem) : soname_(std::string(stem) + ".so." +
                                                       std::to_string(CUBLAS_VER_MAJOR)) {}

  void* handle() {
    std::call_once(opened_, [this] { open(); });
    return handle_;
  }
  const std::string& error() {
    handle();
    return error_;
  }

 private:
  void open() {
    handle_ = ::dlopen(soname_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_) return;
    std::string first = ::dlerror();
    std::string in_toolkit = std::string(SAC_CUDA_LIBRARY_DIR) + "/" + soname_;
    handle_ = ::dlopen(in_toolkit.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) error_ = "cannot load " + soname_ + " (" + first + "; nor " + in_toolkit + ")";
  }

  std::string soname_;
  std::once_flag opened_;
  void* handle_ = nullptr;
  std::string error_;
};

OnDemandLibrary& cublas_library() {
  static OnDemandLibrary library("libcublas");
  return library;
}
OnDemandLibrary& cublaslt_library() {
  static OnDemandLibrary library("libcublasLt");
  return library;
}

template <typename Fn>
Fn* resolve(OnDemandLibrary& library, const char* name) {
  void* handle = library.handle();
  return handle ? reinterpret_cast<Fn*>(::dlsym(handle, name)) : nullptr;
}

// What a forwarded call answers when its library could not be opened: the backend checks
// cublas_libraries_unavailable_reason() first, so this is only reached by a caller that did not.
template <typename R>
R not_loaded();
template <>
cublasStatus_t not_loaded<cublasStatus_t>() { return CUBLAS_STATUS_NOT_INITIALIZED; }
template <>
const char* not_loaded<const char*>() { return "cuBLAS could not be loaded"; }

}  // namespace

std::string cublas_libraries_unavailable_reason() {
  if (!cublaslt_library().error().empty()) return cublaslt_library().error();
  return cublas_library().error();
}

}  // namespace sac

// One forwarder: the signature as <cublas_v2.h>/<cublasLt.h> declare it, the call resolved once.
#define SAC_ON_DEMAND(library, R, name, params, args)                           \
  R CUBLASWINAPI name params {                                                  \
    static auto* real = sac::resolve<decltype(name)>(sac::library(), #name);    \
    return real ? real args : sac::not_loaded<R>();                             \
  }

extern "C" {

SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasCreate_v2, (cublasHandle_t * handle), (handle))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasDestroy_v2, (cublasHandle_t handle), (handle))
SAC_ON_DEMAND(cublas_library, const char*, cublasGetStatusString, (cublasStatus_t status), (status))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasSetAtomicsMode,
              (cublasHandle_t handle, cublasAtomicsMode_t mode), (handle, mode))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasSetMathMode,
              (cublasHandle_t handle, cublasMath_t mode), (handle, mode))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasSetPointerMode_v2,
              (cublasHandle_t handle, cublasPointerMode_t mode), (handle, mode))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasSetStream_v2,
              (cublasHandle_t handle, cudaStream_t stream), (handle, stream))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasSetWorkspace_v2,
              (cublasHandle_t handle, void* workspace, size_t bytes), (handle, workspace, bytes))
SAC_ON_DEMAND(cublas_library, cublasStatus_t, cublasSgemmStridedBatched,
              (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
               int n, int k, const float* alpha, const float* A, int lda, long long int strideA,
               const float* B, int ldb, long long int strideB, const float* beta, float* C,
               int ldc, long long int strideC, int batchCount),
              (handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C,
               ldc, strideC, batchCount))

SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtCreate, (cublasLtHandle_t * handle),
              (handle))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtDestroy, (cublasLtHandle_t handle),
              (handle))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmul,
              (cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha,
               const void* A, cublasLtMatrixLayout_t Adesc, const void* B,
               cublasLtMatrixLayout_t Bdesc, const void* beta, const void* C,
               cublasLtMatrixLayout_t Cdesc, void* D, cublasLtMatrixLayout_t Ddesc,
               const cublasLtMatmulAlgo_t* algo, void* workspace, size_t workspace_bytes,
               cudaStream_t stream),
              (handle, desc, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc, algo, workspace,
               workspace_bytes, stream))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulAlgoConfigGetAttribute,
              (const cublasLtMatmulAlgo_t* algo, cublasLtMatmulAlgoConfigAttributes_t attr,
               void* buf, size_t bytes, size_t* written),
              (algo, attr, buf, bytes, written))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulAlgoGetHeuristic,
              (cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t Adesc,
               cublasLtMatrixLayout_t Bdesc, cublasLtMatrixLayout_t Cdesc,
               cublasLtMatrixLayout_t Ddesc, cublasLtMatmulPreference_t preference,
               int requested, cublasLtMatmulHeuristicResult_t results[], int* returned),
              (handle, desc, Adesc, Bdesc, Cdesc, Ddesc, preference, requested, results, returned))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulDescCreate,
              (cublasLtMatmulDesc_t * desc, cublasComputeType_t compute, cudaDataType_t scale),
              (desc, compute, scale))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulDescDestroy,
              (cublasLtMatmulDesc_t desc), (desc))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulDescSetAttribute,
              (cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const void* buf,
               size_t bytes),
              (desc, attr, buf, bytes))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulPreferenceCreate,
              (cublasLtMatmulPreference_t * preference), (preference))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulPreferenceDestroy,
              (cublasLtMatmulPreference_t preference), (preference))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatmulPreferenceSetAttribute,
              (cublasLtMatmulPreference_t preference, cublasLtMatmulPreferenceAttributes_t attr,
               const void* buf, size_t bytes),
              (preference, attr, buf, bytes))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatrixLayoutCreate,
              (cublasLtMatrixLayout_t * layout, cudaDataType type, uint64_t rows, uint64_t cols,
               int64_t ld),
              (layout, type, rows, cols, ld))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatrixLayoutDestroy,
              (cublasLtMatrixLayout_t layout), (layout))
SAC_ON_DEMAND(cublaslt_library, cublasStatus_t, cublasLtMatrixLayoutSetAttribute,
              (cublasLtMatrixLayout_t layout, cublasLtMatrixLayoutAttribute_t attr,
               const void* buf, size_t bytes),
              (layout, attr, buf, bytes))

}  // extern "C"
