// thread_pool.h: a persistent pool that runs `n` independent tasks on its workers plus the
// calling thread. Used by the CPU backend to spread members and row blocks of one op over the
// cores: a single 256-wide GEMM does not scale across cores, independent GEMMs do.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace sac {

/// Splits [0, n) into `parts` nearly equal blocks and returns block k as [begin, end): the
/// share of task k when one op's rows or elements are spread over a pool's tasks.
inline std::pair<int, int> split_range(int n, int parts, int k) {
  int base = n / parts, extra = n % parts;
  int begin = k * base + std::min(k, extra);
  return {begin, begin + base + (k < extra ? 1 : 0)};
}

class ThreadPool {
 public:
  /// `threads` counts the caller too: 1 runs everything inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return (int)m_workers.size() + 1; }

  /// Runs task(i) for i < n and returns when all are done. Tasks must not throw.
  /// Not reentrant: one run() at a time.
  void run(int n, const std::function<void(int)>& task);

 private:
  void worker_loop(uint64_t seen);
  void drain(const std::function<void(int)>& task, int count);

  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  // the current job, read by workers under m_mutex
  const std::function<void(int)>* m_task = nullptr;
  int m_count = 0;
  bool m_stop = false;
  std::atomic<uint64_t> m_generation{0};
  std::atomic<int> m_next{0};    // next task index of the current job
  std::atomic<int> m_done{0};    // finished tasks of the current job
  std::atomic<int> m_active{0};  // workers inside drain(): a new job waits for them to leave
};

}  // namespace sac
