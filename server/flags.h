#pragma once

// contextd's flags: each from the command line or from its environment variable
// (CONTEXTD_<NAME>), the command line winning. kUsage describes them.

#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/http_server.h"
#include "server/http/request_log.h"
#include "server/tools/redis_flags.h"

namespace contextd::server {

extern const char kUsage[];

struct Flags {
  HttpOptions http;
  std::string data_dir = "./data";
  uint64_t disk_reserve_mb = 64;
  // The Redis Cluster backend (redis_store.h) instead of RocksDB in data_dir, when
  // redis.cluster is set.
  RedisFlags redis;
  std::string lcm_time_zone = "UTC";
  std::string admin;  // NAME:PASSWORD
  std::string admin_key;
  bool no_auth = false;
  bool recover_anyway = false;  // command line only: applies to one start
  bool csrf = false;
  uint64_t session_idle_s = 1800;
  uint64_t cometd_hold_ms = 25000;
  // Failed authentications (sign-ins, API keys) per minute before 429: per source address,
  // per user name or key id (0: no limit).
  uint32_t auth_failures_per_address = 50;
  uint32_t auth_failures_per_name = 10;
  LogLevel log_level = LogLevel::kInfo;
};

// Reads the environment, then argv[1..argc). Returns false (after printing why) on a bad flag;
// sets `help` for --help.
bool ParseFlags(int argc, char** argv, Flags* flags, bool* help);

// A loopback listen address (--no-auth serves only these).
bool IsLoopback(std::string_view address);

}  // namespace contextd::server
