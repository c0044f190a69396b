// gl_context.h: a headless OpenGL context for MuJoCo's renderer, never from an X display.
// MUJOCO_GL=egl|osmesa chooses the platform as MuJoCo's Python bindings do; unset, EGL is tried
// first (an EGL device: NVIDIA's on a GPU machine, Mesa's software device on a CPU one; then
// Mesa's surfaceless platform), then OSMesa. The libraries (libEGL.so.1, libOSMesa.so.8) are
// loaded at run time (dlopen), so `sac` links none of them and commands that do not render never
// load them. MuJoCo 2.2.2 finds its GL functions through the platform library loaded here
// (eglGetProcAddress or OSMesaGetProcAddress, looked up in the process's global symbols), so the
// chosen library is loaded RTLD_GLOBAL and the other one not at all (or unloaded again).
// Tested by tests/test_video.cpp.
#pragma once
#include <memory>
#include <string>

namespace sac {

class GlContext {
 public:
  /// Makes a context current on the calling thread (it stays bound to that thread). Throws
  /// InputError with one message naming the platform(s) tried and what is missing when no
  /// context can be made, or when MUJOCO_GL names another platform.
  static std::unique_ptr<GlContext> create();
  virtual ~GlContext() = default;
  /// "egl (device 0)", "egl (surfaceless)" or "osmesa", with the GL renderer's name.
  virtual std::string description() const = 0;
};

}  // namespace sac
