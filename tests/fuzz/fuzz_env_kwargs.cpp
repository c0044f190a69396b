// fuzz_env_kwargs.cpp: libFuzzer target of a task's keyword arguments as `env.kwargs` in a
// config, `--set env.kwargs.NAME=VALUE` and the Python module's `make(..., **kwargs)` give
// them: resolve_kwargs (names, types, ranges against the task's declaration), then make_env
// (the model named by xml_file loaded, the task's bodies looked up), a reset and one step. The
// first input byte picks the task (of env_ids()), the rest is the kwargs object's JSON text;
// text that is not a JSON object is left to fuzz_config. Every input is accepted or refused
// with InputError. One step only where frame_skip is at most 50: a step's cost grows with
// frame_skip by design, and a huge one is the user's request, not a hang.
// Run from the repository root (xml_file paths in the corpus are relative to it):
// build-fuzz/fuzz_env_kwargs -dict=tests/fuzz/config.dict tests/fuzz/corpus/env_kwargs
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "sac/env.h"
#include "sac/philox.h"
#include "sac/task.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::string> ids = sac::env_ids();
  const std::string& id = ids[data[0] % ids.size()];
  const nlohmann::json kwargs =
      nlohmann::json::parse(reinterpret_cast<const char*>(data) + 1,
                            reinterpret_cast<const char*>(data) + size, nullptr, false);
  if (kwargs.is_discarded() || !kwargs.is_object()) return 0;
  sac::fuzz::expect_accept_or_refuse([&] {
    const sac::TaskKwargs resolved = sac::resolve_kwargs(id, kwargs);
    std::unique_ptr<sac::Env> env = sac::make_env(id, kwargs);
    const sac::EnvSpec& spec = env->spec();
    std::vector<double> obs(spec.obs_dim), action(spec.act_dim);
    sac::HostRng rng(1);
    env->reset(rng, obs.data());
    const nlohmann::json& all = resolved.values();
    if (all.contains("frame_skip") && all["frame_skip"].get<int>() > 50) return;
    for (int i = 0; i < spec.act_dim; ++i)
      action[i] = 0.5 * (spec.action_low[i] + spec.action_high[i]);
    env->step(action.data(), obs.data());
  });
  return 0;
}
