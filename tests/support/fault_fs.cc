// A test-only LD_PRELOAD shim that puts faults into contextd's (RocksDB's) syncs, so the
// end-to-end tests can show what a client sees when the disk fails. It wraps fsync,
// fdatasync and sync_file_range; each call, before doing anything else:
//   - FAULT_FS_COUNT=PATH: appends one byte to PATH (the file's size counts the calls);
//   - FAULT_FS_STALL=PATH: waits while PATH exists (a slow disk);
//   - FAULT_FS_FAIL=PATH: fails with EIO, without syncing, while PATH exists.
// Unset variables change nothing. Build: a MODULE library without sanitizers
// (tests/CMakeLists.txt).
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

namespace {

bool Exists(const char* path) {
  struct stat st;
  return path != nullptr && path[0] != '\0' && stat(path, &st) == 0;
}

// Counts, stalls, and returns true when the call must fail with EIO.
bool Fault() {
  int saved = errno;
  const char* count = getenv("FAULT_FS_COUNT");
  if (count != nullptr && count[0] != '\0') {
    int fd = open(count, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      (void)!write(fd, "s", 1);
      close(fd);
    }
  }
  const char* stall = getenv("FAULT_FS_STALL");
  while (Exists(stall)) {
    timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
  errno = saved;
  return Exists(getenv("FAULT_FS_FAIL"));
}

}  // namespace

extern "C" {

int fsync(int fd) {
  static int (*real)(int);
  if (real == nullptr) real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fsync"));
  if (Fault()) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (real == nullptr) real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
  if (Fault()) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static int (*real)(int, off64_t, off64_t, unsigned int);
  if (real == nullptr) {
    real = reinterpret_cast<int (*)(int, off64_t, off64_t, unsigned int)>(
        dlsym(RTLD_NEXT, "sync_file_range"));
  }
  if (Fault()) {
    errno = EIO;
    return -1;
  }
  return real(fd, offset, nbytes, flags);
}

}  // extern "C"
