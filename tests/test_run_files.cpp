// test_run_files.cpp: run files that cannot be silently corrupted (include/sac/safetensors.h
// checksums, engine/run/run_lock.h, failed checkpoint writes, the exit-code rule of sac/errors.h,
// the summary's rates).
//   - every single-byte flip at 50 evenly spread offsets of a policy file and of a checkpoint is
//     refused by the loaders behind sac eval / rollout --policy (load_policy) and --resume
//     (read_checkpoint); a few through the `sac` binary, with exit 2 and both checksums named
//   - policy files written before checksums existed still load, with a one-line warning
//   - two `sac train` into one directory: one runs, the other exits 2; --resume of a running
//     run is refused naming the holder's pid; after kill -9 of the holder --resume works at once
//   - a checkpoint write on a full disk (a small tmpfs, mounted when running as root) leaves no
//     temp file and no orphan replay file, exits 1 saying how to resume, and the run resumes to
//     the policy of an uninterrupted run
//   - exit codes: 2 for bad input, 1 for a failure during the work
//   - summary.json's rates describe the process segment that wrote them, after a resume from a
//     checkpoint, after a restart from step 0, and (none) after only finishing a run
// Run: sac_tests --gtest_filter='RunFiles*'
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "run/run_lock.h"
#include "sac/backend.h"
#include "sac/errors.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

namespace fs = std::filesystem;
using test::cli_train;
using test::path_exists;
using test::quiet;
using test::read_file;
using test::run_sac;
using test::small_config;
using test::spawn_sac;
using test::TempDir;
using test::wait_child;
using test::write_file;

constexpr int kFlips = 50;

// offset k of kFlips evenly spread over a file of `size` bytes, first and last byte included
size_t flip_offset(int k, size_t size) { return (size_t)k * (size - 1) / (kFlips - 1); }

std::string flipped(std::string bytes, size_t offset) {
  bytes[offset] = (char)(bytes[offset] ^ 0xff);
  return bytes;
}

// the message of the InputError `f` throws; fails the test on no or another exception
template <typename F>
std::string input_error(F f, const std::string& what) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not an InputError: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << what << " was accepted";
  return "";
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

// ---------------------------------------------------------------------------------------------
// checksums

TEST(RunFilesChecksum, EveryFlipOfAPolicyOrCheckpointIsRefusedByEveryLoader) {
  TempDir dir("run_files_flip");
  train(small_config(300), dir / "run", quiet());
  const std::string policy = dir / "run/policy.safetensors";
  const CheckpointFiles ckpt = latest_checkpoint(dir / "run/checkpoints");
  ASSERT_EQ(ckpt.step, 300);
  ASSERT_NO_THROW(load_policy(policy, "cpu", 1));
  ASSERT_NO_THROW(load_policy(ckpt.main, "cpu", 1));

  // the resume loader reads a pair: copies of both files, one of them flipped
  fs::create_directories(dir / "copy");
  const CheckpointFiles copy = checkpoint_files(dir / "copy", 300);
  const std::string scratch_policy = dir / "policy.safetensors";
  std::map<std::string, int> by_message;  // how each flip was caught
  auto tally = [&](const std::string& message) {
    for (const char* kind : {"checksum mismatch", "no checksum", "not a valid safetensors file"})
      if (message.find(kind) != std::string::npos) return (void)++by_message[kind];
    ++by_message["other: " + message];
  };

  struct Case {
    std::string source, flipped_copy;
    bool eval;  // sac eval / rollout --policy read it (load_policy)
  } cases[] = {{policy, scratch_policy, true},
               {ckpt.main, copy.main, true},
               {ckpt.replay, copy.replay, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.source);
    const std::string good = read_file(c.source);
    ASSERT_GT(good.size(), 1000u);
    fs::copy_file(ckpt.main, copy.main, fs::copy_options::overwrite_existing);
    fs::copy_file(ckpt.replay, copy.replay, fs::copy_options::overwrite_existing);
    for (int k = 0; k < kFlips && !HasFailure(); ++k) {
      const size_t at = flip_offset(k, good.size());
      const std::string what =
          "flip at " + std::to_string(at) + " of " + std::to_string(good.size());
      write_file(c.flipped_copy, flipped(good, at));
      if (c.eval) {
        std::string e = input_error([&] { load_policy(c.flipped_copy, "cpu", 1); }, what);
        EXPECT_NE(e.find(c.flipped_copy), std::string::npos) << what << ": " << e;
        tally(e);
      }
      if (c.flipped_copy != scratch_policy) {
        std::string e = input_error([&] { read_checkpoint(copy); }, what);
        EXPECT_NE(e.find(c.flipped_copy), std::string::npos) << what << ": " << e;
        tally(e);
      }
    }
  }
  for (const auto& [kind, n] : by_message) {
    EXPECT_EQ(kind.rfind("other: ", 0), std::string::npos) << kind;
    std::printf("[ info ] %d flips refused as '%s'\n", n, kind.c_str());
  }
}

TEST(RunFilesChecksum, PolicyWithoutAChecksumLoadsWithAOneLineWarning) {
  TempDir dir("run_files_legacy");
  train(small_config(200), dir / "run", quiet());
  // what save_policy wrote before checksums existed: format and config only
  SafetensorsFile f = SafetensorsFile::load(dir / "run/policy.safetensors");
  ASSERT_EQ(f.metadata.count("checksum"), 1u);
  f.metadata.erase("checksum");
  const std::string legacy = dir / "legacy.safetensors";
  f.save(legacy);

  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(load_policy(legacy, "cpu", 1));
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(err, "\n"), 1u) << err;
  EXPECT_NE(err.find("warning"), std::string::npos) << err;
  EXPECT_NE(err.find(legacy), std::string::npos) << err;
  EXPECT_NE(err.find("no checksum"), std::string::npos) << err;

  // through the binary: evaluated, exit 0, the warning on stderr
  auto [rc, out] = run_sac({"eval", legacy, "--episodes", "1", "--device", "cpu"}, dir / "log.txt");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("no checksum"), std::string::npos) << out;

  // a file of the new layout whose checksum entry is damaged is no legacy file
  f.metadata["checksun"] = "fnv1a64:0000000000000000";
  f.save(legacy);
  std::string e = input_error([&] { load_policy(legacy, "cpu", 1); }, "a damaged checksum key");
  EXPECT_NE(e.find("no checksum"), std::string::npos) << e;
}

// ---------------------------------------------------------------------------------------------
// the exit-code rule through the binary

TEST(RunFilesCli, BadInputExitsTwoAndFailuresDuringWorkExitOne) {
  TempDir dir("run_files_cli");
  const std::string log = dir / "log.txt";
  auto expect_exit = [&](const std::vector<std::string>& args, int code,
                         const std::vector<std::string>& texts) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    auto [rc, out] = run_sac(args, log);
    EXPECT_EQ(rc, code) << shown << "\n" << out;
    for (const std::string& text : texts)
      EXPECT_NE(out.find(text), std::string::npos) << shown << ": expected '" << text << "' in:\n"
                                                   << out;
    if (code != 0) EXPECT_EQ(count(out, "sac: error: "), 1u) << shown << "\n" << out;
    return out;
  };
  auto [rc, out] = run_sac(cli_train(dir / "run", 300), log);
  ASSERT_EQ(rc, 0) << out;
  const std::string policy = dir / "run/policy.safetensors";
  const CheckpointFiles ckpt = latest_checkpoint(dir / "run/checkpoints");

  // the flip of the report (one byte set to 0xff, 5 bytes before the end), in each loader
  auto corrupt_copy = [&](const std::string& from, const std::string& to) {
    std::string bytes = read_file(from);
    bytes[bytes.size() - 5] = (char)0xff;
    write_file(to, bytes);
  };
  const std::string bad_policy = dir / "bad_policy.safetensors";
  corrupt_copy(policy, bad_policy);
  const std::vector<std::string> checksums = {"checksum mismatch",
                                              "stored fnv1a64:", "computed fnv1a64:"};
  auto with = [](std::vector<std::string> v, const std::string& s) { return v.push_back(s), v; };
  expect_exit({"eval", bad_policy, "--episodes", "1"}, 2, with(checksums, bad_policy));
  expect_exit({"rollout", "--env", "Pendulum-v1", "--policy", bad_policy, "--steps", "5",
               "--record", dir / "r.jsonl"},
              2, with(checksums, bad_policy));
  EXPECT_FALSE(path_exists(dir / "r.jsonl"));
  fs::copy(dir / "run", dir / "copy", fs::copy_options::recursive);
  const CheckpointFiles copy = latest_checkpoint(dir / "copy/checkpoints");
  corrupt_copy(ckpt.main, copy.main);
  expect_exit({"eval", copy.main, "--episodes", "1"}, 2, with(checksums, copy.main));
  expect_exit({"train", "--quiet", "--resume", dir / "copy", "--set", "train.total_steps=600"}, 2,
              with(checksums, copy.main));
  fs::copy_file(ckpt.main, copy.main, fs::copy_options::overwrite_existing);
  corrupt_copy(ckpt.replay, copy.replay);
  expect_exit({"train", "--quiet", "--resume", dir / "copy", "--set", "train.total_steps=600"}, 2,
              with(checksums, copy.replay));

  // unreadable input, paths that are not what they should be, bad arguments
  expect_exit({"eval", dir / "missing.safetensors"}, 2, {"cannot read", "missing.safetensors"});
  expect_exit({"eval", dir / "run"}, 2, {dir / "run"});
  expect_exit({"eval", dir / "run/summary.json"}, 2, {"summary.json"});
  write_file(dir / "a_file", "x");
  expect_exit(cli_train(dir / "a_file", 300), 2, {"cannot create run directory", "a_file"});
  expect_exit(cli_train(dir / "run", 300), 2, {"already holds a run"});
  expect_exit({"train", "--resume", dir / "missing"}, 2, {"not a readable directory"});
  expect_exit({"eval", policy, "--episodes", "zero"}, 2, {"--episodes"});
  expect_exit({"bogus"}, 2, {"unknown command"});
  if (!cuda_device_available())
    expect_exit({"eval", policy, "--episodes", "1", "--device", "cuda"}, 2, {"device=cuda"});

  // a failure during the work: a run that diverges (log alpha overflows) exits 1
  expect_exit(cli_train(dir / "diverge", 5000,
                        {"sac.target_entropy=1000", "sac.alpha_lr=1", "train.log_every=20"}),
              1, {"diverged at step"});
  // and a good file: 0
  expect_exit({"eval", policy, "--episodes", "1", "--device", "cpu"}, 0, {"mean_return"});
}

// ---------------------------------------------------------------------------------------------
// the run directory's lock

TEST(RunFilesLock, ASecondHolderIsRefusedNamingTheDirectoryAndThePid) {
  TempDir dir("run_files_lock");
  {
    RunLock held(dir);
    EXPECT_EQ(read_file(held.path()), std::to_string(::getpid()) + "\n");
    std::string e = input_error([&] { RunLock second(dir); }, "a second lock");
    EXPECT_NE(e.find("'" + dir.path() + "' is in use by process " + std::to_string(::getpid())),
              std::string::npos)
        << e;
  }
  EXPECT_NO_THROW(RunLock again(dir));  // released with its holder
}

TEST(RunFilesLock, TwoTrainsIntoOneDirectoryOneRunsTheOtherExitsTwo) {
  TempDir dir("run_files_two");
  const std::vector<std::string> extra = {"train.eval_episodes=2", "train.eval_every=500"};
  const std::string run = dir / "run";
  pid_t a = spawn_sac(cli_train(run, 3000, extra), dir / "a.txt");
  pid_t b = spawn_sac(cli_train(run, 3000, extra), dir / "b.txt");
  int rc_a = wait_child(a, 120), rc_b = wait_child(b, 120);
  std::string out_a = read_file(dir / "a.txt"), out_b = read_file(dir / "b.txt");
  ASSERT_TRUE((rc_a == 0 && rc_b == 2) || (rc_a == 2 && rc_b == 0)) << rc_a << ": " << out_a << "\n"
                                                                    << rc_b << ": " << out_b;
  const std::string& refused = rc_a == 2 ? out_a : out_b;
  const pid_t winner = rc_a == 0 ? a : b;
  EXPECT_EQ(count(refused, "sac: error: "), 1u) << refused;
  EXPECT_NE(refused.find(run), std::string::npos) << refused;
  // refused by the lock while the other ran, or by its config.json once it had started
  bool by_lock =
      refused.find("is in use by process " + std::to_string(winner)) != std::string::npos;
  EXPECT_TRUE(by_lock || refused.find("already holds a run") != std::string::npos) << refused;
  std::printf("[ info ] the second train was refused %s\n",
              by_lock ? "by the lock" : "by the run's config.json");

  // the run's files are those of the same run done alone, not spliced
  train(small_config(3000, extra), dir / "alone", quiet());
  EXPECT_TRUE(read_file(run + "/policy.safetensors") ==
              read_file(dir / "alone/policy.safetensors"));
  EXPECT_EQ(count(read_file(run + "/eval.csv"), "\n"),
            count(read_file(dir / "alone/eval.csv"), "\n"));
  EXPECT_EQ(count(read_file(run + "/metrics.jsonl"), "\n"),
            count(read_file(dir / "alone/metrics.jsonl"), "\n"));
}

TEST(RunFilesLock, ResumeOfARunningRunIsRefusedAndKill9FreesTheDirectoryAtOnce) {
  TempDir dir("run_files_resume_lock");
  const std::string run = dir / "run";
  pid_t holder =
      spawn_sac(cli_train(run, 10000000, {"train.checkpoint_every=1000"}), dir / "h.txt");
  auto t0 = std::chrono::steady_clock::now();
  while (latest_checkpoint(run + "/checkpoints").step < 0) {
    ASSERT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 60)
        << read_file(dir / "h.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string holds = "'" + run + "' is in use by process " + std::to_string(holder);
  auto [rc, out] = run_sac({"train", "--quiet", "--resume", run}, dir / "r.txt");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find(holds), std::string::npos) << out;
  auto [rc2, out2] = run_sac(cli_train(run, 10000000), dir / "t.txt");
  EXPECT_EQ(rc2, 2) << out2;
  EXPECT_NE(out2.find("already holds a run"), std::string::npos) << out2;

  ::kill(holder, SIGKILL);
  EXPECT_EQ(wait_child(holder, 30), 128 + SIGKILL);
  const int64_t step = latest_checkpoint(run + "/checkpoints").step;
  ASSERT_GT(step, 0);
  auto [rc3, out3] = run_sac({"train", "--quiet", "--resume", run, "--set",
                              "train.total_steps=" + std::to_string(step + 500)},
                             dir / "r.txt");
  EXPECT_EQ(rc3, 0) << out3;
  EXPECT_NE(out3.find("\"resumed_from_step\":" + std::to_string(step)), std::string::npos) << out3;
}

// ---------------------------------------------------------------------------------------------
// a checkpoint write on a full disk

// a tmpfs of `size` mounted on `dir` for the life of the object
class SmallTmpfs {
 public:
  SmallTmpfs(const std::string& dir, const std::string& size) : m_dir(dir) {
    m_mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!m_mounted) m_error = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (m_mounted) ::umount2(m_dir.c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  bool mounted() const { return m_mounted; }
  const std::string& error() const { return m_error; }
  bool resize(const std::string& size) {
    return ::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  std::string m_dir, m_error;
  bool m_mounted = false;
};

TEST(RunFilesDiskFull, AFailedCheckpointWriteLeavesNoTraceAndTheRunResumesToTheSameEnd) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "mounting a small tmpfs needs root; run as root to test a full disk";
  TempDir dir("run_files_full");
  const int64_t total = 16000;
  // the disk fills up in the main file (the replay file was renamed into place already) or in
  // the replay file; sizes chosen far from the edges: each checkpoint interval of 1000 (4000)
  // steps needs about 72 KiB (288 KiB) more room for the two pairs, the main file is 63 KiB
  struct Case {
    const char* size;
    int64_t checkpoint_every;
    bool replay_fails;  // the full disk hits the replay file's temp file (else the main file's)
  } cases[] = {{"1m", 1000, false}, {"700k", 4000, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.size);
    // (no event files: their 44 KiB would move where the disk fills up, and the sizes above
    // were chosen for the checkpoints and logs alone)
    const std::vector<std::string> extra = {"train.checkpoint_every=" +
                                                std::to_string(c.checkpoint_every),
                                            "log.tensorboard=false"};
    const std::string alone = dir / (std::string("alone_") + c.size);
    train(small_config(total, extra), alone, quiet());
    const std::string mnt = dir / (std::string("mnt_") + c.size);
    fs::create_directories(mnt);
    SmallTmpfs disk(mnt, c.size);
    if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs on " << mnt << ": " << disk.error();
    const std::string run = mnt + "/run";
    auto [rc, out] = run_sac(cli_train(run, total, extra), dir / "log.txt");
    ASSERT_EQ(rc, 1) << out;
    EXPECT_EQ(count(out, "sac: error: "), 1u) << out;
    EXPECT_NE(out.find("cannot write the checkpoint of step"), std::string::npos) << out;
    EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
    EXPECT_EQ(out.find(".replay.safetensors.tmp'") != std::string::npos, c.replay_fails) << out;
    EXPECT_NE(out.find("continue with: sac train --resume " + run), std::string::npos) << out;

    // no temp file, no replay file without its main file; the previous checkpoint verifies
    const CheckpointFiles kept = latest_checkpoint(run + "/checkpoints");
    ASSERT_GT(kept.step, 0) << out;
    ASSERT_LT(kept.step, total) << out;
    EXPECT_NE(out.find("'" + kept.main + "' (step " + std::to_string(kept.step) + ")"),
              std::string::npos)
        << out;
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
      names.push_back(e.path().filename().string());
    EXPECT_EQ(names.size(), 2u) << "files left: " << ::testing::PrintToString(names);
    EXPECT_TRUE(path_exists(kept.replay));
    EXPECT_NO_THROW(read_checkpoint(kept));
    std::printf("[ info ] tmpfs %s: %s\n", c.size, out.substr(out.find("sac: error: ")).c_str());

    // room again, and the run continues to the policy of the run done alone
    ASSERT_TRUE(disk.resize("64m")) << std::strerror(errno);
    auto [rc2, out2] = run_sac({"train", "--quiet", "--resume", run}, dir / "log.txt");
    ASSERT_EQ(rc2, 0) << out2;
    EXPECT_NE(out2.find("\"resumed_from_step\":" + std::to_string(kept.step)), std::string::npos)
        << out2;
    EXPECT_TRUE(read_file(run + "/policy.safetensors") == read_file(alone + "/policy.safetensors"))
        << "policy differs from the run done alone";
  }
}

// ---------------------------------------------------------------------------------------------
// summary rates

// checks summary.json's rates against the segment's figures and the seconds the process took
// outside (which include its start: the rates may be higher, never lower)
void expect_segment_rates(const std::string& run_dir, int64_t from_step, int64_t steps,
                          int64_t updates, double outside_seconds) {
  nlohmann::json s = read_json(run_dir + "/summary.json");
  SCOPED_TRACE(s.dump());
  const nlohmann::json& seg = s["segment"];
  EXPECT_EQ(seg["from_step"], from_step);
  EXPECT_EQ(seg["steps"], steps);
  EXPECT_EQ(seg["updates"], updates);
  const double seconds = seg["wall_seconds"].get<double>();
  EXPECT_GT(seconds, 0.0);
  EXPECT_LE(seconds, outside_seconds);
  EXPECT_LE(seconds, s["wall_seconds"].get<double>());
  const double sps = s["env_steps_per_second"].get<double>();
  const double ups = s["updates_per_second"].get<double>();
  EXPECT_NEAR(sps, steps / seconds, 1e-9 * sps);
  EXPECT_NEAR(ups, updates / seconds, 1e-9 * ups);
  // within a sane factor of what the segment did over the process's whole life
  EXPECT_GE(ups, updates / outside_seconds);
  EXPECT_LE(ups, 10 * updates / outside_seconds);
  EXPECT_GE(sps, steps / outside_seconds);
  EXPECT_LE(sps, 10 * steps / outside_seconds);
}

TEST(RunFilesSummary, RatesDescribeTheProcessSegmentThatWroteThem) {
  TempDir dir("run_files_rates");
  auto timed = [](auto f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // a resume from the checkpoint at step 1000 (900 updates) to 4000 (3900 updates)
  train(small_config(1000), dir / "resumed", quiet());
  Config more = resume_config(dir / "resumed", {"train.total_steps=4000"});
  double t = timed([&] { resume(more, dir / "resumed", quiet()); });
  expect_segment_rates(dir / "resumed", 1000, 3000, 3000, t);

  // a restart from step 0 (a run killed before its first checkpoint)
  train(small_config(3000), dir / "restarted", quiet());
  fs::remove_all(dir / "restarted/checkpoints");
  fs::remove(dir / "restarted/policy.safetensors");
  fs::remove(dir / "restarted/summary.json");
  Config same = resume_config(dir / "restarted", {});
  t = timed([&] { resume(same, dir / "restarted", quiet()); });
  expect_segment_rates(dir / "restarted", 0, 3000, 2900, t);

  // only finishing a run stopped after its final checkpoint: no steps, so no rates
  fs::remove(dir / "resumed/policy.safetensors");
  fs::remove(dir / "resumed/summary.json");
  resume(resume_config(dir / "resumed", {"train.total_steps=4000"}), dir / "resumed", quiet());
  nlohmann::json s = read_json(dir / "resumed/summary.json");
  EXPECT_EQ(s["segment"]["steps"], 0) << s.dump();
  EXPECT_TRUE(s["env_steps_per_second"].is_null()) << s.dump();
  EXPECT_TRUE(s["updates_per_second"].is_null()) << s.dump();
  EXPECT_EQ(s["updates"], 3900) << s.dump();
}

}  // namespace
}  // namespace sac
