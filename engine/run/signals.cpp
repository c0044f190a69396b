// signals.cpp: the stop flag and the async-signal-safe handler (see signals.h).
#include "run/signals.h"

#include <signal.h>
#include <unistd.h>

namespace sac {
namespace {

volatile sig_atomic_t g_signal = 0;  // first stop signal, 0 = none
struct sigaction g_old_int, g_old_term, g_old_usr1;

void on_stop_signal(int sig) {
  if (g_signal != 0) {
    // a second signal: leave now (only async-signal-safe calls here)
    static const char msg[] =
        "\nsac: second signal, exiting at once (last complete checkpoint kept)\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(128 + sig);
  }
  g_signal = sig;
}

}  // namespace

StopSignals::StopSignals() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // blocking writes of a checkpoint resume instead of failing
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
  ::sigaction(SIGUSR1, &sa, &g_old_usr1);  // Slurm's --signal before a time limit
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::sigaction(SIGUSR1, &g_old_usr1, nullptr);
}

bool StopSignals::requested() { return g_signal != 0; }

int StopSignals::signal_number() { return (int)g_signal; }

}  // namespace sac
