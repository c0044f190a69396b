// eta.cpp: EtaEstimator (eta.h).
#include "run/eta.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sac {

EtaEstimator::EtaEstimator(int64_t warmup_steps, double window_seconds)
    : m_warmup_steps(warmup_steps), m_window(window_seconds) {}

void EtaEstimator::observe(double seconds, int64_t step) {
  m_last_step = step;
  // the warm-up's rate says nothing about training's: measure from its end
  if (step < m_warmup_steps) return;
  if (!m_points.empty() && (step <= m_points.back().second || seconds <= m_points.back().first))
    return;
  m_points.emplace_back(seconds, step);
  // drop points while the next one still spans the window
  while (m_points.size() > 2 && seconds - m_points[1].first >= m_window) m_points.pop_front();
}

double EtaEstimator::remaining_seconds(int64_t total_steps) const {
  if (m_points.size() < 2) return NAN;
  const double dt = m_points.back().first - m_points.front().first;
  const double dsteps = (double)(m_points.back().second - m_points.front().second);
  return (double)std::max<int64_t>(0, total_steps - m_last_step) * dt / dsteps;
}

std::string EtaEstimator::text(int64_t total_steps) const {
  const double s = remaining_seconds(total_steps);
  return std::isnan(s) ? "warm-up" : format_hms(s);
}

std::string format_hms(double seconds) {
  const long long s = (long long)std::max(0.0, seconds);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace sac
