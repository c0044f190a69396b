// video_recorder.h: an H.264 MP4 of a MuJoCo task as it runs: each add_frame() draws the env's
// current state (scene_renderer.h) from the chosen camera (video_camera.h) and encodes it
// (mp4_writer.h) at the task's real-time rate, one frame per env step (1 / (timestep x
// frame_skip) frames per second, Gymnasium's render_fps). Used by `sac rollout --video` and by
// the videos a training run records (run/background_video.h).
// Tested by tests/test_video.cpp.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sac/env.h"
#include "video/mp4_writer.h"
#include "video/scene_renderer.h"

namespace sac {

class MujocoEnv;

/// What a video looks like.
struct VideoSettings {
  static constexpr int kMinSide = 16, kMaxSide = 4096;
  int width = 640, height = 480;  // even, in [kMinSide, kMaxSide]
  std::string camera;             // a model camera, "track" or "free"; "" = the task's default
  int threads = 0;                // encoder threads (0: FFmpeg's choice)
};

class VideoRecorder {
 public:
  /// Checks everything before any frame: `env` is a MuJoCo task, the size, the camera, the
  /// encoder and that PATH.tmp can be written (InputError naming the problem otherwise). Needs a
  /// current OpenGL context (gl_context.h) on this thread for its whole life. `env` must
  /// outlive the recorder.
  VideoRecorder(const std::string& path, const Env& env, const VideoSettings& settings);

  /// The checks of the constructor that need neither OpenGL nor a file (a MuJoCo task, the
  /// size, the camera); throws InputError.
  static void check(const Env& env, const VideoSettings& settings);

  /// Draws the env's current state and encodes it as the next frame.
  void add_frame();
  /// Completes the file (mp4_writer.h: fsync, rename); a recorder destroyed before finish()
  /// leaves no file.
  void finish() { m_writer->finish(); }
  int64_t frames() const { return m_writer->frames(); }
  /// Seconds of video per frame: the task's env step.
  double frame_seconds() const { return m_frame_seconds; }

 private:
  const MujocoEnv* m_env;
  double m_frame_seconds;
  std::unique_ptr<Mp4Writer> m_writer;
  std::unique_ptr<SceneRenderer> m_renderer;
  std::vector<double> m_qpos, m_qvel;
};

}  // namespace sac
