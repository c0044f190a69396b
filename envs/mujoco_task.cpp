// mujoco_task.cpp: the parts of the public MujocoEnv (include/sac/mujoco_env.h) that tasks with
// keyword arguments need: models named by `xml_file` (compiled in, or a path on disk), the
// constructor over a loaded model, and body lookup by name with an input error.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "formats/quoted.h"
#include "mujoco_env.h"
#include "sac/errors.h"

namespace sac {

bool is_model_path(const std::string& xml_file) {
  return !xml_file.empty() && (xml_file[0] == '/' || xml_file[0] == '.' || xml_file[0] == '~');
}

std::shared_ptr<const mjModel> load_xml_file(const std::string& xml_file) {
  std::string path = xml_file;
  if (!is_model_path(xml_file)) {
    try {
      return load_task_model(xml_file);
    } catch (const std::runtime_error& e) {
      throw InputError("xml_file " + quoted_text(xml_file) + ": " + e.what() +
                       " (a path on disk starts with '/', '.' or '~')");
    }
  }
  // "~" is the home folder, as Gymnasium expands it
  if (path[0] == '~') {
    const char* home = std::getenv("HOME");
    path = std::string(home ? home : "") + path.substr(1);
  }
  // a regular file only: opening a named pipe (or /dev/stdin on one) for reading blocks until a
  // writer comes, so a stray FIFO path would hang the run before any message
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw InputError("xml_file " + quoted_text(xml_file) + ": not a regular file");
  if (!std::ifstream(path).good())
    throw InputError("xml_file " + quoted_text(xml_file) + ": cannot read the file");
  try {
    return load_mujoco_model(path);
  } catch (const std::runtime_error& e) {
    throw InputError("xml_file " + quoted_text(xml_file) + ": " + e.what());
  }
}

MujocoEnv::MujocoEnv(std::shared_ptr<const mjModel> model, int frame_skip, bool contact_forces)
    : m_model(std::move(model)), m_frame_skip(frame_skip), m_contact_forces(contact_forces) {
  if (frame_skip < 1) throw InputError("frame_skip must be at least 1");
  if (!m_model) throw std::invalid_argument("MujocoEnv: no model");
  m_data = m_own_data = mj_makeData(m_model.get());
  if (!m_data) throw std::runtime_error("MujocoEnv: mj_makeData failed");
  mj_forward(m_model.get(), m_data);
}

int MujocoEnv::body_id(const std::string& name) const {
  int id = mj_name2id(m_model.get(), mjOBJ_BODY, name.c_str());
  if (id < 0) throw InputError("the model has no body named " + quoted_text(name));
  return id;
}

}  // namespace sac
