#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/access.h"

namespace contextd::query {

// What a key may do. Each role may do everything the ones before it may.
enum class Role : uint8_t {
  kReader = 1,  // queries (an IVR, a routing strategy)
  kWriter = 2,  // lifecycle events and history ingest
  kAdmin = 3,   // keys, tenants, operations figures; every tenant
};

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// Who a request acts as.
struct Principal {
  Role role = Role::kReader;
  bool all_tenants = false;
  std::string tenant;  // the one tenant of a key that is not all_tenants
  std::string key_id;  // "" for the bootstrap key
};

// A key just created: its record and the key itself, which is shown only this once.
struct NewKey {
  storage::ApiKey record;
  std::string key;
};

// API keys and tenants. Keys look like "cxd_<id>_<secret>"; only their SHA-256 is stored.
// The default tenant "" always exists; others are created by an admin. Reader and writer
// keys are bound to one tenant; admin keys act in every tenant.
// Thread-safety: thread-safe.
class Access {
 public:
  // Loads what `store` holds. `bootstrap_admin_key`, if not empty, is an admin key accepted
  // besides the stored ones and never stored (for the first admin calls).
  static absl::StatusOr<std::unique_ptr<Access>> Open(storage::AccessStore* store,
                                                      std::string_view bootstrap_admin_key);

  // Reloads keys and tenants when the store's AccessVersion moved since the last load
  // (another node sharing the store changed them), and drops every thread's verified keys.
  // Called every 200 ms by the server, and before a key, key id or tenant is refused as
  // unknown. The store's error when it cannot be read (what was loaded stays).
  absl::Status Refresh() const;

  // The principal of a presented key. Unauthenticated when it is empty, malformed, unknown
  // or revoked (one message for all of them).
  absl::StatusOr<Principal> Authenticate(std::string_view key) const;

  // The id part of a key shaped like "cxd_<id>_<secret>", else "" (failed checks are
  // throttled per key id).
  static std::string_view KeyIdOf(std::string_view key);

  // The tenant a request of `who` acts in, given its ContactCenterId header (nullopt when
  // the request has none): a bound key's own tenant; PermissionDenied for another one;
  // InvalidArgument (the Genesys message) for a tenant that is not configured.
  absl::StatusOr<std::string> TenantFor(const Principal& who,
                                        std::optional<std::string_view> header) const;

  // InvalidArgument for a bad name, role/tenant combination or unknown tenant.
  absl::StatusOr<NewKey> CreateKey(Role role, std::optional<std::string> tenant, std::string name,
                                   storage::TimeMs now_ms);
  // NotFound for an unknown id; revoking twice keeps the first time.
  absl::StatusOr<storage::ApiKey> RevokeKey(std::string_view id, storage::TimeMs now_ms);
  std::vector<storage::ApiKey> Keys() const;  // by id

  // InvalidArgument for a bad name; AlreadyExists for a configured one.
  absl::StatusOr<storage::Tenant> CreateTenant(std::string name, storage::TimeMs now_ms);
  std::vector<storage::Tenant> Tenants() const;  // by name, the default one excluded

 private:
  Access(storage::AccessStore* store, std::string bootstrap_digest)
      : store_(store), bootstrap_digest_(std::move(bootstrap_digest)) {}

  bool TenantExists(std::string_view name) const;  // REQUIRES: mu_ held
  absl::StatusOr<Principal> AuthenticateUncached(std::string_view key) const;


  storage::AccessStore* store_;  // not owned
  const std::string bootstrap_digest_;
  // The maps are a cache of the store's records, so Refresh (const) may reload them.
  mutable std::mutex refresh_mu_;  // one reload at a time
  mutable std::shared_mutex mu_;
  // Bumped by every change to the keys: per-thread caches of verified keys check it.
  mutable std::atomic<uint64_t> generation_{1};
  mutable uint64_t loaded_version_ = 0;     // the store's AccessVersion of the last load; refresh_mu_
  mutable std::map<std::string, storage::ApiKey, std::less<>> keys_;    // by id; guarded by mu_
  mutable std::map<std::string, storage::Tenant, std::less<>> tenants_;  // by name; guarded by mu_
};

}  // namespace contextd::query
