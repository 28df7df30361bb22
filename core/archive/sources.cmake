# Layer writing (the differ's side): tree comparison to tar, gzip/zstd compression.
list(APPEND GANTRY_ARCHIVE_SOURCES archive/compress.cpp archive/diff.cpp)
