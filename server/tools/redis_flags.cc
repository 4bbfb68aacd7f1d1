#include "server/tools/redis_flags.h"

#include <cstdlib>
#include <string_view>
#include <utility>

#include "storage/redis_store.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

struct Named {
  const char* flag;
  const char* env;
  std::string RedisFlags::*field;
};

constexpr Named kNamed[] = {
    {"--redis-cluster", "CONTEXTD_REDIS_CLUSTER", &RedisFlags::cluster},
    {"--redis-user", "CONTEXTD_REDIS_USER", &RedisFlags::user},
    {"--redis-password", "CONTEXTD_REDIS_PASSWORD", &RedisFlags::password},
    {"--redis-key-prefix", "CONTEXTD_REDIS_KEY_PREFIX", &RedisFlags::key_prefix},
};

}  // namespace

void RedisFlagsFromEnvironment(RedisFlags* flags) {
  for (const Named& n : kNamed) {
    if (const char* value = std::getenv(n.env)) flags->*n.field = value;
  }
}

bool ParseRedisFlag(int argc, char** argv, int* i, RedisFlags* flags) {
  const std::string_view arg = argv[*i];
  for (const Named& n : kNamed) {
    const std::string_view flag = n.flag;
    if (arg.substr(0, flag.size()) != flag) continue;
    if (arg.size() > flag.size() && arg[flag.size()] == '=') {
      flags->*n.field = std::string(arg.substr(flag.size() + 1));
      return true;
    }
    if (arg.size() == flag.size() && *i + 1 < argc) {
      flags->*n.field = argv[++*i];
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<storage::Store>> OpenRedis(const RedisFlags& flags) {
  storage::RedisStoreOptions options;
  ASSIGN_OR_RETURN(options.cluster.seeds, storage::ParseRedisNodes(flags.cluster));
  options.cluster.user = flags.user;
  options.cluster.password = flags.password;
  options.key_prefix = flags.key_prefix;
  options.wait_replicas = flags.wait_replicas;
  return storage::OpenRedisStore(options);
}

}  // namespace contextd::server
