// python_env.cpp: a Python env's description in a config's "env" object (python_env.h).
#include "formats/python_env.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "sac/errors.h"

namespace sac {

std::string config_text_with_python_env(const Config& config, const std::string& python_env) {
  nlohmann::json j = config.to_json();
  j["env"] = nlohmann::json::parse(python_env);
  return j.dump();
}

std::string take_python_env(std::string& config_text) {
  nlohmann::json j = nlohmann::json::parse(config_text, nullptr, false);
  if (!j.is_object() || !j.contains("env") || !j["env"].is_object() ||
      !j["env"].contains("python"))
    return "";
  std::string env = j["env"].dump();
  j.erase("env");
  config_text = j.dump();
  return env;
}

EnvSpec python_env_spec(const std::string& python_env, const std::string& where) {
  const std::string what = where + ": the Python env's description";
  nlohmann::json j = nlohmann::json::parse(python_env, nullptr, false);
  if (!j.is_object()) throw InputError(what + " is not a JSON object");
  EnvSpec s;
  try {
    s.id = j.at("python").get<std::string>();
    s.obs_dim = j.at("obs_dim").get<int>();
    s.act_dim = j.at("act_dim").get<int>();
    s.action_low = j.at("action_low").get<std::vector<double>>();
    s.action_high = j.at("action_high").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(what + ": " + e.what());
  }
  if (s.obs_dim < 1 || s.act_dim < 1 || (int)s.action_low.size() != s.act_dim ||
      (int)s.action_high.size() != s.act_dim)
    throw InputError(what + " has sizes that do not agree (obs_dim, act_dim, action bounds)");
  return s;
}

}  // namespace sac
