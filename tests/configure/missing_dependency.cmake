# missing_dependency.cmake: configures the project with one required piece hidden and checks that
# the configure fails with one error that names the piece and the Debian package to install, in
# place of CMake's own search-path message (cmake/required_package.cmake, required_compiler.cmake,
# mujoco.cmake, python_module.cmake). One CASE per ctest configure_missing_<CASE>:
#   cmake -DSOURCE_DIR=. -DWORK_DIR=build/configure_missing/mujoco -DGENERATOR=Ninja -DCASE=mujoco \
#         -DMUJOCO_ROOT=.deps/mujoco-4.0.1 -P tests/configure/missing_dependency.cmake
# CASE: compiler (CMAKE_CXX_COMPILER a missing file), nlohmann_json, BLAS, CLI11, pybind11, GTest
# (CMAKE_DISABLE_FIND_PACKAGE_<name>), mujoco (SAC_MUJOCO_ROOT a folder without MuJoCo),
# mujoco_version (a folder holding another version's mujoco.h). MUJOCO_ROOT is the real MuJoCo,
# which the other cases need to get as far as their piece.
foreach(_var SOURCE_DIR WORK_DIR GENERATOR CASE MUJOCO_ROOT)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "missing_dependency.cmake needs -D${_var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
# only what the case needs: no CUDA, tests or module unless the case is about them
set(_args -DSAC_ENABLE_CUDA=OFF -DSAC_BUILD_TESTS=OFF -DSAC_BUILD_PYTHON=OFF -DSAC_BUILD_BENCH=OFF)
if(NOT CASE MATCHES "^mujoco")
  list(APPEND _args "-DSAC_MUJOCO_ROOT=${MUJOCO_ROOT}")
endif()
if(CASE STREQUAL "compiler")
  list(APPEND _args "-DCMAKE_CXX_COMPILER=${WORK_DIR}/no-such-c++")
  set(_expect "missing C++ compiler" "no-such-c++" "apt-get install g++")
elseif(CASE STREQUAL "mujoco")
  list(APPEND _args "-DSAC_MUJOCO_ROOT=${WORK_DIR}/no-such-mujoco")
  set(_expect "missing MuJoCo 4.0.1" "no-such-mujoco" "mujoco-core==4.0.1" "./sac.sh setup")
elseif(CASE STREQUAL "mujoco_version")
  # MuJoCo 2.2.2's header version beside a library file of the right name
  file(WRITE "${WORK_DIR}/old-mujoco/include/mujoco/mujoco.h" "#define mjVERSION_HEADER 222\n")
  file(WRITE "${WORK_DIR}/old-mujoco/libmujoco.so.4.0.1" "")
  list(APPEND _args "-DSAC_MUJOCO_ROOT=${WORK_DIR}/old-mujoco")
  set(_expect "wrong MuJoCo version" "version 222" "needs 4.0.1" "mujoco-core==4.0.1")
else()
  list(APPEND _args "-DCMAKE_DISABLE_FIND_PACKAGE_${CASE}=TRUE")
  set(_debian_nlohmann_json nlohmann-json3-dev)
  set(_debian_BLAS libopenblas-dev)
  set(_debian_CLI11 libcli11-dev)
  set(_debian_pybind11 pybind11-dev)
  set(_debian_GTest libgtest-dev)
  if(NOT DEFINED _debian_${CASE})
    message(FATAL_ERROR "missing_dependency.cmake: unknown CASE '${CASE}'")
  endif()
  set(_expect "apt-get install ${_debian_${CASE}}")
  if(CASE STREQUAL "pybind11")
    list(APPEND _args -DSAC_BUILD_PYTHON=ON)
    list(APPEND _expect "pybind11's CMake package")
  else()
    list(APPEND _expect "missing dependency ${CASE}")
  endif()
  if(CASE STREQUAL "GTest")
    list(APPEND _args -DSAC_BUILD_TESTS=ON)
  endif()
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/build"
                        -G "${GENERATOR}" ${_args}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
set(_all "${_out}${_err}")
# CMake wraps long messages: compare with the line breaks and indents taken out
string(REGEX REPLACE "\n *" " " _flat "${_all}")
if(_rc EQUAL 0)
  message(FATAL_ERROR "configure with ${CASE} missing succeeded; it must fail:\n${_all}")
endif()
foreach(_text IN LISTS _expect)
  string(FIND "${_flat}" "${_text}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "configure with ${CASE} missing does not say '${_text}':\n${_all}")
  endif()
endforeach()
# one error, ours, and not CMake's page of search paths
string(REGEX MATCHALL "CMake Error" _errors "${_all}")
list(LENGTH _errors _n)
if(NOT _n EQUAL 1)
  message(FATAL_ERROR "configure with ${CASE} missing gives ${_n} errors, not one:\n${_all}")
endif()
foreach(_generic "Could not find a package configuration file" "Could NOT find" "non-existent path"
                 "CMAKE_CXX_COMPILER not set")
  string(FIND "${_flat}" "${_generic}" _at)
  if(NOT _at EQUAL -1)
    message(FATAL_ERROR "configure with ${CASE} missing prints CMake's own '${_generic}':\n${_all}")
  endif()
endforeach()
# the error as the user sees it, for the test log
string(FIND "${_flat}" "CMake Error" _at)
string(SUBSTRING "${_flat}" ${_at} -1 _error)
message(STATUS "${CASE} missing: ${_error}")
