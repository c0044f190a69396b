// thread_pool.cpp: workers spin briefly on a generation counter (dispatch latency matters for
// ops of a few microseconds), then sleep on a condition variable. A worker takes a job's task
// and count under the mutex and registers as active; run() does not start the next job until
// every active worker has left, so no worker can ever run a stale task or index.
#include "thread_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sac {
namespace {

constexpr int kSpinIterations = 20000;  // about 100-200 microseconds of pause instructions

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  // workers start from generation 0, read here before any job or stop can bump it
  for (int i = 1; i < threads; ++i) m_workers.emplace_back([this] { worker_loop(0); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
    m_generation.fetch_add(1);
  }
  m_wake.notify_all();
  for (auto& w : m_workers) w.join();
}

void ThreadPool::drain(const std::function<void(int)>& task, int count) {
  for (int i = m_next.fetch_add(1); i < count; i = m_next.fetch_add(1)) {
    task(i);
    m_done.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::run(int n, const std::function<void(int)>& task) {
  if (n <= 0) return;
  if (m_workers.empty() || n == 1) {
    for (int i = 0; i < n; ++i) task(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    // workers still leaving an earlier job must be gone before its counters are reset; they
    // finish without the lock, and no worker can join a job while it is held
    while (m_active.load(std::memory_order_acquire) > 0) cpu_relax();
    m_task = &task;
    m_count = n;
    m_next.store(0);
    m_done.store(0);
    m_generation.fetch_add(1, std::memory_order_release);
  }
  m_wake.notify_all();
  drain(task, n);
  while (m_done.load(std::memory_order_acquire) < n) cpu_relax();
}

void ThreadPool::worker_loop(uint64_t seen) {
  for (;;) {
    // spin for a short while before sleeping: back-to-back ops arrive microseconds apart
    for (int spin = 0; spin < kSpinIterations && m_generation.load(std::memory_order_acquire) == seen;
         ++spin)
      cpu_relax();
    const std::function<void(int)>* task;
    int count;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_wake.wait(lock, [&] { return m_stop || m_generation.load() != seen; });
      if (m_stop) return;
      seen = m_generation.load();
      task = m_task;
      count = m_count;
      m_active.fetch_add(1);
    }
    drain(*task, count);
    m_active.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace sac
