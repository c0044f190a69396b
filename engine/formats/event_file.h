// event_file.h: TensorBoard event files of scalars. A file is named
// events.out.tfevents.<unix time>.<host>.<pid> (TensorBoard reads every file with "tfevents" in
// its name, in name order), and holds TFRecord records (tfrecord.h) of Event messages
// (tensorboard_event.proto): first the file version "brain.Event:2", then one Event per call of
// write_scalars, with its step, the wall time and the scalars as float32 summary values.
// Read them with `tensorboard --logdir DIR`.
#pragma once
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sac {

/// The version string of the first event of every file, as TensorBoard's own writers put it.
extern const char* const kEventFileVersion;

/// A named scalar of one step.
using Scalar = std::pair<std::string, double>;

class EventFileWriter {
 public:
  /// Starts a new event file in `dir` (made if missing; its parent must exist), never
  /// overwriting one: a name taken already gets a suffix .1, .2, ... Throws std::runtime_error
  /// naming the file when it cannot be written.
  explicit EventFileWriter(const std::string& dir);

  const std::string& path() const { return m_path; }

  /// One event at `step` holding `scalars` (tags in that order), written and flushed to the
  /// operating system (not fsynced). Throws std::runtime_error naming the file on failure.
  void write_scalars(int64_t step, const std::vector<Scalar>& scalars);

 private:
  void write_record(const std::string& event);

  std::string m_path;
  std::ofstream m_out;
};

/// An event as read back: `file_version` set for the first of a file, else the scalars.
struct ScalarEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> scalars;
};

/// The events of the event file at `path`, up to its first incomplete or corrupt record.
/// Throws std::runtime_error when it cannot be read.
std::vector<ScalarEvent> read_event_file(const std::string& path);

/// read_event_file() of a file's bytes already in memory.
std::vector<ScalarEvent> parse_event_records(const std::string& bytes);

/// The records of an event file's bytes that keep_events() writes back: the file version and
/// the events for which `keep(event)` is true, up to the first incomplete or corrupt record.
std::string kept_event_records(const std::string& bytes,
                               const std::function<bool(const ScalarEvent&)>& keep);

/// The event files of `dir` in the order TensorBoard reads them (by name); none when `dir` is
/// missing.
std::vector<std::string> event_files(const std::string& dir);

/// Rewrites each event file of `dir` (atomically) keeping its file version and the events of
/// scalars for which `keep(event)` is true, and removes the temp files a rewrite stopped by a
/// crash left. A resumed run calls it before writing again the steps after its checkpoint.
void keep_events(const std::string& dir, const std::function<bool(const ScalarEvent&)>& keep);

}  // namespace sac
