// group_tensors.cpp: see group_tensors.h.
#include "group_tensors.h"

#include <algorithm>

namespace sac {

namespace {

std::string tensor_prefix(const std::string& prefix, int member, int layer) {
  return prefix + "." + std::to_string(member) + "." + std::to_string(layer);
}

}  // namespace

void put_group_tensors(SafetensorsFile& f, const std::string& prefix, const MlpGroup& group,
                       const std::vector<float>& flat) {
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    for (int e = 0; e < group.members(); ++e) {
      const float* w = flat.data() + lo.weight + (size_t)e * lo.out * lo.in;
      const float* b = flat.data() + lo.bias + (size_t)e * lo.out;
      const std::string name = tensor_prefix(prefix, e, l);
      f.tensors[name + ".weight"] =
          Tensor::from_floats(std::vector<float>(w, w + (size_t)lo.out * lo.in), {lo.out, lo.in});
      f.tensors[name + ".bias"] = Tensor::from_floats(std::vector<float>(b, b + lo.out), {lo.out});
    }
  }
}

std::vector<float> group_from_tensors(const std::string& prefix, const MlpGroup& group,
                                      const TensorFloats& read) {
  std::vector<float> flat(group.num_params());
  for (int l = 0; l < group.spec().num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    for (int e = 0; e < group.members(); ++e) {
      const std::string name = tensor_prefix(prefix, e, l);
      std::vector<float> w = read(name + ".weight", {lo.out, lo.in});
      std::vector<float> b = read(name + ".bias", {lo.out});
      std::copy(w.begin(), w.end(), flat.begin() + lo.weight + (size_t)e * lo.out * lo.in);
      std::copy(b.begin(), b.end(), flat.begin() + lo.bias + (size_t)e * lo.out);
    }
  }
  return flat;
}

}  // namespace sac
