// rollout.cpp: `sac rollout` (placeholder until the env-pool work lands).
#include "commands.h"
#include "sac/config.h"

namespace sac {

int rollout_main(const std::vector<std::string>&) {
  throw ConfigError("'sac rollout' is not available in this build yet");
}

}  // namespace sac
