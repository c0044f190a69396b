// mlp_state_tensors.h: the flat buffers of an MlpGroup (parameters, gradients, Adam moments) as
// named state tensors, one weight (out x in) and one bias (out) per layer and member, named
// "<prefix>.<member>.<layer>.weight" and ".bias": what the agent lists for checkpoints and the
// non-finite scan, and what policy files and checkpoints (formats/group_tensors.h) store.
#pragma once
#include <string>
#include <vector>

#include "sac/mlp.h"
#include "sac/state_tensor.h"

namespace sac {

/// The tensors of one of `group`'s flat buffers (parameters, gradients or Adam moments) starting
/// at `flat` in `memory`: each member's layer weight and bias is a contiguous slice of it. In
/// the buffer's order (per layer the members' weights, then their biases), so a scan reports
/// the first non-finite value of the buffer.
std::vector<StateTensor> group_state_tensors(const std::string& prefix, const MlpGroup& group,
                                             float* flat, StateTensor::Memory memory,
                                             StateTensor::Scan scan = StateTensor::Scan::kNever);

}  // namespace sac
