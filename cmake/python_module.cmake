# python_module.cmake: the `sac_engine` Python module (python/), built with pybind11 into
# ${SAC_PYTHON_DIR} (build/python): `PYTHONPATH=build/python python3 -c "import sac_engine"`.
# SAC_BUILD_PYTHON is on by default when an interpreter with numpy and pybind11's CMake package
# are found; set it ON explicitly (./sac.sh does) to make their absence an error instead of a skip.
# The interpreter: Python3_EXECUTABLE when given, else the first of /usr/bin/python3 (Debian's
# python3-numpy and python3-pybind11 install there) and PATH's python3 that imports numpy.
if(NOT Python3_EXECUTABLE)
  find_program(_sac_path_python python3 NO_CACHE)
  foreach(_py /usr/bin/python3 ${_sac_path_python})
    if(EXISTS "${_py}")
      execute_process(COMMAND "${_py}" -c "import numpy" RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
      if(_rc EQUAL 0)
        set(Python3_EXECUTABLE "${_py}" CACHE FILEPATH "Python interpreter of the sac_engine module")
        break()
      endif()
    endif()
  endforeach()
endif()

# the first missing piece, named with its Debian package (the error when SAC_BUILD_PYTHON is ON)
set(_sac_python_found OFF)
set(_sac_python_missing "a Python 3 that imports numpy")
set(_sac_python_debian python3-numpy)
if(Python3_EXECUTABLE)
  find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
  set(_sac_python_missing "the headers of ${Python3_EXECUTABLE}")
  set(_sac_python_debian python3-dev)
  if(Python3_FOUND)
    # pybind11's CMake files find the interpreter above (Debian: /usr/lib/cmake/pybind11)
    execute_process(COMMAND "${Python3_EXECUTABLE}" -c "import pybind11; print(pybind11.get_cmake_dir())"
                    OUTPUT_VARIABLE _pybind11_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    find_package(pybind11 CONFIG QUIET HINTS "${_pybind11_dir}")
    set(_sac_python_missing "pybind11's CMake package")
    set(_sac_python_debian pybind11-dev)
    if(pybind11_FOUND)
      set(_sac_python_found ON)
    endif()
  endif()
endif()

option(SAC_BUILD_PYTHON "Build the sac_engine Python module (pybind11)" ${_sac_python_found})
if(SAC_BUILD_PYTHON AND NOT _sac_python_found)
  message(FATAL_ERROR "sac: missing dependency of the Python module (SAC_BUILD_PYTHON is ON): "
                      "${_sac_python_missing}. Install the Debian package ${_sac_python_debian} "
                      "(apt-get install ${_sac_python_debian}), "
                      "pass -DPython3_EXECUTABLE=... for another interpreter, or configure with "
                      "-DSAC_BUILD_PYTHON=OFF.")
endif()

set(SAC_PYTHON_DIR ${CMAKE_CURRENT_BINARY_DIR}/python)
if(SAC_BUILD_PYTHON)
  message(STATUS "sac: Python module ON (${Python3_EXECUTABLE}, pybind11 ${pybind11_VERSION})")
  file(GLOB SAC_PYTHON_BINDINGS CONFIGURE_DEPENDS python/bindings/*.cpp)
  pybind11_add_module(sac_engine_core MODULE ${SAC_PYTHON_BINDINGS})
  set_target_properties(sac_engine_core PROPERTIES OUTPUT_NAME _core
                        LIBRARY_OUTPUT_DIRECTORY ${SAC_PYTHON_DIR}/sac_engine)
  target_include_directories(sac_engine_core PRIVATE engine envs)
  target_link_libraries(sac_engine_core PRIVATE sac_core)
  target_compile_options(sac_engine_core PRIVATE -Wall -Wextra)

  # the package's Python files, copied beside the compiled module
  file(GLOB SAC_PYTHON_FILES CONFIGURE_DEPENDS python/sac_engine/*.py)
  set(_copied)
  foreach(_f ${SAC_PYTHON_FILES})
    get_filename_component(_name ${_f} NAME)
    add_custom_command(OUTPUT ${SAC_PYTHON_DIR}/sac_engine/${_name}
                       COMMAND ${CMAKE_COMMAND} -E copy ${_f} ${SAC_PYTHON_DIR}/sac_engine/${_name}
                       DEPENDS ${_f})
    list(APPEND _copied ${SAC_PYTHON_DIR}/sac_engine/${_name})
  endforeach()
  add_custom_target(sac_engine_python ALL DEPENDS ${_copied})
  add_dependencies(sac_engine_core sac_engine_python)

  # the wheel (pyproject.toml, scikit-build-core) installs only the component `python`: the
  # compiled module into the package folder; the .py files come from python/sac_engine
  # (pyproject's wheel.packages)
  if(SKBUILD)
    # libmujoco comes from the mujoco-core package the wheel depends on, installed beside it
    # (site-packages/mujoco/libmujoco.so.<version>)
    set_target_properties(sac_engine_core PROPERTIES INSTALL_RPATH "$ORIGIN/../mujoco")
    install(TARGETS sac_engine_core LIBRARY DESTINATION sac_engine COMPONENT python)
  endif()
elseif(_sac_python_found)
  message(STATUS "sac: Python module OFF (SAC_BUILD_PYTHON=OFF)")
else()
  message(STATUS "sac: Python module OFF (no Python 3 with numpy, its headers and pybind11 found)")
endif()
