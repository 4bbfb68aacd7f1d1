#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/interaction.h"
#include "storage/model.h"

namespace contextd::storage {

// Who a service is listed under: its customer, or (anonymous services) its contact key.
enum class OwnerKind : uint8_t { kCustomer = 1, kAnonymous = 2 };

// The secondary indexes kept per owner. Each orders entries by (time, service id).
enum class IndexKind : uint8_t {
  kStarted = 1,         // every service, by start time
  kCompleted = 2,       // completed services, by completion time
  kActive = 3,          // active services only: one compact record per owner (see below)
  kActiveOverflow = 4,  // storage-internal: active entries beyond the record's capacity
};

// The active index of an owner is one record under IndexPrefix(tenant, kActive, ...): a
// 4-byte big-endian count of overflow entries, then the 16-byte suffixes (time, service id)
// of up to kMaxActiveInRecord active services, ascending. The IVR hot path reads that one
// record however long the owner's history, and completed services leave no tombstones in
// it. An owner with more active services than that (a withheld caller id, a load test) keeps
// the rest as single keys IndexKey(IndexPrefix(tenant, kActiveOverflow, ...), time, id), so
// a write never rewrites more than one bounded record.
inline constexpr size_t kActiveEntryBytes = 16;
inline constexpr size_t kMaxActiveInRecord = 128;

// Primary key of a service record: the tenant, then the id in big-endian order.
std::string ServiceKey(std::string_view tenant, uint64_t service_id);

// The common prefix of every index key of one (tenant, index, owner). Length prefixes keep
// one owner's keys from ever being a prefix of another's.
std::string IndexPrefix(std::string_view tenant, IndexKind index, OwnerKind owner_kind,
                        std::string_view owner);

// Index key: IndexPrefix | time (big-endian, sign bit flipped) | service id (big-endian), so
// byte order is (time, service id) order and a time window is one contiguous key range.
std::string IndexKey(std::string_view prefix, TimeMs time_ms, uint64_t service_id);

// The first key at or after time `t` under `prefix`: IndexPrefix | time.
std::string IndexBound(std::string_view prefix, TimeMs time_ms);

// Splits an index key produced by IndexKey(prefix, ...). Returns false if it is too short.
bool ParseIndexKey(std::string_view key, size_t prefix_size, TimeMs* time_ms, uint64_t* service_id);

// Primary key of an interaction record (in its own column family): tenant, then the id in
// big-endian order.
std::string InteractionRecordKey(std::string_view tenant, uint64_t interaction_id);

// The common prefix of the index keys of one (tenant, key kind, key) of interactions; entries
// are IndexKey(prefix, time, interaction id).
std::string InteractionIndexPrefix(std::string_view tenant, InteractionKey by,
                                   std::string_view key);

// Where the persisted limit of a tenant's id sequence `name` lives in the meta family: `name`
// itself for the default tenant (the key used before sequences were per tenant), else `name`,
// '|' and the length-prefixed tenant.
std::string IdLimitKey(std::string_view name, std::string_view tenant);

// Key of a customer's directory entry (CustomerKeys).
std::string CustomerKeysKey(std::string_view tenant, std::string_view customer_id);

// Key of a Workspace record (workspace_store.h): `kind` ('u' user, 'i' work item), then
// the tenant and the id, length-prefixed, so one kind is one key range.
std::string WorkspaceKey(char kind, std::string_view tenant, std::string_view id);

// The tenant of a WorkspaceKey. Returns false for a malformed key.
bool ParseWorkspaceKeyTenant(std::string_view key, std::string* tenant);

// Splits a length-prefixed string (as every key starts with its tenant) off the front of
// `in`. Returns false if `in` does not start with one.
bool SplitLengthPrefixed(std::string_view in, std::string_view* head, std::string_view* rest);

void AppendBigEndian64(uint64_t v, std::string* out);
uint64_t ReadBigEndian64(std::string_view in);

}  // namespace contextd::storage
