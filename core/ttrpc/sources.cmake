# ttrpc (containerd/ttrpc 1.1.1 wire protocol): framing, a single-threaded epoll server and a
# thread-safe client; included by core/CMakeLists.txt into libgantry-core.
set(GANTRY_TTRPC_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/frame.cpp
    ${CMAKE_CURRENT_LIST_DIR}/status.cpp
    ${CMAKE_CURRENT_LIST_DIR}/socket.cpp
    ${CMAKE_CURRENT_LIST_DIR}/event_loop.cpp
    ${CMAKE_CURRENT_LIST_DIR}/server.cpp
    ${CMAKE_CURRENT_LIST_DIR}/client.cpp)
