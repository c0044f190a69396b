// path_checks.h: the small questions the engine asks of a path before it reads or writes there
// (does it exist, is it a directory, does its name end so), asked the same way everywhere.
#pragma once
#include <sys/stat.h>

#include <string>

namespace sac {

/// True when something (file, directory, ...) exists at `path`.
inline bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// True when `path` is a directory (or a link to one).
inline bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// True when `s` ends with `tail`.
inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace sac
