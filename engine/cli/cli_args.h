// cli_args.h: the small option-parsing helpers every `sac` subcommand shares. Both throw
// ConfigError (exit 2) naming the option, so bad input stops before any work.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sac/config.h"

namespace sac {

/// The value of option args[i] (advancing i); throws when the option is last.
inline std::string option_value(const std::vector<std::string>& args, size_t& i) {
  if (i + 1 >= args.size()) throw ConfigError("option " + args[i] + " needs a value");
  return args[++i];
}

/// `text` as an integer in [lo, hi]; `what` names the option in the message.
inline int64_t parse_int(const std::string& what, const std::string& text, int64_t lo,
                         int64_t hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  if (text.empty() || used != text.size() || v < lo || v > hi)
    throw ConfigError(what + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got '" + text + "'");
  return v;
}

}  // namespace sac
