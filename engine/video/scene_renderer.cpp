// scene_renderer.cpp: see scene_renderer.h.
#include "video/scene_renderer.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace sac {
namespace {
constexpr int kMaxGeoms = 2000;  // scene capacity; Humanoid draws well under 100
}

SceneRenderer::SceneRenderer(const mjModel* model, int width, int height,
                             const VideoCamera& camera)
    : m_camera(camera), m_width(width), m_height(height) {
  mjv_defaultScene(&m_scene);
  mjr_defaultContext(&m_context);
  mjv_defaultOption(&m_option);
  mjv_defaultPerturb(&m_perturb);
  m_model = mj_copyModel(nullptr, model);
  if (!m_model) throw std::runtime_error("MuJoCo could not copy the model for rendering");
  m_model->vis.global.offwidth = width;
  m_model->vis.global.offheight = height;
  m_data = mj_makeData(m_model);
  mjv_makeScene(m_model, &m_scene, kMaxGeoms);
  mjr_makeContext(m_model, &m_context, mjFONTSCALE_100);
  mjr_setBuffer(mjFB_OFFSCREEN, &m_context);
  if (m_context.currentBuffer != mjFB_OFFSCREEN || m_context.offWidth != width ||
      m_context.offHeight != height)
    throw std::runtime_error("MuJoCo's offscreen framebuffer is " +
                             std::to_string(m_context.offWidth) + "x" +
                             std::to_string(m_context.offHeight) + ", not " +
                             std::to_string(width) + "x" + std::to_string(height));
  m_rgb.resize((size_t)width * height * 3);
}

SceneRenderer::~SceneRenderer() {
  mjr_freeContext(&m_context);
  mjv_freeScene(&m_scene);
  if (m_data) mj_deleteData(m_data);
  if (m_model) mj_deleteModel(m_model);
}

const std::vector<uint8_t>& SceneRenderer::render(const double* qpos, const double* qvel) {
  std::memcpy(m_data->qpos, qpos, sizeof(double) * m_model->nq);
  std::memcpy(m_data->qvel, qvel, sizeof(double) * m_model->nv);
  mj_forward(m_model, m_data);
  if (!m_camera_set) {
    m_camera.apply(m_model, m_data, &m_cam);
    m_camera_set = true;
  }
  mjv_updateScene(m_model, m_data, &m_option, &m_perturb, &m_cam, mjCAT_ALL, &m_scene);
  const mjrRect viewport = {0, 0, m_width, m_height};
  mjr_setBuffer(mjFB_OFFSCREEN, &m_context);  // this renderer's framebuffer (one per renderer)
  mjr_render(viewport, &m_scene, &m_context);
  mjr_readPixels(m_rgb.data(), nullptr, viewport, &m_context);
  return m_rgb;
}

}  // namespace sac
