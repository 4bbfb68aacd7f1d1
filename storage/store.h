#pragma once

#include "storage/interaction_store.h"
#include "storage/service_store.h"

namespace contextd::storage {

// A whole backend: services and interaction history in one database, so one SyncWal makes
// every acknowledged write of either kind durable. A distributed backend implements this.
class Store : public ServiceStore, public InteractionStore {};

}  // namespace contextd::storage
