#pragma once

#include "storage/interaction_store.h"
#include "storage/service_store.h"
#include "storage/workspace_store.h"

namespace contextd::storage {

// A whole backend: services, interaction history and the Workspace's records in one
// database, so one SyncWal makes every acknowledged write durable. A distributed backend
// implements this.
class Store : public ServiceStore, public InteractionStore, public WorkspaceStore {};

}  // namespace contextd::storage
