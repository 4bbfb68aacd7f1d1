#pragma once

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
};

}  // namespace contextd::storage
