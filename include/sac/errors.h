// errors.h: the error type behind the exit-code rule of `sac`. Bad input (arguments, config, an
// unreadable or corrupt file, a run directory in use by another process) throws InputError or a
// type derived from it (ConfigError, CheckpointError) and `sac` exits 2; any other exception is
// a failure during the work (disk full, an I/O error, a diverged run) and `sac` exits 1.
#pragma once
#include <stdexcept>

namespace sac {

/// Bad input: the command cannot start (or continue) with what it was given. `sac` exits 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sac
