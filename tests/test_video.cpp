// test_video.cpp: `sac rollout --video` end to end, each video decoded back with libavformat
// (video_decode.h): H.264 at the asked size with one frame per reset and per step, at the
// task's real-time rate, no blank frame (pixel standard deviation above a floor), frames that
// change over time; a policy's video is the same frames twice for a seed; bad input exits 2
// before anything is rendered or written; a failed encode (file size limit) exits 1 and leaves
// no partial file, an older file at the path untouched. Also the camera table (Gymnasium's v5
// default cameras). The tests skip, naming why, only where no OpenGL context can be made (EGL or
// OSMesa missing); CI installs both (sac.sh).
// Run: ./sac_video_tests --gtest_filter='Video*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mujoco_env.h"
#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/errors.h"
#include "sac/trainer.h"
#include "test_files.h"
#include "video/video_camera.h"
#include "gl_available.h"
#include "video_decode.h"

namespace sac {
namespace {

using json = nlohmann::json;
using test::CliRun;
using test::DecodedVideo;
using test::decode_video;
using test::path_exists;
using test::read_file;
using test::run_sac;
using test::TempDir;

std::string q(const std::string& s) { return "'" + s + "'"; }

// the JSON summary line of a run's output
json summary_of(const std::string& output) {
  size_t at = output.rfind("\n{");
  return json::parse(at == std::string::npos ? output : output.substr(at + 1));
}

// standard deviation of a frame's bytes: a blank (one-colour) frame has 0
double pixel_std(const std::vector<uint8_t>& f) {
  double sum = 0, sq = 0;
  for (uint8_t v : f) sum += v, sq += (double)v * v;
  const double n = (double)f.size(), mean = sum / n;
  return std::sqrt(std::max(0.0, sq / n - mean * mean));
}

double mean_abs_difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs((int)a[i] - (int)b[i]);
  return s / (double)a.size();
}

struct TaskVideo {
  const char* id;
  const char* length;  // "--steps N" or "--episodes N"
  double fps;          // 1 / (timestep x frame_skip)
};

// three tasks, each at a size of its own, random actions
TEST(VideoRollout, ThreeTasksDecodeWithEveryFrameDrawn) {
  SKIP_WITHOUT_GL();
  TempDir tmp("sac_video");
  const TaskVideo tasks[] = {{"HalfCheetah-v5", "--steps 40", 20.0},
                             {"Hopper-v5", "--episodes 2", 125.0},
                             {"Humanoid-v5", "--steps 30", 200.0 / 3.0}};
  const int sizes[][2] = {{160, 120}, {96, 128}, {200, 150}};
  for (int t = 0; t < 3; ++t) {
    const TaskVideo& task = tasks[t];
    const int w = sizes[t][0], h = sizes[t][1];
    const std::string video = tmp / (std::string(task.id) + ".mp4");
    CliRun r = run_sac(std::string("rollout --env ") + task.id + " --policy random " +
                       task.length + " --seed 1 --width " + std::to_string(w) + " --height " +
                       std::to_string(h) + " --video " + q(video));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    json s = summary_of(r.output);
    // one frame per reset and per step: steps + episodes begun
    const int64_t steps = s["steps"], episodes = s["episodes"], frames = s["frames"];
    const int64_t resets = std::string(task.length).rfind("--episodes", 0) == 0
                               ? episodes
                               : episodes + 1;  // the running episode's reset too
    EXPECT_EQ(frames, steps + resets) << task.id;
    if (std::string(task.length) == "--episodes 2") EXPECT_EQ(episodes, 2);
    EXPECT_FALSE(path_exists(video + ".tmp"));

    DecodedVideo v = decode_video(video);
    EXPECT_EQ(v.codec, "h264") << task.id;
    EXPECT_EQ(v.width, w) << task.id;
    EXPECT_EQ(v.height, h) << task.id;
    EXPECT_NEAR(v.fps, task.fps, 1e-3) << task.id;
    ASSERT_EQ((int64_t)v.frames.size(), frames) << task.id;
    // no blank frame: floor, sky and agent give a spread of pixel values far above this floor
    for (size_t f = 0; f < v.frames.size(); ++f)
      ASSERT_GT(pixel_std(v.frames[f]), 20.0) << task.id << " frame " << f;
    // the agent moves: the last frame differs visibly from the first, and so do most neighbours
    EXPECT_GT(mean_abs_difference(v.frames.front(), v.frames.back()), 1.0) << task.id;
    int changed = 0;
    for (size_t f = 1; f < v.frames.size(); ++f)
      changed += mean_abs_difference(v.frames[f - 1], v.frames[f]) > 0.01;
    EXPECT_GT(changed, (int)v.frames.size() / 2) << task.id;
  }
}

// a policy file's video is deterministic given the seed, and another seed gives another video
TEST(VideoRollout, PolicyVideoIsDeterministicGivenTheSeed) {
  SKIP_WITHOUT_GL();
  TempDir tmp("sac_video");
  const std::string id = "Hopper-v5", policy = tmp / "policy.safetensors";
  Config c;
  c.env_id = id;
  c.hidden = {32, 32};
  c.threads = 1;
  c.seed = 5;
  std::unique_ptr<Env> env = make_env(id);
  std::unique_ptr<Backend> backend = make_backend("cpu", 1);
  AgentSpec as = AgentSpec::from_config(c, env->spec().obs_dim, env->spec().act_dim, 1);
  as.batch_size = 1;
  Agent agent(*backend, as);
  save_policy(agent, c, policy);

  auto video = [&](const std::string& name, int seed) {
    const std::string path = tmp / name;
    CliRun r = run_sac("rollout --env " + id + " --policy " + q(policy) + " --steps 25 --seed " +
                       std::to_string(seed) + " --width 64 --height 48 --video " + q(path));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return decode_video(path);
  };
  DecodedVideo a = video("a.mp4", 3), b = video("b.mp4", 3), other = video("c.mp4", 4);
  ASSERT_EQ(a.frames.size(), b.frames.size());
  ASSERT_GT(a.frames.size(), 1u);
  for (size_t f = 0; f < a.frames.size(); ++f) ASSERT_EQ(a.frames[f], b.frames[f]) << "frame " << f;
  EXPECT_NE(a.frames[0], other.frames[0]);  // the reset noise differs
}

// rendering never touches the simulation: --record writes the same file with --video as without
TEST(VideoRollout, RecordIsTheSameWithAndWithoutVideo) {
  SKIP_WITHOUT_GL();
  TempDir tmp("sac_video");
  const std::string args = "rollout --env Humanoid-v5 --policy random --steps 30 --seed 2 ";
  CliRun plain = run_sac(args + "--record " + q(tmp / "plain.jsonl"));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  CliRun filmed = run_sac(args + "--record " + q(tmp / "filmed.jsonl") + " --width 64 --height 48 " +
                          "--video " + q(tmp / "v.mp4"));
  ASSERT_EQ(filmed.exit_code, 0) << filmed.output;
  const std::string a = read_file(tmp / "plain.jsonl");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_file(tmp / "filmed.jsonl"));
  EXPECT_EQ((int64_t)decode_video(tmp / "v.mp4").frames.size(),
            summary_of(filmed.output)["frames"].get<int64_t>());
}

// bad input: one message, exit 2, nothing written (neither the video nor the --record file),
// an existing file at the path left as it was
TEST(VideoRollout, BadInputExitsTwoBeforeRendering) {
  TempDir tmp("sac_video");
  const std::string video = tmp / "v.mp4", record = tmp / "r.jsonl";
  const std::string other_policy = tmp / "cheetah.safetensors";
  {
    Config c;
    c.env_id = "HalfCheetah-v5";
    c.hidden = {8};
    std::unique_ptr<Env> env = make_env(c.env_id);
    std::unique_ptr<Backend> backend = make_backend("cpu", 1);
    AgentSpec as = AgentSpec::from_config(c, env->spec().obs_dim, env->spec().act_dim, 1);
    Agent agent(*backend, as);
    save_policy(agent, c, other_policy);
  }
  struct Case {
    std::string args, message;
  };
  const std::string base = "rollout --env Hopper-v5 --steps 5 --record " + q(record) + " ";
  const std::vector<Case> cases = {
      {base + "--video " + q(tmp / "missing/v.mp4"), "cannot write --video file"},
      {base + "--video " + q(tmp.path()), "is a directory"},
      {base + "--video " + q(video) + " --camera nope", "--camera 'nope' is not a camera"},
      {base + "--video " + q(video) + " --width 4098", "--width must be an integer in [16, 4096]"},
      {base + "--video " + q(video) + " --height 8", "--height must be an integer in [16, 4096]"},
      {base + "--video " + q(video) + " --width 33", "must be even"},
      {base + "--video " + q(video) + " --policy " + q(other_policy), "was trained on HalfCheetah-v5"},
      {"rollout --env Pendulum-v1 --steps 5 --record " + q(record) + " --video " + q(video),
       "has no MuJoCo model to render"},
      {"rollout --env Hopper-v5 --steps 5", "needs --record FILE.jsonl, --video FILE.mp4 or both"},
      {"rollout --env Hopper-v5 --steps 5 --episodes 2 --video " + q(video), "--steps and --episodes cannot be combined"},
  };
  test::write_file(video, "older");
  for (const Case& k : cases) {
    CliRun r = run_sac(k.args);
    EXPECT_EQ(r.exit_code, 2) << k.args << "\n" << r.output;
    EXPECT_NE(r.output.find(k.message), std::string::npos) << k.args << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(path_exists(record)) << k.args;
    EXPECT_FALSE(path_exists(record + ".tmp")) << k.args;
    EXPECT_FALSE(path_exists(video + ".tmp")) << k.args;
    EXPECT_EQ(read_file(video), "older") << k.args;
  }
  // MUJOCO_GL naming no headless platform
  std::string cmd = "MUJOCO_GL=glx " + std::string(SAC_BINARY) +
                    " rollout --env Hopper-v5 --steps 5 --video " + q(tmp / "x.mp4") + " 2>&1";
  auto [code, out] = test::run_shell(cmd);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("MUJOCO_GL must be egl or osmesa"), std::string::npos) << out;
  EXPECT_FALSE(path_exists(tmp / "x.mp4.tmp"));
}

// a write that fails half-way (the file size limit, as a full disk would) exits 1 and leaves no
// partial file; the file already at the path stays as it was
TEST(VideoRollout, FailedEncodeRemovesItsPartialFile) {
  SKIP_WITHOUT_GL();
  TempDir tmp("sac_video");
  const std::string video = tmp / "v.mp4";
  test::write_file(video, "older");
  // 16 KiB at most per file; SIGXFSZ ignored, so the write fails with EFBIG instead
  std::string cmd = "bash -c \"ulimit -f 16; trap '' XFSZ; exec " + std::string(SAC_BINARY) +
                    " rollout --env HalfCheetah-v5 --steps 200 --width 320 --height 240 "
                    "--video " + video + "\" 2>&1";
  auto [code, out] = test::run_shell(cmd);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("cannot write"), std::string::npos) << out;
  EXPECT_FALSE(path_exists(video + ".tmp"));
  EXPECT_EQ(read_file(video), "older");
}

// the default camera: the model's tracking camera; `free` as Gymnasium v5 places it
TEST(VideoCamera, GymnasiumDefaults) {
  std::unique_ptr<Env> hopper = make_env("Hopper-v5"), swimmer = make_env("Swimmer-v5"),
                       cheetah = make_env("HalfCheetah-v5");
  const mjModel* m = dynamic_cast<MujocoEnv&>(*hopper).model();
  VideoCamera track = VideoCamera::resolve(m, "Hopper-v5", "");
  EXPECT_EQ(track.fixed_id, mj_name2id(m, mjOBJ_CAMERA, "track"));
  EXPECT_GE(track.fixed_id, 0);
  VideoCamera free = VideoCamera::resolve(m, "Hopper-v5", "free");
  EXPECT_EQ(free.fixed_id, -1);
  EXPECT_EQ(free.distance, 3.0);
  EXPECT_EQ(free.elevation, -20.0);
  EXPECT_TRUE(free.has_lookat);
  EXPECT_EQ(free.lookat[2], 1.15);
  const mjModel* mc = dynamic_cast<MujocoEnv&>(*cheetah).model();
  VideoCamera cf = VideoCamera::resolve(mc, "HalfCheetah-v5", "free");
  EXPECT_EQ(cf.distance, 4.0);
  EXPECT_EQ(cf.elevation, -45.0);  // mjv_defaultCamera's
  EXPECT_FALSE(cf.has_lookat);      // the median of the geoms
  const mjModel* ms = dynamic_cast<MujocoEnv&>(*swimmer).model();
  VideoCamera sf = VideoCamera::resolve(ms, "Swimmer-v5", "free");
  EXPECT_EQ(sf.distance, ms->stat.extent);  // no default_camera_config: the model's extent
  EXPECT_THROW(VideoCamera::resolve(ms, "Swimmer-v5", "nope"), InputError);
}

}  // namespace
}  // namespace sac
