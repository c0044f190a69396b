// video_recorder.cpp: see video_recorder.h.
#include "video/video_recorder.h"

#include "mujoco_env.h"
#include "sac/errors.h"

namespace sac {
namespace {

const MujocoEnv& mujoco_task(const Env& env) {
  const auto* m = dynamic_cast<const MujocoEnv*>(&env);
  if (!m) throw InputError(env.spec().id + " has no MuJoCo model to render");
  return *m;
}

VideoCamera checked_camera(const MujocoEnv& env, const VideoSettings& settings) {
  const int w = settings.width, h = settings.height;
  if (w < VideoSettings::kMinSide || w > VideoSettings::kMaxSide ||
      h < VideoSettings::kMinSide || h > VideoSettings::kMaxSide)
    throw InputError("video size " + std::to_string(w) + "x" + std::to_string(h) +
                     " is outside " + std::to_string(VideoSettings::kMinSide) + " to " +
                     std::to_string(VideoSettings::kMaxSide) + " pixels per side");
  if (w % 2 || h % 2)
    throw InputError("video size " + std::to_string(w) + "x" + std::to_string(h) +
                     " must be even in both directions (H.264 4:2:0)");
  return VideoCamera::resolve(env.model(), env.spec().id, settings.camera);
}

}  // namespace

void VideoRecorder::check(const Env& env, const VideoSettings& settings) {
  checked_camera(mujoco_task(env), settings);
}

VideoRecorder::VideoRecorder(const std::string& path, const Env& env,
                             const VideoSettings& settings)
    : m_env(&mujoco_task(env)), m_frame_seconds(m_env->dt()) {
  const int w = settings.width, h = settings.height;
  const VideoCamera camera = checked_camera(*m_env, settings);
  m_writer = std::make_unique<Mp4Writer>(path, w, h, m_frame_seconds, settings.threads);
  m_renderer = std::make_unique<SceneRenderer>(m_env->model(), w, h, camera);
  m_qpos.resize(m_env->nq());
  m_qvel.resize(m_env->nv());
}

void VideoRecorder::add_frame() {
  m_env->get_state(m_qpos.data(), m_qvel.data());
  m_writer->add_frame(m_renderer->render(m_qpos.data(), m_qvel.data()).data());
}

}  // namespace sac
