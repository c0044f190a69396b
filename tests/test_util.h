// test_util.h: helpers shared by the GoogleTest files.
//   expect_close: |got[i] - ref[i]| <= atol + rtol |ref[i]| for every i (NaN matches NaN only
//     when both are NaN), the first mismatches printed with their indices. The environment
//     variable SAC_TEST_TOL_SCALE (default 1) multiplies every atol and rtol, to loosen or
//     tighten all tolerances at once (MuJoCo's MjNear idea).
//   seeded random fills: the same seed gives the same values on every machine (std::mt19937_64
//     with our own transforms, never std::*_distribution, whose output is library-defined).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace sac {
namespace test {

/// SAC_TEST_TOL_SCALE from the environment (> 0), else 1.
inline double tolerance_scale() {
  static const double scale = [] {
    const char* s = std::getenv("SAC_TEST_TOL_SCALE");
    double v = s ? std::atof(s) : 1.0;
    return v > 0.0 ? v : 1.0;
  }();
  return scale;
}

/// Checks |got[i] - ref[i]| <= atol + rtol |ref[i]| for every i and prints the first
/// mismatches. ref and got may be float or double vectors (a double reference from a finite
/// difference against the float op, for instance).
template <typename R, typename G>
void expect_close(const std::vector<R>& ref, const std::vector<G>& got, double atol, double rtol,
                  const std::string& what = "") {
  ASSERT_EQ(ref.size(), got.size()) << what;
  atol *= tolerance_scale();
  rtol *= tolerance_scale();
  size_t bad = 0;
  double worst = 0.0;
  std::ostringstream first;
  first << std::setprecision(9);
  for (size_t i = 0; i < ref.size(); ++i) {
    double r = (double)ref[i], g = (double)got[i];
    bool ok = (std::isnan(r) && std::isnan(g)) || std::fabs(g - r) <= atol + rtol * std::fabs(r);
    if (ok) continue;
    if (bad < 8) first << "  [" << i << "] ref " << r << " got " << g << " diff " << g - r << "\n";
    double d = std::fabs(g - r);
    worst = std::isnan(d) ? d : std::max(worst, d);
    ++bad;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << ref.size()
                     << " values differ by more than " << atol << " + " << rtol
                     << " |ref| (worst " << worst << "); first:\n"
                     << first.str();
}

/// Scalar form of expect_close.
inline void expect_close(double ref, double got, double atol, double rtol,
                         const std::string& what = "") {
  expect_close(std::vector<double>{ref}, std::vector<double>{got}, atol, rtol, what);
}

/// Checks bit-for-bit equality and prints the first differences.
template <typename T>
void expect_identical(const std::vector<T>& ref, const std::vector<T>& got,
                      const std::string& what = "") {
  ASSERT_EQ(ref.size(), got.size()) << what;
  size_t bad = 0;
  std::ostringstream first;
  first << std::setprecision(9);
  for (size_t i = 0; i < ref.size(); ++i) {
    if (std::memcmp(&ref[i], &got[i], sizeof(T)) == 0) continue;
    if (bad < 8) first << "  [" << i << "] ref " << ref[i] << " got " << got[i] << "\n";
    ++bad;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << ref.size()
                     << " values are not bit-identical; first:\n"
                     << first.str();
}

/// Seeded generator for test inputs; the transforms below are ours, so values are portable.
class TestRng {
 public:
  explicit TestRng(uint64_t seed) : m_gen(seed) {}
  /// Uniform double in [0, 1) with 53 random bits.
  double unit() { return (double)(m_gen() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
  /// Standard normal (Box-Muller).
  double normal() {
    double u1 = 1.0 - unit(), u2 = unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 m_gen;
};

/// Fills v with uniform numbers in [lo, hi) from `seed`. With quantum > 0 the values are
/// rounded to multiples of it (a power of two keeps finite-difference steps exact in float).
inline void fill_uniform(std::vector<float>& v, uint64_t seed, double lo, double hi,
                         double quantum = 0.0) {
  TestRng rng(seed);
  for (float& x : v) {
    double d = rng.uniform(lo, hi);
    if (quantum > 0.0) d = std::round(d / quantum) * quantum;
    x = (float)d;
  }
}

/// Fills v with standard normal numbers times `scale` from `seed` (quantised as above).
inline void fill_normal(std::vector<float>& v, uint64_t seed, double scale = 1.0,
                        double quantum = 0.0) {
  TestRng rng(seed);
  for (float& x : v) {
    double d = scale * rng.normal();
    if (quantum > 0.0) d = std::round(d / quantum) * quantum;
    x = (float)d;
  }
}

/// A new vector of n uniform numbers (see fill_uniform).
inline std::vector<float> random_uniform(size_t n, uint64_t seed, double lo, double hi,
                                         double quantum = 0.0) {
  std::vector<float> v(n);
  fill_uniform(v, seed, lo, hi, quantum);
  return v;
}

/// A new vector of n normal numbers (see fill_normal).
inline std::vector<float> random_normal(size_t n, uint64_t seed, double scale = 1.0,
                                        double quantum = 0.0) {
  std::vector<float> v(n);
  fill_normal(v, seed, scale, quantum);
  return v;
}

}  // namespace test
}  // namespace sac
