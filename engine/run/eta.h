// eta.h: the progress line's time left, from the recent rate. The run's own mean rate since its
// start misleads: the warm-up's random actions step many times faster than training, and a
// run's speed drifts (a filling replay ring, the machine's load). EtaEstimator takes the rate
// over a sliding window of the last few minutes of training (long enough to hold several
// evaluation pauses, which an exponential average over one minute turns into 50% swings), only
// from the end of the warm-up on, and says "warm-up" until it has a training rate. The clock is the
// caller's (seconds as doubles), so tests drive it with a fake one. Tests: sac_tests
// --gtest_filter='Eta*'
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace sac {

class EtaEstimator {
 public:
  /// `warmup_steps`: env steps of random actions before training (train.warmup_steps);
  /// `window_seconds`: how far back the rate looks.
  explicit EtaEstimator(int64_t warmup_steps, double window_seconds = 300.0);

  /// Records that `step` env steps were done at time `seconds` (any origin, non-decreasing).
  void observe(double seconds, int64_t step);

  /// Seconds until `total_steps` at the recent rate; NaN while no training rate is known yet
  /// (in the warm-up, and until one observation past its end).
  double remaining_seconds(int64_t total_steps) const;

  /// remaining_seconds as "HH:MM:SS", or "warm-up" while it is NaN.
  std::string text(int64_t total_steps) const;

 private:
  int64_t m_warmup_steps;
  double m_window;
  // observations since the warm-up ended: the newest, and the oldest one that still reaches back
  // the whole window
  std::deque<std::pair<double, int64_t>> m_points;
  int64_t m_last_step = 0;
};

/// `seconds` as "HH:MM:SS" (hours may exceed 99); negative as 00:00:00.
std::string format_hms(double seconds);

}  // namespace sac
