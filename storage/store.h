#pragma once

#include <string>
#include <vector>

#include "storage/access.h"
#include "storage/interaction_store.h"
#include "storage/service_store.h"
#include "storage/workspace_store.h"

namespace contextd::storage {

// Operational figures of a backend, for monitoring.
struct StoreStats {
  uint64_t block_cache_hits = 0;    // since open
  uint64_t block_cache_misses = 0;  // since open
  uint64_t pending_compaction_bytes = 0;
  uint64_t live_sst_bytes = 0;
  uint64_t write_stall_micros = 0;  // time writes were delayed or stopped, since open
  bool writes_stopped = false;
};

// What an integrity check found: every record decodes, every index entry matches a record
// and every record has exactly its index entries, active records and id counters agree.
struct IntegrityReport {
  uint64_t services = 0;
  uint64_t service_index_entries = 0;  // started, completed, active records, overflow
  uint64_t interactions = 0;
  uint64_t interaction_index_entries = 0;
  uint64_t other_records = 0;  // Workspace records, keys, tenants, customer keys, counters
  uint64_t problem_count = 0;
  std::vector<std::string> problems;  // the first 100, each naming the key or record
};

// A whole backend: services, interaction history, the Workspace's records and access
// control in one database, so one SyncWal makes every acknowledged write durable. A
// distributed backend implements this.
class Store : public ServiceStore,
              public InteractionStore,
              public WorkspaceStore,
              public AccessStore {
 public:
  // Current figures; Unavailable when the store cannot answer (it is then not ready).
  virtual absl::StatusOr<StoreStats> Stats() = 0;

  // Reads everything and checks it agrees (IntegrityReport). Errors only when the store
  // cannot be read; what disagrees is in the report. REQUIRES: nothing writes meanwhile.
  virtual absl::StatusOr<IntegrityReport> CheckIntegrity() = 0;
};

}  // namespace contextd::storage
