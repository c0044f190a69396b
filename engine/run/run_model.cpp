// run_model.cpp: a run's own copy of its custom model file (run_model.h).
#include "run/run_model.h"

#include <sys/stat.h>

#include <cstdlib>
#include <optional>

#include "formats/crc32c.h"
#include "formats/whole_file.h"
#include "sac/errors.h"
#include "sac/mujoco_env.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

std::string file_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

std::string custom_model_path(const Config& c) {
  nlohmann::json kwargs = env_kwargs(c);
  auto it = kwargs.find("xml_file");
  if (it == kwargs.end() || !it->is_string()) return "";
  std::string path = it->get<std::string>();
  if (!is_model_path(path)) return "";
  if (path[0] == '~') {
    const char* home = std::getenv("HOME");
    path = std::string(home ? home : "") + path.substr(1);
  }
  return path;
}

std::string run_model_copy(const Config& c, const std::string& run_dir) {
  std::string path = custom_model_path(c);
  return path.empty() ? "" : run_dir + "/model/" + file_name(path);
}

std::string read_custom_model(const Config& c) {
  std::string path = custom_model_path(c);
  if (path.empty()) return "";
  std::optional<std::string> text = read_whole_file(path);
  if (!text) throw InputError("env.kwargs.xml_file '" + path + "': cannot read the file");
  return *text;
}

void write_run_model(const Config& c, const std::string& run_dir, const std::string& text) {
  std::string copy = run_model_copy(c, run_dir);
  if (copy.empty()) return;
  ::mkdir((run_dir + "/model").c_str(), 0777);  // exists already on a resumed run
  write_file_atomic(copy, text);
}

nlohmann::json kwargs_with_model(const Config& c, const std::string& model_file) {
  nlohmann::json kwargs = env_kwargs(c);
  // a bare name would be taken for a compiled-in model: "./" keeps a relative path a path
  if (!custom_model_path(c).empty())
    kwargs["xml_file"] = is_model_path(model_file) ? model_file : "./" + model_file;
  return kwargs;
}

uint32_t model_crc32c(const std::string& text) { return crc32c(text.data(), text.size()); }

std::pair<std::string, std::string> model_beside(const Config& c,
                                                 const std::string& policy_path) {
  std::string path = custom_model_path(c);
  if (path.empty()) return {"", ""};
  const std::string dir = parent_dir(policy_path), name = file_name(path);
  for (const std::string& candidate : {dir + "/model/" + name, dir + "/../model/" + name})
    if (std::optional<std::string> text = read_whole_file(candidate)) return {candidate, *text};
  return {"", ""};
}

std::string policy_model_file(const Config& c, const std::string& policy_path, uint32_t crc) {
  std::string path = custom_model_path(c);
  if (path.empty()) return "";
  const std::string dir = parent_dir(policy_path), name = file_name(path);
  auto [candidate, text] = model_beside(c, policy_path);
  if (!candidate.empty()) {
    if (model_crc32c(text) != crc)
      throw InputError("'" + candidate + "' is not the model policy '" + policy_path +
                       "' was trained on (its CRC-32C differs)");
    return candidate;
  }
  throw InputError("policy '" + policy_path + "' was trained on model '" + path +
                   "', whose copy is not beside it (" + dir + "/model/" + name + ")");
}

}  // namespace sac
