// job_thread.h: one job at a time on a persistent thread of its own. The overlapped training
// loop runs the update block on one (CPU backend) while the calling thread steps the envs, and
// background evaluation runs on another.
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace sac {

/// Runs one job at a time on a persistent thread of its own; wait() returns when the job
/// started last is done and rethrows what it threw. The destructor lets a running job finish.
class JobThread {
 public:
  JobThread() : m_thread([this] { run(); }) {}
  ~JobThread() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;  // a running job finishes first
    }
    m_cv.notify_all();
    m_thread.join();
  }
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  void start(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_job = std::move(job);
      m_busy = true;
    }
    m_cv.notify_all();
  }

  /// Waits for the job started last; rethrows what it threw.
  void wait() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [this] { return !m_busy; });
    if (m_error) {
      std::exception_ptr e = m_error;
      m_error = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait(lock, [this] { return m_stop || m_job; });
        if (!m_job) return;  // stopping, nothing left to run
        job = std::move(m_job);
        m_job = nullptr;
      }
      std::exception_ptr error;
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_error = error;
        m_busy = false;
      }
      m_cv.notify_all();
    }
  }

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::function<void()> m_job;
  bool m_busy = false, m_stop = false;
  std::exception_ptr m_error;
  std::thread m_thread;  // last: starts once the members above exist
};

}  // namespace sac
