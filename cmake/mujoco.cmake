# mujoco.cmake: sac_find_mujoco(), the one MuJoCo of the project: MuJoCo 4.0.1 as PyPI's
# `mujoco-core` wheel ships it, a folder holding libmujoco.so.4.0.1 and include/mujoco/*.h (the
# wheel's `mujoco/` package folder). It defines the imported target mujoco::mujoco, which every
# binary, the installed C++ package and the Python module link, and which puts that folder on
# their rpath (no LD_LIBRARY_PATH).
#
# Where it looks, first found wins:
#   SAC_MUJOCO_ROOT          a cache variable or environment variable (./sac.sh sets it to the
#                            folder it fetched: .deps/mujoco-4.0.1)
#   the `mujoco` package of Python3_EXECUTABLE, when mujoco-core is installed there (how
#                            `pip install .` finds it: pyproject.toml requires it for the build)
# A missing or wrong-version MuJoCo stops the configure with one message naming the package and
# how to get it (tests/configure/missing_dependency.cmake, cases mujoco and mujoco_version).

set(SAC_MUJOCO_VERSION 4.0.1)
set(SAC_MUJOCO_VERSION_HEADER 4000001)  # mjVERSION_HEADER of mujoco.h 4.0.1

# the folder of `mujoco` in the site-packages of `python`, or "" (found without importing it)
function(_sac_python_mujoco_dir python out)
  set(${out} "" PARENT_SCOPE)
  if(NOT python)
    return()
  endif()
  execute_process(COMMAND "${python}" -c
    "import importlib.util as u; s = u.find_spec('mujoco'); print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')"
    OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _dir)
    set(${out} "${_dir}" PARENT_SCOPE)
  endif()
endfunction()

function(sac_find_mujoco)
  if(TARGET mujoco::mujoco)
    return()
  endif()
  set(_how "Run ./sac.sh setup (it fetches PyPI's mujoco-core==${SAC_MUJOCO_VERSION} wheel into "
           ".deps/), or `pip install mujoco-core==${SAC_MUJOCO_VERSION}` and configure with "
           "-DSAC_MUJOCO_ROOT=<that site-packages>/mujoco.")
  string(CONCAT _how ${_how})

  set(_root "")
  set(_from "")
  if(SAC_MUJOCO_ROOT)
    set(_root "${SAC_MUJOCO_ROOT}")
    set(_from "SAC_MUJOCO_ROOT")
  elseif(DEFINED ENV{SAC_MUJOCO_ROOT})
    set(_root "$ENV{SAC_MUJOCO_ROOT}")
    set(_from "the environment variable SAC_MUJOCO_ROOT")
  else()
    _sac_python_mujoco_dir("${Python3_EXECUTABLE}" _root)
    set(_from "the mujoco package of ${Python3_EXECUTABLE}")
  endif()
  if(NOT _root)
    message(FATAL_ERROR "sac: missing MuJoCo ${SAC_MUJOCO_VERSION} (PyPI package mujoco-core), "
                        "needed for the physics of the tasks: SAC_MUJOCO_ROOT is not set and no "
                        "Python mujoco package was found. ${_how}")
  endif()

  set(_header "${_root}/include/mujoco/mujoco.h")
  set(_library "${_root}/libmujoco.so.${SAC_MUJOCO_VERSION}")
  if(NOT EXISTS "${_header}" OR NOT EXISTS "${_library}")
    # another version's library beside the headers says which one is there
    file(GLOB _other "${_root}/libmujoco.so.*")
    set(_seen "")
    if(_other)
      list(JOIN _other ", " _seen)
      set(_seen " (found instead: ${_seen})")
    endif()
    message(FATAL_ERROR "sac: missing MuJoCo ${SAC_MUJOCO_VERSION} (PyPI package mujoco-core), "
                        "needed for the physics of the tasks: ${_from} is '${_root}', which holds "
                        "no include/mujoco/mujoco.h and libmujoco.so.${SAC_MUJOCO_VERSION}${_seen}. "
                        "${_how}")
  endif()
  file(STRINGS "${_header}" _line REGEX "^#define mjVERSION_HEADER [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _header_version "${_line}")
  if(NOT _header_version STREQUAL SAC_MUJOCO_VERSION_HEADER)
    message(FATAL_ERROR "sac: wrong MuJoCo version under '${_root}' (${_from}): its mujoco.h is "
                        "version ${_header_version}, the project needs ${SAC_MUJOCO_VERSION} "
                        "(mjVERSION_HEADER ${SAC_MUJOCO_VERSION_HEADER}). ${_how}")
  endif()

  add_library(mujoco::mujoco SHARED IMPORTED GLOBAL)
  set_target_properties(mujoco::mujoco PROPERTIES
                        IMPORTED_LOCATION "${_library}"
                        IMPORTED_SONAME "libmujoco.so.${SAC_MUJOCO_VERSION}"
                        INTERFACE_INCLUDE_DIRECTORIES "${_root}/include")
  set(SAC_MUJOCO_DIR "${_root}" CACHE INTERNAL "the folder of the MuJoCo the project links")
  message(STATUS "sac: MuJoCo ${SAC_MUJOCO_VERSION} from ${_root}")
endfunction()
