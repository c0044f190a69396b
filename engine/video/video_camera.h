// video_camera.h: which camera a video is seen from. `--camera` takes a camera named in the
// task's model, `track` (the model's tracking camera, which follows the agent's centre of mass)
// or `free` (the free camera placed as Gymnasium's v5 task places it: its
// default_camera_config distance, elevation and look-at point, azimuth 90 degrees as
// mjv_defaultCamera leaves it, and the look-at point at the median of the geoms' positions
// where the task gives none). The default is `track` where the model defines one, else `free`.
// Tested by tests/test_video.cpp.
#pragma once
#include <mujoco/mujoco.h>

#include <string>

namespace sac {

/// A resolved camera: a fixed (model) camera or the free camera with its placement.
struct VideoCamera {
  int fixed_id = -1;  // the model camera's id; -1: the free camera
  double distance = 0, azimuth = 90, elevation = -45;
  bool has_lookat = false;  // false: the median of the geom positions at the first frame
  double lookat[3] = {0, 0, 0};

  /// Resolves `name` ("" for the default) for task `task_id` with model `m`. Throws InputError
  /// naming the model's cameras when `name` is none of them, `track` or `free`.
  static VideoCamera resolve(const mjModel* m, const std::string& task_id,
                             const std::string& name);

  /// Sets `cam` to this camera; `d` (after mj_forward) gives the free camera's default look-at.
  void apply(const mjModel* m, const mjData* d, mjvCamera* cam) const;
};

}  // namespace sac
