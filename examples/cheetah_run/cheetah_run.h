// cheetah_run.h: dm_control's cheetah-run (dm_control/suite/cheetah.py) as a sac task, id
// "dmc-cheetah-run": the planar cheetah of dm_control's own cheetah.xml, rewarded for running
// forward at 10 m/s or more. Registered by the plugin (plugin.cpp) and by the program
// (train_cheetah_run.cpp). See README.md beside this file.
#pragma once
#include <sac/task.h>

namespace cheetah_run {

/// The task's id.
constexpr const char* kId = "dmc-cheetah-run";

/// The task's definition (sac/task.h): keyword argument xml_file, the path of dm_control's
/// cheetah.xml (default: the file found when this example was configured, DM_CONTROL_SUITE_DIR).
sac::TaskDefinition task();

}  // namespace cheetah_run
