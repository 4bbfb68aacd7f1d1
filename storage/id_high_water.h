#pragma once

// The id high-water file: a copy of every id counter's persisted limit (IdLimitKey -> limit),
// kept in the data directory beside RocksDB's files but outside its write-ahead log. A limit
// is written to RocksDB (a synced write) and then here before any id of its block is handed
// out, so after a WAL file is lost or cut short the store still starts counting above every id
// it ever handed out, and a database whose limit is below this file's has lost synced writes.
//
// Format: text, one line per counter, "<key in hex> <limit>", and a last line "end <count>";
// replaced whole (write a temporary file, fsync, rename, fsync the directory), so a crash
// leaves either the old file or the new one.
//
// Thread-safety: none; the store serialises its writes.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace contextd::storage {

inline constexpr char kIdHighWaterFile[] = "contextd-id-limits";

// The limits recorded in `dir`; empty when the file does not exist. DataLoss when it exists
// but does not parse, Unavailable when it cannot be read.
absl::StatusOr<std::map<std::string, uint64_t>> ReadIdHighWater(const std::string& dir);

// Replaces the file in `dir` with `limits`, durably. Unavailable on an I/O error (the old file
// is then still in place).
absl::Status WriteIdHighWater(const std::string& dir,
                              const std::map<std::string, uint64_t>& limits);

}  // namespace contextd::storage
