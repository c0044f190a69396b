// gl_available.h: whether this machine can make a headless OpenGL context (the video tests skip,
// saying why, only where it cannot; CI installs EGL and OSMesa, so there they run).
#pragma once
#include <gtest/gtest.h>

#include <exception>
#include <string>

#include "video/gl_context.h"

namespace sac {
namespace test {

/// "" when a context can be made here; else why not. Tried once per process.
inline std::string gl_unavailable() {
  static const std::string why = [] {
    try {
      GlContext::create();
      return std::string();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  }();
  return why;
}

}  // namespace test
}  // namespace sac

/// Skips the calling test, with the reason, where no OpenGL context can be made.
#define SKIP_WITHOUT_GL()                    \
  if (!sac::test::gl_unavailable().empty()) \
  GTEST_SKIP() << "no OpenGL context: " << sac::test::gl_unavailable()
