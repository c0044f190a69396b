// background_eval.h: deterministic evaluations that run beside training. Each evaluation takes
// a host snapshot of the actor's parameters and runs evaluate() (trainer.h) on the eval envs
// with a Policy on a CPU backend of its own, on a thread of its own, so the training loop goes
// on stepping and updating meanwhile. The result depends only on the snapshot and the eval
// envs' state, never on timing: a run reproduces its evaluations exactly.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sac/learner.h"
#include "sac/policy.h"
#include "sac/backend.h"
#include "sac/env_pool.h"
#include "sac/trainer.h"
#include "thread_pool.h"

namespace sac {

class BackgroundEval {
 public:
  /// `pool` (one env per episode) stays the caller's: it must not be touched while running().
  BackgroundEval(const AgentSpec& spec, EnvPool& pool);

  /// One finished evaluation: the env step of its snapshot and the wall time then.
  struct Done {
    int64_t step = 0;
    double wall_seconds = 0.0;
    std::vector<EvalResult> results;  // one per seed
  };

  /// Starts evaluating the actor parameters `actor_params` (the flat buffer of
  /// Policy::actor()) taken at env step `step`, seeds marked in `stopped` acting with zeros
  /// (evaluate_seeds). None may be running.
  void start(int64_t step, double wall_seconds, const std::vector<float>& actor_params,
             const std::vector<char>& stopped = {});
  bool running() const { return m_running; }
  /// Waits for the running evaluation and returns it; rethrows what it threw.
  Done wait();

 private:
  std::unique_ptr<Backend> m_backend;  // one CPU thread
  Policy m_policy;
  EnvPool& m_pool;
  DeviceArray<float> m_d_obs, m_d_actions;
  Done m_done;
  std::vector<char> m_stopped;
  bool m_running = false;
  ThreadPool m_worker{2};  // one worker thread; last: destroyed first, so a running evaluation
                           // ends before the rest
};

}  // namespace sac
