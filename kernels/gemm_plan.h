// gemm_plan.h: the plain decisions behind the CUDA backend's GEMMs, kept free of CUDA so CPU
// tests cover them (tests/test_gemm_plan.cpp):
//   - the operand alignment cuBLASLt is told (its MIN_ALIGNMENT preferences default to 256
//     bytes, and on sm_90 an FP32 operand aligned to fewer bytes is then NOT_SUPPORTED; the
//     minibatch slices of one block are not all 256-byte aligned);
//   - the choice among the heuristic's algorithms (the first without split-K);
//   - what linear_grad_input does with a ReLU bit-mask (ReluMaskRegistry);
//   - the per-process counts of GEMMs issued through cuBLASLt (per epilogue) and through the
//     cuBLAS fallback (per reason), which `sac bench update` prints and the GPU campaign
//     asserts on. A GEMM is counted when it is issued: one captured into a CUDA graph counts
//     once, at capture, however often the graph is replayed.
// cublaslt_matmul.cu, linear.cu and cuda_backend.cu use them. Header-only: the CUDA backend's
// library links before the engine's, so it cannot call into it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace sac {

/// The largest power of two, at most 256, that divides the address `p` (256 for null: an absent
/// operand constrains nothing). cuBLASLt's CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES take it.
uint32_t pointer_alignment(const void* p);

/// The epilogues the linear layer runs through cuBLASLt.
enum class LtEpilogue : int { kDefault, kBias, kReluBias, kReluAuxBias, kDrelu, kBgradB, kCount };
/// Why a GEMM took the cuBLAS fallback instead of cuBLASLt.
enum class GemmFallback : int {
  kLtOff,              // cuBLASLt switched off (SAC_CUBLASLT=0)
  kNotSupported,       // CUBLAS_STATUS_NOT_SUPPORTED while planning (descriptors, heuristic)
  kNoAlgorithm,        // the heuristic returned no algorithm (or failed otherwise)
  kOnlySplitK,         // every algorithm returned reduces over split-K (not deterministic)
  kNotSupportedAtRun,  // cublasLtMatmul itself returned CUBLAS_STATUS_NOT_SUPPORTED
  kNoReluMask,         // a ReLU input gradient whose forward took the fallback (wrote no mask)
  kNoFusedForm,        // linear_backward: cuBLAS plus kernels by design
  kCount
};
/// Short names for JSON keys and messages: "bias", "relu_aux_bias", ...; "not_supported", ...
const char* lt_epilogue_name(LtEpilogue e);
const char* gemm_fallback_name(GemmFallback why);

/// What the heuristic answered: its status (success, CUBLAS_STATUS_NOT_SUPPORTED, or another
/// failure) and the split-K count of each returned algorithm (CUBLASLT_ALGO_CONFIG_SPLITK_NUM).
enum class HeuristicStatus { kSuccess, kNotSupported, kFailed };
struct LtChoice {
  int index = -1;                                 // the algorithm to use (-1: none)
  GemmFallback why = GemmFallback::kNoAlgorithm;  // when index < 0
};
/// The first algorithm without split-K (split_k[i] <= 1) among `count` results, in the
/// heuristic's order (best first). Split-K partial sums are reduced in an order the library
/// picks per launch, so results could differ run to run; without it, the same inputs give the
/// same bits. Why none can be used otherwise.
LtChoice choose_lt_algorithm(HeuristicStatus status, const int32_t* split_k, int count);

/// Per process: GEMMs issued through cuBLASLt per epilogue, and through the fallback per reason.
struct GemmPathCounts {
  int64_t lt[(int)LtEpilogue::kCount] = {};
  int64_t fallback[(int)GemmFallback::kCount] = {};
  int64_t lt_total() const;
  int64_t fallback_total() const;
  /// {"cublaslt": {epilogue: n, ...}, "fallback": {reason: n, ...}} as one JSON object's text,
  /// with the nonzero entries only, plus "cublaslt_total" and "fallback_total".
  std::string json() const;
};
void count_lt_gemm(LtEpilogue epilogue);
void count_fallback_gemm(GemmFallback why);
/// The counts since the process started or the latest reset (thread-safe).
GemmPathCounts cuda_gemm_path_counts();
void reset_cuda_gemm_path_counts();

/// The ReLU bit-masks of the CUDA backend, keyed by the mask buffer's address: whether the
/// forward pass that was given the buffer had cuBLASLt's epilogue write it (its fallback
/// writes none). An entry goes when its buffer is released, so a later allocation at the same
/// address starts unknown.
class ReluMaskRegistry {
 public:
  /// linear_forward was given `mask`; `written`: its epilogue wrote it.
  void forward(const void* mask, bool written);
  /// The buffer [base, base + bytes) was released: its masks are forgotten.
  void released(const void* base, size_t bytes);
  /// How linear_grad_input applies the ReLU of the layer below given `mask` (nullable):
  /// kEpilogue (the DRELU epilogue reads the mask), kFromInput (the fallback masks from the
  /// layer's input: no mask given, or its forward took the fallback). Throws
  /// std::invalid_argument naming `op` when a mask is given that no linear_forward was given
  /// (or that was released since): a DRELU would read bits nobody wrote.
  enum class Use { kEpilogue, kFromInput };
  Use use(const void* mask, const char* op) const;
  size_t size() const { return m_written.size(); }

 private:
  std::map<const void*, bool> m_written;
};

// ---------------------------------------------------------------------------------------------
// definitions

// the counters, one per process (inline variables: one instance whichever library includes
// this header, the CUDA backend's or the engine's)
namespace gemm_plan_detail {
inline std::atomic<int64_t> g_lt[(int)LtEpilogue::kCount];
inline std::atomic<int64_t> g_fallback[(int)GemmFallback::kCount];
}  // namespace gemm_plan_detail

inline uint32_t pointer_alignment(const void* p) {
  auto v = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 1;
  while (a < 256 && v % (2 * a) == 0) a *= 2;
  return a;
}

inline const char* lt_epilogue_name(LtEpilogue e) {
  switch (e) {
    case LtEpilogue::kDefault:
      return "default";
    case LtEpilogue::kBias:
      return "bias";
    case LtEpilogue::kReluBias:
      return "relu_bias";
    case LtEpilogue::kReluAuxBias:
      return "relu_aux_bias";
    case LtEpilogue::kDrelu:
      return "drelu";
    case LtEpilogue::kBgradB:
      return "bgradb";
    case LtEpilogue::kCount:
      break;
  }
  return "?";
}

inline const char* gemm_fallback_name(GemmFallback why) {
  switch (why) {
    case GemmFallback::kLtOff:
      return "cublaslt_off";
    case GemmFallback::kNotSupported:
      return "not_supported";
    case GemmFallback::kNoAlgorithm:
      return "no_algorithm";
    case GemmFallback::kOnlySplitK:
      return "only_split_k";
    case GemmFallback::kNotSupportedAtRun:
      return "not_supported_at_run";
    case GemmFallback::kNoReluMask:
      return "no_relu_mask";
    case GemmFallback::kNoFusedForm:
      return "no_fused_form";
    case GemmFallback::kCount:
      break;
  }
  return "?";
}

inline LtChoice choose_lt_algorithm(HeuristicStatus status, const int32_t* split_k, int count) {
  LtChoice c;
  if (status == HeuristicStatus::kNotSupported) {
    c.why = GemmFallback::kNotSupported;
    return c;
  }
  if (status != HeuristicStatus::kSuccess || count <= 0) {
    c.why = GemmFallback::kNoAlgorithm;
    return c;
  }
  for (int i = 0; i < count; ++i)
    if (split_k[i] <= 1) {
      c.index = i;
      return c;
    }
  c.why = GemmFallback::kOnlySplitK;
  return c;
}

inline int64_t GemmPathCounts::lt_total() const {
  int64_t n = 0;
  for (int64_t v : lt) n += v;
  return n;
}

inline int64_t GemmPathCounts::fallback_total() const {
  int64_t n = 0;
  for (int64_t v : fallback) n += v;
  return n;
}

inline std::string GemmPathCounts::json() const {
  std::string lt_part, fb_part;
  for (int e = 0; e < (int)LtEpilogue::kCount; ++e)
    if (lt[e])
      lt_part += (lt_part.empty() ? "" : ",") + std::string("\"") +
                 lt_epilogue_name((LtEpilogue)e) + "\":" + std::to_string(lt[e]);
  for (int r = 0; r < (int)GemmFallback::kCount; ++r)
    if (fallback[r])
      fb_part += (fb_part.empty() ? "" : ",") + std::string("\"") +
                 gemm_fallback_name((GemmFallback)r) + "\":" + std::to_string(fallback[r]);
  return "{\"cublaslt\":{" + lt_part + "},\"fallback\":{" + fb_part +
         "},\"cublaslt_total\":" + std::to_string(lt_total()) +
         ",\"fallback_total\":" + std::to_string(fallback_total()) + "}";
}

inline void count_lt_gemm(LtEpilogue epilogue) { ++gemm_plan_detail::g_lt[(int)epilogue]; }
inline void count_fallback_gemm(GemmFallback why) { ++gemm_plan_detail::g_fallback[(int)why]; }

inline GemmPathCounts cuda_gemm_path_counts() {
  GemmPathCounts c;
  for (int e = 0; e < (int)LtEpilogue::kCount; ++e) c.lt[e] = gemm_plan_detail::g_lt[e].load();
  for (int r = 0; r < (int)GemmFallback::kCount; ++r)
    c.fallback[r] = gemm_plan_detail::g_fallback[r].load();
  return c;
}

inline void reset_cuda_gemm_path_counts() {
  for (auto& v : gemm_plan_detail::g_lt) v = 0;
  for (auto& v : gemm_plan_detail::g_fallback) v = 0;
}

// ---- ReLU masks

inline void ReluMaskRegistry::forward(const void* mask, bool written) {
  if (mask) m_written[mask] = written;
}

inline void ReluMaskRegistry::released(const void* base, size_t bytes) {
  if (!base) return;
  const char* b = static_cast<const char*>(base);
  auto from = m_written.lower_bound(base);
  auto to = m_written.lower_bound(static_cast<const void*>(b + (bytes ? bytes : 1)));
  m_written.erase(from, to);
}

inline ReluMaskRegistry::Use ReluMaskRegistry::use(const void* mask, const char* op) const {
  if (!mask) return Use::kFromInput;
  auto found = m_written.find(mask);
  if (found == m_written.end())
    throw std::invalid_argument(std::string(op) +
                                ": a ReLU mask was passed that no linear_forward was given (or "
                                "its buffer was released since); pass the mask the layer "
                                "below's forward wrote, or null");
  return found->second ? Use::kEpilogue : Use::kFromInput;
}

}  // namespace sac
