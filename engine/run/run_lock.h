// run_lock.h: the exclusive lock of a run directory, so one process at a time writes a run.
// `sac train` and `sac train --resume` take it before writing anything: flock(LOCK_EX) on
// RUN_DIR/run.lock, held for the life of the RunLock (the process). The kernel releases a flock
// when its holder dies, so even kill -9 never leaves a stale lock; the file itself stays, and
// holds the pid of its latest holder for the message a refused process prints.
// Tested by tests/test_run_files.cpp.
#pragma once
#include <string>

namespace sac {

class RunLock {
 public:
  /// Locks `run_dir` (which must exist). Throws InputError naming the directory and the pid of
  /// the holder when another process holds the lock, or when the lock file cannot be opened.
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  /// The lock file's path.
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  int m_fd = -1;
};

}  // namespace sac
