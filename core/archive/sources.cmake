# Safe layer apply and layer stream decompression (DESIGN.md §6, protocol-facts.md §8.5-8.6).
set(GANTRY_ARCHIVE_SOURCES
    archive/apply.cpp
    archive/decompress.cpp)
# Layer writing (the differ's side): tree comparison to tar, gzip/zstd compression.
list(APPEND GANTRY_ARCHIVE_SOURCES archive/compress.cpp archive/diff.cpp)
