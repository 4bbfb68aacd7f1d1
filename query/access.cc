#include "query/access.h"

#include <cctype>
#include <mutex>

#include "query/secrets.h"
#include "storage/status_macros.h"

namespace contextd::query {
namespace {

constexpr std::string_view kKeyPrefix = "cxd_";
constexpr size_t kIdChars = 12;
constexpr size_t kSecretChars = 32;
constexpr size_t kMaxNameChars = 64;

absl::Status Unauthenticated() {
  return absl::UnauthenticatedError("a valid API key is required (Authorization: Bearer KEY)");
}

// Tenant names: 1-64 of [A-Za-z0-9._-] (a Genesys tenant name or DBID fits).
bool ValidTenantName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameChars) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "reader";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kReader, Role::kWriter, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<Access>> Access::Open(storage::AccessStore* store,
                                                     std::string_view bootstrap_admin_key) {
  std::unique_ptr<Access> access(
      new Access(store, bootstrap_admin_key.empty() ? "" : Sha256(bootstrap_admin_key)));
  access->loaded_version_ = ~uint64_t{0};  // no version yet: the first refresh loads
  RETURN_IF_ERROR(access->Refresh());
  return access;
}

absl::Status Access::Refresh() const {
  std::lock_guard<std::mutex> refreshing(refresh_mu_);
  // The version first: a write after it changes it again, and the next refresh loads that.
  // Read every time: a load another thread finished meanwhile may have begun before the
  // write the caller looks for.
  ASSIGN_OR_RETURN(uint64_t version, store_->AccessVersion());
  if (version == loaded_version_) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<storage::ApiKey> keys, store_->ListApiKeys());
  ASSIGN_OR_RETURN(std::vector<storage::Tenant> tenants, store_->ListTenants());
  std::map<std::string, storage::ApiKey, std::less<>> key_map;
  for (storage::ApiKey& k : keys) key_map.emplace(k.id, std::move(k));
  std::map<std::string, storage::Tenant, std::less<>> tenant_map;
  for (storage::Tenant& t : tenants) tenant_map.emplace(t.name, std::move(t));
  {
    std::unique_lock lock(mu_);
    keys_.swap(key_map);
    tenants_.swap(tenant_map);
  }
  loaded_version_ = version;
  generation_.fetch_add(1, std::memory_order_release);
  return absl::OkStatus();
}

// A few keys verified on this thread lately, so that the hot path pays one constant-time
// compare instead of a SHA-256 and a map lookup (a contact centre's IVR ports send one key on
// every call). An entry counts only while the Access and its key generation are unchanged.
absl::StatusOr<Principal> Access::Authenticate(std::string_view key) const {
  struct Entry {
    const Access* access = nullptr;
    uint64_t generation = 0;
    std::string key;
    Principal who;
  };
  thread_local Entry cache[4];
  Entry& slot = cache[key.empty() ? 0 : static_cast<unsigned char>(key.back()) % 4];
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (slot.access == this && slot.generation == generation && ConstantTimeEquals(slot.key, key)) {
    return slot.who;
  }
  ASSIGN_OR_RETURN(Principal who, AuthenticateUncached(key));
  slot = Entry{this, generation, std::string(key), who};
  return who;
}

std::string_view Access::KeyIdOf(std::string_view key) {
  if (key.size() != kKeyPrefix.size() + kIdChars + 1 + kSecretChars ||
      key.substr(0, kKeyPrefix.size()) != kKeyPrefix || key[kKeyPrefix.size() + kIdChars] != '_') {
    return {};
  }
  return key.substr(kKeyPrefix.size(), kIdChars);
}

absl::StatusOr<Principal> Access::AuthenticateUncached(std::string_view key) const {
  if (key.empty() || key.size() > 256) return Unauthenticated();
  const std::string digest = Sha256(key);
  if (!bootstrap_digest_.empty() && ConstantTimeEquals(digest, bootstrap_digest_)) {
    return Principal{Role::kAdmin, true, "", ""};
  }
  // cxd_<id>_<secret>
  if (key.size() != kKeyPrefix.size() + kIdChars + 1 + kSecretChars ||
      key.substr(0, kKeyPrefix.size()) != kKeyPrefix || key[kKeyPrefix.size() + kIdChars] != '_') {
    return Unauthenticated();
  }
  const std::string_view id = key.substr(kKeyPrefix.size(), kIdChars);
  bool known;
  {
    std::shared_lock lock(mu_);
    known = keys_.count(id) > 0;
  }
  // A key created on another node since the last refresh: look again before refusing.
  if (!known) RETURN_IF_ERROR(Refresh());
  std::shared_lock lock(mu_);
  auto it = keys_.find(id);
  if (it == keys_.end() || it->second.revoked_ms != 0 ||
      !ConstantTimeEquals(digest, it->second.digest)) {
    return Unauthenticated();
  }
  const storage::ApiKey& k = it->second;
  return Principal{static_cast<Role>(k.role), k.all_tenants, k.tenant, k.id};
}

absl::StatusOr<std::string> Access::TenantFor(const Principal& who,
                                              std::optional<std::string_view> header) const {
  if (!who.all_tenants) {
    if (header && *header != who.tenant) {
      return absl::PermissionDeniedError("this API key is not valid for tenant '" +
                                         std::string(*header) + "'");
    }
    return who.tenant;
  }
  if (!header || header->empty()) return std::string();
  bool exists;
  {
    std::shared_lock lock(mu_);
    exists = TenantExists(*header);
  }
  // A tenant created on another node since the last refresh: look again before refusing.
  if (!exists) {
    RETURN_IF_ERROR(Refresh());
    std::shared_lock lock(mu_);
    exists = TenantExists(*header);
  }
  if (!exists) {
    return absl::InvalidArgumentError(
        "Invalid tenant specified : specified tenant in HTTP header 'ContactCenterId'='" +
        std::string(*header) + "' not configured. Verify configuration.");
  }
  return std::string(*header);
}

absl::StatusOr<NewKey> Access::CreateKey(Role role, std::optional<std::string> tenant,
                                         std::string name, storage::TimeMs now_ms) {
  if (name.size() > kMaxNameChars) {
    return absl::InvalidArgumentError("name: at most 64 characters");
  }
  if (role == Role::kAdmin && tenant) {
    return absl::InvalidArgumentError("tenant: admin keys act in every tenant; give no tenant");
  }
  if (role != Role::kAdmin && !tenant) {
    return absl::InvalidArgumentError(
        "tenant: reader and writer keys are bound to one tenant (\"\" is the default one)");
  }
  NewKey out;
  out.record.id = RandomToken(kIdChars);
  out.key = std::string(kKeyPrefix) + out.record.id + "_" + RandomToken(kSecretChars);
  out.record.digest = Sha256(out.key);
  out.record.role = static_cast<uint8_t>(role);
  out.record.all_tenants = !tenant;
  out.record.tenant = tenant.value_or("");
  out.record.name = std::move(name);
  out.record.created_ms = now_ms;
  if (tenant) RETURN_IF_ERROR(Refresh());  // a tenant another node created
  std::unique_lock lock(mu_);
  if (tenant && !TenantExists(*tenant)) {
    return absl::InvalidArgumentError("tenant: '" + *tenant + "' is not configured");
  }
  RETURN_IF_ERROR(store_->PutApiKey(out.record));
  keys_.emplace(out.record.id, out.record);
  generation_.fetch_add(1, std::memory_order_release);
  return out;
}

absl::StatusOr<storage::ApiKey> Access::RevokeKey(std::string_view id, storage::TimeMs now_ms) {
  RETURN_IF_ERROR(Refresh());  // a key another node created or revoked
  std::unique_lock lock(mu_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return absl::NotFoundError("no API key " + std::string(id));
  if (it->second.revoked_ms == 0) {
    storage::ApiKey revoked = it->second;
    revoked.revoked_ms = now_ms;
    RETURN_IF_ERROR(store_->PutApiKey(revoked));
    it->second = std::move(revoked);
    generation_.fetch_add(1, std::memory_order_release);
  }
  return it->second;
}

std::vector<storage::ApiKey> Access::Keys() const {
  Refresh().IgnoreError();  // a store that cannot be read: what was loaded
  std::shared_lock lock(mu_);
  std::vector<storage::ApiKey> out;
  for (const auto& [id, k] : keys_) out.push_back(k);
  return out;
}

absl::StatusOr<storage::Tenant> Access::CreateTenant(std::string name, storage::TimeMs now_ms) {
  if (!ValidTenantName(name)) {
    return absl::InvalidArgumentError("name: 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  RETURN_IF_ERROR(Refresh());  // a tenant another node created
  std::unique_lock lock(mu_);
  if (tenants_.count(name)) {
    return absl::AlreadyExistsError("tenant '" + name + "' exists");
  }
  storage::Tenant t{std::move(name), now_ms};
  RETURN_IF_ERROR(store_->PutTenant(t));
  tenants_.emplace(t.name, t);
  return t;
}

std::vector<storage::Tenant> Access::Tenants() const {
  Refresh().IgnoreError();  // a store that cannot be read: what was loaded
  std::shared_lock lock(mu_);
  std::vector<storage::Tenant> out;
  for (const auto& [name, t] : tenants_) out.push_back(t);
  return out;
}

bool Access::TenantExists(std::string_view name) const {
  return name.empty() || tenants_.count(name) > 0;
}

}  // namespace contextd::query
