# Metadata in LMDB (DESIGN.md §4); included by core/CMakeLists.txt into libgantry-core, which
# links PkgConfig::LMDB. Globbed: each typed store (namespaces, content, images, leases, ...) is
# one .cpp here, and several are written at once.
file(GLOB GANTRY_METADATA_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
