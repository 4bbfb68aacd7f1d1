#pragma once

// The free space a store keeps in reserve on the disk of its data directory.

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace contextd::storage {

// Refuses writes while the disk holding `path` has less than `reserve_bytes` free, so that
// RocksDB never meets a full disk while appending to its write-ahead log (RocksDB 7.8 cannot
// recover from a failed WAL append without a restart; see RocksDbStore::wal_failed_). The free
// space is read (statvfs) on one check in 16, and on every check while under the reserve, so
// writes resume as soon as space returns. (No clock: storage reads none.)
// Thread-safety: thread-safe.
class DiskSpaceGuard {
 public:
  DiskSpaceGuard(std::string path, uint64_t reserve_bytes)
      : path_(std::move(path)), reserve_bytes_(reserve_bytes) {}
  DiskSpaceGuard(DiskSpaceGuard&& other) noexcept
      : DiskSpaceGuard(other.path_, other.reserve_bytes_) {}

  // OK while the reserve is free (or cannot be read); Unavailable naming the directory,
  // the free space and the reserve otherwise.
  absl::Status Check();

  // Whether the last reading was under the reserve (no new reading).
  bool full() const { return full_.load(std::memory_order_relaxed); }

 private:
  const std::string path_;
  const uint64_t reserve_bytes_;
  std::atomic<uint64_t> checks_{0};
  std::atomic<uint64_t> free_bytes_{0};
  std::atomic<bool> full_{false};
};

}  // namespace contextd::storage
