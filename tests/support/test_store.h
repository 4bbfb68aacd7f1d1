#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace contextd::testing {

// Opens a RocksDB store in `dir` without fsync (tests and benchmarks need no durability).
// Aborts the process if it cannot be opened.
std::unique_ptr<storage::Store> OpenTestStore(const std::string& dir);

}  // namespace contextd::testing
