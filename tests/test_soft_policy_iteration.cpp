// test_soft_policy_iteration.cpp: soft policy iteration (Haarnoja et al. 2018, section 4.1,
// tabular case) on small random MDPs. Every soft backup goes through sac::soft_value and
// sac::soft_target from kernels/sac_losses.h, the same element-wise formulas the critic targets
// use, so these tests check that those formulas define the right operator: a gamma-contraction
// whose fixed point is Q^pi, with soft policy improvement and convergence to the soft-optimal
// policy.
// Expectations over next states and actions are exact weighted sums; nothing is sampled.
// Run: ./build/sac_tests --gtest_filter='SoftPolicyIteration.*'
//
// precision: the MDP bookkeeping (transition sums, linear solves, log-sum-exp) is double, but
// sac_losses.h takes float, so every backup term is rounded to float (~6e-8 relative). Here
// |Q| <= ~15, so one backup carries an error of a few 1e-6, and a fixed point reached by
// iterating the backup carries at most that error times 1 / (1 - gamma) = 10. Hence tables are
// compared with |got - ref| <= atol + rtol |ref|, atol = rtol = 1e-4: ten times the expected
// float error, and orders of magnitude below the effects being tested (>= 1e-2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sac_losses.h"

namespace {

// the MDP and SAC constants shared by every test
constexpr int kStates = 5;
constexpr int kActions = 3;
constexpr double kGamma = 0.9;
constexpr double kAlpha = 0.5;
constexpr std::uint32_t kSeeds[] = {1u, 7u, 42u, 2018u};

// backups per policy evaluation: gamma^250 ~ 4e-12, far below the float floor
constexpr int kEvalIters = 250;
// tolerances for float backups compared with double references (see the file comment)
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

// a per-(s, a) table (Q values or policy probabilities), indexed s * kActions + a
using Table = std::vector<double>;

int sa(int s, int a) { return s * kActions + a; }

// A tabular MDP: P(s'|s,a), r(s,a) and a termination flag per transition (s, a, s').
struct TabularMdp {
  std::vector<double> m_p;     // P(s'|s,a) at sa(s, a) * kStates + s'
  std::vector<double> m_r;     // r(s,a) at sa(s, a)
  std::vector<double> m_term;  // 1 where the transition (s, a, s') ends the episode, else 0

  double p(int s, int a, int s2) const { return m_p[sa(s, a) * kStates + s2]; }
  double term(int s, int a, int s2) const { return m_term[sa(s, a) * kStates + s2]; }
};

// Builds a random MDP: rows of P drawn from a flat Dirichlet, rewards uniform in [-1, 1],
// no terminations.
TabularMdp make_mdp(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<double> expo(1.0);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  TabularMdp mdp;
  mdp.m_p.resize(kStates * kActions * kStates);
  mdp.m_r.resize(kStates * kActions);
  mdp.m_term.assign(kStates * kActions * kStates, 0.0);
  for (int i = 0; i < kStates * kActions; ++i) {
    double sum = 0.0;
    for (int s2 = 0; s2 < kStates; ++s2) sum += mdp.m_p[i * kStates + s2] = expo(rng);
    for (int s2 = 0; s2 < kStates; ++s2) mdp.m_p[i * kStates + s2] /= sum;
    mdp.m_r[i] = unif(rng);
  }
  return mdp;
}

// Returns the softmax over actions of logits / temperature, per state, in double.
Table softmax_policy(const Table& logits, double temperature) {
  Table pi(logits.size());
  for (int s = 0; s < kStates; ++s) {
    double mx = logits[sa(s, 0)];
    for (int a = 1; a < kActions; ++a) mx = std::max(mx, logits[sa(s, a)]);
    double sum = 0.0;
    for (int a = 0; a < kActions; ++a)
      sum += pi[sa(s, a)] = std::exp((logits[sa(s, a)] - mx) / temperature);
    for (int a = 0; a < kActions; ++a) pi[sa(s, a)] /= sum;
  }
  return pi;
}

// Returns a random table with entries drawn from N(0, scale^2).
Table random_table(std::mt19937& rng, double scale) {
  std::normal_distribution<double> normal(0.0, scale);
  Table t(kStates * kActions);
  for (double& x : t) x = normal(rng);
  return t;
}

// Returns alpha log sum_a exp(q(s,a) / alpha), the soft maximum of one state's Q row, in double.
double soft_max(const Table& q, int s) {
  double mx = q[sa(s, 0)];
  for (int a = 1; a < kActions; ++a) mx = std::max(mx, q[sa(s, a)]);
  double sum = 0.0;
  for (int a = 0; a < kActions; ++a) sum += std::exp((q[sa(s, a)] - mx) / kAlpha);
  return mx + kAlpha * std::log(sum);
}

// Returns the soft state value V(s) = sum_a pi(a|s) soft_value(Q(s,a), alpha, log pi(a|s)),
// each term through sac::soft_value; actions with pi = 0 contribute nothing (0 log 0 = 0).
double soft_state_value(const Table& q, const Table& pi, int s) {
  double v = 0.0;
  for (int a = 0; a < kActions; ++a) {
    double w = pi[sa(s, a)];
    if (w <= 0.0) continue;
    v += w * static_cast<double>(sac::soft_value(static_cast<float>(q[sa(s, a)]),
                                                 static_cast<float>(kAlpha),
                                                 static_cast<float>(std::log(w))));
  }
  return v;
}

// Applies the soft Bellman operator T^pi once: T Q(s,a) is the exact expectation, over
// s' ~ P(.|s,a) and a' ~ pi(.|s'), of the critic's sampled target
// sac::soft_target(r(s,a), gamma, term(s,a,s'), Q(s',a'), alpha, log pi(a'|s')).
Table soft_bellman(const TabularMdp& mdp, const Table& q, const Table& pi) {
  Table out(kStates * kActions);
  for (int s = 0; s < kStates; ++s) {
    for (int a = 0; a < kActions; ++a) {
      double y = 0.0;
      for (int s2 = 0; s2 < kStates; ++s2) {
        for (int a2 = 0; a2 < kActions; ++a2) {
          double w = mdp.p(s, a, s2) * pi[sa(s2, a2)];
          if (w <= 0.0) continue;
          y += w * static_cast<double>(sac::soft_target(
                       static_cast<float>(mdp.m_r[sa(s, a)]), static_cast<float>(kGamma),
                       static_cast<float>(mdp.term(s, a, s2)), static_cast<float>(q[sa(s2, a2)]),
                       static_cast<float>(kAlpha), static_cast<float>(std::log(pi[sa(s2, a2)]))));
        }
      }
      out[sa(s, a)] = y;
    }
  }
  return out;
}

// Evaluates pi by iterating the float soft Bellman operator from Q = 0 (soft policy evaluation).
Table evaluate_policy(const TabularMdp& mdp, const Table& pi) {
  Table q(kStates * kActions, 0.0);
  for (int k = 0; k < kEvalIters; ++k) q = soft_bellman(mdp, q, pi);
  return q;
}

// Solves Q^pi exactly in double, independent of sac_losses.h:
// (I - gamma P_pi) V = sum_a pi (r - alpha log pi), with P_pi masked by (1 - term), then
// Q(s,a) = r(s,a) + gamma sum_s' P(s'|s,a) (1 - term) V(s').
// Gaussian elimination with partial pivoting.
Table solve_soft_q(const TabularMdp& mdp, const Table& pi) {
  constexpr int n = kStates;
  std::vector<double> m(n * (n + 1), 0.0);  // augmented [I - gamma P_pi | b]
  for (int s = 0; s < n; ++s) {
    m[s * (n + 1) + s] = 1.0;
    for (int a = 0; a < kActions; ++a) {
      double w = pi[sa(s, a)];
      if (w <= 0.0) continue;
      m[s * (n + 1) + n] += w * (mdp.m_r[sa(s, a)] - kAlpha * std::log(w));
      for (int s2 = 0; s2 < n; ++s2)
        m[s * (n + 1) + s2] -= kGamma * w * mdp.p(s, a, s2) * (1.0 - mdp.term(s, a, s2));
    }
  }
  // forward elimination
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::fabs(m[r * (n + 1) + c]) > std::fabs(m[piv * (n + 1) + c])) piv = r;
    for (int k = 0; k <= n; ++k) std::swap(m[c * (n + 1) + k], m[piv * (n + 1) + k]);
    for (int r = c + 1; r < n; ++r) {
      double f = m[r * (n + 1) + c] / m[c * (n + 1) + c];
      for (int k = c; k <= n; ++k) m[r * (n + 1) + k] -= f * m[c * (n + 1) + k];
    }
  }
  // back substitution
  std::vector<double> v(n);
  for (int r = n - 1; r >= 0; --r) {
    double x = m[r * (n + 1) + n];
    for (int k = r + 1; k < n; ++k) x -= m[r * (n + 1) + k] * v[k];
    v[r] = x / m[r * (n + 1) + r];
  }
  Table q(kStates * kActions);
  for (int s = 0; s < kStates; ++s) {
    for (int a = 0; a < kActions; ++a) {
      double x = mdp.m_r[sa(s, a)];
      for (int s2 = 0; s2 < n; ++s2)
        x += kGamma * mdp.p(s, a, s2) * (1.0 - mdp.term(s, a, s2)) * v[s2];
      q[sa(s, a)] = x;
    }
  }
  return q;
}

// Returns the max-norm of a - b.
double max_abs_diff(const Table& a, const Table& b) {
  double d = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// Returns the max-norm of a.
double max_abs(const Table& a) { return max_abs_diff(a, Table(a.size(), 0.0)); }

// Expects |got - ref| <= atol + rtol |ref| entry by entry and reports the first mismatches.
void expect_close(const Table& got, const Table& ref, double atol, double rtol, const char* what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double tol = atol + rtol * std::fabs(ref[i]);
    if (!(std::fabs(got[i] - ref[i]) <= tol)) {  // also catches NaN
      if (bad < 5)
        ADD_FAILURE() << what << ": (s=" << i / kActions << ", a=" << i % kActions
                      << ") got " << got[i] << ", ref " << ref[i] << ", tol " << tol;
      ++bad;
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size() << " entries out of tolerance";
}

// 1a. T^pi is a gamma-contraction in max-norm, and shifting Q by c shifts T Q by exactly gamma c.
TEST(SoftPolicyIteration, BellmanOperatorIsGammaContraction) {
  const double scales[] = {0.01, 1.0, 10.0};
  for (std::uint32_t seed : kSeeds) {
    TabularMdp mdp = make_mdp(seed);
    std::mt19937 rng(seed + 1000u);
    std::uniform_int_distribution<int> pick(0, 2);
    for (int trial = 0; trial < 100; ++trial) {
      // random policy, from near uniform to near deterministic
      Table pi = softmax_policy(random_table(rng, 1.0), 1.0 / (0.2 + 5.0 * pick(rng)));
      double max_neg_logp = 0.0;
      for (double w : pi) max_neg_logp = std::max(max_neg_logp, -std::log(w));
      Table q1 = random_table(rng, scales[pick(rng)]);
      Table q2 = random_table(rng, scales[pick(rng)]);
      if (trial % 3 == 0)  // nearby pairs too
        for (size_t i = 0; i < q2.size(); ++i) q2[i] = q1[i] + 1e-2 * q2[i];
      Table t1 = soft_bellman(mdp, q1, pi);
      Table t2 = soft_bellman(mdp, q2, pi);
      double in = max_abs_diff(q1, q2);
      double out = max_abs_diff(t1, t2);
      // float slack: a few ulps of the largest term entering one soft_target
      double slack = 1e-6 * (1.0 + 1.0 + max_abs(q1) + max_abs(q2) + kAlpha * max_neg_logp);
      EXPECT_LE(out, kGamma * in + slack) << "seed " << seed << " trial " << trial;

      // a constant shift c passes through the backup scaled by gamma exactly
      const double c = 3.0;
      Table q_shift = q1;
      for (double& x : q_shift) x += c;
      Table t_shift = soft_bellman(mdp, q_shift, pi);
      for (size_t i = 0; i < t1.size(); ++i)
        EXPECT_NEAR(t_shift[i] - t1[i], kGamma * c, slack + 1e-6 * c) << "seed " << seed;
    }
  }
}

// 1b. T Q built from soft_target per (s', a') equals r + gamma E_s'[V(s')] with V built from
// soft_value, and iterating T from any start reaches the exact Q^pi of the linear system.
TEST(SoftPolicyIteration, BellmanIterationConvergesToExactQPi) {
  for (std::uint32_t seed : kSeeds) {
    TabularMdp mdp = make_mdp(seed);
    std::mt19937 rng(seed + 2000u);
    Table pi = softmax_policy(random_table(rng, 1.0), 0.5);
    Table q_exact = solve_soft_q(mdp, pi);

    // the two ways of writing the backup agree
    Table q_any = random_table(rng, 5.0);
    Table tq = soft_bellman(mdp, q_any, pi);
    Table tq_v(tq.size());
    for (int s = 0; s < kStates; ++s) {
      for (int a = 0; a < kActions; ++a) {
        double ev = 0.0;
        for (int s2 = 0; s2 < kStates; ++s2)
          ev += mdp.p(s, a, s2) * soft_state_value(q_any, pi, s2);
        tq_v[sa(s, a)] = mdp.m_r[sa(s, a)] + kGamma * ev;
      }
    }
    expect_close(tq, tq_v, 1e-5, 1e-5, "T Q via soft_target vs r + gamma E[V]");

    // two very different starts both converge to the unique fixed point
    for (double scale : {1.0, 20.0}) {
      Table q = random_table(rng, scale);
      for (int k = 0; k < kEvalIters; ++k) q = soft_bellman(mdp, q, pi);
      expect_close(q, q_exact, kAtol, kRtol, "iterated T^pi vs linear solve");
      EXPECT_LE(max_abs_diff(soft_bellman(mdp, q, pi), q), kAtol)
          << "not a fixed point, seed " << seed;
    }
  }
}

// 2. soft policy improvement: pi_new ~ exp(Q^pi_old / alpha) gives Q^pi_new >= Q^pi_old.
TEST(SoftPolicyIteration, SoftPolicyImprovementIsMonotone) {
  for (std::uint32_t seed : kSeeds) {
    TabularMdp mdp = make_mdp(seed);
    std::mt19937 rng(seed + 3000u);
    Table pi = softmax_policy(random_table(rng, 1.0), 0.3);  // a peaked, poor random start
    Table q_old = evaluate_policy(mdp, pi);
    double first_gain = 0.0;
    for (int step = 0; step < 6; ++step) {
      Table pi_new = softmax_policy(q_old, kAlpha);
      // the lemma's one-step inequality: E_pi_new[Q_old - alpha log pi_new] >= V_old(s)
      for (int s = 0; s < kStates; ++s)
        EXPECT_GE(soft_state_value(q_old, pi_new, s),
                  soft_state_value(q_old, pi, s) - (kAtol + kRtol * max_abs(q_old)))
            << "seed " << seed << " step " << step << " s " << s;

      Table q_new = evaluate_policy(mdp, pi_new);
      double gain_sum = 0.0;
      for (size_t i = 0; i < q_new.size(); ++i) {
        EXPECT_GE(q_new[i], q_old[i] - (kAtol + kRtol * std::fabs(q_old[i])))
            << "seed " << seed << " step " << step << " (s=" << i / kActions
            << ", a=" << i % kActions << ")";
        gain_sum += q_new[i] - q_old[i];
      }
      if (step == 0) first_gain = gain_sum;
      pi = pi_new;
      q_old = q_new;
    }
    // from a random start the first improvement is real, not just within tolerance
    EXPECT_GT(first_gain, 1e-2) << "seed " << seed;
  }
}

// 3. soft policy iteration converges to pi* = exp((Q* - V*) / alpha), and Q* satisfies the
// soft Bellman optimality equation; cross-checked against soft value iteration in double.
TEST(SoftPolicyIteration, ConvergesToSoftOptimalPolicy) {
  for (std::uint32_t seed : kSeeds) {
    TabularMdp mdp = make_mdp(seed);
    std::mt19937 rng(seed + 4000u);
    Table pi0 = softmax_policy(random_table(rng, 1.0), 0.3);
    Table pi = pi0;
    Table q = evaluate_policy(mdp, pi);
    const Table q_start = q;
    for (int it = 0; it < 25; ++it) {
      pi = softmax_policy(q, kAlpha);
      q = evaluate_policy(mdp, pi);
    }

    // pi is the Boltzmann policy of its own soft Q, and its soft value is the soft maximum
    for (int s = 0; s < kStates; ++s) {
      double v_star = soft_max(q, s);
      for (int a = 0; a < kActions; ++a)
        EXPECT_NEAR(pi[sa(s, a)], std::exp((q[sa(s, a)] - v_star) / kAlpha), 1e-4)
            << "seed " << seed << " (s=" << s << ", a=" << a << ")";
      EXPECT_NEAR(soft_state_value(q, pi, s), v_star, kAtol + kRtol * std::fabs(v_star))
          << "seed " << seed << " s " << s;
    }

    // soft Bellman optimality: Q*(s,a) = r + gamma E_s'[alpha log sum_a' exp(Q*(s',a') / alpha)]
    Table rhs(q.size());
    for (int s = 0; s < kStates; ++s) {
      for (int a = 0; a < kActions; ++a) {
        double ev = 0.0;
        for (int s2 = 0; s2 < kStates; ++s2) ev += mdp.p(s, a, s2) * soft_max(q, s2);
        rhs[sa(s, a)] = mdp.m_r[sa(s, a)] + kGamma * ev;
      }
    }
    expect_close(q, rhs, kAtol, kRtol, "soft Bellman optimality residual");

    // independent reference: soft value iteration in double, no sac_losses.h
    Table q_vi(q.size(), 0.0);
    for (int k = 0; k < 400; ++k) {
      Table next(q.size());
      for (int s = 0; s < kStates; ++s) {
        for (int a = 0; a < kActions; ++a) {
          double ev = 0.0;
          for (int s2 = 0; s2 < kStates; ++s2) ev += mdp.p(s, a, s2) * soft_max(q_vi, s2);
          next[sa(s, a)] = mdp.m_r[sa(s, a)] + kGamma * ev;
        }
      }
      q_vi = next;
    }
    expect_close(q, q_vi, kAtol, kRtol, "soft policy iteration vs soft value iteration");

    // Q* dominates the start and the uniform policy, strictly for the start
    Table q_uniform = solve_soft_q(mdp, Table(q.size(), 1.0 / kActions));
    double gain = 0.0;
    for (size_t i = 0; i < q.size(); ++i) {
      EXPECT_GE(q[i], q_uniform[i] - kAtol) << "seed " << seed;
      EXPECT_GE(q[i], q_start[i] - kAtol) << "seed " << seed;
      gain = std::max(gain, q[i] - q_start[i]);
    }
    EXPECT_GT(gain, 1e-2) << "seed " << seed;
  }
}

// 4a. soft_target with terminated = 1 returns the reward alone; with 0 it bootstraps.
TEST(SoftPolicyIteration, TerminalTargetIsRewardAlone) {
  const float rewards[] = {-3.5f, -1.0f, 0.0f, 0.25f, 7.0f};
  const float qs[] = {-1e6f, -12.0f, 0.0f, 4.5f, 1e6f};
  const float logps[] = {-40.0f, -1.1f, 0.0f, 2.3f};
  const float gammas[] = {0.0f, 0.9f, 0.99f, 1.0f};
  const float alpha = static_cast<float>(kAlpha);
  for (float r : rewards)
    for (float q : qs)
      for (float logp : logps)
        for (float gamma : gammas) {
          EXPECT_FLOAT_EQ(sac::soft_target(r, gamma, 1.0f, q, alpha, logp), r)
              << "r " << r << " q " << q << " logp " << logp << " gamma " << gamma;
          double bootstrap = double(r) + double(gamma) * (double(q) - double(alpha) * double(logp));
          EXPECT_NEAR(sac::soft_target(r, gamma, 0.0f, q, alpha, logp), bootstrap,
                      1e-6 * (1.0 + std::fabs(r) + std::fabs(q) + std::fabs(alpha * logp)));
        }
}

// 4b. in the tabular operator, terminal transitions stop bootstrapping: a pair whose every
// transition terminates backs up to r(s,a) for any Q, and the fixed point matches the masked solve.
TEST(SoftPolicyIteration, TerminalTransitionsStopBootstrapping) {
  for (std::uint32_t seed : kSeeds) {
    TabularMdp mdp = make_mdp(seed);
    // entering state 0 ends the episode, and (s=1, a=2) always ends it
    for (int s = 0; s < kStates; ++s)
      for (int a = 0; a < kActions; ++a) mdp.m_term[sa(s, a) * kStates + 0] = 1.0;
    for (int s2 = 0; s2 < kStates; ++s2) mdp.m_term[sa(1, 2) * kStates + s2] = 1.0;

    std::mt19937 rng(seed + 5000u);
    Table pi = softmax_policy(random_table(rng, 1.0), 0.5);
    for (int trial = 0; trial < 10; ++trial) {
      Table tq = soft_bellman(mdp, random_table(rng, 10.0), pi);
      EXPECT_NEAR(tq[sa(1, 2)], mdp.m_r[sa(1, 2)], 1e-6) << "seed " << seed;
    }

    Table q = evaluate_policy(mdp, pi);
    expect_close(q, solve_soft_q(mdp, pi), kAtol, kRtol, "terminal-masked fixed point");
    EXPECT_NEAR(q[sa(1, 2)], mdp.m_r[sa(1, 2)], 1e-6) << "seed " << seed;

    // the mask matters: without it Q^pi is clearly different
    TabularMdp open = mdp;
    std::fill(open.m_term.begin(), open.m_term.end(), 0.0);
    EXPECT_GT(max_abs_diff(q, solve_soft_q(open, pi)), 1e-2) << "seed " << seed;
  }
}

}  // namespace
