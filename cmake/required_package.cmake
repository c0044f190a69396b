# required_package.cmake: sac_require_package(), find_package for a dependency the build cannot do
# without. A missing one stops the configure with one message naming it and the Debian package that
# provides it, instead of CMake's page of <Package>Config.cmake search paths (which `pip install .`
# shows as well). Tested by tests/configure/missing_dependency.cmake (ctest configure_missing_*).
#
#   sac_require_package(<Package> [find_package arguments...] DEBIAN <package> FOR <what for>)

macro(sac_require_package _sac_package)
  cmake_parse_arguments(_sac_required "" "DEBIAN;FOR" "" ${ARGN})
  find_package(${_sac_package} ${_sac_required_UNPARSED_ARGUMENTS} QUIET)
  if(NOT ${_sac_package}_FOUND)
    # a package found but unusable says why (e.g. mujoco's dependency OpenGL)
    set(_sac_required_why "")
    if(${_sac_package}_NOT_FOUND_MESSAGE)
      set(_sac_required_why " (${${_sac_package}_NOT_FOUND_MESSAGE})")
    endif()
    message(FATAL_ERROR
      "sac: missing dependency ${_sac_package}${_sac_required_why}, needed for "
      "${_sac_required_FOR}. Install the Debian package ${_sac_required_DEBIAN} "
      "(apt-get install ${_sac_required_DEBIAN}), or set CMAKE_PREFIX_PATH to where "
      "${_sac_package} is installed.")
  endif()
endmacro()
