// event_file.cpp: TensorBoard event files (event_file.h).
#include "formats/event_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "formats/path_checks.h"
#include "formats/tfrecord.h"
#include "formats/whole_file.h"
#include "sac/safetensors.h"
#include "tensorboard_event.pb.h"

namespace sac {

const char* const kEventFileVersion = "brain.Event:2";

namespace {

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string read_all(const std::string& path) {
  std::optional<std::string> bytes = read_whole_file(path);
  if (!bytes) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  return *bytes;
}

// the names in `dir` with "tfevents" in them (TensorBoard's test for an event file)
std::vector<std::string> tfevents_names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.find("tfevents") != std::string::npos) names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// one record as an event; false when it is not one
bool parse_event(const std::string& record, ScalarEvent& e) {
  tensorboard::Event event;
  if (!event.ParseFromString(record)) return false;
  e.wall_time = event.wall_time();
  e.step = event.step();
  e.file_version = event.file_version();
  for (const tensorboard::Summary::Value& v : event.summary().value())
    e.scalars.emplace_back(v.tag(), v.simple_value());
  return true;
}

}  // namespace

EventFileWriter::EventFileWriter(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create '" + dir + "': " + std::strerror(errno));
  const double now = unix_seconds();
  const std::string base = dir + "/events.out.tfevents." + std::to_string((long long)now) + "." +
                           host_name() + "." + std::to_string((long long)::getpid());
  m_path = base;
  for (int n = 1; path_exists(m_path); ++n) m_path = base + "." + std::to_string(n);
  m_out.open(m_path, std::ios::binary | std::ios::trunc);
  if (!m_out) throw std::runtime_error("cannot write '" + m_path + "': " + std::strerror(errno));
  tensorboard::Event event;
  event.set_wall_time(now);
  event.set_file_version(kEventFileVersion);
  write_record(event.SerializeAsString());
}

void EventFileWriter::write_scalars(int64_t step, const std::vector<Scalar>& scalars) {
  tensorboard::Event event;
  event.set_wall_time(unix_seconds());
  event.set_step(step);
  for (const Scalar& s : scalars) {
    tensorboard::Summary::Value* v = event.mutable_summary()->add_value();
    v->set_tag(s.first);
    v->set_simple_value(static_cast<float>(s.second));
  }
  write_record(event.SerializeAsString());
}

void EventFileWriter::write_record(const std::string& event) {
  errno = 0;
  m_out << tfrecord(event);
  if (!m_out.flush())  // the stream keeps no reason; the failed write(2) left it in errno
    throw std::runtime_error("cannot write '" + m_path + "'" +
                             (errno != 0 ? std::string(": ") + std::strerror(errno) : ""));
}

std::vector<ScalarEvent> read_event_file(const std::string& path) {
  return parse_event_records(read_all(path));
}

std::vector<ScalarEvent> parse_event_records(const std::string& bytes) {
  std::vector<ScalarEvent> events;
  for (const std::string& record : read_tfrecords(bytes)) {
    ScalarEvent e;
    if (!parse_event(record, e)) break;  // as a corrupt record: what follows is lost
    events.push_back(std::move(e));
  }
  return events;
}

std::string kept_event_records(const std::string& bytes,
                               const std::function<bool(const ScalarEvent&)>& keep) {
  std::string kept;
  for (const std::string& record : read_tfrecords(bytes)) {
    ScalarEvent e;
    if (!parse_event(record, e)) break;
    if (!e.file_version.empty() || keep(e)) kept += tfrecord(record);
  }
  return kept;
}

std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> paths;
  for (const std::string& name : tfevents_names(dir))
    if (!ends_with(name, ".tmp")) paths.push_back(dir + "/" + name);
  return paths;
}

void keep_events(const std::string& dir, const std::function<bool(const ScalarEvent&)>& keep) {
  for (const std::string& name : tfevents_names(dir))
    if (ends_with(name, ".tmp")) ::unlink((dir + "/" + name).c_str());
  for (const std::string& path : event_files(dir)) {
    const std::string bytes = read_all(path);
    const std::string kept = kept_event_records(bytes, keep);
    if (kept != bytes) write_file_atomic(path, kept);  // unchanged files are left alone
  }
}

}  // namespace sac
