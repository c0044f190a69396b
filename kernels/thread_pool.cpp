// thread_pool.cpp: workers spin briefly on a generation counter (dispatch latency matters for
// ops of a few microseconds), then sleep on a condition variable.
#include "thread_pool.h"

#include <chrono>
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
  for (int i = 1; i < threads; ++i) m_workers.emplace_back([this] { worker_loop(); });
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

void ThreadPool::drain() {
  for (int i = m_next.fetch_add(1); i < m_count; i = m_next.fetch_add(1)) {
    (*m_task)(i);
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
    m_task = &task;
    m_count = n;
    m_next.store(0);
    m_done.store(0);
    m_generation.fetch_add(1, std::memory_order_release);
  }
  m_wake.notify_all();
  drain();
  while (m_done.load(std::memory_order_acquire) < n) std::this_thread::yield();
}

void ThreadPool::worker_loop() {
  uint64_t seen = m_generation.load();
  for (;;) {
    // spin for a short while before sleeping: back-to-back ops arrive microseconds apart
    for (int spin = 0; spin < kSpinIterations && m_generation.load(std::memory_order_acquire) == seen;
         ++spin)
      cpu_relax();
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_wake.wait(lock, [&] { return m_generation.load() != seen; });
      seen = m_generation.load();
      if (m_stop) return;
    }
    drain();
  }
}

}  // namespace sac
