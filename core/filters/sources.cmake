# containerd's filter language; included by core/CMakeLists.txt into libgantry-core.
set(GANTRY_FILTERS_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/adaptor.cpp
    ${CMAKE_CURRENT_LIST_DIR}/filter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/parser.cpp
    ${CMAKE_CURRENT_LIST_DIR}/runes.cpp
    ${CMAKE_CURRENT_LIST_DIR}/scanner.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unquote.cpp)
