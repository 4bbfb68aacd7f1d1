#include "tests/support/test_store.h"

#include <cstdio>
#include <cstdlib>

#include "storage/redis_store.h"
#include "storage/rocksdb_store.h"
#include "tests/support/redis_cluster.h"

namespace contextd::testing {

namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "cannot open test store: %s\n", what.c_str());
  std::abort();
}

}  // namespace

std::string BackendName(Backend backend) {
  return backend == Backend::kRocksDb ? "RocksDb" : "Redis";
}

std::unique_ptr<storage::Store> OpenTestStore(const std::string& dir) {
  storage::RocksDbOptions options;
  options.path = dir;
  options.sync = false;
  auto store = storage::OpenRocksDbStore(options);
  if (!store.ok()) Fail(store.status().ToString());
  return std::move(*store);
}

std::unique_ptr<storage::Store> OpenTestStore(Backend backend, const std::string& dir) {
  if (backend == Backend::kRocksDb) return OpenTestStore(dir);
  storage::RedisStoreOptions options;
  const std::string shared = SharedClusterSeeds();
  if (shared.empty()) {
    Fail("CONTEXTD_REDIS_SEEDS_FILE is not set: run the suite through ctest, whose "
         "redis_cluster fixture starts the cluster");
  }
  auto seeds = storage::ParseRedisNodes(shared);
  if (!seeds.ok()) Fail(seeds.status().ToString());
  options.cluster.seeds = *seeds;
  options.key_prefix = dir + "/";
  auto store = storage::OpenRedisStore(options);
  if (!store.ok()) Fail(store.status().ToString());
  return std::move(*store);
}

}  // namespace contextd::testing
