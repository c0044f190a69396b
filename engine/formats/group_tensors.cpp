// group_tensors.cpp: see group_tensors.h.
#include "formats/group_tensors.h"

#include <algorithm>

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

void put_group_tensors(SafetensorsFile& f, const std::string& prefix, const MlpGroup& group,
                       const std::vector<float>& flat) {
  // the list only reads through its pointers here
  float* data = const_cast<float*>(flat.data());
  for (const StateTensor& t :
       group_state_tensors(prefix, group, data, StateTensor::Memory::kHost)) {
    const float* v = static_cast<const float*>(t.data);
    f.tensors[t.name] = Tensor::from_floats(std::vector<float>(v, v + t.count()), t.shape);
  }
}

std::vector<float> group_from_tensors(const std::string& prefix, const MlpGroup& group,
                                      const TensorFloats& read) {
  std::vector<float> flat(group.num_params());
  for (const StateTensor& t :
       group_state_tensors(prefix, group, flat.data(), StateTensor::Memory::kHost)) {
    std::vector<float> v = read(t.name, t.shape);
    std::copy(v.begin(), v.end(), static_cast<float*>(t.data));
  }
  return flat;
}

}  // namespace sac
