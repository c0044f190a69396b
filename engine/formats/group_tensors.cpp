// group_tensors.cpp: see group_tensors.h.
#include "formats/group_tensors.h"

#include <algorithm>

namespace sac {

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
