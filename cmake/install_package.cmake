# install_package.cmake: what `cmake --install` puts in place so another CMake project can write
#   find_package(sac_engine REQUIRED)
#   target_link_libraries(app PRIVATE sac::engine)
# The public headers (include/sac), the static libraries (sac::engine, plus sac::cuda when the
# CUDA backend is built) and the package config. The model files travel inside the library
# (cmake/embed_models.cmake), and MuJoCo's library and headers in a folder of the package's own
# (lib/sac_engine/mujoco-<version>), which the package config finds with cmake/mujoco.cmake, so a
# consumer links and loads (by rpath) the very MuJoCo the engine was built with. Tested by
# tests/consumer/.
include(CMakePackageConfigHelpers)

set(SAC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/sac_engine)
set(_sac_installed_targets sac_core)
if(SAC_ENABLE_CUDA)
  list(APPEND _sac_installed_targets sac_cuda)
endif()

install(TARGETS ${_sac_installed_targets} EXPORT sac_engineTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/sac DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT sac_engineTargets NAMESPACE sac:: DESTINATION ${SAC_INSTALL_CMAKEDIR})
set(SAC_INSTALL_MUJOCODIR ${CMAKE_INSTALL_LIBDIR}/sac_engine/mujoco-${SAC_MUJOCO_VERSION})
install(FILES ${SAC_MUJOCO_DIR}/libmujoco.so.${SAC_MUJOCO_VERSION}
        DESTINATION ${SAC_INSTALL_MUJOCODIR})
install(DIRECTORY ${SAC_MUJOCO_DIR}/include DESTINATION ${SAC_INSTALL_MUJOCODIR})
install(FILES cmake/mujoco.cmake cmake/sac_plugin.cmake DESTINATION ${SAC_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/sac_engineConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/sac_engineConfig.cmake
                              INSTALL_DESTINATION ${SAC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/sac_engineConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/sac_engineConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/sac_engineConfigVersion.cmake
        DESTINATION ${SAC_INSTALL_CMAKEDIR})
