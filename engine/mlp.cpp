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
  std::vector<float> host(m_num_params);
  for (const LayerOffsets& lo : m_layers) {
    double bound = 1.0 / std::sqrt((double)lo.in);
    size_t nw = (size_t)m_members * lo.out * lo.in, nb = (size_t)m_members * lo.out;
    for (size_t i = 0; i < nw; ++i) host[lo.weight + i] = (float)rng.uniform(-bound, bound);
    for (size_t i = 0; i < nb; ++i) host[lo.bias + i] = (float)rng.uniform(-bound, bound);
  }
  m_params.upload(host.data(), host.size());
}

MlpActivations::MlpActivations(Backend& backend, const MlpSpec& spec, int members, int batch)
    : m_batch(batch) {
  for (int l = 0; l < spec.num_layers(); ++l) {
    m_out.emplace_back(backend, (size_t)members * batch * spec.layer_out(l));
    m_grad.emplace_back(backend, (size_t)members * batch * spec.layer_out(l));
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
    Activation act = l + 1 < spec.num_layers() ? Activation::kRelu : Activation::kNone;
    backend.linear_forward(E, batch, lo.in, lo.out, input, stride, params + lo.weight,
                           params + lo.bias, acts.out(l), act);
  }
}

void mlp_backward(Backend& backend, MlpGroup& group, int batch, const float* X,
                  size_t x_member_stride, MlpActivations& acts, bool weight_grads,
                  bool input_grad) {
  const MlpSpec& spec = group.spec();
  int E = group.members();
  for (int l = spec.num_layers() - 1; l >= 0; --l) {
    const LayerOffsets& lo = group.layer(l);
    const float* input = l == 0 ? X : acts.out(l - 1);
    size_t stride = l == 0 ? x_member_stride : (size_t)batch * lo.in;
    Activation act = l + 1 < spec.num_layers() ? Activation::kRelu : Activation::kNone;
    float* dX = l > 0 ? acts.grad(l - 1) : (input_grad ? acts.input_grad() : nullptr);
    float* dW = weight_grads ? group.grads() + lo.weight : nullptr;
    float* db = weight_grads ? group.grads() + lo.bias : nullptr;
    backend.linear_backward(E, batch, lo.in, lo.out, input, stride, group.params() + lo.weight,
                            acts.out(l), acts.grad(l), dX, dW, db, act);
  }
}

}  // namespace sac
