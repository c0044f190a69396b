// training_run.cpp: a run around its step loop (training_run.h).
#include "run/training_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace sac {
namespace {

// what stopped a seed of a resumed run, as its folder's summary.json says
std::string stopped_because(const std::string& seed_dir) {
  std::ifstream in(seed_dir + "/summary.json");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_object() && j.contains("diverged") && j["diverged"].contains("what") &&
      j["diverged"]["what"].is_string())
    return j["diverged"]["what"].get<std::string>();
  return "a value";  // the folder lost its summary; the checkpoint knows the step
}

}  // namespace

TrainingRun::TrainingRun(const Config& c, RunParts parts, RunDirectory& dir,
                         const std::vector<RunDirectory*>& seed_dirs,
                         const CheckpointFiles& resumed_from, const TrainOptions& options)
    : m_c(c), m_parts(parts), m_dir(dir), m_st(parts.loop.state()), m_options(options),
      m_progress(options.progress), m_per_seed(!c.seeds.empty()),
      m_S(parts.loop.num_seeds()), m_N(parts.loop.envs_per_seed()),
      m_last_checkpoint(resumed_from), m_start_steps(m_st.steps), m_start_updates(m_st.updates),
      m_prior_seconds(m_st.wall_seconds), m_t0(Clock::now()), m_last_log_time(m_t0),
      m_last_log_steps(m_st.steps), m_last_log_updates(m_st.updates),
      m_resumed_from(resumed_from.step), m_eta(c.warmup_steps) {
  m_eta.observe(0.0, m_st.steps);
  for (int k = 0; k < m_S; ++k) {
    m_seed_configs.push_back(m_per_seed ? seed_config(c, k) : c);
    m_seed_dirs.push_back(m_per_seed ? seed_dirs.at(k) : &dir);
    m_stopped_because.push_back(
        m_st.seeds[k].training() ? "" : stopped_because(m_seed_dirs[k]->path()));
  }
  m_next_checkpoint =
      c.checkpoint_every > 0 ? (m_st.steps / c.checkpoint_every + 1) * c.checkpoint_every : 0;
  m_next_video = c.video_every > 0 ? (m_st.steps / c.video_every + 1) * c.video_every : 0;
  // evaluation: inline in the sequential loop; in the overlapped loop on a thread of its own
  // with a snapshot of the actor, joined before the next evaluation, every checkpoint and the
  // end, so checkpoints always hold a finished evaluation
  if (!parts.eval_pool) return;
  const int O = parts.pool.spec().obs_dim, A = parts.pool.spec().act_dim;
  const size_t episodes = (size_t)m_S * c.eval_episodes;  // of all seeds
  if (parts.overlapped)
    m_background_eval = std::make_unique<BackgroundEval>(
        AgentSpec::from_config(c, O, A, c.eval_episodes), *parts.eval_pool);
  else
    m_d_eval_obs = DeviceArray<float>(parts.backend, episodes * O),
    m_d_eval_actions = DeviceArray<float>(parts.backend, episodes * A);
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
  if (!m_per_seed) {
    std::string bad = find_non_finite(m_parts.agent, m_st.updates > 0, with_moments);
    if (!bad.empty()) diverged(bad);
    return;
  }
  for (int k = 0; k < m_S; ++k) {
    if (!m_st.seeds[k].training()) continue;
    std::string bad = find_non_finite(m_parts.agent, m_st.updates > 0, with_moments, k);
    if (!bad.empty()) stop_seed(k, bad);
  }
}

// seeds whose actions were not finite in the latest step (the loop stepped their envs with
// zeros) stop, named by their first non-finite number; a run of one seed stops as a whole
void TrainingRun::check_actions() {
  if (!m_per_seed) {
    if (m_parts.loop.non_finite_actions().empty()) return;
    std::string bad = find_non_finite(m_parts.agent, m_st.updates > 0, true);
    diverged(bad.empty() ? std::string("the policy's actions") : bad);
  }
  for (int k : m_parts.loop.non_finite_actions()) {
    if (!m_st.seeds[k].training()) continue;
    std::string bad = find_non_finite(m_parts.agent, m_st.updates > 0, true, k);
    stop_seed(k, bad.empty() ? std::string("its actions") : bad);
  }
}

// one seed's numbers went non-finite: it stops alone, its folder says why, the others go on
void TrainingRun::stop_seed(int k, const std::string& what) {
  m_st.seeds[k].stopped_step = m_st.steps;
  m_stopped_because[k] = what;
  const uint64_t seed = m_seed_configs[k].seed;
  if (m_progress) std::fprintf(stderr, "\n");
  std::fprintf(stderr,
               "sac: seed %llu diverged at step %lld (update %lld): %s is not finite; it stops "
               "here (%s/summary.json), the other seeds go on\n",
               (unsigned long long)seed, (long long)m_st.steps, (long long)m_st.updates,
               what.c_str(), m_seed_dirs[k]->path().c_str());
  write_or_stop([&] { m_seed_dirs[k]->write_summary(seed_summary_json(k, summary())); });
  for (const SeedProgress& p : m_st.seeds)
    if (p.training()) return;
  diverged(what + " (the last seed still training, seed " + std::to_string(seed) + ")");
}

std::vector<char> TrainingRun::stopped_seeds() const {
  std::vector<char> stopped;
  for (const SeedProgress& p : m_st.seeds) stopped.push_back(!p.training());
  return stopped;
}

// the test hook of TrainOptions: one seed's log alpha, or one value of a named tensor, becomes
// NaN
void TrainingRun::poison_if_due() {
  if (m_options.poison_step < 0 || m_poisoned || m_st.steps < m_options.poison_step) return;
  m_poisoned = true;
  if (m_options.poison_tensor.empty()) {
    // log alpha holds one value per seed (the learner's state tensor of that name)
    poison_tensor("log_alpha", m_options.poison_seed);
    return;
  }
  poison_tensor(m_options.poison_tensor, m_options.poison_index);
}

// value `index` of the learner's state tensor `name` becomes NaN (the test hook above)
void TrainingRun::poison_tensor(const std::string& name, int64_t index) {
  const float nan = NAN;
  for (const StateTensor& t : m_parts.agent.state_tensors())
    if (t.name == name) {
      if (t.dtype != "F32" || t.memory != StateTensor::Memory::kBackend || index < 0 ||
          index >= t.count())
        throw std::invalid_argument("poison_tensor: cannot poison value " +
                                    std::to_string(index) + " of '" + t.name + "'");
      m_parts.backend.upload(static_cast<float*>(t.data) + index, &nan, sizeof nan);
      return;
    }
  throw std::invalid_argument("poison_tensor: the agent has no tensor '" + name + "'");
}

// ---- the cadence after each batch step

void TrainingRun::after_step(bool stopping) {
  poison_if_due();
  check_actions();
  if (m_st.steps >= m_st.next_log || m_st.steps >= m_c.total_steps) {
    m_st.next_log += m_c.log_every;
    log_metrics();
  }
  if (m_st.steps >= m_st.next_eval && m_st.steps < m_c.total_steps) {
    m_st.next_eval += m_c.eval_every;
    evaluate_now();
  }
  if (m_parts.videos && m_st.steps >= m_next_video) {
    m_next_video = (m_st.steps / m_c.video_every + 1) * m_c.video_every;
    record_video();
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
  for (int k = 0; k < m_S; ++k) {
    SeedProgress& p = m_st.seeds[k];
    if (m_st.seeds[k].training()) {
      UpdateMetrics m = m_parts.agent.read_metrics(k);
      nlohmann::json line = {{"step", m_st.steps}, {"updates", m_st.updates},
                             {"wall_seconds", m_prior_seconds + run_seconds()}, {"sps", sps},
                             {"ups", ups},
                             {"unstable_episodes", m_parts.pool.unstable_episodes(k * m_N, m_N)}};
      if (m_st.updates > 0) {
        line["critic_loss"] = m.critic_loss;
        line["actor_loss"] = m.actor_loss;
        line["alpha_loss"] = m.alpha_loss;
        line["alpha"] = m.alpha;
        line["entropy"] = m.entropy;
      }
      if (p.recent_episodes > 0) line["episode_return"] = p.recent_return_sum / p.recent_episodes;
      write_or_stop([&] { m_seed_dirs[k]->append_metrics(line); });
    }
    p.recent_return_sum = 0.0;
    p.recent_episodes = 0;
  }
  check_finite(false);
  if (m_progress) print_progress(sps, ups);
}

// steps and rates per seed (a run of several seeds steps that many envs of each); the latest
// evaluation's mean over the seeds still training, with its range
void TrainingRun::print_progress(double sps, double ups) {
  m_eta.observe(run_seconds(), m_st.steps);
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  int n = 0, training = 0;
  for (int k = 0; k < m_S; ++k) {
    if (!m_st.seeds[k].training()) continue;
    ++training;
    const double e = m_st.seeds[k].last_eval;
    if (std::isnan(e)) continue;
    sum += e, ++n, lo = std::min(lo, e), hi = std::max(hi, e);
  }
  std::string eval = n == 0 ? "-" : std::to_string(std::lround(sum / n));
  if (n > 1) eval += " [" + std::to_string(std::lround(lo)) + ", " +
                     std::to_string(std::lround(hi)) + "]";
  std::string seeds;
  if (m_per_seed) seeds = " | seeds " + std::to_string(training) + "/" + std::to_string(m_S);
  std::fprintf(stderr, "\r[%s] step %lld/%lld | sps %.0f | ups %.0f | eval %s%s | eta %s   ",
               m_c.env_id.c_str(), (long long)m_st.steps, (long long)m_c.total_steps, sps, ups,
               eval.c_str(), seeds.c_str(), m_eta.text(m_c.total_steps).c_str());
}

// ---- evaluation

void TrainingRun::record_evaluations(int64_t step, double wall_seconds,
                                     const std::vector<EvalResult>& results) {
  for (int k = 0; k < m_S; ++k) {
    if (!m_st.seeds[k].training()) continue;
    const EvalResult& r = results[k];
    SeedProgress& p = m_st.seeds[k];
    p.last_eval = r.mean;
    p.best_eval = std::max(p.best_eval, r.mean);
    p.final_eval = r.mean;
    write_or_stop([&] { m_seed_dirs[k]->append_eval(step, wall_seconds, r); });
  }
}

void TrainingRun::finish_evaluation() {
  if (!m_background_eval || !m_background_eval->running()) return;
  BackgroundEval::Done done = m_background_eval->wait();
  record_evaluations(done.step, done.wall_seconds, done.results);
}

void TrainingRun::evaluate_now() {
  if (!m_parts.eval_pool) return;
  const double wall_seconds = m_prior_seconds + run_seconds();  // the policy's training time
  Learner& agent = m_parts.agent;
  if (m_background_eval) {
    finish_evaluation();
    std::vector<float> actor(agent.actor().num_params());
    m_parts.backend.download(actor.data(), agent.actor().params(), actor.size() * sizeof(float));
    m_background_eval->start(m_st.steps, wall_seconds, actor, stopped_seeds());
    return;
  }
  record_evaluations(m_st.steps, wall_seconds,
                     evaluate_seeds(agent.policy(), m_parts.backend, *m_parts.eval_pool,
                                    m_d_eval_obs.data(), m_d_eval_actions.data(),
                                    stopped_seeds()));
}

// ---- videos: a snapshot of the actor queued for the video thread (background_video.h)

void TrainingRun::record_video() {
  std::vector<float> actor(m_parts.agent.actor().num_params());
  m_parts.backend.download(actor.data(), m_parts.agent.actor().params(),
                           actor.size() * sizeof(float));
  write_or_stop([&] { m_parts.videos->record(m_st.steps, std::move(actor), stopped_seeds()); });
}

// ---- checkpoints and the end

void TrainingRun::checkpoint() {
  finish_evaluation();
  check_finite(true);
  m_parts.backend.synchronize();  // the acting lane's counters too
  m_st.wall_seconds = m_prior_seconds + run_seconds();
  try {
    m_last_checkpoint = write_checkpoint(m_dir.checkpoints(), m_c, m_parts.agent, m_parts.rings,
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
  // every seed's env steps
  s.env_steps_per_second =
      s.segment_steps > 0 ? s.segment_steps * (double)m_S / s.segment_seconds : NAN;
  s.updates_per_second = s.segment_steps > 0 ? s.segment_updates / s.segment_seconds : NAN;
  // a run of several seeds: the means over the seeds that trained to the end
  double final_sum = 0, best_sum = 0;
  int finished = 0;
  for (int k = 0; k < m_S; ++k) {
    const SeedProgress& p = m_st.seeds[k];
    if (m_per_seed) {
      SeedSummary seed;
      seed.seed = m_seed_configs[k].seed;
      seed.run_dir = m_seed_dirs[k]->path();
      seed.final_eval_return = p.evaluated() ? p.final_eval : NAN;
      seed.best_eval_return = p.evaluated() ? p.best_eval : NAN;
      seed.stopped_step = p.stopped_step;
      seed.stopped_because = m_stopped_because[k];
      s.seeds.push_back(seed);
    }
    if (!m_st.seeds[k].training() || !p.evaluated()) continue;
    final_sum += p.final_eval, best_sum += p.best_eval, ++finished;
  }
  // NaN (null in JSON) when no evaluation ran: a run stopped before its first, or without any
  s.final_eval_return = finished > 0 ? final_sum / finished : NAN;
  s.best_eval_return = finished > 0 ? best_sum / finished : NAN;
  return s;
}

// seed k's summary.json: what a run of that seed alone writes, or where and why it stopped
nlohmann::json TrainingRun::seed_summary_json(int k, const TrainSummary& s) const {
  const SeedProgress& p = m_st.seeds[k];
  const bool stopped = !m_st.seeds[k].training();
  // null where nothing was measured: no evaluation (yet), no env stepped by this process
  auto eval = [&](double x) { return p.evaluated() ? nlohmann::json(x) : nlohmann::json(); };
  auto rate = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  nlohmann::json j = {
      {"task", m_c.env_id}, {"seed", m_seed_configs[k].seed},
      {"device", m_parts.backend.name()}, {"steps", s.steps}, {"updates", s.updates},
      {"wall_seconds", s.wall_seconds},
      {"final_eval_return", stopped ? nlohmann::json() : eval(p.final_eval)},
      {"best_eval_return", eval(p.best_eval)},
      {"env_steps_per_second", rate(s.env_steps_per_second / m_S)},  // this seed's
      {"updates_per_second", rate(s.updates_per_second)},
      {"segment", {{"from_step", s.segment_from_step}, {"steps", s.segment_steps},
                   {"updates", s.segment_updates}, {"wall_seconds", s.segment_seconds}}},
      {"unstable_episodes", m_parts.pool.unstable_episodes(k * m_N, m_N)},
      {"run_dir", m_seed_dirs[k]->path()}};
  if (stopped)
    j["diverged"] = {{"step", p.stopped_step}, {"what", m_stopped_because[k]},
                     {"message", "training diverged at step " + std::to_string(p.stopped_step) +
                                     ": " + m_stopped_because[k] +
                                     " is not finite; this seed stopped there, the other seeds "
                                     "of the run went on"}};
  return j;
}

// the seed's policy and summary at the end of a run (a stopped seed's summary says so already)
void TrainingRun::write_seed_files(int k) {
  if (!m_st.seeds[k].training()) return;
  write_or_stop([&] {
    save_policy(m_parts.agent, m_seed_configs[k], m_seed_dirs[k]->policy(), k);
  });
}

// the run's summary.json: a run of one seed's own, or one of all seeds
void TrainingRun::write_run_summary(const TrainSummary& s) {
  if (!m_per_seed) {
    write_or_stop([&] { m_dir.write_summary(seed_summary_json(0, s)); });
    return;
  }
  for (int k = 0; k < m_S; ++k)
    if (m_st.seeds[k].training())
      write_or_stop([&] { m_seed_dirs[k]->write_summary(seed_summary_json(k, s)); });
  auto over_seeds = [&](double SeedSummary::*field) {
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    int n = 0;
    for (const SeedSummary& seed : s.seeds) {
      const double x = seed.*field;
      if (seed.stopped_step >= 0 || !std::isfinite(x)) continue;
      sum += x, ++n, lo = std::min(lo, x), hi = std::max(hi, x);
    }
    if (n == 0) return nlohmann::json();
    return nlohmann::json{{"mean", sum / n}, {"min", lo}, {"max", hi}, {"seeds", n}};
  };
  nlohmann::json per_seed = nlohmann::json::array();
  for (const SeedSummary& seed : s.seeds) {
    nlohmann::json e = {{"seed", seed.seed}, {"run_dir", seed.run_dir},
                        {"final_eval_return", seed.stopped_step < 0 &&
                                                      std::isfinite(seed.final_eval_return)
                                                  ? nlohmann::json(seed.final_eval_return)
                                                  : nlohmann::json()},
                        {"best_eval_return", std::isfinite(seed.best_eval_return)
                                                 ? nlohmann::json(seed.best_eval_return)
                                                 : nlohmann::json()}};
    if (seed.stopped_step >= 0)
      e["diverged"] = {{"step", seed.stopped_step}, {"what", seed.stopped_because}};
    per_seed.push_back(e);
  }
  nlohmann::json j = {
      {"task", m_c.env_id}, {"seeds", m_c.seeds}, {"device", m_parts.backend.name()},
      {"steps", s.steps}, {"updates", s.updates}, {"wall_seconds", s.wall_seconds},
      // over the seeds that trained to the end
      {"final_eval_return", over_seeds(&SeedSummary::final_eval_return)},
      {"best_eval_return", over_seeds(&SeedSummary::best_eval_return)},
      // env steps of all seeds together; one update updates every seed
      {"env_steps_per_second", std::isfinite(s.env_steps_per_second) ? nlohmann::json(s.env_steps_per_second) : nlohmann::json()},
      {"updates_per_second", std::isfinite(s.updates_per_second) ? nlohmann::json(s.updates_per_second) : nlohmann::json()},
      {"segment", {{"from_step", s.segment_from_step}, {"steps", s.segment_steps},
                   {"updates", s.segment_updates}, {"wall_seconds", s.segment_seconds}}},
      {"per_seed", per_seed}, {"run_dir", m_dir.path()}};
  write_or_stop([&] { m_dir.write_summary(j); });
}

TrainSummary TrainingRun::interrupt(int signal_number) {
  checkpoint();
  if (m_parts.videos) write_or_stop([&] { m_parts.videos->wait_all(); });
  for (int k = 0; k < m_S; ++k) write_seed_files(k);
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
  if (m_parts.videos) write_or_stop([&] { m_parts.videos->wait_all(); });
  TrainSummary s = summary();
  for (int k = 0; k < m_S; ++k) write_seed_files(k);
  write_run_summary(s);
  return s;
}

}  // namespace sac
