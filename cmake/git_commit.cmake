# git_commit.cmake: run by the build (cmake -DSRC=... -DOUT=... -P git_commit.cmake) before `sac`
# is linked; writes OUT, a header defining SAC_GIT_COMMIT (the source tree's commit, with "-dirty"
# when tracked files have changes, or "unknown" outside a git checkout), touching it only when
# the text changes, so `sac --version` names the commit it was built from.
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD RESULT_VARIABLE rc
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes ERROR_QUIET)
  if(NOT changes STREQUAL "")
    string(APPEND commit "-dirty")
  endif()
endif()
file(WRITE "${OUT}.tmp" "#define SAC_GIT_COMMIT \"${commit}\"\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
