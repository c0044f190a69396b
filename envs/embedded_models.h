// embedded_models.h: the MJCF model files of envs/models compiled into the library as text. The
// source defining embedded_model() is generated at build time by cmake/embed_models.cmake, so
// editing a model file and rebuilding updates it.
#pragma once
#include <string>

namespace sac {

/// The text of model file `name` (e.g. "hopper.xml"), or nullptr when no such file is compiled in.
const char* embedded_model(const std::string& name);

}  // namespace sac
