// signals.h: SIGINT/SIGTERM/SIGUSR1 handling for a training run. While a StopSignals object lives, the
// first signal only sets a flag that the training loop polls once per step (it then writes a
// checkpoint and returns); a second signal ends the process at once with _exit(128 + signal).
// Checkpoint files are only ever renamed into place when complete, so the hard exit never
// leaves a damaged checkpoint behind. Tested by tests/test_checkpoint.cpp (`*Signal*`).
#pragma once

namespace sac {

class StopSignals {
 public:
  /// Installs the handlers (SIGINT, SIGTERM, and SIGUSR1, which Slurm sends before a time
  /// limit with --signal) and clears the flag.
  StopSignals();
  /// Restores the handlers that were installed before.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  /// True once a stop signal arrived (since the newest StopSignals was made).
  static bool requested();
  /// The number of the first stop signal, 0 when none came.
  static int signal_number();
};

}  // namespace sac
