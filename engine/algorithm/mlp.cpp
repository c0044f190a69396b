// mlp.cpp: flat-buffer layout of a members group and its forward/backward passes.
#include "sac/mlp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sac/philox.h"

namespace sac {

int MlpSpec::max_width() const {
  int w = std::max(input, output);
  for (int h : hidden) w = std::max(w, h);
  return w;
}

MlpGroup::MlpGroup(Backend& backend, const MlpSpec& spec, int members, bool with_optimizer)
    : m_spec(spec), m_members(members), m_backend(backend) {
  for (int l = 0; l < spec.num_layers(); ++l) {
    LayerOffsets lo;
    lo.in = spec.layer_in(l);
    lo.out = spec.layer_out(l);
    lo.weight = m_num_params;
    m_num_params += (size_t)members * lo.out * lo.in;
    lo.bias = m_num_params;
    m_num_params += (size_t)members * lo.out;
    m_layers.push_back(lo);
  }
  m_params = DeviceArray<float>(backend, m_num_params);
  if (with_optimizer) {
    m_grads = DeviceArray<float>(backend, m_num_params);
    m_m = DeviceArray<float>(backend, m_num_params);
    m_v = DeviceArray<float>(backend, m_num_params);
  }
}

void MlpGroup::init_uniform(HostRng& rng) {
  std::vector<HostRng> one{rng};
  init_uniform(one);
  rng = one[0];
}

void MlpGroup::init_uniform(std::vector<HostRng>& rngs) {
  std::vector<float> host(m_num_params);
  const size_t blocks = rngs.size(), per_block = (size_t)m_members / blocks;
  for (const LayerOffsets& lo : m_layers) {
    double bound = 1.0 / std::sqrt((double)lo.in);
    // a block's members are consecutive in each layer's weights and in its biases
    size_t nw = per_block * lo.out * lo.in, nb = per_block * lo.out;
    for (size_t k = 0; k < blocks; ++k) {
      for (size_t i = 0; i < nw; ++i)
        host[lo.weight + k * nw + i] = (float)rngs[k].uniform(-bound, bound);
      for (size_t i = 0; i < nb; ++i)
        host[lo.bias + k * nb + i] = (float)rngs[k].uniform(-bound, bound);
    }
  }
  m_params.upload(host.data(), host.size());
}

MlpActivations::MlpActivations(Backend& backend, const MlpSpec& spec, int members, int batch)
    : m_batch(batch) {
  for (int l = 0; l < spec.num_layers(); ++l) {
    m_out.emplace_back(backend, (size_t)members * batch * spec.layer_out(l));
    m_grad.emplace_back(backend, (size_t)members * batch * spec.layer_out(l));
    size_t mask_bytes =
        l + 1 < spec.num_layers() ? Backend::relu_mask_bytes(members, batch, spec.layer_out(l)) : 0;
    m_mask.emplace_back(backend, mask_bytes / sizeof(uint32_t));
  }
  m_input_grad = DeviceArray<float>(backend, (size_t)members * batch * spec.input);
}

void mlp_forward(Backend& backend, const MlpGroup& group, const float* params, int batch,
                 const float* X, size_t x_member_stride, MlpActivations& acts) {
  const MlpSpec& spec = group.spec();
  int E = group.members();
  for (int l = 0; l < spec.num_layers(); ++l) {
    const LayerOffsets& lo = group.layer(l);
    const float* input = l == 0 ? X : acts.out(l - 1);
    size_t stride = l == 0 ? x_member_stride : (size_t)batch * lo.in;
    bool hidden = l + 1 < spec.num_layers();
    backend.linear_forward(E, batch, lo.in, lo.out, input, stride, params + lo.weight,
                           params + lo.bias, acts.out(l),
                           hidden ? Activation::kRelu : Activation::kNone,
                           hidden ? acts.relu_mask(l) : nullptr);
  }
}

void mlp_backward(Backend& backend, MlpGroup& group, int batch, const float* X,
                  size_t x_member_stride, MlpActivations& acts, bool weight_grads,
                  bool input_grad, int weight_lane) {
  const MlpSpec& spec = group.spec();
  const int E = group.members();
  const int chain_lane = backend.lane();
  const bool side = weight_grads && weight_lane >= 0;
  if (side) backend.fork(weight_lane);
  for (int l = spec.num_layers() - 1; l >= 0; --l) {
    const LayerOffsets& lo = group.layer(l);
    // acts.grad(l) is this layer's dZ: the loss gradient (top) or masked by the layer above
    if (weight_grads) {
      const float* input = l == 0 ? X : acts.out(l - 1);
      size_t stride = l == 0 ? x_member_stride : (size_t)batch * lo.in;
      if (side) {
        backend.set_lane(weight_lane);
        backend.join(chain_lane);  // this layer's dZ
      }
      backend.linear_grad_weights(E, batch, lo.in, lo.out, input, stride, acts.grad(l),
                                  group.grads() + lo.weight, group.grads() + lo.bias);
      if (side) backend.set_lane(chain_lane);
    }
    if (l > 0)
      backend.linear_grad_input(E, batch, lo.in, lo.out, acts.grad(l), group.params() + lo.weight,
                                Activation::kRelu, acts.out(l - 1), acts.relu_mask(l - 1),
                                acts.grad(l - 1));
    else if (input_grad)
      backend.linear_grad_input(E, batch, lo.in, lo.out, acts.grad(l), group.params() + lo.weight,
                                Activation::kNone, nullptr, nullptr, acts.input_grad());
  }
  if (side) backend.join(weight_lane);
}

}  // namespace sac
