// plugins.cpp: loading task plugins (include/sac/plugin.h): dlopen, the registration function,
// the API version check, and the plugin's tasks registered all together or not at all. A loaded
// library stays loaded for the life of the process (its tasks' factories are its code).
// Tested by tests/test_plugins.cpp (`sac_tests --gtest_filter='Plugin*'`).
#include "sac/plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <exception>
#include <mutex>
#include <utility>

#include "formats/quoted.h"
#include "tasks.h"

namespace sac {
namespace {

struct LoadedPlugin {
  std::string path;  // as given
  std::string file;  // its real path: the same library by another path is the same plugin
  std::vector<std::string> ids;
};

struct Plugins {
  std::mutex mutex;
  std::vector<LoadedPlugin> loaded;
};

Plugins& plugins() {
  static Plugins p;
  return p;
}

// collects a plugin's tasks; they are registered only once the whole plugin is checked
class CollectingRegistrar final : public TaskRegistrar {
 public:
  void add(TaskDefinition task) override { tasks.push_back(std::move(task)); }
  std::vector<TaskDefinition> tasks;
};

// the path as given (quoted: it may come from a config file) and why, dlerror()'s text escaped
[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw InputError("plugin " + quoted_text(path, 500) + ": " + escaped_lines(why));
}

// the real path of `path`, or `path` itself when it has none (dlopen then says why)
std::string real_file(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return path;
  std::string file(real);
  std::free(real);
  return file;
}

// the tasks of the library at `path`, opened with `open` (a path dlopen cannot mistake for a
// library name to search for)
std::vector<TaskDefinition> plugin_tasks(const std::string& path, const std::string& open) {
  ::dlerror();
  void* handle = ::dlopen(open.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    refuse(path, std::string("cannot be loaded: ") + (why ? why : "dlopen failed"));
  }
  // the library stays open even when refused: whatever its constructors set up stays valid
  void* symbol = ::dlsym(handle, SAC_PLUGIN_ENTRY);
  if (!symbol)
    refuse(path, "exports no registration function " SAC_PLUGIN_ENTRY
                 " (a plugin defines it with SAC_PLUGIN, sac/plugin.h)");
  auto entry = reinterpret_cast<SacPluginEntry>(symbol);
  CollectingRegistrar registrar;
  int version = 0;
  try {
    version = entry(kTaskApiVersion, &registrar);
  } catch (const std::exception& e) {
    refuse(path, std::string("its registration function failed: ") + e.what());
  } catch (...) {
    refuse(path, "its registration function failed (an exception that is no std::exception)");
  }
  if (version != kTaskApiVersion)
    refuse(path, "was built against task API version " + std::to_string(version) +
                     ", this sac has version " + std::to_string(kTaskApiVersion) +
                     " (rebuild the plugin against this sac's headers)");
  if (registrar.tasks.empty()) refuse(path, "registers no task");
  return std::move(registrar.tasks);
}

}  // namespace

std::vector<std::string> load_plugin(const std::string& path) {
  if (path.empty()) throw InputError("plugin '': an empty path");
  Plugins& p = plugins();
  std::lock_guard<std::mutex> lock(p.mutex);
  const std::string file = real_file(path);
  for (const LoadedPlugin& loaded : p.loaded)
    if (loaded.file == file) return loaded.ids;
  // a bare file name is a file in the working folder, not a library for dlopen to search for
  const std::string open = path.find('/') == std::string::npos ? "./" + path : path;
  std::vector<TaskDefinition> tasks = plugin_tasks(path, open);
  std::vector<std::string> ids;
  try {
    ids = register_tasks(std::move(tasks), "plugin " + quoted_text(path, 500));
  } catch (const InputError& e) {
    refuse(path, e.what());
  }
  p.loaded.push_back({path, file, ids});
  return ids;
}

void load_plugins(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) load_plugin(path);
}

std::vector<std::string> loaded_plugins() {
  Plugins& p = plugins();
  std::lock_guard<std::mutex> lock(p.mutex);
  std::vector<std::string> paths;
  for (const LoadedPlugin& loaded : p.loaded) paths.push_back(loaded.path);
  return paths;
}

}  // namespace sac
