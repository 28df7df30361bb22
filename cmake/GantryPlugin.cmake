# gantry_add_plugin(<name> SOURCES ... [LIBS ...])
# A plugin is a MODULE library named <name>.so in the plugin directory, exporting only its entry
# symbol (DESIGN.md §3): everything else is hidden so two plugins can never clash.
function(gantry_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  target_compile_options(${name} PRIVATE ${GANTRY_WARNINGS})
  target_link_libraries(${name} PRIVATE gantry-core ${P_LIBS})
  set_target_properties(${name} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${GANTRY_PLUGIN_BUILD_DIR}")
  target_link_options(${name} PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL)
  install(TARGETS ${name} LIBRARY DESTINATION ${GANTRY_PLUGIN_INSTALL_DIR})
  # Everything that runs gantryd (tests, benchmarks) depends on all plugins: a plugin left
  # from an older configure carries an older build id and would be refused.
  set_property(GLOBAL APPEND PROPERTY GANTRY_PLUGIN_TARGETS ${name})
endfunction()
