// test_eta.cpp: the progress line's time left (engine/run/eta.h) against a fake clock. A
// simulated HalfCheetah-like run: a warm-up of random actions 100x faster than training, then
// training with an evaluation pause every eval_every steps, the progress line every log_every
// steps. The estimate says "warm-up" during the warm-up and is within 20% of the true time left
// from 2% of the run on (within a minute in the last five minutes, where the final evaluation
// alone is a large share); the mean rate since the start (the old estimate) is not.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "run/eta.h"

namespace sac {
namespace {

struct SimRun {
  int64_t total = 1000000, warmup = 5000, log_every = 1000, eval_every = 10000;
  double warmup_seconds_per_step = 0.0001;  // random actions, no updates
  double seconds_per_step = 0.007;          // training: about 140 steps/s
  double eval_seconds = 12;                 // each evaluation pauses training
  double slowdown_per_step = 0;             // training slows by this fraction per env step

  // time at which step `s` is reached (evaluations counted at their step)
  std::vector<double> times() const {
    std::vector<double> t(total / log_every + 1, 0.0);
    double now = 0;
    for (int64_t s = 1; s <= total; ++s) {
      now += s <= warmup ? warmup_seconds_per_step
                         : seconds_per_step * (1.0 + slowdown_per_step * (double)s);
      if (s % eval_every == 0) now += eval_seconds;
      if (s % log_every == 0) t[s / log_every] = now;
    }
    return t;
  }
};

// the worst error of the estimate from `from_fraction` of the run on: relative to the true time
// left while more than 5 minutes are left; in the last 5 minutes, where one evaluation pause is
// a large share of what is left, in units of 5 minutes (under 0.2: within a minute)
double worst_error(const SimRun& run, double from_fraction, bool* warmup_ok = nullptr) {
  std::vector<double> t = run.times();
  EtaEstimator eta(run.warmup);
  eta.observe(0.0, 0);
  double worst = 0;
  int64_t worst_step = 0;
  if (warmup_ok) *warmup_ok = true;
  for (size_t i = 1; i < t.size(); ++i) {
    const int64_t step = (int64_t)i * run.log_every;
    eta.observe(t[i], step);
    if (step <= run.warmup && warmup_ok) *warmup_ok &= eta.text(run.total) == "warm-up";
    if (step < from_fraction * run.total || step == run.total) continue;
    const double truth = t.back() - t[i];
    const double est = eta.remaining_seconds(run.total);
    const double error = std::fabs(est - truth) / std::max(truth, 300.0);
    if (error > worst) worst_step = step;
    worst = std::max(worst, error);
  }
  std::printf("[ info ] worst at step %lld\n", (long long)worst_step);
  return worst;
}

TEST(Eta, SaysWarmUpThenIsWithin20PercentFrom2PercentOfTheRun) {
  SimRun run;
  bool warmup_ok = false;
  const double worst = worst_error(run, 0.02, &warmup_ok);
  EXPECT_TRUE(warmup_ok);
  EXPECT_LT(worst, 0.20);
  std::printf("[ info ] worst relative error from 2%% of the run: %.3f\n", worst);
}

TEST(Eta, FollowsARunThatSlowsDown) {
  // a run twice as slow at its end as at its start (e.g. a replay ring that fills): no estimate
  // can know the future slowdown, but this one follows the current speed (within 20% of the
  // time left at that speed, evaluations included), where a mean since the start lags behind
  SimRun run;
  run.slowdown_per_step = 1e-6;
  std::vector<double> t = run.times();
  EtaEstimator eta(run.warmup);
  eta.observe(0.0, 0);
  double worst = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    const int64_t step = (int64_t)i * run.log_every;
    eta.observe(t[i], step);
    if (step < 0.02 * run.total || step == run.total) continue;
    // the current speed, evaluations included, carried to the end
    const double now_rate = run.seconds_per_step * (1.0 + run.slowdown_per_step * step) +
                            run.eval_seconds / run.eval_every;
    const double at_current_speed = now_rate * (run.total - step);
    worst = std::max(
        worst, std::fabs(eta.remaining_seconds(run.total) - at_current_speed) / at_current_speed);
  }
  EXPECT_LT(worst, 0.20);
}

TEST(Eta, TheMeanRateSinceTheStartWouldMissAtTwoPercent) {
  // the old estimate, (total - step) / (step / elapsed), at 2% of the run: the test's bar
  // separates the two
  SimRun run;
  std::vector<double> t = run.times();
  const size_t i = (size_t)(0.02 * run.total / run.log_every);
  const int64_t step = (int64_t)i * run.log_every;
  const double old_estimate = (run.total - step) / (step / t[i]);
  const double truth = t.back() - t[i];
  EXPECT_GT(std::fabs(old_estimate - truth) / truth, 0.20);
}

TEST(Eta, ResumedPastTheWarmUpNeedsOneIntervalAndFormatsHours) {
  EtaEstimator eta(5000);
  eta.observe(0.0, 200000);  // a resumed run starts past its warm-up
  EXPECT_EQ(eta.text(1000000), "warm-up");
  eta.observe(10.0, 201000);  // 100 steps/s
  EXPECT_NEAR(eta.remaining_seconds(1000000), 7990.0, 1e-6);
  EXPECT_EQ(eta.text(1000000), "02:13:10");
  EXPECT_EQ(format_hms(-5), "00:00:00");
  EXPECT_EQ(format_hms(100 * 3600 + 61), "100:01:01");
}

}  // namespace
}  // namespace sac
