# required_compiler.cmake: included before project(), so that a missing C++ compiler stops the
# configure with one message naming the Debian package to install (CMake's own says only that
# CMAKE_CXX_COMPILER is not set or not a full path). The compiler is CMAKE_CXX_COMPILER when given,
# else $CXX, else the first of CMake's usual names on PATH. Tested by
# tests/configure/missing_dependency.cmake (ctest configure_missing_compiler).
if(DEFINED CMAKE_CXX_COMPILER)
  set(_sac_cxx "${CMAKE_CXX_COMPILER}")
  set(_sac_cxx_from "CMAKE_CXX_COMPILER")
elseif(DEFINED ENV{CXX})
  set(_sac_cxx "$ENV{CXX}")
  set(_sac_cxx_from "the environment variable CXX")
else()
  set(_sac_cxx "")
  set(_sac_cxx_from "")
endif()

if(_sac_cxx_from)
  # a name is looked up on PATH, a path must exist ($CXX may carry flags after the program)
  separate_arguments(_sac_cxx_words UNIX_COMMAND "${_sac_cxx}")
  list(GET _sac_cxx_words 0 _sac_cxx_program)
  if(IS_ABSOLUTE "${_sac_cxx_program}")
    set(_sac_cxx_found "${_sac_cxx_program}")
    if(NOT EXISTS "${_sac_cxx_program}")
      set(_sac_cxx_found "")
    endif()
  else()
    find_program(_sac_cxx_found "${_sac_cxx_program}" NO_CACHE)
  endif()
  if(NOT _sac_cxx_found)
    message(FATAL_ERROR
      "sac: missing C++ compiler: ${_sac_cxx_from} is '${_sac_cxx}', which does not exist. "
      "Install a C++17 compiler (Debian: apt-get install g++) and set ${_sac_cxx_from} to it, "
      "or leave it unset to use the one on PATH.")
  endif()
else()
  find_program(_sac_cxx_found NAMES c++ g++ clang++ NO_CACHE)
  if(NOT _sac_cxx_found)
    message(FATAL_ERROR
      "sac: missing C++ compiler: none of c++, g++, clang++ is on PATH. Install a C++17 "
      "compiler (Debian: apt-get install g++), or set CXX or CMAKE_CXX_COMPILER to one.")
  endif()
endif()
