// background_video.h: the videos a training run records (train.video_every), off the training
// thread. Each video is one deterministic episode per seed, acted by a host snapshot of the
// actor's parameters on a Policy of its own (CPU backend, one thread), on envs of its own reset
// with HostRng(seed, 0) as `sac rollout --seed <seed>` does, rendered and encoded
// (video/video_recorder.h) on a worker thread that owns the OpenGL context, at a low CPU
// priority while training runs (nice 10), with one rasteriser and one encoder thread. Snapshots queue up
// in order, so every video due is recorded whatever the timing, and the training loop never
// waits for one; it waits for the queue only at the end of the run. Nothing here reads or writes
// the training's state: a run's results are byte-identical with and without videos
// (tests/test_video_training.cpp). Files: <seed folder>/videos/step-<env step>.mp4.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sac/learner.h"
#include "sac/policy.h"
#include "video/video_recorder.h"

namespace sac {

class BackgroundVideo {
 public:
  /// Checks the task, size and camera, starts the worker and waits until it has made its OpenGL
  /// context and checked the encoder: throws InputError (before any training) when any of it
  /// fails. Writes nothing. `video_dirs`: each seed's videos folder (created with its first
  /// video), in member order of `spec`'s seeds.
  BackgroundVideo(const AgentSpec& spec, const std::string& env_id, const nlohmann::json& kwargs,
                  const std::vector<std::string>& video_dirs, const VideoSettings& settings);
  /// Abandons queued videos and the one being recorded (its partial file removed).
  ~BackgroundVideo();
  BackgroundVideo(const BackgroundVideo&) = delete;
  BackgroundVideo& operator=(const BackgroundVideo&) = delete;

  /// Queues the videos of the actor parameters `actor_params` (Policy::actor()'s flat buffer)
  /// taken at env step `step`; seeds marked in `stopped` get none. Rethrows a failure of an
  /// earlier video (std::runtime_error: a write failed).
  void record(int64_t step, std::vector<float> actor_params, std::vector<char> stopped);
  /// Waits until every queued video is written; rethrows the first failure.
  void wait_all();

 private:
  struct Job {
    int64_t step;
    std::vector<float> params;
    std::vector<char> stopped;
  };
  void work(AgentSpec spec, std::string env_id, nlohmann::json kwargs);
  void record_job(Policy& policy, Backend& backend, std::vector<std::unique_ptr<Env>>& envs,
                  const Job& job);
  void rethrow_failure();

  std::vector<std::string> m_dirs;
  VideoSettings m_settings;
  std::vector<uint64_t> m_seeds;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<Job> m_queue;
  bool m_busy = false, m_ready = false, m_quit = false;
  std::atomic<bool> m_cancel{false};
  std::atomic<int> m_worker_tid{0};  // the worker's thread id (its priority), once started
  std::exception_ptr m_failure;
  std::thread m_worker;  // last: started once everything above exists
};

}  // namespace sac
