# The event exchange; included by core/CMakeLists.txt into libgantry-core.
set(GANTRY_EVENTS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/exchange.cpp)
