// thread_pool.h: a persistent pool that runs `n` independent tasks on its workers plus the
// calling thread. Used by the CPU backend to spread members and row blocks of one op over the
// cores: a single 256-wide GEMM does not scale across cores, independent GEMMs do.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sac {

class ThreadPool {
 public:
  /// `threads` counts the caller too: 1 runs everything inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return (int)m_workers.size() + 1; }

  /// Runs task(i) for i < n and returns when all are done. Tasks must not throw.
  void run(int n, const std::function<void(int)>& task);

 private:
  void worker_loop();
  void drain();

  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  const std::function<void(int)>* m_task = nullptr;
  int m_count = 0;
  std::atomic<int> m_next{0};
  std::atomic<int> m_done{0};
  std::atomic<uint64_t> m_generation{0};
  bool m_stop = false;
};

}  // namespace sac
