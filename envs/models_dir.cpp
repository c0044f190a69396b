// models_dir.cpp: where the MJCF model files are found at run time.
#include <cstdlib>
#include <string>

#include "sac/env.h"

namespace sac {

std::string model_dir() {
  if (const char* dir = std::getenv("SAC_MODEL_DIR")) return dir;
  return SAC_MODEL_DIR;
}

}  // namespace sac
