// mlp.h: MlpSpec (shape only) and MlpGroup (E members of that shape in flat buffers).
// Flat layout, layer-major so one strided-batched GEMM covers a layer of all members:
//   for each layer l: W_l of member 0..E-1 (each out x in, row-major), then b_l of members 0..E-1.
// Gradients, Adam m and v are buffers of the same length and layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sac/backend.h"
#include "sac/philox.h"

namespace sac {

/// Shape of one network: input width, hidden widths (ReLU), output width (linear).
struct MlpSpec {
  int input = 0;
  std::vector<int> hidden;
  int output = 0;

  int num_layers() const { return (int)hidden.size() + 1; }
  int layer_in(int l) const { return l == 0 ? input : hidden[l - 1]; }
  int layer_out(int l) const { return l == (int)hidden.size() ? output : hidden[l]; }
  /// Largest layer width, for sizing activation buffers.
  int max_width() const;
};

/// Offsets of one layer inside the flat buffers.
struct LayerOffsets {
  int in = 0, out = 0;
  size_t weight = 0;  // start of W of member 0
  size_t bias = 0;    // start of b of member 0
};

/// E networks of one spec. `with_optimizer` adds gradient and Adam buffers (targets skip them).
class MlpGroup {
 public:
  MlpGroup(Backend& backend, const MlpSpec& spec, int members, bool with_optimizer);

  const MlpSpec& spec() const { return m_spec; }
  int members() const { return m_members; }
  size_t num_params() const { return m_num_params; }
  const LayerOffsets& layer(int l) const { return m_layers[l]; }

  float* params() { return m_params.data(); }
  const float* params() const { return m_params.data(); }
  float* grads() { return m_grads.data(); }
  float* adam_m() { return m_m.data(); }
  float* adam_v() { return m_v.data(); }
  const float* adam_m() const { return m_m.data(); }
  const float* adam_v() const { return m_v.data(); }

  /// PyTorch's default nn.Linear init, U(-1/sqrt(in), 1/sqrt(in)) for W and b, from `rng`.
  void init_uniform(HostRng& rng);
  /// init_uniform with one generator per block of members / rngs.size() consecutive members
  /// (per seed), each drawing its block's values in the order init_uniform draws them, so a
  /// block equals the group a single-generator init of members / rngs.size() members gives.
  void init_uniform(std::vector<HostRng>& rngs);

 private:
  MlpSpec m_spec;
  int m_members;
  size_t m_num_params = 0;
  std::vector<LayerOffsets> m_layers;
  Backend& m_backend;
  DeviceArray<float> m_params, m_grads, m_m, m_v;
};

/// Per-layer outputs of one forward pass of a group, for batch B, and their gradients.
class MlpActivations {
 public:
  MlpActivations(Backend& backend, const MlpSpec& spec, int members, int batch);

  int batch() const { return m_batch; }
  /// Output of layer l: members x batch x layer_out(l).
  float* out(int l) { return m_out[l].data(); }
  float* grad(int l) { return m_grad[l].data(); }
  /// Output of the last layer.
  float* result() { return m_out.back().data(); }
  /// Gradient with respect to the input, members x batch x input.
  float* input_grad() { return m_input_grad.data(); }
  /// The ReLU bit-mask of layer l's output (Backend::relu_mask_bytes; hidden layers only).
  uint32_t* relu_mask(int l) { return m_mask[l].data(); }

 private:
  int m_batch;
  std::vector<DeviceArray<float>> m_out, m_grad;
  std::vector<DeviceArray<uint32_t>> m_mask;
  DeviceArray<float> m_input_grad;
};

/// Forward pass of all members on X (batch x input; member stride 0 = shared input).
void mlp_forward(Backend& backend, const MlpGroup& group, const float* params, int batch,
                 const float* X, size_t x_member_stride, MlpActivations& acts);

/// Backward pass given d(result) in acts.grad(last). Weight gradients go to group.grads() when
/// `weight_grads`; d input goes to acts.input_grad() when `input_grad`. Per layer that is a
/// weight-gradient launch and an input-gradient launch (which also applies the ReLU mask of the
/// layer below); with weight_lane >= 0 the weight gradients run on that lane, beside the
/// input-gradient chain on the current lane (joined back before returning).
void mlp_backward(Backend& backend, MlpGroup& group, int batch, const float* X,
                  size_t x_member_stride, MlpActivations& acts, bool weight_grads,
                  bool input_grad, int weight_lane);

}  // namespace sac
