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
  // The last write or WAL sync failed with an I/O error (a failed fsync, a full disk), and
  // none has succeeded since: writes cannot be made durable now.
  bool write_error = false;
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
// control. A distributed backend implements this.
//
// Durability: every write survives a process crash once it returns. It survives a machine
// crash once it returns with `sync` set in the store's options (RocksDbOptions::sync), or
// once a Sync() that began after it returned has returned OK. Id counter limits and access
// records (API keys, tenants) are synced before their write returns, whatever the setting.
class Store : public ServiceStore,
              public InteractionStore,
              public WorkspaceStore,
              public AccessStore {
 public:
  // Makes every write of every record family that has returned so far durable: services
  // and their indexes, interactions and their indexes, customer keys, Workspace users and
  // work items, API keys, tenants, id counters. One operation for all of them (group commit:
  // callers batch their replies behind one call). Unavailable on an I/O error; the writes
  // are then not known to be durable.
  //
  // RocksDB: one database whose column families share one write-ahead log, and no write
  // disables the WAL, so one WAL sync covers every family. A bulk load is not in the WAL:
  // its files are synced when BulkLoader::Finish ingests them.
  virtual absl::Status Sync() = 0;

  // Current figures; Unavailable when the store cannot answer (it is then not ready).
  virtual absl::StatusOr<StoreStats> Stats() = 0;

  // Reads everything and checks it agrees (IntegrityReport). Errors only when the store
  // cannot be read; what disagrees is in the report. REQUIRES: nothing writes meanwhile.
  virtual absl::StatusOr<IntegrityReport> CheckIntegrity() = 0;
};

}  // namespace contextd::storage
