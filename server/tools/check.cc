#include "server/tools/check.h"

#include <cstdio>
#include <string>

#include "storage/rocksdb_store.h"

namespace contextd::server {

int RunCheck(int argc, char** argv) {
  std::string data_dir = "./data";
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--data-dir=", 0) == 0) {
      data_dir = arg.substr(11);
    } else if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "usage: contextd check [--data-dir=DIR]\n\n"
          "Checks a stopped server's data directory (default ./data): every record\n"
          "decodes, every index entry matches a record and every record has its index\n"
          "entries, active records and id counters agree. Exit status 0 when consistent.\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  storage::RocksDbOptions options;
  options.path = data_dir;
  auto store = storage::OpenRocksDbStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "contextd check: %s (stop the server first)\n",
                 std::string(store.status().message()).c_str());
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
