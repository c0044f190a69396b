// registry.cpp: task id -> factory.
#include <functional>
#include <stdexcept>
#include <utility>

#include "tasks.h"

namespace sac {
namespace {

using Factory = std::unique_ptr<Env> (*)();

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> tasks = {
      {"Pendulum-v1", make_pendulum},
      {"InvertedPendulum-v5", make_inverted_pendulum},
      {"InvertedDoublePendulum-v5", make_inverted_double_pendulum},
      {"HalfCheetah-v5", make_half_cheetah},
      {"Hopper-v5", make_hopper},
      {"Walker2d-v5", make_walker2d},
      {"Ant-v5", make_ant},
      {"Humanoid-v5", make_humanoid},
      {"Swimmer-v5", make_swimmer},
      {"Reacher-v5", make_reacher},
      {"Pusher-v5", make_pusher},
  };
  return tasks;
}

}  // namespace

std::unique_ptr<Env> make_env(const std::string& id) {
  for (const auto& [name, factory] : registry())
    if (name == id) return factory();
  std::string known;
  for (const auto& entry : registry()) known += (known.empty() ? "" : ", ") + entry.first;
  throw std::invalid_argument("unknown task '" + id + "' (known: " + known + ")");
}

std::vector<std::string> env_ids() {
  std::vector<std::string> ids;
  for (const auto& entry : registry()) ids.push_back(entry.first);
  return ids;
}

}  // namespace sac
