# Garbage collection (protocol-facts.md §6): mark-and-sweep over the metadata database and the
# scheduler that runs it; included by core/CMakeLists.txt into libgantry-core.
set(GANTRY_GC_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/gc.cpp
    ${CMAKE_CURRENT_LIST_DIR}/scheduler.cpp)
