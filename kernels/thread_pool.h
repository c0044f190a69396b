// thread_pool.h: the one pool of persistent worker threads behind every parallel piece of the
// engine. The CPU backend spreads the members and row blocks of one op over the cores and the
// env pool steps its env blocks (run: the caller takes part); the overlapped training loop and
// background evaluation run a job beside the calling thread (start/wait: it does not).
// Tested by tests/test_thread_pool.cpp (`sac_tests --gtest_filter='ThreadPool*'`).
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
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

/// A reference to a job's task, any callable as task(i) with the task index i; made without
/// copying or allocating (a std::function would allocate for a lambda of many captures, once per
/// op), so the callable must outlive the use, as it does through a run() call.
class TaskRef {
 public:
  TaskRef() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, TaskRef>>>
  TaskRef(const F& task)  // NOLINT: implicit, so run(n, [&](int i) {...}) reads as it did
      : m_task(&task), m_call([](const void* t, int i) { (*static_cast<const F*>(t))(i); }) {}
  void operator()(int i) const { m_call(m_task, i); }

 private:
  const void* m_task = nullptr;
  void (*m_call)(const void*, int) = nullptr;
};

/// Where a pool's worker threads run.
enum class Pinning {
  none,     ///< wherever the OS puts them
  workers,  ///< worker t (1 .. threads() - 1) on the t-th CPU the process may run on, modulo
            ///< their count (best effort); the calling thread is left alone
};

/// Pinning::workers when SAC_PIN_THREADS=1 is set in the environment, else Pinning::none.
Pinning pinning_from_environment();

/// A persistent pool of threads() - 1 worker threads that runs jobs of `n` independent tasks,
/// task(0) .. task(n - 1), each exactly once, in any order and on any thread. One job at a time,
/// driven by one thread (the owner):
///   run(n, task)    synchronous: the owner takes part and returns when every task is done
///   start(n, task)  asynchronous: the workers alone run the job while the owner goes on, until
///                   wait(); a pool for one background job is ThreadPool(2), one worker
/// When tasks throw, the others still run; run() or wait() then rethrows the exception of the
/// lowest-numbered task that threw, after every task has finished. Nothing is allocated per
/// run(). Idle workers and a waiting owner spin briefly (in a pool of more threads than the
/// process has CPUs yielding the core every so often, so that they all progress), then sleep on
/// a condition variable.
class ThreadPool {
 public:
  /// `threads` counts the owner too: 1 runs every run() inline (and has no worker to start()
  /// on). Throws std::invalid_argument when threads < 1.
  explicit ThreadPool(int threads, Pinning pinning = Pinning::none);
  /// Lets a started job finish first (dropping its exception, if any), then joins the workers.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Worker threads plus the owner.
  int threads() const { return (int)m_workers.size() + 1; }

  /// Runs task(i) for every i < n (none when n <= 0) on the workers and the calling thread;
  /// returns when all are done and rethrows the first failure (see the class comment). Throws
  /// std::logic_error while a started job has not been waited for.
  void run(int n, TaskRef task);

  /// Starts task(i) for every i < n on the workers only and returns at once; the pool keeps
  /// `task` until the next start(). Throws std::logic_error when the pool has no worker
  /// (threads() == 1) or a started job has not been waited for.
  void start(int n, std::function<void(int)> task);

  /// Waits for the job of the last start() and rethrows its first failure; returns at once
  /// when no started job is pending.
  void wait();

  /// True between start() and wait().
  bool started() const { return m_started; }

 private:
  void publish(int n, TaskRef task);
  void drain(TaskRef task, int count);
  void run_task(TaskRef task, int i);
  void wait_done(int count);
  void rethrow_failure();
  void worker_loop(int cpu, uint64_t seen);
  void stop_workers();

  std::vector<std::thread> m_workers;
  bool m_oversubscribed = true;  // more threads than the process may run on: spins yield
  std::mutex m_mutex;  // guards publishing a job and workers joining it
  std::condition_variable m_wake;
  // the current job, read by workers under m_mutex
  TaskRef m_task;
  int m_count = 0;
  bool m_stop = false;
  std::atomic<uint64_t> m_generation{0};  // bumped once per job (and to stop)
  std::atomic<int> m_next{0};             // next task index of the current job
  std::atomic<int> m_done{0};             // finished tasks of the current job
  std::atomic<int> m_active{0};  // workers inside drain(): a new job waits for them to leave
  // the owner asleep in wait_done(): the task that finishes the job wakes it
  std::mutex m_done_mutex;
  std::condition_variable m_done_cv;
  std::atomic<bool> m_owner_sleeping{false};
  // the failure of the lowest-numbered task that threw in the current job
  std::mutex m_failure_mutex;
  std::exception_ptr m_failure;
  int m_failure_task = 0;
  // start() / wait(): the task the workers run, and the job's size
  std::function<void(int)> m_started_task;
  int m_started_count = 0;
  bool m_started = false;
};

}  // namespace sac
