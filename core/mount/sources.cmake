set(GANTRY_MOUNT_SOURCES mount/mount.cpp)
