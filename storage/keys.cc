#include "storage/keys.h"

namespace contextd::storage {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

void AppendLengthPrefixed(std::string_view s, std::string* out) {
  uint64_t n = s.size();
  while (n >= 0x80) {
    out->push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
  out->append(s);
}

}  // namespace

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string ServiceKey(std::string_view tenant, uint64_t service_id) {
  std::string key;
  key.reserve(tenant.size() + 9);
  AppendLengthPrefixed(tenant, &key);
  AppendBigEndian64(service_id, &key);
  return key;
}

std::string IndexPrefix(std::string_view tenant, IndexKind index, OwnerKind owner_kind,
                        std::string_view owner) {
  std::string key;
  key.reserve(tenant.size() + owner.size() + 20);
  AppendLengthPrefixed(tenant, &key);
  key.push_back(static_cast<char>(index));
  key.push_back(static_cast<char>(owner_kind));
  AppendLengthPrefixed(owner, &key);
  return key;
}

std::string InteractionRecordKey(std::string_view tenant, uint64_t interaction_id) {
  return ServiceKey(tenant, interaction_id);  // same layout, another column family
}

std::string InteractionIndexPrefix(std::string_view tenant, InteractionKey by,
                                   std::string_view key) {
  std::string out;
  out.reserve(tenant.size() + key.size() + 8);
  AppendLengthPrefixed(tenant, &out);
  out.push_back(static_cast<char>(by));
  AppendLengthPrefixed(key, &out);
  return out;
}

std::string IdLimitKey(std::string_view name, std::string_view tenant) {
  std::string key(name);
  if (!tenant.empty()) {
    key += '|';
    AppendLengthPrefixed(tenant, &key);
  }
  return key;
}

std::string CustomerKeysKey(std::string_view tenant, std::string_view customer_id) {
  std::string out = "customer_keys|";
  AppendLengthPrefixed(tenant, &out);
  AppendLengthPrefixed(customer_id, &out);
  return out;
}

std::string WorkspaceKey(char kind, std::string_view tenant, std::string_view id) {
  std::string out(1, kind);
  AppendLengthPrefixed(tenant, &out);
  AppendLengthPrefixed(id, &out);
  return out;
}

bool SplitLengthPrefixed(std::string_view in, std::string_view* head, std::string_view* rest) {
  uint64_t n = 0;
  size_t i = 0;
  for (int shift = 0;; shift += 7) {
    if (i >= in.size() || shift >= 64) return false;
    const uint8_t b = static_cast<uint8_t>(in[i++]);
    n |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (n > in.size() - i) return false;
  *head = in.substr(i, n);
  *rest = in.substr(i + n);
  return true;
}

bool ParseWorkspaceKeyTenant(std::string_view key, std::string* tenant) {
  std::string_view head, rest;
  if (key.empty() || !SplitLengthPrefixed(key.substr(1), &head, &rest)) return false;
  tenant->assign(head);
  return true;
}

std::string IndexBound(std::string_view prefix, TimeMs time_ms) {
  std::string key(prefix);
  AppendBigEndian64(static_cast<uint64_t>(time_ms) ^ kSignBit, &key);
  return key;
}

std::string IndexKey(std::string_view prefix, TimeMs time_ms, uint64_t service_id) {
  std::string key = IndexBound(prefix, time_ms);
  AppendBigEndian64(service_id, &key);
  return key;
}

bool ParseIndexKey(std::string_view key, size_t prefix_size, TimeMs* time_ms,
                   uint64_t* service_id) {
  if (key.size() != prefix_size + 16) return false;
  *time_ms = static_cast<TimeMs>(ReadBigEndian64(key.substr(prefix_size)) ^ kSignBit);
  *service_id = ReadBigEndian64(key.substr(prefix_size + 8));
  return true;
}

}  // namespace contextd::storage
