#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  // When the write-ahead log passes this size, the column families holding its oldest file
  // are flushed so the file can go: the WAL stays below about twice this (README.md, "Trust"),
  // and a restart replays at most that much.
  uint64_t max_wal_bytes = uint64_t{64} << 20;
  // Opens without writing anything (for `contextd check`): the WAL is replayed in memory
  // only, no LOG file is written, and every write fails. The database must exist.
  bool read_only = false;
  // Opens a database whose WAL is damaged, or which lost synced writes, with what precedes
  // the damage (RecoveryReport::dropped says what was lost). Without it such a database is
  // refused. Either way ids are never handed out twice.
  bool recover_anyway = false;
};

// What opening the store found and replayed.
struct RecoveryReport {
  uint64_t wal_files = 0;  // WAL files in the directory before the open
  uint64_t wal_bytes = 0;  // their total size (what the open replayed)
  // With recover_anyway: one line per thing dropped (WAL file, bytes, where replay stopped,
  // id counters raised above writes that were lost); empty when nothing was lost.
  std::vector<std::string> dropped;
  // RocksDB's words on the newest WAL file ending inside a record that a crash interrupted
  // while it was written (never acknowledged), which was dropped; empty when there was none.
  std::vector<std::string> torn_tail;
};

// Opens (or, unless read_only, creates) the embedded RocksDB store at options.path.
// A directory that holds no database file is a new database; one that holds database files
// but no CURRENT file is refused (FailedPrecondition, naming the file and how to restore it),
// never replaced by a new one. Returns:
//   Unavailable when another process holds the directory or a file cannot be read;
//   DataLoss, naming the file, when a WAL file is damaged (truncated, bytes changed; a torn
//     last record only when the file was cut short after the crash, see RecoveryReport) or synced
//     writes are missing (the id high-water file, id_high_water.h, is ahead of the database),
//     unless options.recover_anyway;
//   FailedPrecondition when read_only and there is no database, when CURRENT or the MANIFEST
//     it names is missing, or when the id high-water file is damaged;
//   Internal otherwise.
// Fills `report` (may be null). The store closes the database when destroyed.
absl::StatusOr<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbOptions& options,
                                                        RecoveryReport* report = nullptr);

}  // namespace contextd::storage
