// state_tensors.h: the loops over lists of StateTensor (include/sac/state_tensor.h) that make a
// checkpoint: put a list into a safetensors file, read a list back from one (every tensor's
// presence, dtype and shape checked before any value is copied), and find the first non-finite
// value of a list. checkpoint.cpp runs them over the lists the components provide.
// Tested by tests/test_checkpoint.cpp and tests/test_fuzz.cpp.
#pragma once
#include <string>
#include <vector>

#include "sac/backend.h"
#include "sac/safetensors.h"
#include "sac/state_tensor.h"

namespace sac {

/// Adds the tensors of `list` to `file`, downloading the backend ones through `backend`. Throws
/// std::logic_error when a name is listed twice or is already in `file`.
void put_state_tensors(SafetensorsFile& file, const std::vector<StateTensor>& list,
                       Backend& backend);

/// Checks that `file` (read from `path`) holds every tensor of `list` with its dtype and shape,
/// then copies the values of the host tensors into their memory; backend memory is not touched
/// (upload_state_tensors). Throws CheckpointError naming `path`, the tensor and, for a shape,
/// the shape found and the one expected, before any value is copied.
void read_state_tensors(const SafetensorsFile& file, const std::string& path,
                        const std::vector<StateTensor>& list);

/// Uploads the values of the backend tensors of `list` from `file`, which read_state_tensors
/// has checked.
void upload_state_tensors(const SafetensorsFile& file, const std::vector<StateTensor>& list,
                          Backend& backend);

/// Names the first non-finite value among the tensors of `list` that a scan looks at
/// (Scan::kAlways; kWithLosses when `with_losses`; kWithMoments when `with_moments`), in list
/// order: "critic loss (Q values) = nan", "critic.1.0.weight[12] = inf". Returns "" when all are
/// finite. Downloads the backend ones (a host sync on CUDA).
std::string first_non_finite(const std::vector<StateTensor>& list, Backend& backend,
                             bool with_losses, bool with_moments);

}  // namespace sac
