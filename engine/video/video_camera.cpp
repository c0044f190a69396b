// video_camera.cpp: see video_camera.h. The free cameras' placements are Gymnasium's v5
// DEFAULT_CAMERA_CONFIG values of each task (gymnasium/envs/mujoco/*_v5.py), in our own table.
#include "video/video_camera.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sac/errors.h"

namespace sac {
namespace {

constexpr double kUnset = NAN;  // the free camera's own value (mjv_defaultCamera, model extent)

struct FreePlacement {
  const char* task;
  double distance, elevation;
  double lookat_z;  // NaN: no look-at point given (x = y = 0 where one is)
};

// Gymnasium v5's default_camera_config per task; tasks absent here give none (Swimmer)
constexpr FreePlacement kGymnasiumFree[] = {
    {"HalfCheetah-v5", 4.0, kUnset, kUnset},
    {"Ant-v5", 4.0, kUnset, kUnset},
    {"Hopper-v5", 3.0, -20.0, 1.15},
    {"Walker2d-v5", 4.0, -20.0, 1.15},
    {"Humanoid-v5", 4.0, -20.0, 2.0},
    {"InvertedDoublePendulum-v5", 4.1225, kUnset, 0.1225},
    {"InvertedPendulum-v5", 2.04, kUnset, kUnset},
    {"Pusher-v5", 4.0, kUnset, kUnset},
    {"Reacher-v5", kUnset, kUnset, kUnset},
};

std::string camera_names(const mjModel* m) {
  std::string names;
  for (int i = 0; i < m->ncam; ++i) {
    const char* n = m->names + m->name_camadr[i];
    if (*n) names += std::string(names.empty() ? "" : ", ") + n;
  }
  return names.empty() ? "none" : names;
}

}  // namespace

VideoCamera VideoCamera::resolve(const mjModel* m, const std::string& task_id,
                                 const std::string& name) {
  VideoCamera c;
  const int track = mj_name2id(m, mjOBJ_CAMERA, "track");
  if (name.empty() || name == "track") {
    if (track >= 0) {
      c.fixed_id = track;
      return c;
    }
    if (name == "track")
      throw InputError("--camera track: the model of " + task_id +
                       " has no tracking camera (its cameras: " + camera_names(m) +
                       "); use free or a camera name");
  } else if (name != "free") {
    c.fixed_id = mj_name2id(m, mjOBJ_CAMERA, name.c_str());
    if (c.fixed_id < 0)
      throw InputError("--camera '" + name + "' is not a camera of " + task_id +
                       " (its cameras: " + camera_names(m) + "; or track, free)");
    return c;
  }
  // the free camera as Gymnasium places it: distance = the model's extent unless given
  c.distance = m->stat.extent;
  for (const FreePlacement& p : kGymnasiumFree) {
    if (task_id != p.task) continue;
    if (!std::isnan(p.distance)) c.distance = p.distance;
    if (!std::isnan(p.elevation)) c.elevation = p.elevation;
    if (!std::isnan(p.lookat_z)) c.has_lookat = true, c.lookat[2] = p.lookat_z;
  }
  return c;
}

void VideoCamera::apply(const mjModel* m, const mjData* d, mjvCamera* cam) const {
  mjv_defaultCamera(cam);
  if (fixed_id >= 0) {
    cam->type = mjCAMERA_FIXED;
    cam->fixedcamid = fixed_id;
    return;
  }
  cam->type = mjCAMERA_FREE;
  cam->distance = distance;
  cam->azimuth = azimuth;
  cam->elevation = elevation;
  for (int i = 0; i < 3; ++i) {
    if (has_lookat) {
      cam->lookat[i] = lookat[i];
      continue;
    }
    std::vector<double> x(m->ngeom);
    for (int g = 0; g < m->ngeom; ++g) x[g] = d->geom_xpos[3 * g + i];
    // numpy's median: the mean of the two middle values for an even count
    std::sort(x.begin(), x.end());
    const size_t n = x.size();
    cam->lookat[i] = n == 0 ? 0.0 : n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
  }
}

}  // namespace sac
