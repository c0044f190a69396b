# run_example_test.cmake: the out-of-tree example examples/cheetah_run end to end (the ctest
# `example_cheetah_run`, labels pypi and example): installs the build in BUILD_DIR into a fresh
# prefix under WORK_DIR, takes dm_control's suite folder (cheetah.xml and common/) from the
# dm-control package of the PyPI test venv (VENV_PYTHON; the model is never part of the project;
# the package is not imported: its Python side does not run on MuJoCo 4),
# configures and builds the example in SOURCE_DIR against the prefix, then trains cheetah-run
# STEPS env steps twice: with `sac train --plugin libcheetah_run.so` (SAC: the sac binary), whose
# policy `sac eval` then evaluates (the run's config.json names the plugin), and with the
# example's own program (sac::train), which must end with the same evaluation return (the same
# config and task) and then resumes its run for 500 more steps.
# cmake -DBUILD_DIR=build -DSOURCE_DIR=examples/cheetah_run -DWORK_DIR=/tmp/x -DGENERATOR=Ninja
#       -DSAC=build/sac -DVENV_PYTHON=build/pypi-venv/bin/python -DSTEPS=3000 -P this
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# runs the command ARGN; stops the test with its output when it fails; `out` is its stdout
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "example_cheetah_run: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "example_cheetah_run: ${what}: ok\n${out}")
  set(out "${out}" PARENT_SCOPE)
endfunction()

# a summary line of a training run of `steps` steps with a final evaluation
function(check_summary what steps)
  string(JSON done GET "${out}" steps)
  string(JSON final GET "${out}" final_eval_return)
  if(NOT done EQUAL steps OR NOT final MATCHES "^-?[0-9]")
    message(FATAL_ERROR "example_cheetah_run: ${what}: expected ${steps} steps and an evaluation, got ${out}")
  endif()
endfunction()

# dm_control's suite folder, found without importing the package (a newline, not a semicolon,
# between the statements: step() passes its arguments on as a list)
step("dm-control's suite folder" "${VENV_PYTHON}" -c
     "import importlib.util, os\nprint(os.path.join(importlib.util.find_spec('dm_control').submodule_search_locations[0], 'suite'))")
string(STRIP "${out}" suite)

step("cmake --install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
step("configure" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
     -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
     "-DDM_CONTROL_SUITE_DIR=${suite}")
step("build" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")

set(small --set device=cpu --set sac.hidden=[64,64] --set sac.batch_size=64
    --set train.total_steps=${STEPS} --set train.warmup_steps=1000 --set train.eval_every=0
    --set train.eval_episodes=1 --set train.threads=1 --set train.log_every=1000)
step("sac train --plugin" "${SAC}" train --quiet --plugin "${WORK_DIR}/build/libcheetah_run.so"
     --set env.id=dmc-cheetah-run ${small} --run-dir "${WORK_DIR}/plugin_run")
check_summary("sac train --plugin" ${STEPS})
string(JSON plugin_return GET "${out}" final_eval_return)
step("sac eval" "${SAC}" eval "${WORK_DIR}/plugin_run/policy.safetensors" --episodes 1)
string(JSON task GET "${out}" task)
if(NOT task STREQUAL "dmc-cheetah-run")
  message(FATAL_ERROR "example_cheetah_run: sac eval evaluated '${task}'")
endif()

step("train_cheetah_run" "${WORK_DIR}/build/train_cheetah_run" ${small}
     --run-dir "${WORK_DIR}/program_run")
check_summary("train_cheetah_run" ${STEPS})
# the same config and task code: the same training, whichever way the task came in
string(JSON program_return GET "${out}" final_eval_return)
if(NOT plugin_return STREQUAL program_return)
  message(FATAL_ERROR "example_cheetah_run: the plugin's run returned ${plugin_return}, the "
                      "program's ${program_return}")
endif()
math(EXPR more "${STEPS} + 500")
step("train_cheetah_run --resume" "${WORK_DIR}/build/train_cheetah_run" --resume
     "${WORK_DIR}/program_run" --set train.total_steps=${more})
check_summary("train_cheetah_run --resume" ${more})
file(REMOVE_RECURSE "${WORK_DIR}")
