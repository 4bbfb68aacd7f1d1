#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/redis_cluster_client.h"
#include "storage/store.h"

namespace contextd::storage {

struct RedisStoreOptions {
  RedisClusterOptions cluster;  // seeds, credentials, timeouts (functions: set by the store)
  // A write returns only once Redis WAIT confirms this many replicas hold it (the cluster's
  // fsync-before-ack); 0 returns once the master holds it. A write they do not confirm in
  // wait_timeout returns Unavailable: it is in doubt (applied on the master, maybe not kept
  // by a failover), never rolled back.
  int wait_replicas = 1;
  std::chrono::milliseconds wait_timeout{1000};
  // Follows the hash tag of every key: deployments (or tests) sharing one cluster each see
  // only their own records.
  std::string key_prefix;
};

// Opens the store on a Redis Cluster: connects (RedisClusterClient::Connect) and loads the
// store's Lua functions on every master. Unavailable when the cluster cannot be reached or
// does not serve every slot; PermissionDenied when authentication fails.
//
// Every record lives in the cluster, placed so that each lifecycle write and each hot-path
// read is one round trip to one shard (redis_store.cc says how, and why a crash between two
// shards' writes never gives a wrong answer). Durability: Store's terms with "returned" meaning
// confirmed by wait_replicas replicas; Sync() has nothing left to do.
absl::StatusOr<std::unique_ptr<Store>> OpenRedisStore(const RedisStoreOptions& options);

}  // namespace contextd::storage
