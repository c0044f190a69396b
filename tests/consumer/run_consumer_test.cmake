# run_consumer_test.cmake: installs the build in BUILD_DIR into a fresh prefix under WORK_DIR,
# configures and builds the consumer project in SOURCE_DIR against it, and runs it with
# SAC_MODEL_DIR unset (the installed library must find its models on its own).
# cmake -DBUILD_DIR=build -DSOURCE_DIR=tests/consumer -DWORK_DIR=/tmp/x -DGENERATOR=Ninja -P this
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "install_consumer: ${what}: ok\n${out}")
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
step("configure" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
     -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
step("build" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step("run" ${CMAKE_COMMAND} -E env --unset=SAC_MODEL_DIR "${WORK_DIR}/build/consumer" "${WORK_DIR}")
file(REMOVE_RECURSE "${WORK_DIR}")
