#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/workspace.h"

namespace contextd::storage {

// How many of a tenant's last changes a store keeps for ReadWorkspace.
inline constexpr uint64_t kKeptWorkspaceChanges = 4096;

// The storage seam of the Workspace API. Each tenant's Workspace (users, work items, agents'
// readiness) changes by numbered changes, one after another: a node commits a change only on
// top of the last one it has seen (compare-and-set on the tenant's head), so nodes sharing a
// store agree on one order, and two that race for one item have exactly one winner. Every node
// replays the changes it did not make (ReadWorkspace) into its own copy and delivers their notes
// to its CometD clients. Writes are durable on the terms of Store (store.h); Store::Sync covers
// them.
//
// Thread-safety: all methods may be called concurrently.
inline constexpr TimeMs kSessionGraceMs = 60000;

class WorkspaceStore {
 public:
  virtual ~WorkspaceStore() = default;

  // The tenant's users, active items and agents, and the number of the change they reflect.
  // RocksDB keeps agents in memory only: after a restart there are none.
  virtual absl::StatusOr<WorkspaceSnapshot> LoadWorkspace(std::string_view tenant) = 0;
  // The number of the tenant's last change (0 for none).
  virtual absl::StatusOr<uint64_t> WorkspaceHead(std::string_view tenant) = 0;
  // Writes `change` as the tenant's change expected + 1 (its records and the change itself, for
  // ReadWorkspace) when the head is `expected`, and returns the new head; Aborted, writing
  // nothing, when another change came first. REQUIRES: !change.empty().
  virtual absl::StatusOr<uint64_t> CommitWorkspace(std::string_view tenant, uint64_t expected,
                                                   const WorkspaceChange& change) = 0;
  // The changes after `after`, oldest first, with their numbers. OutOfRange when some of them
  // are no longer kept (the last kKeptWorkspaceChanges are), or when `after` is past the head
  // (the store lost changes this node saw, or restarted): read LoadWorkspace instead.
  virtual absl::StatusOr<std::vector<std::pair<uint64_t, WorkspaceChange>>> ReadWorkspace(
      std::string_view tenant, uint64_t after) = 0;

  // Every (tenant, user) and (tenant, work item) stored, completed items included (check,
  // export).
  virtual absl::StatusOr<std::vector<std::pair<std::string, User>>> ListUsers() = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> ListWorkItems() = 0;

  // Sessions (kSessionGraceMs: how long past its expiry one is kept): replaced whole. `now_ms` is the caller's clock: a session whose expires_ms is
  // more than a minute behind it is forgotten (GetSession may still return an expired one:
  // the caller compares expires_ms with its clock). RocksDB keeps them in memory only.
  virtual absl::Status PutSession(const StoredSession& session, TimeMs now_ms) = 0;
  virtual absl::StatusOr<std::optional<StoredSession>> GetSession(std::string_view id) = 0;
};

}  // namespace contextd::storage
