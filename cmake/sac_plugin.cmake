# sac_plugin.cmake: sac_add_plugin(), a task plugin (include/sac/plugin.h) as a target. Included
# by the project's CMakeLists.txt (the test plugins) and by the installed package config, so a
# project that finds sac_engine writes
#   sac_add_plugin(mytasks mytasks.cpp)      # libmytasks.so, for sac train --plugin
# The plugin links the engine's static libraries into itself, with their symbols kept inside it
# (--exclude-libs; hidden visibility for its own code), so it works the same in `sac`, in the
# Python module and in any program: its only export is sac_plugin_register (SAC_PLUGIN).

# sac_add_plugin(NAME SOURCES...): a shared library lib<NAME>.so that loads as a task plugin
function(sac_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE sac::engine)
  set_target_properties(${name} PROPERTIES PREFIX "lib" CXX_VISIBILITY_PRESET hidden
                                           VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE "LINKER:--exclude-libs,ALL")
endfunction()
