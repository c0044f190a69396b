# replay.cmake: the fuzz targets' inputs replayed in the normal build (no libFuzzer, any
# compiler): one program per target (its fuzz_<name>.cpp with replay_main.cpp) and one ctest
# per target, fuzz_replay.<name>, over its corpus and its kept crash inputs. With the sanitize
# build (./sac.sh sanitize) the same inputs run under gcc's ASan and UBSan.
foreach(_name ${SAC_FUZZ_TARGETS})
  add_executable(fuzz_replay_${_name} tests/fuzz/fuzz_${_name}.cpp tests/fuzz/replay_main.cpp)
  target_include_directories(fuzz_replay_${_name} PRIVATE tests/fuzz kernels engine envs
                             ${SAC_GENERATED_DIR})
  target_link_libraries(fuzz_replay_${_name} PRIVATE sac_core)
  target_compile_definitions(fuzz_replay_${_name} PRIVATE
                             SAC_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
  set(_inputs ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/corpus/${_name})
  if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/regressions/${_name})
    list(APPEND _inputs ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/regressions/${_name})
  endif()
  # the repository root: a sweep file's "base" is relative to the working folder
  add_test(NAME fuzz_replay.${_name} COMMAND fuzz_replay_${_name} ${_inputs}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(fuzz_replay.${_name} PROPERTIES LABELS fuzz_replay TIMEOUT 300)
endforeach()
