#pragma once

// The Redis Cluster flags the server and its tools share: where the cluster is and how to
// sign in to it. Each is also read from the environment (CONTEXTD_REDIS_CLUSTER, ...).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace contextd::server {

struct RedisFlags {
  std::string cluster;  // HOST:PORT[,HOST:PORT...]; "" for the RocksDB backend
  std::string user;
  std::string password;
  std::string key_prefix;
  int wait_replicas = 1;
};

// The values of CONTEXTD_REDIS_CLUSTER, _USER, _PASSWORD and _KEY_PREFIX, where set.
void RedisFlagsFromEnvironment(RedisFlags* flags);

// When argv[*i] is --redis-cluster, --redis-user, --redis-password or --redis-key-prefix
// (as --name=value, or --name value advancing *i), stores it and returns true.
bool ParseRedisFlag(int argc, char** argv, int* i, RedisFlags* flags);

// Opens the Redis store the flags name. InvalidArgument for a bad node list; the store's
// errors (Unavailable, PermissionDenied) otherwise.
absl::StatusOr<std::unique_ptr<storage::Store>> OpenRedis(const RedisFlags& flags);

}  // namespace contextd::server
