#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/model.h"

namespace contextd::storage {

// An API key as stored: never the key itself, only its digest.
struct ApiKey {
  std::string id;             // the key's public part; unique
  std::string digest;         // SHA-256 of the whole key
  uint8_t role = 0;           // the access layer's role value
  bool all_tenants = false;   // else bound to `tenant`
  std::string tenant;         // "" is the default tenant
  std::string name;           // a label for people
  TimeMs created_ms = 0;
  TimeMs revoked_ms = 0;      // 0 while the key is valid

  friend bool operator==(const ApiKey&, const ApiKey&) = default;
};

// A configured tenant (the default tenant "" always exists and is not stored).
struct Tenant {
  std::string name;
  TimeMs created_ms = 0;

  friend bool operator==(const Tenant&, const Tenant&) = default;
};

// The storage seam of access control: API keys and tenants, each a whole record replaced on
// every change. The access layer keeps them in memory and writes through. Writes are synced
// before they return, whatever the store's durability setting.
//
// Thread-safety: all methods may be called concurrently.
class AccessStore {
 public:
  virtual ~AccessStore() = default;

  virtual absl::Status PutApiKey(const ApiKey& key) = 0;
  virtual absl::StatusOr<std::vector<ApiKey>> ListApiKeys() = 0;
  virtual absl::Status PutTenant(const Tenant& tenant) = 0;
  virtual absl::StatusOr<std::vector<Tenant>> ListTenants() = 0;

  // A number that changes with every PutApiKey and PutTenant, by whichever process (node)
  // made it, atomically with the write: a reader that sees it changed and lists again sees
  // every access write made before the version it read. Lets nodes sharing a store notice
  // each other's keys, revocations and tenants without listing them on every request.
  virtual absl::StatusOr<uint64_t> AccessVersion() = 0;
};

}  // namespace contextd::storage
