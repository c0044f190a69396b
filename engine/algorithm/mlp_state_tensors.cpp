// mlp_state_tensors.cpp: see mlp_state_tensors.h.
#include "algorithm/mlp_state_tensors.h"

namespace sac {

std::vector<StateTensor> group_state_tensors(const std::string& prefix, const MlpGroup& group,
                                             float* flat, StateTensor::Memory memory,
                                             StateTensor::Scan scan) {
  std::vector<StateTensor> list;
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    auto name = [&](int member, const char* what) {
      return prefix + "." + std::to_string(member) + "." + std::to_string(l) + "." + what;
    };
    for (int e = 0; e < group.members(); ++e) {
      list.push_back(state_tensor(name(e, "weight"), flat + lo.weight + (size_t)e * lo.out * lo.in,
                                  {lo.out, lo.in}, memory, scan));
      list.back().member = e;
    }
    for (int e = 0; e < group.members(); ++e) {
      list.push_back(state_tensor(name(e, "bias"), flat + lo.bias + (size_t)e * lo.out, {lo.out},
                                  memory, scan));
      list.back().member = e;
    }
  }
  return list;
}

}  // namespace sac
