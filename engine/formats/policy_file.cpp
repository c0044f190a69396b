// policy_file.cpp: the policy file (save_policy, load_policy) and deterministic evaluation of
// an actor on an env pool (evaluate), declared in trainer.h.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "formats/group_tensors.h"
#include "formats/python_env.h"
#include "formats/quoted.h"
#include "run/run_model.h"
#include "sac/errors.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"

namespace sac {

EvalResult evaluate(Policy& policy, Backend& backend, EnvPool& pool, float* d_obs,
                    float* d_actions) {
  return evaluate_seeds(policy, backend, pool, d_obs, d_actions).at(0);
}

std::vector<EvalResult> evaluate_seeds(Policy& policy, Backend& backend, EnvPool& pool,
                                       float* d_obs, float* d_actions,
                                       const std::vector<char>& stopped) {
  const int n = pool.size(), O = pool.spec().obs_dim, A = pool.spec().act_dim;
  const int S = policy.actor().members(), per_seed = n / S;
  std::vector<float> actions((size_t)n * A);
  std::vector<double> returns(n, 0.0);
  std::vector<char> done(n, 0);
  pool.reset();
  int remaining = n;
  while (remaining > 0) {
    backend.upload(d_obs, pool.obs(), (size_t)n * O * sizeof(float));
    policy.act(per_seed, d_obs, true, d_actions);
    backend.download(actions.data(), d_actions, actions.size() * sizeof(float));
    for (size_t s = 0; s < stopped.size(); ++s)
      if (stopped[s])
        std::fill(actions.begin() + s * per_seed * A, actions.begin() + (s + 1) * per_seed * A,
                  0.0f);
    pool.step(actions.data());
    for (int i = 0; i < n; ++i) {
      if (done[i]) continue;
      returns[i] += pool.reward()[i];
      if (pool.terminated()[i] || pool.truncated()[i]) done[i] = 1, --remaining;
    }
  }
  std::vector<EvalResult> results(S);
  for (int s = 0; s < S; ++s) {
    auto first = returns.begin() + (size_t)s * per_seed, last = first + per_seed;
    EvalResult& r = results[s];
    r.episodes = per_seed;
    r.min = *std::min_element(first, last);
    r.max = *std::max_element(first, last);
    for (auto x = first; x != last; ++x) r.mean += *x / per_seed;
  }
  return results;
}

void save_policy(Learner& agent, const Config& config, const std::string& path, int seed_index,
                 const std::string& python_env) {
  SafetensorsFile f;
  f.metadata["format"] = "sac-engine policy";
  // a Python env's run names no built-in task: its description stands in the config's "env"
  f.metadata["config"] = python_env.empty() ? config.to_json().dump()
                                            : config_text_with_python_env(config, python_env);
  if (!python_env.empty()) f.metadata["python_env"] = python_env;
  // a custom model: which file (the run's copy, beside the policy) and its checksum
  auto [model_path, model_text] = model_beside(config, path);
  if (!model_path.empty()) f.metadata["model_crc32c"] = std::to_string(model_crc32c(model_text));
  std::vector<float> flat(agent.actor().num_params());
  agent.backend().download(flat.data(), agent.actor().params(), flat.size() * sizeof(float));
  // the seed's actor member, named as the one member of a run of that seed alone
  const std::string member = "actor." + std::to_string(seed_index) + ".";
  for (const StateTensor& t :
       group_state_tensors("actor", agent.actor(), flat.data(), StateTensor::Memory::kHost)) {
    if (t.member != seed_index) continue;
    const float* v = static_cast<const float*>(t.data);
    f.tensors["actor.0." + t.name.substr(member.size())] =
        Tensor::from_floats(std::vector<float>(v, v + t.count()), t.shape);
  }
  f.stamp_checksum();
  f.save(path);
}

namespace {

// policy files written before checksums existed held exactly these metadata keys
const std::set<std::string>& unchecked_policy_keys() {
  static const std::set<std::string> keys = {"config", "format"};
  return keys;
}

// "[a, b, ...]"
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t d : shape) text += (text.empty() ? "" : ", ") + std::to_string(d);
  return "[" + text + "]";
}

// the actor tensors of `f` have the shapes of the network `config` describes (one member per
// seed; names and shapes as algorithm/mlp_state_tensors.h lists them). Checked before any of
// that network is allocated: a small file whose config names a huge network is refused by its
// shapes, not by an allocation of the size the config names
void check_actor_shapes(const SafetensorsFile& f, const std::string& path, const Config& config,
                        int obs_dim, int act_dim) {
  const MlpSpec spec{obs_dim, config.hidden, 2 * act_dim};
  const int members = (int)seed_list(config).size();
  for (int m = 0; m < members; ++m)
    for (int l = 0; l < spec.num_layers(); ++l) {
      const std::string layer = "actor." + std::to_string(m) + "." + std::to_string(l);
      const int64_t out = spec.layer_out(l), in = spec.layer_in(l);
      const std::vector<std::pair<std::string, std::vector<int64_t>>> tensors = {
          {layer + ".weight", {out, in}}, {layer + ".bias", {out}}};
      for (const auto& [name, shape] : tensors) {
        auto it = f.tensors.find(name);
        if (it == f.tensors.end())
          throw InputError("'" + path + "': tensor " + quoted_text(name) + " is missing");
        if (it->second.shape != shape)
          throw InputError("'" + path + "': tensor " + quoted_text(name) + " has shape " +
                           shape_text(it->second.shape) + ", the network of its config " +
                           shape_text(shape));
      }
    }
}

// the policy held by `f`, a policy or checkpoint file already read and verified (`path` names
// it in errors): its config checked, its actor's tensors checked against the network that config
// describes
LoadedPolicy policy_from_file(const SafetensorsFile& f, const std::string& path,
                              const std::string& device, int act_batch) {
  auto it = f.metadata.find("config");
  if (it == f.metadata.end())
    throw InputError("'" + path + "' holds no config metadata: not a sac-engine policy");
  LoadedPolicy p;
  std::string config_text = it->second;
  p.python_env = take_python_env(config_text);  // a policy (or checkpoint) of a Python env
  p.config = config_from_json_text(config_text, path + " (config metadata)");
  // a custom model is the run's copy beside the policy (validate() would look for the original)
  std::string model;
  if (!custom_model_path(p.config).empty()) {
    auto crc = f.metadata.find("model_crc32c");
    if (crc == f.metadata.end())
      throw InputError("'" + path + "' records no model checksum for its custom model");
    model = policy_model_file(p.config, path, (uint32_t)std::stoul(crc->second));
    p.config.env_kwargs = kwargs_with_model(p.config, model).dump();
  }
  validate(p.config);
  p.env_spec = p.python_env.empty() ? make_env(p.config.env_id, env_kwargs(p.config))->spec()
                                    : python_env_spec(p.python_env, "'" + path + "'");
  check_actor_shapes(f, path, p.config, p.env_spec.obs_dim, p.env_spec.act_dim);
  p.backend = make_backend(resolve_device(device), p.config.threads);
  AgentSpec spec = AgentSpec::from_config(p.config, p.env_spec.obs_dim, p.env_spec.act_dim,
                                          act_batch);
  p.policy = std::make_unique<Policy>(*p.backend, spec, false);
  MlpGroup& actor = p.policy->actor();
  std::vector<float> flat = group_from_tensors(
      "actor", actor, [&](const std::string& name, const std::vector<int64_t>& shape) {
        std::vector<float> v;
        try {
          v = f.at(name).floats();
        } catch (const InputError& e) {
          throw InputError("'" + path + "': " + e.what());
        }
        size_t want = 1;
        for (int64_t d : shape) want *= (size_t)d;
        if (v.size() != want)
          throw InputError("'" + path + "': tensor " + quoted_text(name) +
                           " has the wrong size for this network");
        return v;
      });
  p.backend->upload(actor.params(), flat.data(), flat.size() * sizeof(float));
  return p;
}

}  // namespace

LoadedPolicy load_policy(const std::string& path, const std::string& device, int act_batch) {
  return policy_from_file(SafetensorsFile::load_verified(path, unchecked_policy_keys()), path,
                          device, act_batch);
}

LoadedPolicy parse_policy(const std::string& data, const std::string& path,
                          const std::string& device, int act_batch) {
  SafetensorsFile f = SafetensorsFile::parse(data, path);
  f.verify_checksum(path, unchecked_policy_keys());
  return policy_from_file(f, path, device, act_batch);
}

}  // namespace sac
