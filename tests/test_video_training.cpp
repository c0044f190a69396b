// test_video_training.cpp: the videos a training run records (train.video_every, engine/run/
// background_video.h). Videos change no training result: the same run with and without them
// gives the same policy tensors, checkpoint tensors, eval returns and metrics (the files differ
// only by the config key they embed). The video of the final step is the policy's own: frame for
// frame `sac rollout --policy RUN/policy.safetensors --seed <seed> --episodes 1 --video`, for a
// run of one seed and for each seed of a run of two. Skips, naming why, only where no OpenGL
// context can be made.
// Run: ./sac_video_tests --gtest_filter='VideoTraining*'
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sac/safetensors.h"
#include "test_files.h"
#include "gl_available.h"
#include "video_decode.h"

namespace sac {
namespace {

using json = nlohmann::json;
using test::decode_video;
using test::path_exists;
using test::read_file;
using test::TempDir;

// a short Hopper run: videos at steps 300 and 600 when `video_every` is 300
std::vector<std::string> train_args(const std::string& run_dir, int64_t video_every,
                                    const std::string& seeds = "") {
  std::vector<std::string> a = {
      "train", std::string(SAC_SOURCE_DIR) + "/configs/hopper.json", "--set", "device=cpu",
      "--set", "sac.hidden=[16,16]", "--set", "sac.batch_size=32",
      "--set", "train.total_steps=600", "--set", "train.warmup_steps=300",
      "--set", "train.eval_every=300", "--set", "train.eval_episodes=2",
      "--set", "train.log_every=100", "--set", "train.checkpoint_every=300",
      "--set", "train.threads=1", "--set", "train.video_every=" + std::to_string(video_every),
      "--quiet", "--run-dir", run_dir};
  if (!seeds.empty()) a.insert(a.end(), {"--set", "train.seeds=" + seeds});
  return a;
}

// the tensors of a safetensors file (its metadata holds the config, which names video_every)
std::map<std::string, Tensor> tensors_of(const std::string& path) {
  return SafetensorsFile::load(path).tensors;
}

// metrics.jsonl without the wall-clock fields
std::vector<json> metrics_without_time(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    for (const char* k : {"wall_seconds", "sps", "ups"}) j.erase(k);
    out.push_back(j);
  }
  return out;
}

// the run's final video against the rollout of its policy with that seed
void expect_video_is_the_policys(const std::string& dir, const std::string& video,
                                 const std::string& policy, int seed) {
  ASSERT_TRUE(path_exists(video)) << video;
  const std::string rollout = dir + "/rollout-" + std::to_string(seed) + ".mp4";
  auto [code, out] = test::run_sac({"rollout", "--env", "Hopper-v5", "--policy", policy,
                                    "--seed", std::to_string(seed), "--episodes", "1",
                                    "--video", rollout},
                                   dir + "/rollout.log");
  ASSERT_EQ(code, 0) << out;
  test::DecodedVideo a = decode_video(video), b = decode_video(rollout);
  EXPECT_EQ(a.width, 640);
  EXPECT_EQ(a.height, 480);
  ASSERT_EQ(a.frames.size(), b.frames.size()) << video;
  ASSERT_GT(a.frames.size(), 1u);
  for (size_t f = 0; f < a.frames.size(); ++f) ASSERT_EQ(a.frames[f], b.frames[f]) << "frame " << f;
}

TEST(VideoTraining, VideosChangeNoResultAndShowThePolicy) {
  SKIP_WITHOUT_GL();
  TempDir tmp("sac_video_train");
  const std::string plain = tmp / "plain", filmed = tmp / "filmed";
  auto [c1, out1] = test::run_sac(train_args(plain, 0), tmp / "plain.log", 600);
  ASSERT_EQ(c1, 0) << out1;
  auto [c2, out2] = test::run_sac(train_args(filmed, 300), tmp / "filmed.log", 600);
  ASSERT_EQ(c2, 0) << out2;

  EXPECT_FALSE(path_exists(plain + "/videos"));
  EXPECT_TRUE(path_exists(filmed + "/videos/step-300.mp4"));
  EXPECT_TRUE(path_exists(filmed + "/videos/step-600.mp4"));
  EXPECT_FALSE(path_exists(filmed + "/videos/step-600.mp4.tmp"));
  // the same training with and without videos
  EXPECT_EQ(tensors_of(plain + "/policy.safetensors").size(),
            tensors_of(filmed + "/policy.safetensors").size());
  for (const auto& [name, t] : tensors_of(plain + "/policy.safetensors"))
    EXPECT_EQ(t.bytes, tensors_of(filmed + "/policy.safetensors").at(name).bytes) << name;
  const std::string ckpt = "/checkpoints/ckpt-000000000600.safetensors";
  ASSERT_TRUE(path_exists(plain + ckpt));
  for (const auto& [name, t] : tensors_of(plain + ckpt))
    if (name != "trainer.wall_seconds")  // the one timing a checkpoint holds
      EXPECT_EQ(t.bytes, tensors_of(filmed + ckpt).at(name).bytes) << name;
  EXPECT_EQ(test::eval_returns(plain + "/eval.csv"), test::eval_returns(filmed + "/eval.csv"));
  EXPECT_EQ(metrics_without_time(plain + "/metrics.jsonl"),
            metrics_without_time(filmed + "/metrics.jsonl"));
  // a run without videos writes the config it wrote before the key existed
  EXPECT_EQ(read_file(plain + "/config.json").find("video_every"), std::string::npos);

  expect_video_is_the_policys(tmp, filmed + "/videos/step-600.mp4",
                              filmed + "/policy.safetensors", 1);
}

TEST(VideoTraining, EachSeedOfARunOfSeveralFilmsItsOwnPolicy) {
  SKIP_WITHOUT_GL();
  TempDir tmp("sac_video_train");
  const std::string run = tmp / "run";
  auto [code, out] = test::run_sac(train_args(run, 600, "[3,4]"), tmp / "run.log", 600);
  ASSERT_EQ(code, 0) << out;
  for (int seed : {3, 4}) {
    const std::string seed_dir = run + "/seed-" + std::to_string(seed);
    EXPECT_FALSE(path_exists(seed_dir + "/videos/step-300.mp4"));
    expect_video_is_the_policys(tmp, seed_dir + "/videos/step-600.mp4",
                                seed_dir + "/policy.safetensors", seed);
  }
}

}  // namespace
}  // namespace sac
