#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "storage/store.h"

namespace contextd::testing {

// The storage backends every store suite runs against (INSTANTIATE_TEST_SUITE_P with
// ::testing::ValuesIn(kBackends), BackendName).
enum class Backend { kRocksDb, kRedis };
inline constexpr Backend kBackends[] = {Backend::kRocksDb, Backend::kRedis};
std::string BackendName(Backend backend);
inline void PrintTo(Backend backend, std::ostream* os) { *os << BackendName(backend); }
template <typename Info>
std::string BackendParamName(const Info& info) {
  return BackendName(info.param);
}

// Opens a RocksDB store in `dir` without fsync (tests and benchmarks need no durability).
// Aborts the process if it cannot be opened.
std::unique_ptr<storage::Store> OpenTestStore(const std::string& dir);

// Opens a store of `backend` holding the records of `dir`: RocksDB in `dir` (as above); Redis on
// the cluster ctest starts for the suites (SharedClusterSeeds, tests/support/redis_cluster.h) under the key prefix `dir`, so each test sees only its own
// records and opening the same `dir` again sees them again. Aborts if it cannot be opened.
std::unique_ptr<storage::Store> OpenTestStore(Backend backend, const std::string& dir);

}  // namespace contextd::testing
