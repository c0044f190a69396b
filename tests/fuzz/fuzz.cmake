# fuzz.cmake: the libFuzzer targets of the parsers of every file the engine reads (tests/fuzz,
# README.md there). Included with -DSAC_BUILD_FUZZ=ON in a clang build folder of its own;
# `./sac.sh fuzz` configures it, builds the target sac_fuzzers (these targets and the part of
# the engine they link, nothing else), replays each corpus and fuzzes each target for a while.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "SAC_BUILD_FUZZ=ON needs clang (libFuzzer): configure a separate build "
                      "folder with -DCMAKE_CXX_COMPILER=clang++ (Debian: clang, libclang-rt-dev)")
endif()

# the engine without its command line and videos, which no parser needs. The engine/ code (the
# parsers, the components they restore into) is instrumented for coverage and built with ASan
# and UBSan (a UBSan report is a crash the fuzzer keeps); the numeric kernels, the tasks and the
# embedded models only with -O1, to keep the build within CI's time (their memory is still
# checked where it matters: ASan's allocator and memcpy are the whole process's). -O1 is the
# usual level for fuzzing.
set(_fuzz_sources ${SAC_SOURCES} ${SAC_BACKEND_FACTORY} ${SAC_EMBEDDED_MODELS}
                  ${SAC_TENSORBOARD_PROTO_SOURCES})
list(FILTER _fuzz_sources EXCLUDE REGEX "/engine/(cli|video)/")
list(FILTER _fuzz_sources EXCLUDE REGEX
     "/engine/run/(trainer|training_run|background_video|background_eval|train_summary)\\.cpp$")
set(_fuzz_instrumented ${_fuzz_sources})
list(FILTER _fuzz_instrumented INCLUDE REGEX "/engine/|\\.pb\\.cc$")
set(_fuzz_plain ${_fuzz_sources})
list(REMOVE_ITEM _fuzz_plain ${_fuzz_instrumented})
set(SAC_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                   -fno-omit-frame-pointer -g1 -O1)
add_library(sac_fuzz_instrumented OBJECT ${_fuzz_instrumented})
add_library(sac_fuzz_plain OBJECT ${_fuzz_plain})
target_compile_options(sac_fuzz_instrumented PRIVATE ${SAC_FUZZ_FLAGS})
target_compile_options(sac_fuzz_plain PRIVATE -O1)
foreach(_part sac_fuzz_instrumented sac_fuzz_plain)
  target_include_directories(${_part} PRIVATE include kernels engine envs ${CBLAS_INCLUDE_DIR}
                             ${SAC_GENERATED_DIR} ${SAC_VIDEO_INCLUDE_DIRS})
  target_link_libraries(${_part} PRIVATE ${SAC_CORE_DEPENDENCIES})
  target_compile_definitions(${_part} PRIVATE
                             SAC_MODEL_DIR="${CMAKE_CURRENT_SOURCE_DIR}/envs/models")
endforeach()
add_library(sac_fuzz_core STATIC $<TARGET_OBJECTS:sac_fuzz_instrumented>
                                 $<TARGET_OBJECTS:sac_fuzz_plain>)
target_include_directories(sac_fuzz_core INTERFACE include kernels engine envs
                           ${SAC_GENERATED_DIR})
target_link_libraries(sac_fuzz_core INTERFACE ${SAC_CORE_DEPENDENCIES})
target_link_options(sac_fuzz_core INTERFACE -fsanitize=address,undefined)

# one target per parser (fuzz_<name>.cpp, SAC_FUZZ_TARGETS), each with its corpus in corpus/<name>/
add_custom_target(sac_fuzzers)
foreach(_name ${SAC_FUZZ_TARGETS})
  add_executable(fuzz_${_name} tests/fuzz/fuzz_${_name}.cpp)
  target_include_directories(fuzz_${_name} PRIVATE tests/fuzz)
  target_link_libraries(fuzz_${_name} PRIVATE sac_fuzz_core)
  target_compile_options(fuzz_${_name} PRIVATE ${SAC_FUZZ_FLAGS})
  target_link_options(fuzz_${_name} PRIVATE -fsanitize=fuzzer)
  target_compile_definitions(fuzz_${_name} PRIVATE SAC_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
  add_dependencies(sac_fuzzers fuzz_${_name})
endforeach()
