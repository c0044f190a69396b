// test_tensorboard.cpp: TensorBoard event files (engine/formats/event_file.h) and the runs that
// write them (RUN_DIR/tb/, log.tensorboard).
//   - CRC-32C against published vectors ("123456789", RFC 3720's 32-byte patterns), and its mask
//   - TFRecord framing byte by byte, read back; a file cut short or with a flipped byte keeps
//     only its good records
//   - an event file parsed back with the protobuf classes generated from our .proto: the file
//     version first, then each step's scalars (a 0 included) with tag, step and wall time
//   - a run's tb/ holds every number of metrics.jsonl and eval.csv at its step; off with
//     log.tensorboard=false (no tb/ at all); a resume after a "crash" past its checkpoint drops
//     the events after the checkpoint, as metrics.jsonl drops its lines, and writes a new file
//   - a full disk (a small tmpfs, as root) makes the writer throw naming its file, and stops a
//     run (exit 1, its checkpoint kept), which resumes to events that hold each step once
// The reader TensorBoard itself runs over such files in tests/pypi/test_tensorboard.py.
// Run: sac_tests --gtest_filter='TensorBoard*:Crc32c*:TfRecord*'
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "formats/crc32c.h"
#include "formats/event_file.h"
#include "formats/tfrecord.h"
#include "sac/trainer.h"
#include "small_run.h"
#include "tensorboard_event.pb.h"
#include "test_files.h"

namespace sac {
namespace {

namespace fs = std::filesystem;
using test::quiet;
using test::small_config;
using test::TempDir;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- CRC-32C and TFRecord framing

TEST(Crc32c, PublishedVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  // RFC 3720 (iSCSI), appendix B.4
  unsigned char zeros[32] = {}, ones[32], up[32], down[32];
  for (int i = 0; i < 32; ++i) ones[i] = 0xFF, up[i] = (unsigned char)i, down[i] = (unsigned char)(31 - i);
  EXPECT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones, 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up, 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down, 32), 0x113FDB5Cu);
}

TEST(Crc32c, MaskIsRotateRight15PlusTheDelta) {
  const uint32_t c = crc32c("123456789", 9), m = masked_crc32c("123456789", 9);
  const uint32_t unmasked = m - 0xa282ead8u;
  EXPECT_EQ((unmasked << 15) | (unmasked >> 17), c);
}

uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= (uint64_t)(unsigned char)s[at + i] << (8 * i);
  return v;
}

TEST(TfRecord, FramingIsLengthCrcDataCrc) {
  const std::string data = "hello, event";
  const std::string r = tfrecord(data);
  ASSERT_EQ(r.size(), data.size() + 16);
  EXPECT_EQ(le(r, 0, 8), data.size());
  EXPECT_EQ(le(r, 8, 4), masked_crc32c(r.data(), 8));
  EXPECT_EQ(r.substr(12, data.size()), data);
  EXPECT_EQ(le(r, 12 + data.size(), 4), masked_crc32c(data.data(), data.size()));
}

TEST(TfRecord, ReadsBackAndStopsAtTheFirstBadRecord) {
  const std::vector<std::string> data = {"first", "", std::string(1000, 'x'), "last"};
  std::string file;
  for (const std::string& d : data) file += tfrecord(d);
  bool complete = false;
  EXPECT_EQ(read_tfrecords(file, &complete), data);
  EXPECT_TRUE(complete);
  // cut short inside the last record: the others stay
  std::vector<std::string> three(data.begin(), data.end() - 1);
  EXPECT_EQ(read_tfrecords(file.substr(0, file.size() - 3), &complete), three);
  EXPECT_FALSE(complete);
  // a flipped byte in the third record's data, then in the second's length
  std::string flipped = file;
  flipped[tfrecord("first").size() + tfrecord("").size() + 12 + 500] ^= 0x01;
  EXPECT_EQ(read_tfrecords(flipped, &complete), std::vector<std::string>(data.begin(), data.begin() + 2));
  flipped = file;
  flipped[tfrecord("first").size()] ^= 0x40;
  EXPECT_EQ(read_tfrecords(flipped, &complete), std::vector<std::string>(data.begin(), data.begin() + 1));
  EXPECT_FALSE(complete);
}

// ---- event files

TEST(TensorBoardEventFile, ParsesBackWithTheGeneratedProtobufClasses) {
  TempDir dir("tb_parse");
  const double before = unix_now();
  EventFileWriter w(dir / "tb");
  w.write_scalars(10, {{"train/critic_loss", 1.5}, {"train/zero", 0.0}, {"train/big", 1e30}});
  w.write_scalars(20, {{"eval/mean_return", -3.25}});
  const double after = unix_now();

  // the name TensorBoard looks for
  const std::string name = fs::path(w.path()).filename().string();
  const std::string prefix = "events.out.tfevents.";
  ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
  const long long stamp = std::stoll(name.substr(prefix.size()));
  EXPECT_GE(stamp, (long long)before - 1);
  EXPECT_LE(stamp, (long long)after + 1);
  EXPECT_EQ(event_files(dir / "tb"), std::vector<std::string>{w.path()});

  bool complete = false;
  const std::vector<std::string> records = read_tfrecords(test::read_file(w.path()), &complete);
  EXPECT_TRUE(complete);
  ASSERT_EQ(records.size(), 3u);
  tensorboard::Event e;
  ASSERT_TRUE(e.ParseFromString(records[0]));
  EXPECT_EQ(e.file_version(), "brain.Event:2");
  EXPECT_GE(e.wall_time(), before - 1);
  EXPECT_LE(e.wall_time(), after + 1);

  ASSERT_TRUE(e.ParseFromString(records[1]));
  EXPECT_EQ(e.step(), 10);
  EXPECT_GE(e.wall_time(), before - 1);
  EXPECT_LE(e.wall_time(), after + 1);
  ASSERT_EQ(e.what_case(), tensorboard::Event::kSummary);
  ASSERT_EQ(e.summary().value_size(), 3);
  EXPECT_EQ(e.summary().value(0).tag(), "train/critic_loss");
  EXPECT_EQ(e.summary().value(0).simple_value(), 1.5f);
  // a 0 is written (the reader finds a value), not left out as proto3 leaves out zeros
  EXPECT_EQ(e.summary().value(1).tag(), "train/zero");
  EXPECT_EQ(e.summary().value(1).value_case(), tensorboard::Summary::Value::kSimpleValue);
  EXPECT_EQ(e.summary().value(1).simple_value(), 0.0f);
  EXPECT_EQ(e.summary().value(2).simple_value(), 1e30f);

  ASSERT_TRUE(e.ParseFromString(records[2]));
  EXPECT_EQ(e.step(), 20);
  ASSERT_EQ(e.summary().value_size(), 1);
  EXPECT_EQ(e.summary().value(0).tag(), "eval/mean_return");
  EXPECT_EQ(e.summary().value(0).simple_value(), -3.25f);

  // and through read_event_file
  const std::vector<ScalarEvent> events = read_event_file(w.path());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].file_version, kEventFileVersion);
  EXPECT_EQ(events[1].step, 10);
  EXPECT_EQ(events[1].scalars[1], std::make_pair(std::string("train/zero"), 0.0f));
}

TEST(TensorBoardEventFile, ANewWriterNeverOverwritesAFile) {
  TempDir dir("tb_names");
  EventFileWriter a(dir.path()), b(dir.path()), c(dir.path());  // likely within one second
  EXPECT_NE(a.path(), b.path());
  EXPECT_NE(b.path(), c.path());
  EXPECT_NE(a.path(), c.path());
  EXPECT_EQ(event_files(dir.path()).size(), 3u);
}

TEST(TensorBoardEventFile, KeepEventsDropsTheRestAndLeftoverTempFiles) {
  TempDir dir("tb_keep");
  std::string path;
  {
    EventFileWriter w(dir.path());
    path = w.path();
    for (int64_t step = 100; step <= 500; step += 100) {
      w.write_scalars(step, {{"train/x", (double)step}});
      if (step % 200 == 0) w.write_scalars(step, {{"eval/mean_return", -(double)step}});
    }
  }
  test::write_file(path + ".tmp", "left by a crash");
  keep_events(dir.path(), [](const ScalarEvent& e) {
    return e.step <= (e.scalars.front().first == "eval/mean_return" ? 200 : 300);
  });
  EXPECT_FALSE(test::path_exists(path + ".tmp"));
  const std::vector<ScalarEvent> events = read_event_file(path);
  std::vector<std::pair<int64_t, std::string>> kept;
  for (const ScalarEvent& e : events)
    kept.emplace_back(e.step, e.file_version.empty() ? e.scalars.front().first : e.file_version);
  const std::vector<std::pair<int64_t, std::string>> want = {
      {0, "brain.Event:2"}, {100, "train/x"}, {200, "train/x"}, {200, "eval/mean_return"},
      {300, "train/x"}};
  EXPECT_EQ(kept, want);
}

TEST(TensorBoardEventFile, AFullDiskThrowsNamingTheFile) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "mounting a small tmpfs needs root; run as root to test a full disk";
  TempDir dir("tb_full");
  const std::string mnt = dir / "mnt";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs on " << mnt << ": " << std::strerror(errno);
  std::string message;
  {
    EventFileWriter w(mnt + "/tb");
    try {
      for (int64_t step = 0; step < 100000; ++step)
        w.write_scalars(step, {{"train/a_long_enough_tag_to_fill_the_disk_quickly", 1.0}});
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    EXPECT_NE(message.find("cannot write '" + w.path() + "': No space left on device"),
              std::string::npos)
        << message;
  }
  ::umount2(mnt.c_str(), MNT_DETACH);
  EXPECT_FALSE(message.empty()) << "100000 events fit in a 64 KiB tmpfs";
}

// ---- runs

// every (tag, step) of the event files of `tb`, with its value; a repeated one fails the test
std::map<std::pair<std::string, int64_t>, float> scalars_of(const std::string& tb) {
  std::map<std::pair<std::string, int64_t>, float> out;
  for (const std::string& path : event_files(tb))
    for (const ScalarEvent& e : read_event_file(path))
      for (const auto& s : e.scalars) {
        const bool fresh = out.emplace(std::make_pair(s.first, e.step), s.second).second;
        EXPECT_TRUE(fresh) << s.first << " at step " << e.step << " is written twice";
      }
  return out;
}

// the numbers of metrics.jsonl as the scalars TensorBoard should show (float32, as it keeps them)
std::map<std::pair<std::string, int64_t>, float> metrics_of(const std::string& run_dir) {
  std::map<std::pair<std::string, int64_t>, float> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    const int64_t step = j.at("step").get<int64_t>();
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "step")
        EXPECT_TRUE(out.emplace(std::make_pair("train/" + it.key(), step),
                                (float)it.value().get<double>())
                        .second)
            << "metrics.jsonl repeats step " << step;
  }
  return out;
}

std::map<std::pair<std::string, int64_t>, float> only(
    const std::map<std::pair<std::string, int64_t>, float>& all, const std::string& prefix) {
  std::map<std::pair<std::string, int64_t>, float> out;
  for (const auto& kv : all)
    if (kv.first.first.rfind(prefix, 0) == 0) out.insert(kv);
  return out;
}

TEST(TensorBoardRun, EventFilesHoldEveryNumberOfMetricsAndEval) {
  TempDir dir("tb_run");
  const std::string run = dir / "run";
  train(small_config(500, {"train.eval_episodes=2", "train.eval_every=200"}), run, quiet());
  const auto tb = scalars_of(run + "/tb");
  EXPECT_EQ(event_files(run + "/tb").size(), 1u);
  const auto metrics = metrics_of(run);
  ASSERT_EQ(metrics.count({"train/critic_loss", 500}), 1u);
  EXPECT_EQ(only(tb, "train/"), metrics);
  // eval.csv's rows, five numbers each; eval.csv prints 6 significant digits, TensorBoard keeps
  // float32: they agree to the csv's rounding (half a unit of its 6th digit) plus float32's
  std::ifstream csv(run + "/eval.csv");
  std::string line;
  std::getline(csv, line);
  ASSERT_EQ(line, "step,wall_seconds,mean_return,min_return,max_return,episodes");
  const char* columns[] = {"wall_seconds", "mean_return", "min_return", "max_return", "episodes"};
  size_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    std::stringstream ss(line);
    std::string field;
    std::getline(ss, field, ',');
    const int64_t step = std::stoll(field);
    for (const char* column : columns) {
      std::getline(ss, field, ',');
      const double want = std::stod(field);
      const auto it = tb.find({std::string("eval/") + column, step});
      ASSERT_NE(it, tb.end()) << column << " at step " << step;
      EXPECT_NEAR(it->second, want, (5e-6 + 1.2e-7) * std::fabs(want)) << column << " at step " << step;
    }
  }
  EXPECT_GE(rows, 3u);
  EXPECT_EQ(only(tb, "eval/").size(), rows * 5);
  // the default is not written into config.json (the files of a run are as before the key)
  EXPECT_FALSE(read_json(run + "/config.json").contains("log"));
}

TEST(TensorBoardRun, OffWritesNoTbFolder) {
  TempDir dir("tb_off");
  const std::string run = dir / "run";
  train(small_config(300, {"log.tensorboard=false"}), run, quiet());
  EXPECT_TRUE(test::path_exists(run + "/metrics.jsonl"));
  EXPECT_FALSE(test::path_exists(run + "/tb"));
  EXPECT_EQ(read_json(run + "/config.json")["log"]["tensorboard"], false);
}

TEST(TensorBoardRun, AResumeDropsTheEventsPastItsCheckpointAsMetricsDropsItsLines) {
  TempDir dir("tb_resume");
  const std::string run = dir / "run", saved = dir / "saved_checkpoints";
  const std::vector<std::string> extra = {"train.eval_episodes=2", "train.eval_every=200"};
  train(small_config(400, extra), run, quiet());  // its final checkpoint at 400
  fs::copy(run + "/checkpoints", saved);
  // longer, to 800: events of 500..800 are written to a second file
  resume(small_config(800, extra), run, quiet());
  EXPECT_EQ(event_files(run + "/tb").size(), 2u);
  // a run that crashed after writing 500..800 but whose latest checkpoint is 400's
  fs::remove_all(run + "/checkpoints");
  fs::copy(saved, run + "/checkpoints");
  const auto before = scalars_of(run + "/tb");
  resume(small_config(800, extra), run, quiet());
  EXPECT_EQ(event_files(run + "/tb").size(), 3u);
  const auto after = scalars_of(run + "/tb");  // no (tag, step) twice
  EXPECT_EQ(only(after, "train/"), metrics_of(run));
  EXPECT_EQ(only(after, "train/").size(), only(before, "train/").size());
  // the steps written again hold the same numbers (the CPU backend is deterministic), the
  // rates and times apart
  for (const auto& kv : before) {
    const std::string& tag = kv.first.first;
    if (tag == "train/sps" || tag == "train/ups" || tag.find("wall_seconds") != std::string::npos)
      continue;
    ASSERT_EQ(after.count(kv.first), 1u) << tag << " " << kv.first.second;
    EXPECT_EQ(after.at(kv.first), kv.second) << tag << " at step " << kv.first.second;
  }
}

// tb/ on a tmpfs of its own that fills up: the run stops as on any failed write, and resumes
// (with room again) to event files that hold each step once, as metrics.jsonl does
TEST(TensorBoardRun, AFullDiskStopsTheRunKeepingItsCheckpointAndItResumes) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "mounting a small tmpfs needs root; run as root to test a full disk";
  TempDir dir("tb_run_full");
  const std::string run = dir / "run", tb = run + "/tb";
  fs::create_directories(tb);
  if (::mount("tmpfs", tb.c_str(), "tmpfs", 0, "size=16k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs on " << tb << ": " << std::strerror(errno);
  const std::vector<std::string> extra = {"train.checkpoint_every=1000"};
  auto [rc, out] = test::run_sac(test::cli_train(run, 20000, extra), dir / "log.txt");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("sac: error: cannot write '" + tb + "/events.out.tfevents."),
            std::string::npos) << out;
  EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
  const CheckpointFiles kept = latest_checkpoint(run + "/checkpoints");
  EXPECT_GT(kept.step, 0) << out;
  EXPECT_NE(out.find("The latest complete checkpoint is '" + kept.main + "'"), std::string::npos)
      << out;
  EXPECT_NE(out.find("continue with: sac train --resume " + run), std::string::npos) << out;
  EXPECT_NO_THROW(read_checkpoint(kept));
  std::printf("[ info ] %s", out.substr(out.find("sac: error: ")).c_str());

  ASSERT_EQ(::mount("tmpfs", tb.c_str(), "tmpfs", MS_REMOUNT, "size=4m"), 0) << std::strerror(errno);
  auto [rc2, out2] = test::run_sac({"train", "--quiet", "--resume", run}, dir / "log.txt");
  EXPECT_EQ(rc2, 0) << out2;
  EXPECT_EQ(only(scalars_of(tb), "train/"), metrics_of(run));  // no step twice, none missing
  EXPECT_EQ(event_files(tb).size(), 2u);
  ::umount2(tb.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace sac
