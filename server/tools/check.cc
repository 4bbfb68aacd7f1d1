#include "server/tools/check.h"

#include <cstdio>
#include <string>

#include "server/tools/redis_flags.h"
#include "storage/rocksdb_store.h"

namespace contextd::server {

int RunCheck(int argc, char** argv) {
  std::string data_dir = "./data";
  RedisFlags redis;
  RedisFlagsFromEnvironment(&redis);
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (ParseRedisFlag(argc, argv, &i, &redis)) {
      continue;
    } else if (arg.rfind("--data-dir=", 0) == 0) {
      data_dir = arg.substr(11);
    } else if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "usage: contextd check [--data-dir=DIR | --redis-cluster=HOST:PORT,...]\n\n"
          "Checks a stopped server's data directory (default ./data) without writing to it:\n"
          "the write-ahead log is undamaged and no synced write is missing (the server\n"
          "refuses to start otherwise), every record decodes, every index entry matches a\n"
          "record and every record has its index entries, active records and id counters\n"
          "agree. Exit status 0 when consistent, 1 otherwise (also when DIR holds no\n"
          "database). With --redis-cluster (and --redis-user, --redis-password,\n"
          "--redis-key-prefix as for the server) it checks the cluster's records the same\n"
          "way; nodes may keep running, but a write in flight can show as a problem: run\n"
          "it again to confirm one.\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  absl::StatusOr<std::unique_ptr<storage::Store>> store;
  if (!redis.cluster.empty()) {
    store = OpenRedis(redis);
  } else {
    storage::RocksDbOptions options;
    options.path = data_dir;
    options.read_only = true;
    store = storage::OpenRocksDbStore(options);
  }
  if (!store.ok()) {
    const absl::Status& s = store.status();
    std::fprintf(stderr, "contextd check: %s\n", std::string(s.message()).c_str());
    if (s.code() == absl::StatusCode::kDataLoss) {
      std::fprintf(stderr,
                   "contextd check: damaged; the server refuses to start on it. `contextd "
                   "--recover-anyway` starts with what precedes the damage\n");
    } else if (s.code() == absl::StatusCode::kUnavailable && redis.cluster.empty()) {
      std::fprintf(stderr, "contextd check: (stop the server first)\n");
    }
    return 1;
  }
  absl::StatusOr<storage::IntegrityReport> report = (*store)->CheckIntegrity();
  if (!report.ok()) {
    std::fprintf(stderr, "contextd check: cannot read the store: %s\n",
                 report.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "checked %llu services (%llu index entries), %llu interactions (%llu index entries), "
      "%llu other records: %s\n",
      static_cast<unsigned long long>(report->services),
      static_cast<unsigned long long>(report->service_index_entries),
      static_cast<unsigned long long>(report->interactions),
      static_cast<unsigned long long>(report->interaction_index_entries),
      static_cast<unsigned long long>(report->other_records),
      report->problem_count == 0 ? "consistent"
                                 : (std::to_string(report->problem_count) + " problems").c_str());
  for (const std::string& p : report->problems) std::printf("  %s\n", p.c_str());
  return report->problem_count == 0 ? 0 : 1;
}

}  // namespace contextd::server
