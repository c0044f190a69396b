// thread_pool.cpp: a job is published by bumping a generation counter; workers spin briefly on
// it (dispatch latency matters for ops of a few microseconds and for back-to-back env steps),
// then sleep on a condition variable. A worker takes a job's task and count under the mutex and
// registers as active; publish() does not start the next job until every active worker has
// left, so no worker can ever run a stale task or index. The owner waits on the done counter
// the same way: it spins, then sleeps until the task that finishes the job wakes it.
#include "thread_pool.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sac {
namespace {

// polls before a waiting thread sleeps: about 100-200 microseconds of pause instructions, so
// back-to-back ops and env steps find the workers awake, while an owner busy elsewhere (its
// update, its env step) leaves them asleep instead of burning a core
constexpr int kSpinIterations = 20000;
// a spinning thread of a pool with more threads than the process has CPUs polls this many times
// with pauses alone (a CPU op's tasks end within microseconds, and a yield is a system call),
// then yields its core every kYieldEvery polls, so that the threads still make progress; in a
// pool that fits the CPUs a spinning thread only pauses (yields there cost the CPU backend's
// update about 2% in system time and keep nothing from running)
constexpr int kPureSpin = 2000;
constexpr int kYieldEvery = 64;

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// poll number `spin` of a spin loop: a pause, or, when `yields`, past kPureSpin every
// kYieldEvery polls a yield
inline void back_off(int spin, bool yields) {
  if (yields && spin >= kPureSpin && spin % kYieldEvery == kYieldEvery - 1)
    std::this_thread::yield();
  else
    cpu_relax();
}

// the CPUs this process may run on, in order (empty when unknown)
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
#endif
  return cpus;
}

void pin_current_thread(int cpu) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort
#else
  (void)cpu;
#endif
}

}  // namespace

Pinning pinning_from_environment() {
  const char* v = std::getenv("SAC_PIN_THREADS");
  return v && std::strcmp(v, "1") == 0 ? Pinning::workers : Pinning::none;
}

ThreadPool::ThreadPool(int threads, Pinning pinning) {
  if (threads < 1)
    throw std::invalid_argument("ThreadPool needs at least one thread (the caller), got " +
                                std::to_string(threads));
  const std::vector<int> allowed = allowed_cpus();
  m_oversubscribed = allowed.empty() || threads > (int)allowed.size();
  std::vector<int> cpus = pinning == Pinning::workers ? allowed : std::vector<int>();
  try {
    for (int t = 1; t < threads; ++t) {
      int cpu = cpus.empty() ? -1 : cpus[t % cpus.size()];
      // workers start from generation 0, read here before any job or stop can bump it
      m_workers.emplace_back([this, cpu] { worker_loop(cpu, 0); });
    }
  } catch (...) {
    stop_workers();  // joins the workers already started
    throw;
  }
}

ThreadPool::~ThreadPool() {
  if (m_started) {
    try {
      wait();
    } catch (...) {
      // dropped: a destructor cannot report it
    }
  }
  stop_workers();
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
    m_generation.fetch_add(1);
  }
  m_wake.notify_all();
  for (std::thread& w : m_workers) w.join();
  m_workers.clear();
}

void ThreadPool::run_task(TaskRef task, int i) {
  try {
    task(i);
  } catch (...) {
    // keep the lowest-numbered failure, whichever thread sees its own first
    std::lock_guard<std::mutex> lock(m_failure_mutex);
    if (!m_failure || i < m_failure_task) {
      m_failure = std::current_exception();
      m_failure_task = i;
    }
  }
}

void ThreadPool::drain(TaskRef task, int count) {
  for (int i = m_next.fetch_add(1); i < count; i = m_next.fetch_add(1)) {
    run_task(task, i);
    // the task that finishes the job wakes a sleeping owner. Both sides are sequentially
    // consistent: either the owner's check sees the count, or this load sees it asleep
    if (m_done.fetch_add(1) + 1 == count && m_owner_sleeping.load()) {
      std::lock_guard<std::mutex> lock(m_done_mutex);
      m_done_cv.notify_all();
    }
  }
}

void ThreadPool::wait_done(int count) {
  for (int spin = 0; spin < kSpinIterations; ++spin) {
    if (m_done.load(std::memory_order_acquire) >= count) return;
    back_off(spin, m_oversubscribed);
  }
  std::unique_lock<std::mutex> lock(m_done_mutex);
  m_owner_sleeping.store(true);
  m_done_cv.wait(lock, [&] { return m_done.load() >= count; });
  m_owner_sleeping.store(false);
}

void ThreadPool::rethrow_failure() {
  if (!m_failure) return;
  std::exception_ptr failure = m_failure;
  m_failure = nullptr;
  std::rethrow_exception(failure);
}

void ThreadPool::publish(int n, TaskRef task) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    // workers still leaving an earlier job must be gone before its counters are reset; they
    // leave without the lock, and no worker can join a job while it is held
    for (int spin = 0; m_active.load(std::memory_order_acquire) > 0; ++spin)
      back_off(spin, m_oversubscribed);
    m_task = task;
    m_count = n;
    m_next.store(0);
    m_done.store(0);
    m_generation.fetch_add(1, std::memory_order_release);
  }
  m_wake.notify_all();
}

void ThreadPool::run(int n, TaskRef task) {
  if (m_started) throw std::logic_error("ThreadPool::run: a started job has not been waited for");
  if (n <= 0) return;
  if (m_workers.empty() || n == 1) {
    for (int i = 0; i < n; ++i) run_task(task, i);
  } else {
    publish(n, task);
    drain(task, n);
    wait_done(n);
  }
  rethrow_failure();
}

void ThreadPool::start(int n, std::function<void(int)> task) {
  if (m_workers.empty())
    throw std::logic_error("ThreadPool::start: the pool has no worker thread (threads() == 1)");
  if (m_started)
    throw std::logic_error("ThreadPool::start: the last started job is not waited for");
  m_started = true;
  m_started_count = n;
  if (n <= 0) return;
  // the previous job is done: a worker still leaving it draws no further index, so its
  // task can be replaced here
  m_started_task = std::move(task);
  publish(n, TaskRef(m_started_task));
}

void ThreadPool::wait() {
  if (!m_started) return;
  m_started = false;
  if (m_started_count > 0) wait_done(m_started_count);
  rethrow_failure();
}

void ThreadPool::worker_loop(int cpu, uint64_t seen) {
  if (cpu >= 0) pin_current_thread(cpu);
  for (;;) {
    // spin for a short while before sleeping: the next job usually comes soon
    for (int spin = 0;
         spin < kSpinIterations && m_generation.load(std::memory_order_acquire) == seen; ++spin)
      back_off(spin, m_oversubscribed);
    TaskRef task;
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
    drain(task, count);
    m_active.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace sac
