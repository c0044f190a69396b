// plugin.cpp: cheetah-run as a task plugin, libcheetah_run.so:
//   sac train --plugin ./libcheetah_run.so --set env.id=dmc-cheetah-run
#include <sac/plugin.h>

#include "cheetah_run.h"

SAC_PLUGIN(tasks) { tasks.add(cheetah_run::task()); }
