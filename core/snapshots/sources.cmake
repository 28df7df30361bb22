# Snapshot machinery shared by every backend: the backend-private state (storage.cpp).
# Globbed so that further shared pieces need no edit here.
file(GLOB GANTRY_SNAPSHOTS_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
