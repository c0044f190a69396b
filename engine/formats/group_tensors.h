// group_tensors.h: the flat parameter buffer of an MlpGroup in a safetensors file, under the names
// of algorithm/mlp_state_tensors.h ("<prefix>.<member>.<layer>.weight" and ".bias"). Policy
// files and checkpoints both name their networks this way.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sac/mlp.h"
#include "sac/safetensors.h"
#include "sac/state_tensor.h"
#include "algorithm/mlp_state_tensors.h"

namespace sac {

/// Adds the tensors of `flat` (a host copy of one of `group`'s buffers) to `f`.
void put_group_tensors(SafetensorsFile& f, const std::string& prefix, const MlpGroup& group,
                       const std::vector<float>& flat);

/// One tensor's floats by name and expected shape; throws when it is missing or does not fit.
using TensorFloats =
    std::function<std::vector<float>(const std::string& name, const std::vector<int64_t>& shape)>;

/// The flat buffer of `group` put back together from its tensors, read through `read`.
std::vector<float> group_from_tensors(const std::string& prefix, const MlpGroup& group,
                                      const TensorFloats& read);

}  // namespace sac
