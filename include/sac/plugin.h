// plugin.h: tasks from a shared library. A plugin is a shared library that exports one C function,
// sac_plugin_register, which hands its tasks (sac/task.h) to the loading process's registry;
// `sac train --plugin libmytasks.so`, the config's env.plugins and sac_engine.load_plugin() load
// one. A plugin is written with SAC_PLUGIN:
//
//   #include <sac/plugin.h>
//   SAC_PLUGIN(tasks) {
//     tasks.add({"MyTask-v0", {/* keyword arguments */},
//                [](const sac::TaskKwargs& k) { return std::make_unique<MyTask>(k); }});
//   }
//
// and built as a shared library linking sac::engine (find_package(sac_engine); the static
// libraries are position-independent). The registration function's C signature is fixed for
// every version of this API: the loader passes its kTaskApiVersion, the plugin returns the one it
// was built against and adds its tasks only when the two agree, so a plugin built against another
// version of the headers is refused by name before any of its code touches the registry.
// kTaskApiVersion (sac/task.h) goes up with every change of sac/env.h, sac/task.h,
// sac/mujoco_env.h or this file that changes what crosses between sac and a plugin: a class's
// layout, its virtual functions, TaskDefinition or the registrar.
// Tested by tests/test_plugins.cpp (`sac_tests --gtest_filter='Plugin*'`) with the plugins built
// from tests/plugins/.
#pragma once
#include <string>
#include <vector>

#include "sac/task.h"

namespace sac {

/// What a plugin's registration function adds its tasks to. The loader checks them all (ids
/// unique among themselves and in the registry) before any is registered.
class TaskRegistrar {
 public:
  virtual ~TaskRegistrar() = default;
  /// Adds `task` (sac/task.h: id, keyword arguments, factory).
  virtual void add(TaskDefinition task) = 0;
};

/// Loads the plugin library at `path` (a path without a slash is taken in the working folder)
/// and registers its tasks; returns their ids. A library loaded before (the same file, by any
/// path) is not loaded again: its ids are returned. Throws InputError naming `path` and the
/// reason, registering nothing: the library cannot be loaded (the loader's message), exports no
/// sac_plugin_register, was built against another task API version (both named), registers no
/// task, fails while registering, or registers an id twice or one already registered (the id
/// and both origins).
std::vector<std::string> load_plugin(const std::string& path);

/// load_plugin() of each path, in order.
void load_plugins(const std::vector<std::string>& paths);

/// The plugins loaded by this process, each as its path was given, in load order.
std::vector<std::string> loaded_plugins();

}  // namespace sac

/// The name of the registration function a plugin exports.
#define SAC_PLUGIN_ENTRY "sac_plugin_register"

/// The registration function's type, the same in every API version: called with the loader's
/// kTaskApiVersion and a registrar, it returns the version the plugin was built against and adds
/// its tasks only when the two are equal.
extern "C" typedef int (*SacPluginEntry)(int loader_api_version, sac::TaskRegistrar* registrar);

/// Defines the plugin's registration function; the block that follows receives the registrar
/// under the name `registrar` and adds the plugin's tasks to it (see the top of this file).
#define SAC_PLUGIN(registrar)                                                                 \
  static void sac_plugin_add_tasks(::sac::TaskRegistrar& registrar);                          \
  extern "C" __attribute__((visibility("default"))) int sac_plugin_register(                 \
      int loader_api_version, ::sac::TaskRegistrar* sac_registrar) {                          \
    if (loader_api_version == ::sac::kTaskApiVersion && sac_registrar)                        \
      sac_plugin_add_tasks(*sac_registrar);                                                   \
    return ::sac::kTaskApiVersion;                                                            \
  }                                                                                           \
  static void sac_plugin_add_tasks(::sac::TaskRegistrar& registrar)
