// run_lock.cpp: the run directory's lock (see run_lock.h).
#include "run/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sac/errors.h"

namespace sac {
namespace {

// the pid the holder wrote into the lock file, or "" when it has not written it yet
std::string holder_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid;
}

}  // namespace

RunLock::RunLock(const std::string& run_dir) : m_path(run_dir + "/run.lock") {
  // O_CLOEXEC: a child process started by exec never holds the run's lock
  m_fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_fd < 0)
    throw InputError("cannot lock run directory '" + run_dir + "': cannot open '" + m_path +
                     "': " + std::strerror(errno));
  int rc;
  do rc = ::flock(m_fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    std::string pid = err == EWOULDBLOCK ? holder_pid(m_fd) : "";
    ::close(m_fd);
    if (err != EWOULDBLOCK)
      throw InputError("cannot lock run directory '" + run_dir + "': " + std::strerror(err));
    throw InputError("run directory '" + run_dir + "' is in use by " +
                     (pid.empty() ? std::string("another process") : "process " + pid) +
                     " (it holds '" + m_path + "'); wait for it to end or stop it first");
  }
  // the holder's pid for the message of a refused process; the lock does not depend on it
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(m_fd, 0) == 0) {
    ssize_t ignored = ::pwrite(m_fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
}

RunLock::~RunLock() {
  if (m_fd >= 0) ::close(m_fd);  // releases the lock
}

}  // namespace sac
