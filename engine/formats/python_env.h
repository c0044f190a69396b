// python_env.h: the description of an env that steps in Python (sac_engine.SAC) where a config
// names its task: a run of such an env has no built-in task, so the "env" object of the config
// its checkpoints and policy files hold is the env's description ({"python": name, "obs_dim",
// "act_dim", "action_low", "action_high", ...}) instead of env.id and its settings.
// Tested by python/tests/test_sac.py (policy files and checkpoints of Python-env runs).
#pragma once
#include <string>

#include "sac/config.h"
#include "sac/env.h"

namespace sac {

/// `config` as JSON text with its "env" object replaced by `python_env` (a JSON object).
std::string config_text_with_python_env(const Config& config, const std::string& python_env);

/// When the config JSON `config_text` describes a Python env (its "env" object has a "python"
/// key), removes that object from the text (leaving a config of env.* defaults that
/// config_from_json_text reads) and returns it as JSON text; else returns "" and leaves the
/// text as it is.
std::string take_python_env(std::string& config_text);

/// The spaces the Python env description `python_env` records (id: its "python" name); throws
/// InputError naming `where` when it lacks them or they disagree.
EnvSpec python_env_spec(const std::string& python_env, const std::string& where);

}  // namespace sac
