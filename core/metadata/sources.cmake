# Metadata in LMDB (DESIGN.md §4); included by core/CMakeLists.txt into libgantry-core, which
# links PkgConfig::LMDB.
set(GANTRY_METADATA_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/buckets.cpp
    ${CMAKE_CURRENT_LIST_DIR}/database.cpp
    ${CMAKE_CURRENT_LIST_DIR}/go_quote.cpp
    ${CMAKE_CURRENT_LIST_DIR}/identifiers.cpp
    ${CMAKE_CURRENT_LIST_DIR}/keys.cpp
    ${CMAKE_CURRENT_LIST_DIR}/lmdb.cpp
    ${CMAKE_CURRENT_LIST_DIR}/migrations.cpp
    ${CMAKE_CURRENT_LIST_DIR}/namespaces.cpp
    ${CMAKE_CURRENT_LIST_DIR}/value_encoding.cpp)
