// gl_context.cpp: see gl_context.h.
#include "video/gl_context.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/osmesa.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sac/errors.h"

namespace sac {
namespace {

constexpr const char* kEglLibrary = "libEGL.so.1";
constexpr const char* kOsmesaLibrary = "libOSMesa.so.8";
constexpr const char* kPackages =
    "install libegl1 and libegl-mesa0 with libgl1-mesa-dri (EGL), or libosmesa6 (OSMesa)";

template <typename F>
F symbol(void* library, const char* name) {
  return reinterpret_cast<F>(dlsym(library, name));
}

// the renderer's name from the current context (through the platform's GetProcAddress)
std::string renderer_name(void* (*get_proc)(const char*)) {
  using GetString = const unsigned char* (*)(unsigned int);
  auto get_string = reinterpret_cast<GetString>(get_proc("glGetString"));
  const unsigned char* s = get_string ? get_string(GL_RENDERER) : nullptr;
  return s ? reinterpret_cast<const char*>(s) : "unknown renderer";
}

class EglContext : public GlContext {
 public:
  // empty `error` on success; else why this platform failed
  explicit EglContext(std::string& error) {
    // local until a context exists, so a failed EGL never shadows OSMesa for MuJoCo
    m_library = dlopen(kEglLibrary, RTLD_NOW | RTLD_LOCAL);
    if (!m_library) {
      error = std::string(kEglLibrary) + " cannot be loaded (" + dlerror() + ")";
      return;
    }
    m_get_proc = symbol<decltype(&eglGetProcAddress)>(m_library, "eglGetProcAddress");
    m_initialize = symbol<decltype(&eglInitialize)>(m_library, "eglInitialize");
    m_query_string = symbol<decltype(&eglQueryString)>(m_library, "eglQueryString");
    m_choose_config = symbol<decltype(&eglChooseConfig)>(m_library, "eglChooseConfig");
    m_bind_api = symbol<decltype(&eglBindAPI)>(m_library, "eglBindAPI");
    m_create_context = symbol<decltype(&eglCreateContext)>(m_library, "eglCreateContext");
    m_make_current = symbol<decltype(&eglMakeCurrent)>(m_library, "eglMakeCurrent");
    m_destroy_context = symbol<decltype(&eglDestroyContext)>(m_library, "eglDestroyContext");
    if (!m_get_proc || !m_initialize || !m_query_string || !m_choose_config ||
        !m_bind_api || !m_create_context || !m_make_current || !m_destroy_context) {
      error = std::string(kEglLibrary) + " lacks EGL 1.4 functions";
      return;
    }
    error = open_display();
    if (error.empty()) error = make_context();
    if (error.empty()) dlopen(kEglLibrary, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  }

  ~EglContext() override {
    if (m_context != EGL_NO_CONTEXT) {
      m_make_current(m_display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      m_destroy_context(m_display, m_context);
    }
    // the display stays initialised (initialising it again is a no-op): terminating it unloads
    // Mesa's driver with allocations it never frees, which LeakSanitizer then reports
    // the library stays loaded when a context was made: MuJoCo holds its GL functions
    if (m_library && m_context == EGL_NO_CONTEXT) dlclose(m_library);
  }

  bool ok() const { return m_context != EGL_NO_CONTEXT; }


  std::string description() const override {
    return "egl (" + m_platform + ", " +
           renderer_name(reinterpret_cast<void* (*)(const char*)>(m_get_proc)) + ")";
  }

 private:
  // an EGL device first (no window system at all), then Mesa's surfaceless platform; never
  // the default display, which may be an X server's
  std::string open_display() {
    const char* client = m_query_string(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    auto has = [&](const char* ext) { return client && std::strstr(client, ext) != nullptr; };
    auto get_platform_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
        m_get_proc("eglGetPlatformDisplayEXT"));
    if (!get_platform_display)
      return "EGL has no eglGetPlatformDisplayEXT (EGL_EXT_platform_base)";
    if (has("EGL_EXT_platform_device")) {
      auto query_devices =
          reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(m_get_proc("eglQueryDevicesEXT"));
      EGLDeviceEXT devices[16];
      EGLint count = 0;
      if (query_devices && query_devices(16, devices, &count))
        for (EGLint i = 0; i < count; ++i) {
          EGLDisplay d = get_platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr);
          if (d != EGL_NO_DISPLAY && m_initialize(d, nullptr, nullptr)) {
            m_display = d;
            m_platform = "device " + std::to_string(i);
            return "";
          }
        }
    }
    if (has("EGL_MESA_platform_surfaceless")) {
      EGLDisplay d = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY,
                                          nullptr);
      if (d != EGL_NO_DISPLAY && m_initialize(d, nullptr, nullptr)) {
        m_display = d;
        m_platform = "surfaceless";
        return "";
      }
    }
    return "no EGL device or surfaceless display could be initialised (client extensions: " +
           std::string(client ? client : "none") + ")";
  }

  // desktop OpenGL (MuJoCo's renderer needs the compatibility profile); no surface: MuJoCo
  // draws into its own offscreen framebuffer
  std::string make_context() {
    const EGLint attributes[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                                 EGL_OPENGL_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                                 EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24,
                                 EGL_NONE};
    EGLConfig config;
    EGLint count = 0;
    if (!m_choose_config(m_display, attributes, &config, 1, &count) || count < 1)
      return "EGL (" + m_platform + ") has no 8-bit RGBA OpenGL config";
    if (!m_bind_api(EGL_OPENGL_API)) return "EGL (" + m_platform + ") does not offer OpenGL";
    m_context = m_create_context(m_display, config, EGL_NO_CONTEXT, nullptr);
    if (m_context == EGL_NO_CONTEXT) return "EGL (" + m_platform + ") made no OpenGL context";
    if (!m_make_current(m_display, EGL_NO_SURFACE, EGL_NO_SURFACE, m_context)) {
      m_destroy_context(m_display, m_context);
      m_context = EGL_NO_CONTEXT;
      return "EGL (" + m_platform + ") cannot make a context current without a surface";
    }
    return "";
  }

  void* m_library = nullptr;
  decltype(&eglGetProcAddress) m_get_proc = nullptr;
  decltype(&eglInitialize) m_initialize = nullptr;
  decltype(&eglQueryString) m_query_string = nullptr;
  decltype(&eglChooseConfig) m_choose_config = nullptr;
  decltype(&eglBindAPI) m_bind_api = nullptr;
  decltype(&eglCreateContext) m_create_context = nullptr;
  decltype(&eglMakeCurrent) m_make_current = nullptr;
  decltype(&eglDestroyContext) m_destroy_context = nullptr;
  EGLDisplay m_display = EGL_NO_DISPLAY;
  EGLContext m_context = EGL_NO_CONTEXT;
  std::string m_platform;
};

class OsmesaContext : public GlContext {
 public:
  explicit OsmesaContext(std::string& error) {
    m_library = dlopen(kOsmesaLibrary, RTLD_NOW | RTLD_GLOBAL);
    if (!m_library) {
      error = std::string(kOsmesaLibrary) + " cannot be loaded (" + dlerror() + ")";
      return;
    }
    auto create = symbol<decltype(&OSMesaCreateContextExt)>(m_library, "OSMesaCreateContextExt");
    auto make_current = symbol<decltype(&OSMesaMakeCurrent)>(m_library, "OSMesaMakeCurrent");
    m_get_proc = symbol<decltype(&OSMesaGetProcAddress)>(m_library, "OSMesaGetProcAddress");
    m_destroy = symbol<decltype(&OSMesaDestroyContext)>(m_library, "OSMesaDestroyContext");
    if (!create || !make_current || !m_get_proc || !m_destroy) {
      error = std::string(kOsmesaLibrary) + " lacks the OSMesa functions";
      return;
    }
    m_context = create(OSMESA_RGBA, 24, 8, 0, nullptr);
    if (!m_context) {
      error = "OSMesa made no context";
      return;
    }
    // a small default framebuffer: MuJoCo draws into its own offscreen one
    m_buffer.assign(kSide * kSide * 4, 0);
    if (!make_current(m_context, m_buffer.data(), GL_UNSIGNED_BYTE, kSide, kSide)) {
      m_destroy(m_context);
      m_context = nullptr;
      error = "OSMesa cannot make its context current";
    }
  }

  ~OsmesaContext() override {
    if (m_context) m_destroy(m_context);
    if (m_library && !m_context) dlclose(m_library);
  }

  bool ok() const { return m_context != nullptr; }

  std::string description() const override {
    return "osmesa (" + renderer_name(reinterpret_cast<void* (*)(const char*)>(m_get_proc)) + ")";
  }

 private:
  static constexpr int kSide = 16;
  void* m_library = nullptr;
  decltype(&OSMesaGetProcAddress) m_get_proc = nullptr;
  decltype(&OSMesaDestroyContext) m_destroy = nullptr;
  OSMesaContext m_context = nullptr;
  std::vector<unsigned char> m_buffer;
};

template <typename Context>
std::unique_ptr<GlContext> try_make(std::string& error) {
  auto context = std::make_unique<Context>(error);
  if (context->ok()) return context;
  return nullptr;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// sanitizer builds: OSMesa frees not all it allocates for a context (Mesa's leak, not ours)
extern "C" const char* __lsan_default_suppressions() { return "leak:libOSMesa.so\n"; }
#endif

std::unique_ptr<GlContext> GlContext::create() {
  const char* env = std::getenv("MUJOCO_GL");
  const std::string choice = env ? env : "";
  if (!choice.empty() && choice != "egl" && choice != "osmesa")
    throw InputError("MUJOCO_GL must be egl or osmesa for headless rendering, got '" + choice +
                     "'");
  std::string egl_error, osmesa_error;
  if (choice != "osmesa")
    if (auto c = try_make<EglContext>(egl_error)) return c;
  if (choice != "egl")
    if (auto c = try_make<OsmesaContext>(osmesa_error)) return c;
  std::string why;
  if (choice != "osmesa") why += "EGL: " + egl_error;
  if (choice != "egl") why += std::string(why.empty() ? "" : "; ") + "OSMesa: " + osmesa_error;
  throw InputError("no headless OpenGL context for rendering (" +
                   (choice.empty() ? std::string("MUJOCO_GL unset, tried EGL then OSMesa")
                                   : "MUJOCO_GL=" + choice) +
                   "): " + why + "; " + kPackages);
}

}  // namespace sac
