// golden_file.h: reading tests/golden/sac_update_golden.json, written by
// tests/golden/make_golden.py from the PyTorch reference (bench/torch_sac.py): the reference's
// configuration as an AgentSpec and its nets as flat parameter buffers of an MlpGroup. Shared by
// the golden test on the CPU backend (test_golden_update.cpp) and on the CUDA backend
// (test_cuda_graph.cpp).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sac/agent.h"
#include "sac/mlp.h"

namespace sac {
namespace test {

inline nlohmann::json load_golden() {
  const std::string path = std::string(SAC_SOURCE_DIR) + "/tests/golden/sac_update_golden.json";
  std::ifstream f(path);
  if (!f.good()) throw std::runtime_error("golden file " + path + " missing");
  return nlohmann::json::parse(f);
}

inline std::vector<float> floats(const nlohmann::json& j) { return j.get<std::vector<float>>(); }

/// The agent the reference trained: its sizes and hyperparameters, two critics.
inline AgentSpec golden_spec(const nlohmann::json& golden) {
  const nlohmann::json& c = golden["config"];
  AgentSpec spec;
  spec.obs_dim = c["obs_dim"];
  spec.act_dim = c["act_dim"];
  spec.hidden = c["hidden"].get<std::vector<int>>();
  spec.batch_size = c["batch"];
  spec.gamma = c["gamma"];
  spec.tau = c["tau"];
  spec.actor_lr = spec.critic_lr = spec.alpha_lr = c["lr"];
  spec.beta1 = c["beta1"];
  spec.beta2 = c["beta2"];
  spec.adam_eps = c["adam_eps"];
  spec.log_std_min = c["log_std_min"];
  spec.log_std_max = c["log_std_max"];
  spec.target_entropy = c["target_entropy"];
  spec.num_critics = 2;
  return spec;
}

/// The reference's nets (one net: a list of {"W", "b"} per layer; E nets: a list of those) as
/// a flat host copy of group g's buffer; empty, with a test failure, when a shape differs.
inline std::vector<float> flat_of(const nlohmann::json& nets, const MlpGroup& g) {
  std::vector<float> flat(g.num_params());
  for (int e = 0; e < g.members(); ++e) {
    const nlohmann::json& net = nets[0].is_array() ? nets[e] : nets;
    for (int l = 0; l < g.spec().num_layers(); ++l) {
      const LayerOffsets& lo = g.layer(l);
      std::vector<float> w = floats(net[l]["W"]), b = floats(net[l]["b"]);
      EXPECT_EQ(w.size(), (size_t)lo.out * lo.in);
      EXPECT_EQ(b.size(), (size_t)lo.out);
      if (w.size() != (size_t)lo.out * lo.in || b.size() != (size_t)lo.out) return {};
      std::copy(w.begin(), w.end(), flat.begin() + lo.weight + (size_t)e * lo.out * lo.in);
      std::copy(b.begin(), b.end(), flat.begin() + lo.bias + (size_t)e * lo.out);
    }
  }
  return flat;
}

}  // namespace test
}  // namespace sac
