// scene_renderer.h: MuJoCo's own renderer (mjv_/mjr_) drawing a task's state into an offscreen
// framebuffer of a chosen size, read back as RGB. It keeps its own copy of the model (the
// offscreen size lives in the model) and its own mjData, set from qpos/qvel with mj_forward, so
// rendering never touches the simulation it shows. Needs a current OpenGL context
// (gl_context.h) on the calling thread for its whole life.
// Tested by tests/test_video.cpp.
#pragma once
#include <mujoco/mujoco.h>

#include <cstdint>
#include <vector>

#include "video/video_camera.h"

namespace sac {

class SceneRenderer {
 public:
  /// Copies `model` and makes MuJoCo's rendering context with a width x height offscreen
  /// buffer. Throws std::runtime_error when MuJoCo cannot (its error text).
  SceneRenderer(const mjModel* model, int width, int height, const VideoCamera& camera);
  ~SceneRenderer();
  SceneRenderer(const SceneRenderer&) = delete;
  SceneRenderer& operator=(const SceneRenderer&) = delete;

  /// Draws the state (qpos: nq, qvel: nv doubles) and returns width x height x 3 bytes of RGB,
  /// rows bottom-up. The free camera's default look-at point is taken at the first frame.
  const std::vector<uint8_t>& render(const double* qpos, const double* qvel);

 private:
  mjModel* m_model = nullptr;
  mjData* m_data = nullptr;
  mjvScene m_scene;
  mjvOption m_option;
  mjvPerturb m_perturb;
  mjvCamera m_cam;
  mjrContext m_context;
  VideoCamera m_camera;
  bool m_camera_set = false;
  int m_width, m_height;
  std::vector<uint8_t> m_rgb;
};

}  // namespace sac
