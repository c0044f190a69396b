# video.cmake: what engine/video/ compiles against. FFmpeg's headers (libavformat-dev,
# libavcodec-dev, libswscale-dev, libavutil-dev), EGL's (libegl-dev) and OSMesa's
# (libosmesa6-dev): the libraries themselves are loaded at run time (dlopen), so `sac` links none
# of them. The tests and the frame tool decode videos with FFmpeg linked directly (SAC_FFMPEG).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SAC_FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
find_path(SAC_EGL_INCLUDE_DIR EGL/egl.h)
find_path(SAC_OSMESA_INCLUDE_DIR GL/osmesa.h)
if(NOT SAC_EGL_INCLUDE_DIR OR NOT SAC_OSMESA_INCLUDE_DIR)
  message(FATAL_ERROR "sac: videos need EGL/egl.h (libegl-dev) and GL/osmesa.h (libosmesa6-dev)")
endif()
set(SAC_VIDEO_INCLUDE_DIRS ${SAC_FFMPEG_INCLUDE_DIRS} ${SAC_EGL_INCLUDE_DIR} ${SAC_OSMESA_INCLUDE_DIR})
