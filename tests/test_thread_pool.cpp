// test_thread_pool.cpp: stress tests of the ThreadPool primitive (kernels/thread_pool.h) on its
// own: every index of a job runs exactly once (run and start/wait, any thread count, across the
// workers' sleep), the lowest-numbered failure is rethrown only after every task finished and
// never leaks into the next job, back-to-back jobs never run a stale task or index, start/wait
// on a pool of one worker runs beside the owner, misuse throws, the destructor lets a started
// job finish, and the pinning path pins the workers and runs every task.
// Run: ./sac_tests --gtest_filter='ThreadPool*'
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#if defined(__linux__)
#include <sched.h>
#endif

#include "thread_pool.h"

namespace sac {
namespace {

using Clock = std::chrono::steady_clock;

// how often each index of a job ran
struct Tally {
  explicit Tally(int n) : hits(new std::atomic<int>[n > 0 ? n : 1]), n(n) {
    for (int i = 0; i < n; ++i) hits[i] = 0;
  }
  std::function<void(int)> task() {
    return [this](int i) { hits[i].fetch_add(1); };
  }
  void expect_each_once(const std::string& what) const {
    for (int i = 0; i < n; ++i) ASSERT_EQ(1, hits[i].load()) << what << ": index " << i;
  }
  std::unique_ptr<std::atomic<int>[]> hits;
  int n;
};

// busy work of a few microseconds that the compiler keeps
void spin_for(int iterations) {
  volatile int sink = 0;
  for (int k = 0; k < iterations; ++k) sink = sink + k;
}

TEST(ThreadPool, RejectsFewerThanOneThread) {
  EXPECT_THROW(ThreadPool(0), std::invalid_argument);
  EXPECT_THROW(ThreadPool(-2), std::invalid_argument);
  ThreadPool one(1);
  EXPECT_EQ(1, one.threads());
  ThreadPool four(4);
  EXPECT_EQ(4, four.threads());
}

TEST(ThreadPool, RunRunsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 8}) {
    ThreadPool pool(threads);
    for (int n : {0, 1, 2, 3, 7, 64, 1000}) {
      for (int round = 0; round < 20; ++round) {
        Tally tally(n);
        pool.run(n, tally.task());
        tally.expect_each_once("threads " + std::to_string(threads) + ", n " + std::to_string(n));
      }
    }
  }
}

TEST(ThreadPool, StartRunsEveryIndexOnTheWorkersOnly) {
  const std::thread::id owner = std::this_thread::get_id();
  for (int threads : {2, 3, 5}) {
    ThreadPool pool(threads);
    for (int n : {0, 1, 4, 100}) {
      Tally tally(n);
      std::atomic<int> on_owner{0};
      pool.start(n, [&](int i) {
        if (std::this_thread::get_id() == owner) on_owner.fetch_add(1);
        tally.hits[i].fetch_add(1);
      });
      EXPECT_TRUE(pool.started());
      pool.wait();
      EXPECT_FALSE(pool.started());
      tally.expect_each_once("start, threads " + std::to_string(threads) + ", n " +
                             std::to_string(n));
      EXPECT_EQ(0, on_owner.load()) << "the owner must not take part in a started job";
    }
  }
}

TEST(ThreadPool, PoolOfOneWorkerRunsTheJobBesideTheOwner) {
  // the job waits for a flag the owner sets only after start() returned: it must run elsewhere
  ThreadPool pool(2);
  for (int round = 0; round < 50; ++round) {
    std::atomic<bool> released{false};
    std::atomic<bool> saw_release{false};
    pool.start(1, [&](int) {
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      while (!released.load() && Clock::now() < deadline) std::this_thread::yield();
      saw_release = released.load();
    });
    released = true;
    pool.wait();
    ASSERT_TRUE(saw_release.load()) << "round " << round << ": start() did not return first";
  }
}

TEST(ThreadPool, RunRethrowsTheLowestFailureAfterEveryTaskFinished) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      const int n = 100;
      Tally tally(n);
      try {
        pool.run(n, [&](int i) {
          tally.hits[i].fetch_add(1);
          if (i % 10 == 3) throw std::runtime_error("task " + std::to_string(i));
          spin_for(200);
        });
        FAIL() << "run() did not rethrow";
      } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string("task 3"), e.what()) << "threads " << threads;
      }
      tally.expect_each_once("after a failure, threads " + std::to_string(threads));
      // the failure is gone: the next job succeeds
      Tally next(n);
      EXPECT_NO_THROW(pool.run(n, next.task()));
      next.expect_each_once("the job after a failure");
    }
  }
}

TEST(ThreadPool, WaitRethrowsTheFailureOfAStartedJob) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      const int n = 16;
      Tally tally(n);
      pool.start(n, [&](int i) {
        tally.hits[i].fetch_add(1);
        if (i == 5 || i == 11) throw std::out_of_range("task " + std::to_string(i));
      });
      EXPECT_THROW(
          {
            try {
              pool.wait();
            } catch (const std::out_of_range& e) {
              EXPECT_EQ(std::string("task 5"), e.what());
              throw;
            }
          },
          std::out_of_range);
      tally.expect_each_once("a failing started job");
      EXPECT_NO_THROW(pool.wait()) << "a second wait() finds nothing pending";
      Tally next(n);
      pool.start(n, next.task());
      EXPECT_NO_THROW(pool.wait());
      next.expect_each_once("the started job after a failure");
    }
  }
}

TEST(ThreadPool, BackToBackJobsNeverRunAStaleTask) {
  // every job has its own task, alive only until its run() / wait() returns, and its own size;
  // a task or index from an earlier job would see another round or an index past the size
  ThreadPool pool(4);
  std::atomic<int> current{-1};
  std::atomic<int> stale{0}, out_of_range{0};
  const auto check = [&](int round, int n, int i, std::atomic<int>* hits) {
    if (current.load() != round) stale.fetch_add(1);
    if (i < 0 || i >= n) out_of_range.fetch_add(1);
    else hits[i].fetch_add(1);
    if (i % 3 == 0) spin_for(i * 10);  // uneven tasks keep the workers' timing apart
  };
  for (int round = 0; round < 20000; ++round) {
    const int n = 1 + round % 9;
    Tally tally(n);
    current = round;
    std::function<void(int)> task = [&, round, n](int i) { check(round, n, i, tally.hits.get()); };
    if (round % 3 == 2) {
      pool.start(n, task);
      pool.wait();
    } else {
      pool.run(n, task);
    }
    current = -1;
    tally.expect_each_once("round " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(0, stale.load()) << "tasks ran outside their own job";
  EXPECT_EQ(0, out_of_range.load()) << "tasks ran with an index past their job's size";
}

TEST(ThreadPool, WorkersAndOwnerWakeFromSleep) {
  // pauses longer than the spin put the workers to sleep; tasks longer than the spin put the
  // owner to sleep in wait(); both must be woken
  ThreadPool pool(3);
  for (int round = 0; round < 10; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Tally tally(6);
    pool.run(6, tally.task());
    tally.expect_each_once("run after a pause");
    Tally slow(2);
    pool.start(2, [&](int i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      slow.hits[i].fetch_add(1);
    });
    pool.wait();
    slow.expect_each_once("a started job longer than the spin");
    Tally slow_run(3);
    pool.run(3, [&](int i) {
      if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      slow_run.hits[i].fetch_add(1);
    });
    slow_run.expect_each_once("a run with a task longer than the spin");
  }
}

TEST(ThreadPool, MisuseThrows) {
  ThreadPool inline_only(1);
  EXPECT_THROW(inline_only.start(1, [](int) {}), std::logic_error);
  EXPECT_FALSE(inline_only.started());
  EXPECT_NO_THROW(inline_only.wait());

  ThreadPool pool(2);
  std::atomic<bool> go{false};
  pool.start(1, [&](int) {
    while (!go.load()) std::this_thread::yield();
  });
  EXPECT_THROW(pool.run(2, [](int) {}), std::logic_error);
  EXPECT_THROW(pool.start(1, [](int) {}), std::logic_error);
  go = true;
  pool.wait();
  Tally tally(3);
  pool.run(3, tally.task());
  tally.expect_each_once("run after the misuse");
}

TEST(ThreadPool, DestructorLetsAStartedJobFinish) {
  for (int round = 0; round < 10; ++round) {
    std::atomic<int> finished{0};
    {
      ThreadPool pool(3);
      pool.start(4, [&](int i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(i));
        if (i == 2) throw std::runtime_error("dropped by the destructor");
        finished.fetch_add(1);
      });
    }
    EXPECT_EQ(3, finished.load()) << "round " << round;
  }
}

TEST(ThreadPool, ConstructDestroyDoesNotHang) {
  // pools made and dropped at once, with workers that may start after shutdown began. Runs on a
  // helper thread so that a hang fails the test after 5 s; a hung helper is left detached.
  auto done = std::make_shared<std::atomic<int>>(0);
  std::thread worker([done] {
    for (int k = 0; k < 300; ++k) {
      { ThreadPool pool(2 + k % 3); }
      done->fetch_add(1);
    }
  });
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (done->load() < 300 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (done->load() == 300) {
    worker.join();
    return;
  }
  worker.detach();
  FAIL() << "ThreadPool construct + destroy hung after " << done->load() << " of 300 rounds";
}

TEST(ThreadPool, MoreThreadsThanCoresProgress) {
  // eight threads on however few cores: spinning workers must yield to the ones with work
  ThreadPool pool(8);
  const auto t0 = Clock::now();
  for (int round = 0; round < 2000; ++round) {
    Tally tally(8);
    pool.run(8, tally.task());
    tally.expect_each_once("round " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 60.0);
}

TEST(ThreadPool, PinningFromTheEnvironment) {
  const char* old = std::getenv("SAC_PIN_THREADS");
  const std::string saved = old ? old : "";
  setenv("SAC_PIN_THREADS", "1", 1);
  EXPECT_EQ(Pinning::workers, pinning_from_environment());
  setenv("SAC_PIN_THREADS", "0", 1);
  EXPECT_EQ(Pinning::none, pinning_from_environment());
  unsetenv("SAC_PIN_THREADS");
  EXPECT_EQ(Pinning::none, pinning_from_environment());
  if (old) setenv("SAC_PIN_THREADS", saved.c_str(), 1);
}

TEST(ThreadPool, PinnedWorkersRunEveryTask) {
  for (int threads : {2, 3, 6}) {
    ThreadPool pool(threads, Pinning::workers);
    for (int n : {1, 5, 200}) {
      Tally tally(n);
      pool.run(n, tally.task());
      tally.expect_each_once("pinned run, threads " + std::to_string(threads));
    }
    // a started job runs on the workers only, each pinned to a single CPU (Linux)
    const int n = 50;
    Tally tally(n);
    std::atomic<int> unpinned{0};
    pool.start(n, [&](int i) {
#if defined(__linux__)
      cpu_set_t set;
      CPU_ZERO(&set);
      if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) != 1)
        unpinned.fetch_add(1);
#endif
      tally.hits[i].fetch_add(1);
    });
    pool.wait();
    tally.expect_each_once("pinned start, threads " + std::to_string(threads));
    EXPECT_EQ(0, unpinned.load()) << "tasks on workers not pinned to one CPU";
  }
}

}  // namespace
}  // namespace sac
