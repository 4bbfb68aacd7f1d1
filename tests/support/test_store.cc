#include "tests/support/test_store.h"

#include <cstdio>
#include <cstdlib>

#include "storage/rocksdb_store.h"

namespace contextd::testing {

std::unique_ptr<storage::Store> OpenTestStore(const std::string& dir) {
  storage::RocksDbOptions options;
  options.path = dir;
  options.sync = false;
  auto store = storage::OpenRocksDbStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open test store: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  return std::move(*store);
}

}  // namespace contextd::testing
