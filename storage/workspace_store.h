#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/workspace.h"

namespace contextd::storage {

// The storage seam of the Workspace API: users and work items, each a whole record replaced
// on every change. The Workspace keeps them in memory and writes through; this makes them
// survive a restart. Writes are durable on the terms of Store (store.h); Store::Sync covers
// them.
//
// Thread-safety: all methods may be called concurrently.
class WorkspaceStore {
 public:
  virtual ~WorkspaceStore() = default;

  virtual absl::Status PutUser(std::string_view tenant, const User& user) = 0;
  // Every (tenant, user) stored.
  virtual absl::StatusOr<std::vector<std::pair<std::string, User>>> ListUsers() = 0;

  virtual absl::Status PutWorkItem(std::string_view tenant, const WorkItem& item) = 0;
  // Every (tenant, work item) stored.
  virtual absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> ListWorkItems() = 0;
};

}  // namespace contextd::storage
