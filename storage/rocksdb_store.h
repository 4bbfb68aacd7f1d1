#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace rocksdb {
class Env;
}

namespace contextd::storage {

struct RocksDbOptions {
  std::string path;                      // directory, created if missing
  bool sync = true;                      // fsync the WAL before a write returns
  size_t block_cache_bytes = 512 << 20;  // shared by all column families
  size_t row_cache_bytes = 256 << 20;    // whole values of point lookups
  // The file system RocksDB works through; nullptr for the default one. Tests wrap it to inject
  // I/O errors. Not owned; must outlive the store.
  rocksdb::Env* env = nullptr;
  // Writes are refused (Unavailable) while the data directory's disk has less free space
  // than this (DiskSpaceGuard); opening on such a disk fails the same way. 0: no reserve.
  uint64_t disk_reserve_bytes = uint64_t{64} << 20;
};

// Opens (or creates) the embedded RocksDB store at options.path. Returns Unavailable when
// another process holds the directory, DataLoss on corruption, Internal otherwise.
// The store closes the database when destroyed.
absl::StatusOr<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbOptions& options);

}  // namespace contextd::storage
