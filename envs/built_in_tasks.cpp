// built_in_tasks.cpp: the tasks compiled into sac, in the order `sac envs` lists them.
#include "sac/errors.h"
#include "tasks.h"

namespace sac {

std::vector<TaskDefinition> built_in_tasks() {
  return {define_pendulum(),     define_inverted_pendulum(), define_inverted_double_pendulum(),
          define_half_cheetah(), define_hopper(),            define_walker2d(),
          define_ant(),          define_humanoid(),          define_swimmer(),
          define_reacher(),      define_pusher(),            define_humanoid_standup()};
}

void require_model(bool ok, const std::string& task, const std::string& what) {
  if (!ok) throw InputError(task + " needs a model with " + what);
}

}  // namespace sac
