// whole_file.h: a whole file's bytes, read the one way the engine reads a file it then parses
// itself (configs, plans, summaries, event files, the logs it gathers). Each caller decides what
// a file that cannot be opened means: an error in its own words, or nothing yet.
#pragma once
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace sac {

/// The bytes of `path`; nullopt when it cannot be opened (errno says why).
inline std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace sac
