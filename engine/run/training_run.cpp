// training_run.cpp: a run around its step loop (training_run.h).
#include "run/training_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace sac {
namespace {

std::string format_eta(double seconds) {
  int s = (int)std::max(0.0, seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace

TrainingRun::TrainingRun(const Config& c, RunParts parts, RunDirectory& dir,
                         const CheckpointFiles& resumed_from, bool progress)
    : m_c(c), m_parts(parts), m_dir(dir), m_st(parts.loop.state()), m_progress(progress),
      m_last_checkpoint(resumed_from), m_start_steps(m_st.steps), m_start_updates(m_st.updates),
      m_prior_seconds(m_st.wall_seconds), m_t0(Clock::now()), m_last_log_time(m_t0),
      m_last_log_steps(m_st.steps), m_last_log_updates(m_st.updates),
      m_resumed_from(resumed_from.step) {
  m_next_checkpoint =
      c.checkpoint_every > 0 ? (m_st.steps / c.checkpoint_every + 1) * c.checkpoint_every : 0;
  // evaluation: inline in the sequential loop; in the overlapped loop on a thread of its own
  // with a snapshot of the actor, joined before the next evaluation, every checkpoint and the
  // end, so checkpoints always hold a finished evaluation
  if (!parts.eval_pool) return;
  const int O = parts.pool.spec().obs_dim, A = parts.pool.spec().act_dim;
  if (parts.overlapped)
    m_background_eval = std::make_unique<BackgroundEval>(
        AgentSpec::from_config(c, O, A, c.eval_episodes), *parts.eval_pool);
  else
    m_d_eval_obs = DeviceArray<float>(parts.backend, (size_t)c.eval_episodes * O),
    m_d_eval_actions = DeviceArray<float>(parts.backend, (size_t)c.eval_episodes * A);
}

double TrainingRun::run_seconds() const {
  return std::chrono::duration<double>(Clock::now() - m_t0).count();
}

// ---- stopping: a failed write (disk full, I/O error) or a non-finite value. The run continues
// from its latest complete checkpoint once the cause is fixed.

void TrainingRun::write_failed(const std::string& what) {
  if (m_progress) std::fprintf(stderr, "\n");
  throw std::runtime_error(
      what + "; stopped at step " + std::to_string(m_st.steps) + ". " +
      (m_last_checkpoint.step >= 0
           ? "The latest complete checkpoint is '" + m_last_checkpoint.main + "' (step " +
                 std::to_string(m_last_checkpoint.step) + ")"
           : std::string("No checkpoint was written (it starts again from step 0)")) +
      "; once the cause is fixed, continue with: sac train --resume " + m_dir.path());
}

void TrainingRun::write_or_stop(const std::function<void()>& write) {
  try {
    write();
  } catch (const std::runtime_error& e) {
    write_failed(e.what());
  }
}

void TrainingRun::diverged(const std::string& what) {
  if (m_progress) std::fprintf(stderr, "\n");
  throw std::runtime_error(
      "training diverged at step " + std::to_string(m_st.steps) + " (update " +
      std::to_string(m_st.updates) + "): " + what + " is not finite; stopped. " +
      (m_last_checkpoint.step >= 0 ? "The last good checkpoint is '" + m_last_checkpoint.main + "'"
                                   : std::string("No checkpoint was written before")));
}

void TrainingRun::check_finite(bool with_moments) {
  std::string bad = find_non_finite(m_parts.agent, m_st.updates > 0, with_moments);
  if (!bad.empty()) diverged(bad);
}

// ---- the cadence after each batch step

void TrainingRun::after_step(bool stopping) {
  if (m_st.steps >= m_st.next_log || m_st.steps >= m_c.total_steps) {
    m_st.next_log += m_c.log_every;
    log_metrics();
  }
  if (m_st.steps >= m_st.next_eval && m_st.steps < m_c.total_steps) {
    m_st.next_eval += m_c.eval_every;
    evaluate_now();
  }
  if (m_c.checkpoint_every > 0 && m_st.steps >= m_next_checkpoint &&
      m_st.steps < m_c.total_steps && !stopping) {
    checkpoint();
    m_next_checkpoint = (m_st.steps / m_c.checkpoint_every + 1) * m_c.checkpoint_every;
  }
}

// the metrics line (and the divergence check on it), then the progress line
void TrainingRun::log_metrics() {
  const double dt = std::max(1e-9, std::chrono::duration<double>(Clock::now() -
                                                                 m_last_log_time).count());
  const double sps = (m_st.steps - m_last_log_steps) / dt;
  const double ups = (m_st.updates - m_last_log_updates) / dt;
  m_last_log_time = Clock::now();
  m_last_log_steps = m_st.steps;
  m_last_log_updates = m_st.updates;
  UpdateMetrics m = m_parts.agent.read_metrics();
  nlohmann::json line = {{"step", m_st.steps}, {"updates", m_st.updates},
                         {"wall_seconds", m_prior_seconds + run_seconds()}, {"sps", sps},
                         {"ups", ups}, {"unstable_episodes", m_parts.pool.unstable_episodes()}};
  if (m_st.updates > 0) {
    line["critic_loss"] = m.critic_loss;
    line["actor_loss"] = m.actor_loss;
    line["alpha_loss"] = m.alpha_loss;
    line["alpha"] = m.alpha;
    line["entropy"] = m.entropy;
  }
  if (m_st.recent_episodes > 0)
    line["episode_return"] = m_st.recent_return_sum / m_st.recent_episodes;
  m_st.recent_return_sum = 0.0;
  m_st.recent_episodes = 0;
  write_or_stop([&] { m_dir.append_metrics(line); });
  check_finite(false);
  if (m_progress) print_progress(sps, ups);
}

void TrainingRun::print_progress(double sps, double ups) {
  const double rate = (m_st.steps - m_start_steps) / std::max(1e-9, run_seconds());
  const double eta = (m_c.total_steps - m_st.steps) / std::max(1e-9, rate);
  std::fprintf(stderr, "\r[%s] step %lld/%lld | sps %.0f | ups %.0f | eval %s | eta %s   ",
               m_c.env_id.c_str(), (long long)m_st.steps, (long long)m_c.total_steps, sps, ups,
               std::isnan(m_st.last_eval)
                   ? "-"
                   : std::to_string((long long)std::lround(m_st.last_eval)).c_str(),
               format_eta(eta).c_str());
}

// ---- evaluation

void TrainingRun::record_evaluation(int64_t step, double wall_seconds, const EvalResult& r) {
  m_st.last_eval = r.mean;
  m_st.best_eval = std::max(m_st.best_eval, r.mean);
  m_st.final_eval = r.mean;
  write_or_stop([&] { m_dir.append_eval(step, wall_seconds, r); });
}

void TrainingRun::finish_evaluation() {
  if (!m_background_eval || !m_background_eval->running()) return;
  BackgroundEval::Done done = m_background_eval->wait();
  record_evaluation(done.step, done.wall_seconds, done.result);
}

void TrainingRun::evaluate_now() {
  if (!m_parts.eval_pool) return;
  const double wall_seconds = m_prior_seconds + run_seconds();  // the policy's training time
  Agent& agent = m_parts.agent;
  if (m_background_eval) {
    finish_evaluation();
    std::vector<float> actor(agent.actor().num_params());
    m_parts.backend.download(actor.data(), agent.actor().params(), actor.size() * sizeof(float));
    m_background_eval->start(m_st.steps, wall_seconds, actor);
    return;
  }
  record_evaluation(m_st.steps, wall_seconds,
                    evaluate(agent, m_parts.backend, *m_parts.eval_pool, m_d_eval_obs.data(),
                             m_d_eval_actions.data()));
}

// ---- checkpoints and the end

void TrainingRun::checkpoint() {
  finish_evaluation();
  check_finite(true);
  m_parts.backend.synchronize();  // the acting lane's counters too
  m_st.wall_seconds = m_prior_seconds + run_seconds();
  try {
    m_last_checkpoint = write_checkpoint(m_dir.checkpoints(), m_c, m_parts.agent, m_parts.replay,
                                         m_parts.pool, m_parts.eval_pool, m_st);
  } catch (const CheckpointWriteError& e) {
    write_failed(e.what());
  }
}

TrainSummary TrainingRun::summary() const {
  TrainSummary s;
  s.run_dir = m_dir.path();
  s.resumed_from = m_resumed_from;
  s.checkpoint = m_last_checkpoint.main;
  s.steps = m_st.steps;
  s.updates = m_st.updates;
  // the rates are this process's alone: earlier segments of a resumed run ran at their own
  // speed (maybe elsewhere); one that only finished a stopped run stepped no env and has none
  s.segment_from_step = m_start_steps;
  s.segment_steps = m_st.steps - m_start_steps;
  s.segment_updates = m_st.updates - m_start_updates;
  s.segment_seconds = std::max(1e-9, run_seconds());
  s.wall_seconds = m_prior_seconds + s.segment_seconds;
  s.env_steps_per_second = s.segment_steps > 0 ? s.segment_steps / s.segment_seconds : NAN;
  s.updates_per_second = s.segment_steps > 0 ? s.segment_updates / s.segment_seconds : NAN;
  s.final_eval_return = m_parts.eval_pool ? m_st.final_eval : NAN;
  s.best_eval_return = m_parts.eval_pool ? m_st.best_eval : NAN;
  return s;
}

TrainSummary TrainingRun::interrupt(int signal_number) {
  checkpoint();
  write_or_stop([&] { save_policy(m_parts.agent, m_c, m_dir.policy()); });
  if (m_progress) std::fprintf(stderr, "\n");
  std::fprintf(stderr,
               "sac: stopped by signal %d at step %lld; checkpoint '%s' written; continue with: "
               "sac train --resume %s\n",
               signal_number, (long long)m_st.steps, m_last_checkpoint.main.c_str(),
               m_dir.path().c_str());
  TrainSummary s = summary();
  s.interrupted = true;
  return s;
}

TrainSummary TrainingRun::finish(bool finishing) {
  if (m_parts.overlapped) {
    // the final checkpoint keeps the last step's update block pending, as a mid-run one does,
    // so an extended run continues exactly; the block then runs before the final evaluation
    checkpoint();
    m_parts.loop.drain();
    check_finite(false);
    evaluate_now();
    finish_evaluation();
    if (m_progress) std::fprintf(stderr, "\n");
  } else if (!finishing) {
    evaluate_now();  // the final evaluation
    if (m_progress) std::fprintf(stderr, "\n");
    checkpoint();  // the final checkpoint, so the run can be extended later
  }
  TrainSummary s = summary();
  write_or_stop([&] { save_policy(m_parts.agent, m_c, m_dir.policy()); });
  const bool evaluated = m_parts.eval_pool != nullptr;
  nlohmann::json j = {
      {"task", m_c.env_id}, {"seed", m_c.seed}, {"device", m_parts.backend.name()},
      {"steps", s.steps}, {"updates", s.updates}, {"wall_seconds", s.wall_seconds},
      {"final_eval_return", evaluated ? nlohmann::json(s.final_eval_return) : nlohmann::json()},
      {"best_eval_return", evaluated ? nlohmann::json(s.best_eval_return) : nlohmann::json()},
      {"env_steps_per_second", s.env_steps_per_second},
      {"updates_per_second", s.updates_per_second},
      {"segment", {{"from_step", s.segment_from_step}, {"steps", s.segment_steps},
                   {"updates", s.segment_updates}, {"wall_seconds", s.segment_seconds}}},
      {"unstable_episodes", m_parts.pool.unstable_episodes()}, {"run_dir", m_dir.path()}};
  write_or_stop([&] { m_dir.write_summary(j); });
  return s;
}

}  // namespace sac
