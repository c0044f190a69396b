// bench_env.cpp: `sac bench env` (placeholder until the env-pool work lands).
#include "commands.h"
#include "sac/config.h"

namespace sac {

int bench_env_main(const std::vector<std::string>&) {
  throw ConfigError("'sac bench env' is not available in this build yet");
}

}  // namespace sac
