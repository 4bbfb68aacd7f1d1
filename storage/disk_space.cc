#include "storage/disk_space.h"

#include <sys/statvfs.h>


namespace contextd::storage {

absl::Status DiskSpaceGuard::Check() {
  if (reserve_bytes_ == 0) return absl::OkStatus();
  if (checks_.fetch_add(1, std::memory_order_relaxed) % 16 == 0 ||
      full_.load(std::memory_order_relaxed)) {
    struct statvfs fs {};
    if (::statvfs(path_.c_str(), &fs) == 0) {
      const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      free_bytes_.store(free, std::memory_order_relaxed);
      full_.store(free < reserve_bytes_, std::memory_order_relaxed);
    }
  }
  if (!full_.load(std::memory_order_relaxed)) return absl::OkStatus();
  return absl::UnavailableError(
      "the disk holding " + path_ + " is full: " +
      std::to_string(free_bytes_.load(std::memory_order_relaxed) >> 20) + " MiB free, under the " +
      std::to_string(reserve_bytes_ >> 20) + " MiB kept in reserve (--disk-reserve-mb)");
}

}  // namespace contextd::storage
