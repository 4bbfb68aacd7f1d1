// The Redis Cluster store (redis_store.h).
//
// Placement. Each owner has a slot: RedisHashSlot of its kind, tenant and name (OwnerSlot). A
// customer's service indexes, its interaction index and its directory entry live there; so do
// an anonymous caller's (contact key) service indexes, an account's and a contact number's
// interaction indexes. A record's id carries the slot the record lives in, in its low 14 bits:
// id = sequence << 14 | slot. A new service is created in its owner's slot, a batch of
// interactions in the slot of its first record's first key. So a service's lifecycle write is
// one function call (ctx_put) on one shard, and the IVR's read, the active services of a
// caller, one call (ctx_scan) that returns the index entries with the records.
//
// Keys: "{" RedisSlotTag(slot) "}", the key prefix (RedisStoreOptions), then a kind byte and the key of the RocksDB layout (keys.h):
//   s ServiceKey -> a write token, EncodeService   x IndexPrefix -> sorted set of entries
//   i InteractionRecordKey -> Encode...   y InteractionIndexPrefix -> sorted set of entries
//   d CustomerKeysKey -> EncodeCustomerKeys
//   n IdLimitKey -> the id sequence's last reserved value (in the meta slot)
//   v the access version (AccessVersion; in the meta slot)
//   f a slot's fence: a counter written before every WAIT (RunConfirmed)
//   w and a record kind ('k' API keys, 't' tenants) -> a hash of WorkspaceKey -> the encoded
//     record (in the meta slot: few records, listed whole)
//   W, a part and the tenant: a tenant's Workspace, all in its slot OwnerSlot('w', tenant, ""),
//     so a change is one function call (ctx_ws_commit) and a load one transaction:
//     h the head (decimal: the number of the last change; none: 0)
//     j the journal, a hash: decimal number -> 8-byte token of the commit, EncodeWorkspaceChange
//       (the last kKeptWorkspaceChanges changes)
//     u users, a hash: user name -> EncodeUser
//     i work items, a hash: id -> EncodeWorkItem (completed ones stay, as in RocksDB)
//     a agents, a hash: user name -> EncodeAgentState (an agent with no channels is removed)
//   S and a session id -> EncodeStoredSession (in the slot RedisHashSlot(id); it expires a
//     minute after the session, which is only garbage collection: callers compare expires_ms)
// Sorted-set members, all scores 0, in byte order: 8 bytes time (sign bit flipped), 8 bytes id,
// then the entry's value (index_entries.h: the started entry's completed flag, the completed
// entry's start time). A time window is one ZRANGE BYLEX.
//
// Where a record and an index entry of it fall in different slots (a service whose owner
// changed, an interaction's account and contact-number entries, a record imported with an id
// from elsewhere), no single call can write both. The rule that keeps answers right: a record
// is the truth, and an entry outside its record's slot counts only when the record, read,
// yields exactly that entry (Confirmed). Writes add such entries before the record's call and
// remove them after it, so a crash between the shards' writes leaves at most entries that no
// record confirms: readers skip them (CheckIntegrity counts them), and no record is ever
// missing from an index it belongs in. Entries in the record's slot change in the record's own
// call, atomically with it, and need no confirmation.
//
// Durability: every write is followed, on the same connection, by WAIT wait_replicas; a write
// returns only when they confirm (else Unavailable: in doubt). Foreign entries are confirmed by
// their own WAIT before the record is written. Id sequences: TakeSequence.

#include "storage/redis_store.h"

#include <algorithm>
#include <atomic>
#include <array>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "storage/codec.h"
#include "storage/errors.h"
#include "storage/index_entries.h"
#include "storage/keys.h"
#include "storage/status_macros.h"

namespace contextd::storage {

extern const char kRedisFunctions[];  // storage/redis_functions.lua, embedded by CMake

namespace {

constexpr uint64_t kSlotBits = 14;
constexpr uint64_t kMaxSequence = kMaxId >> kSlotBits;

// The id sequences' names (IdLimitKey).
constexpr std::string_view kServiceSequence = "next_service_id_limit";
constexpr std::string_view kInteractionSequence = "next_interaction_id_limit";

// Records and sets that are not an owner's: id sequences, Workspace and access records.
const uint16_t kMetaSlot = RedisHashSlot("contextd meta");

uint16_t SlotOfId(uint64_t id) { return static_cast<uint16_t>(id & (kRedisSlots - 1)); }

uint64_t MakeId(uint64_t sequence, uint16_t slot) { return sequence << kSlotBits | slot; }

// The slot of an owner: `kind` 'c' customer, 'k' contact key (anonymous services), 'a' account,
// 'n' contact number (interactions), 'w' a tenant's Workspace (owner "").
uint16_t OwnerSlot(char kind, std::string_view tenant, std::string_view owner) {
  std::string bytes(1, kind);
  bytes += std::to_string(tenant.size());
  bytes += ':';
  bytes += tenant;
  bytes += owner;
  return RedisHashSlot(bytes);
}

uint16_t WorkspaceSlot(std::string_view tenant) { return OwnerSlot('w', tenant, ""); }

// One index entry as Redis holds it: a member of a sorted set.
struct Entry {
  uint16_t slot = 0;
  std::string set;
  std::string member;

  friend bool operator<(const Entry& a, const Entry& b) {
    return std::tie(a.set, a.member) < std::tie(b.set, b.member);
  }
};

constexpr size_t kSuffixBytes = 16;  // time and id, IndexKey's tail

char OwnerChar(OwnerKind kind) { return kind == OwnerKind::kCustomer ? 'c' : 'k'; }

char KeyChar(InteractionKey by) {
  switch (by) {
    case InteractionKey::kCustomer:
      return 'c';
    case InteractionKey::kAccount:
      return 'a';
    case InteractionKey::kContact:
      return 'n';
  }
  return 'c';
}

// Every key of one deployment's records: a key namespace (RedisStoreOptions::key_prefix)
// follows each key's hash tag.
class Layout {
 public:
  explicit Layout(std::string ns) : ns_(std::move(ns)) {}

  std::string Tag(uint16_t slot) const { return "{" + RedisSlotTag(slot) + "}" + ns_; }

  std::string ServiceRecordKey(std::string_view tenant, uint64_t id) const {
    return Tag(SlotOfId(id)) + "s" + ServiceKey(tenant, id);
  }
  std::string InteractionRecord(std::string_view tenant, uint64_t id) const {
    return Tag(SlotOfId(id)) + "i" + InteractionRecordKey(tenant, id);
  }
  std::string CustomerKeysRecord(std::string_view tenant, std::string_view customer_id) const {
    return Tag(OwnerSlot('c', tenant, customer_id)) + "d" + CustomerKeysKey(tenant, customer_id);
  }
  std::string MetaHash(char kind) const { return Tag(kMetaSlot) + "w" + std::string(1, kind); }
  // A part ('h' head, 'j' journal, 'u' users, 'i' items, 'a' agents) of a tenant's Workspace.
  std::string WorkspacePart(std::string_view tenant, char part) const {
    return Tag(WorkspaceSlot(tenant)) + "W" + std::string(1, part) + std::string(tenant);
  }
  std::string Session(std::string_view id) const {
    return Tag(RedisHashSlot(id)) + "S" + std::string(id);
  }
  const std::string& prefix() const { return ns_; }
  std::string AccessVersion() const { return Tag(kMetaSlot) + "v"; }
  std::string Fence(uint16_t slot) const { return Tag(slot) + "f"; }
  std::string SequenceKey(std::string_view name, std::string_view tenant) const {
    return Tag(kMetaSlot) + "n" + IdLimitKey(name, tenant);
  }

  std::string ServiceSet(std::string_view tenant, IndexKind index, OwnerKind owner_kind,
                         std::string_view owner, uint16_t* slot) const {
    *slot = OwnerSlot(OwnerChar(owner_kind), tenant, owner);
    return Tag(*slot) + "x" + IndexPrefix(tenant, index, owner_kind, owner);
  }
  std::string InteractionSet(std::string_view tenant, InteractionKey by, std::string_view key,
                             uint16_t* slot) const {
    *slot = OwnerSlot(KeyChar(by), tenant, key);
    return Tag(*slot) + "y" + InteractionIndexPrefix(tenant, by, key);
  }

  // Every entry a service has: derived from index_entries.h, the one definition of them.
  std::vector<Entry> EntriesOf(std::string_view tenant, const Service& s) const {
    std::vector<Entry> out;
    auto owner = OwnerOf(s);
    if (!owner) return out;
    for (const IndexEntry& e : IndexEntriesOf(tenant, s)) {
      // IndexEntriesOf gives the started entry, then the completed one if any.
      const IndexKind index = out.empty() ? IndexKind::kStarted : IndexKind::kCompleted;
      Entry entry;
      entry.set = ServiceSet(tenant, index, owner->first, owner->second, &entry.slot);
      entry.member = e.key.substr(e.key.size() - kSuffixBytes) + e.value;
      out.push_back(std::move(entry));
    }
    if (std::optional<ActiveEntry> active = ActiveEntryOf(tenant, s)) {
      Entry entry;
      entry.set = ServiceSet(tenant, IndexKind::kActive, owner->first, owner->second, &entry.slot);
      entry.member = active->entry;
      out.push_back(std::move(entry));
    }
    return out;
  }

  std::vector<Entry> EntriesOf(std::string_view tenant, const Interaction& x) const {
    std::vector<Entry> out;
    for (auto [by, key] : {std::pair{InteractionKey::kCustomer, &x.customer_id},
                           std::pair{InteractionKey::kAccount, &x.account_number},
                           std::pair{InteractionKey::kContact, &x.contact_number}}) {
      if (key->empty()) continue;
      Entry entry;
      entry.set = InteractionSet(tenant, by, *key, &entry.slot);
      entry.member = IndexKey("", x.time_ms, x.interaction_id);
      out.push_back(std::move(entry));
    }
    return out;
  }

 private:
  const std::string ns_;
};

// The slot a new service is created in: its owner's (none: the meta slot).
uint16_t HomeSlot(std::string_view tenant, const Service& s) {
  auto owner = OwnerOf(s);
  return owner ? OwnerSlot(OwnerChar(owner->first), tenant, owner->second) : kMetaSlot;
}

// The home slot of a new interaction batch: that of its first record's first key.
uint16_t HomeSlot(std::string_view tenant, const Interaction& x) {
  if (!x.customer_id.empty()) return OwnerSlot('c', tenant, x.customer_id);
  if (!x.account_number.empty()) return OwnerSlot('a', tenant, x.account_number);
  return OwnerSlot('n', tenant, x.contact_number);
}

// The bounds of ZRANGE ... BYLEX REV for a time window.
std::pair<std::string, std::string> LexBounds(const TimeRange& range) {
  std::string max = range.to_ms == std::numeric_limits<TimeMs>::max()
                        ? "+"
                        : "(" + IndexBound("", range.to_ms);
  std::string min = range.from_ms == std::numeric_limits<TimeMs>::min()
                        ? "-"
                        : "[" + IndexBound("", range.from_ms);
  return {std::move(max), std::move(min)};
}

// A service record's value: a token unique to the write (8 bytes), then EncodeService. Two
// nodes that make the same change to the same record write different values, so ctx_put's
// compare-and-set tells a concurrent writer's change from its own repeated call.
constexpr size_t kTokenBytes = 8;

absl::StatusOr<Service> DecodeStoredService(std::string_view value) {
  if (value.size() < kTokenBytes) return absl::DataLossError("corrupt service record");
  return DecodeService(value.substr(kTokenBytes));
}

uint64_t IdOfMember(std::string_view member) { return ReadBigEndian64(member.substr(8, 8)); }

// An error reply: Unavailable when the server cannot serve it now (out of memory, busy with a
// script, loading, not allowed to write), else Internal (a bug of ours).
absl::Status ReplyError(std::string_view what, const RedisReply& reply) {
  const std::string message = std::string(what) + ": " + reply.str;
  for (std::string_view transient : {"OOM", "BUSY", "LOADING", "NOREPLICAS", "MISCONF", "READONLY",
                                     "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "NOPERM"}) {
    if (std::string_view(reply.str).substr(0, transient.size()) == transient) {
      return absl::UnavailableError(message);
    }
  }
  return absl::InternalError(message);
}

// A write: records of one slot (their bytes as read and as they shall be) and the index
// entries to add and remove, anywhere.
struct Write {
  uint16_t slot = 0;
  std::vector<std::string> keys;
  std::vector<std::string> before;  // "" where absent
  std::vector<std::string> after;   // "" to delete
  std::vector<Entry> add;
  std::vector<Entry> remove;
};

enum class PutResult { kConflict = 0, kRepeated = 1, kWritten = 2 };

class RedisStore;

// Loads by pipelines: Add places each service (new ids from a range ReserveIds took at once)
// and keeps it; Finish writes them, the entries of other slots first, then the records of each
// slot in pipelines of ctx_put calls, each pipeline confirmed by one WAIT, over a few threads.
// Unlike RocksDB's, a load that fails in Finish leaves what it wrote (each record with all its
// entries): the records are the commit points, so what is there answers queries rightly, and
// the same import can be run again after removing them, or its remaining lines imported.
class RedisBulkLoader final : public BulkLoader {
 public:
  RedisBulkLoader(RedisStore* store, std::string tenant)
      : store_(store), tenant_(std::move(tenant)) {}
  absl::StatusOr<uint64_t> Add(std::string record) override;
  absl::StatusOr<bool> IdInUse(uint64_t service_id) override;
  absl::Status ReserveIds(uint64_t max_explicit_id, uint64_t unassigned) override;
  absl::Status Finish() override;
  absl::Status Compact() override { return absl::OkStatus(); }

 private:
  RedisStore* store_;
  const std::string tenant_;
  uint64_t next_ = 0, end_ = 0;  // the sequence values ReserveIds took: [next_, end_)
  std::map<uint16_t, std::vector<RedisCommand>> puts_;         // by the records' slot
  std::map<uint16_t, std::vector<RedisCommand>> foreign_adds_;  // by slot
};

class RedisStore final : public Store {
 public:
  friend class RedisBulkLoader;

  RedisStore(std::unique_ptr<RedisClusterClient> client, const RedisStoreOptions& options)
      : client_(std::move(client)),
        keys_(options.key_prefix),
        wait_replicas_(options.wait_replicas),
        wait_timeout_(options.wait_timeout) {}

  absl::StatusOr<Service> Create(std::string_view tenant, Service service) override {
    ASSIGN_OR_RETURN(uint64_t sequence, TakeSequence(kServiceSequence, tenant, 1));
    service.service_id = MakeId(sequence, HomeSlot(tenant, service));
    RETURN_IF_ERROR(PutNew(tenant, service));
    return service;
  }

  absl::StatusOr<Service> Get(std::string_view tenant, uint64_t service_id) override {
    ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                     GetValue(SlotOfId(service_id), keys_.ServiceRecordKey(tenant, service_id)));
    if (!bytes) return NotFound("service", std::to_string(service_id));
    return DecodeStoredService(*bytes);
  }

  absl::StatusOr<Service> Update(std::string_view tenant, uint64_t service_id,
                                 const Mutation& mutate) override {
    ASSIGN_OR_RETURN(std::optional<Service> after,
                     Rewrite(tenant, service_id, [&](Service& s) -> absl::StatusOr<bool> {
                       RETURN_IF_ERROR(mutate(s));
                       if (s.service_id != service_id) {
                         return absl::InternalError("mutation changed the id");
                       }
                       return true;
                     }));
    return std::move(*after);
  }

  absl::Status Delete(std::string_view tenant, uint64_t service_id) override {
    return Rewrite(tenant, service_id, [](Service&) -> absl::StatusOr<bool> { return false; })
        .status();
  }

  std::unique_ptr<BulkLoader> NewBulkLoader(std::string_view tenant) override {
    return std::make_unique<RedisBulkLoader>(this, std::string(tenant));
  }

  absl::StatusOr<std::vector<Service>> Scan(const IndexScan& scan) override {
    std::vector<Service> out;
    if (scan.range.Empty()) return out;
    Entry where;
    where.set = keys_.ServiceSet(scan.tenant, scan.index, scan.owner_kind, scan.owner, &where.slot);
    std::string want;
    if (scan.index == IndexKind::kStarted && scan.status != IndexScan::Status::kAny) {
      want.assign(1, scan.status == IndexScan::Status::kCompleted ? '\1' : '\0');
    }
    ASSIGN_OR_RETURN(std::vector<Found> found,
                     ScanSet(where, scan.range, -1, want, "s" + ServiceKey(scan.tenant, 0), ""));
    RETURN_IF_ERROR(FetchForeign(&found, [&](uint64_t id) { return keys_.ServiceRecordKey(scan.tenant, id); }));
    for (Found& f : found) {
      if (!f.record) continue;  // gone since the index was read, or never there
      ASSIGN_OR_RETURN(Service s, DecodeStoredService(*f.record));
      if (f.foreign && !Confirmed(keys_.EntriesOf(scan.tenant, s), where.set, f.member)) continue;
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<std::vector<Interaction>> Append(std::string_view tenant,
                                                  std::vector<Interaction> records) override {
    if (records.empty()) return records;
    const uint16_t home = HomeSlot(tenant, records[0]);
    ASSIGN_OR_RETURN(uint64_t sequence,
                     TakeSequence(kInteractionSequence, tenant, records.size()));
    Write w;
    w.slot = home;
    for (Interaction& x : records) {
      x.interaction_id = MakeId(sequence++, home);
      w.keys.push_back(keys_.InteractionRecord(tenant, x.interaction_id));
      w.before.emplace_back();
      w.after.push_back(EncodeInteraction(x));
      for (Entry& e : keys_.EntriesOf(tenant, x)) w.add.push_back(std::move(e));
    }
    ASSIGN_OR_RETURN(PutResult result, Apply(w));
    if (result == PutResult::kConflict) {
      return absl::InternalError("interaction ids already in use: an id sequence went back");
    }
    return records;
  }

  absl::StatusOr<std::vector<Interaction>> ScanInteractions(const InteractionScan& scan) override {
    std::vector<Interaction> out;
    if (scan.range.Empty() || scan.limit == 0) return out;
    Entry where;
    where.set = keys_.InteractionSet(scan.tenant, scan.by, scan.key, &where.slot);
    const long long page = static_cast<long long>(std::clamp<size_t>(scan.limit, 16, 1000));
    // Each page continues below the last entry read (an offset would shift under appends).
    std::string below;
    while (out.size() < scan.limit) {
      ASSIGN_OR_RETURN(std::vector<Found> found,
                       ScanSet(where, scan.range, page, "",
                               "i" + InteractionRecordKey(scan.tenant, 0), below));
      const bool last = static_cast<long long>(found.size()) < page;
      if (!found.empty()) below = found.back().member;
      RETURN_IF_ERROR(FetchForeign(
          &found, [&](uint64_t id) { return keys_.InteractionRecord(scan.tenant, id); }));
      for (Found& f : found) {
        if (!f.record || out.size() >= scan.limit) continue;
        ASSIGN_OR_RETURN(Interaction x, DecodeInteraction(*f.record));
        if (f.foreign && !Confirmed(keys_.EntriesOf(scan.tenant, x), where.set, f.member)) continue;
        if (!scan.keep || scan.keep(x)) out.push_back(std::move(x));
      }
      if (last) break;
    }
    return out;
  }

  absl::StatusOr<std::optional<CustomerKeys>> GetCustomerKeys(
      std::string_view tenant, std::string_view customer_id) override {
    const std::string key = keys_.CustomerKeysRecord(tenant, customer_id);
    ASSIGN_OR_RETURN(std::optional<std::string> bytes, GetValue(RedisKeySlot(key), key));
    if (!bytes) return std::optional<CustomerKeys>();
    ASSIGN_OR_RETURN(CustomerKeys keys, DecodeCustomerKeys(*bytes));
    return std::optional<CustomerKeys>(std::move(keys));
  }

  absl::Status PutCustomerKeys(std::string_view tenant, std::string_view customer_id,
                               const CustomerKeys& keys) override {
    const std::string key = keys_.CustomerKeysRecord(tenant, customer_id);
    return Confirm(RedisKeySlot(key), {{"SET", key, EncodeCustomerKeys(keys)}});
  }

  absl::StatusOr<WorkspaceSnapshot> LoadWorkspace(std::string_view tenant) override {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     client_->Run(WorkspaceSlot(tenant),
                                  {{"MULTI"},
                                   {"GET", keys_.WorkspacePart(tenant, 'h')},
                                   {"HGETALL", keys_.WorkspacePart(tenant, 'u')},
                                   {"HGETALL", keys_.WorkspacePart(tenant, 'i')},
                                   {"HGETALL", keys_.WorkspacePart(tenant, 'a')},
                                   {"EXEC"}}));
    RedisReply& exec = replies[5];
    if (exec.type != RedisReply::Type::kArray || exec.elements.size() != 4) {
      return ReplyError("EXEC", exec);
    }
    WorkspaceSnapshot out;
    ASSIGN_OR_RETURN(out.head, ParseNumber(exec.elements[0], "Workspace head"));
    ASSIGN_OR_RETURN(auto users, HashRecords<User>(exec.elements[1], DecodeUser));
    ASSIGN_OR_RETURN(auto items, HashRecords<WorkItem>(exec.elements[2], DecodeWorkItem));
    ASSIGN_OR_RETURN(auto agents, HashRecords<AgentState>(exec.elements[3], DecodeAgentState));
    for (auto& [name, user] : users) out.users.push_back(std::move(user));
    for (auto& [id, item] : items) {
      if (item.state != "Completed" && item.state != "Canceled") {
        out.items.push_back(std::move(item));
      }
    }
    for (auto& [name, agent] : agents) out.agents.push_back(std::move(agent));
    return out;
  }

  absl::StatusOr<uint64_t> WorkspaceHead(std::string_view tenant) override {
    return GetNumber(WorkspaceSlot(tenant), keys_.WorkspacePart(tenant, 'h'), "Workspace head");
  }

  absl::StatusOr<uint64_t> CommitWorkspace(std::string_view tenant, uint64_t expected,
                                           const WorkspaceChange& change) override {
    if (change.empty()) return absl::InvalidArgumentError("an empty Workspace change");
    RedisCommand call = {"FCALL",
                         "ctx_ws_commit",
                         "5",
                         keys_.WorkspacePart(tenant, 'h'),
                         keys_.WorkspacePart(tenant, 'j'),
                         keys_.WorkspacePart(tenant, 'u'),
                         keys_.WorkspacePart(tenant, 'i'),
                         keys_.WorkspacePart(tenant, 'a'),
                         std::to_string(expected),
                         NewToken(),
                         EncodeWorkspaceChange(change),
                         std::to_string(kKeptWorkspaceChanges)};
    auto record = [&call](const char* hash, const std::string& field, std::string value) {
      call.push_back(hash);
      call.push_back(field);
      call.push_back(std::move(value));
    };
    for (const User& user : change.users) record("3", user.user_name, EncodeUser(user));
    for (const WorkItem& item : change.items) record("4", item.id, EncodeWorkItem(item));
    for (const AgentState& agent : change.agents) {
      record("5", agent.user_name, agent.channels.empty() ? "" : EncodeAgentState(agent));
    }
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     RunConfirmed(WorkspaceSlot(tenant), {std::move(call)}));
    if (replies[0].type != RedisReply::Type::kInteger) {
      return ReplyError("ctx_ws_commit", replies[0]);
    }
    if (replies[0].integer < 0) {
      return absl::AbortedError("the Workspace of tenant '" + std::string(tenant) +
                                "' is not at change " + std::to_string(expected));
    }
    return static_cast<uint64_t>(replies[0].integer);
  }

  absl::StatusOr<std::vector<std::pair<uint64_t, WorkspaceChange>>> ReadWorkspace(
      std::string_view tenant, uint64_t after) override {
    std::vector<std::pair<uint64_t, WorkspaceChange>> out;
    ASSIGN_OR_RETURN(const uint64_t head, WorkspaceHead(tenant));
    if (after > head) {
      return absl::OutOfRangeError("Workspace change " + std::to_string(after) +
                                   " is past the head " + std::to_string(head));
    }
    if (after == head) return out;
    if (head - after > kKeptWorkspaceChanges) {
      return absl::OutOfRangeError("Workspace changes after " + std::to_string(after) +
                                   " are no longer kept");
    }
    // Changes up to the head read are never rewritten, only dropped from the journal.
    RedisCommand get = {"HMGET", keys_.WorkspacePart(tenant, 'j')};
    for (uint64_t n = after + 1; n <= head; ++n) get.push_back(std::to_string(n));
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     client_->Run(WorkspaceSlot(tenant), {std::move(get)}));
    if (replies[0].type != RedisReply::Type::kArray ||
        replies[0].elements.size() != head - after) {
      return ReplyError("HMGET", replies[0]);
    }
    for (uint64_t n = after + 1; n <= head; ++n) {
      const RedisReply& value = replies[0].elements[n - after - 1];
      if (value.nil()) {
        return absl::OutOfRangeError("Workspace changes after " + std::to_string(after) +
                                     " are no longer kept");
      }
      if (value.type != RedisReply::Type::kString || value.str.size() < kTokenBytes) {
        return absl::DataLossError("corrupt Workspace change " + std::to_string(n));
      }
      ASSIGN_OR_RETURN(WorkspaceChange change,
                       DecodeWorkspaceChange(std::string_view(value.str).substr(kTokenBytes)));
      out.emplace_back(n, std::move(change));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::pair<std::string, User>>> ListUsers() override {
    return ListWorkspace<User>('u', DecodeUser);
  }
  absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> ListWorkItems() override {
    return ListWorkspace<WorkItem>('i', DecodeWorkItem);
  }

  absl::Status PutSession(const StoredSession& session, TimeMs now_ms) override {
    // Redis forgets the key a minute after the session expires by the caller's clock (PX:
    // relative, so the nodes' and Redis's clocks need not agree); one long gone is deleted.
    const std::string key = keys_.Session(session.id);
    const uint16_t slot = RedisHashSlot(session.id);
    if (session.expires_ms <= now_ms - kSessionGraceMs) return Confirm(slot, {{"DEL", key}});
    const TimeMs keep_ms = session.expires_ms - now_ms + kSessionGraceMs;
    return Confirm(slot, {{"SET", key, EncodeStoredSession(session), "PX", std::to_string(keep_ms)}});
  }

  absl::StatusOr<std::optional<StoredSession>> GetSession(std::string_view id) override {
    ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                     GetValue(RedisHashSlot(id), keys_.Session(id)));
    if (!bytes) return std::optional<StoredSession>();
    ASSIGN_OR_RETURN(StoredSession session, DecodeStoredSession(*bytes));
    return std::optional<StoredSession>(std::move(session));
  }

  absl::Status PutApiKey(const ApiKey& key) override {
    return PutAccess('k', WorkspaceKey('k', "", key.id), EncodeApiKey(key));
  }
  absl::StatusOr<std::vector<ApiKey>> ListApiKeys() override {
    ASSIGN_OR_RETURN(auto keys, ListMeta<ApiKey>('k', DecodeApiKey));
    std::vector<ApiKey> out;
    for (auto& [tenant, key] : keys) out.push_back(std::move(key));
    return out;
  }
  absl::Status PutTenant(const Tenant& tenant) override {
    return PutAccess('t', WorkspaceKey('t', tenant.name, ""), EncodeTenant(tenant));
  }
  absl::StatusOr<std::vector<Tenant>> ListTenants() override {
    ASSIGN_OR_RETURN(auto tenants, ListMeta<Tenant>('t', DecodeTenant));
    std::vector<Tenant> out;
    for (auto& [name, tenant] : tenants) out.push_back(std::move(tenant));
    return out;
  }

  absl::StatusOr<uint64_t> AccessVersion() override {
    return GetNumber(kMetaSlot, keys_.AccessVersion(), "access version");
  }

  // Every write returned only once its replicas confirmed it: nothing is left to make durable.
  absl::Status Sync() override { return absl::OkStatus(); }

  // Unavailable unless every master of the current slot map answers (the readiness probe).
  absl::StatusOr<StoreStats> Stats() override {
    ASSIGN_OR_RETURN(std::vector<RedisNode> masters, client_->Masters());
    for (const RedisNode& m : masters) {
      ASSIGN_OR_RETURN(std::vector<RedisReply> pong, client_->RunOn(m, {{"PING"}}));
      if (pong[0].error()) return absl::UnavailableError(m.Name() + ": " + pong[0].str);
    }
    return StoreStats{};
  }

  absl::StatusOr<IntegrityReport> CheckIntegrity() override;

 private:
  static constexpr size_t kStripes = 1024;
  static constexpr int kMaxAttempts = 64;

  // An index entry read by ScanSet, with its record when known.
  struct Found {
    std::string member;
    std::optional<std::string> record;
    bool foreign = false;  // the record lives in another slot than the entry
  };

  // The first of `n` consecutive fresh values of the tenant's sequence `name` (one counter in
  // the meta slot, confirmed like any write, so no failover hands a value out twice); OutOfRange
  // when the ids are used up. Every node takes from the one counter, so ids follow the order
  // in which the records were created, whichever node created them.
  absl::StatusOr<uint64_t> TakeSequence(std::string_view name, std::string_view tenant,
                                        uint64_t n) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     RunConfirmed(kMetaSlot, {{"INCRBY", keys_.SequenceKey(name, tenant),
                                               std::to_string(n)}}));
    if (replies[0].type != RedisReply::Type::kInteger) return ReplyError("INCRBY", replies[0]);
    const uint64_t last = static_cast<uint64_t>(replies[0].integer);
    if (last > kMaxSequence) {
      return absl::OutOfRangeError("no ids left: ids stay at or below 2^53-1 (9007199254740991)");
    }
    return last - n + 1;
  }

  // Raises the tenant's sequence `name` so that it never hands out `sequence` or below.
  // REQUIRES: nothing else takes from the sequence meanwhile.
  absl::Status RaiseSequence(std::string_view name, std::string_view tenant, uint64_t sequence) {
    const std::string key = keys_.SequenceKey(name, tenant);
    ASSIGN_OR_RETURN(const uint64_t now, GetNumber(kMetaSlot, key, "id sequence"));
    if (now >= sequence) return absl::OkStatus();
    return Confirm(kMetaSlot, {{"INCRBY", key, std::to_string(sequence - now)}});
  }

  // Reads a service, lets `change` edit it (true: keep the result; false: delete it) and writes
  // the result with its entries' difference, compare-and-set on the bytes read: when another
  // node wrote meanwhile, reads it again. NotFound for an unknown id; `change`'s error.
  // Returns the stored service, nullopt when deleted.
  absl::StatusOr<std::optional<Service>> Rewrite(
      std::string_view tenant, uint64_t service_id,
      const std::function<absl::StatusOr<bool>(Service&)>& change) {
    std::lock_guard<std::mutex> lock(stripes_[service_id % kStripes]);
    const std::string key = keys_.ServiceRecordKey(tenant, service_id);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      ASSIGN_OR_RETURN(std::optional<std::string> bytes, GetValue(SlotOfId(service_id), key));
      if (!bytes) return NotFound("service", std::to_string(service_id));
      ASSIGN_OR_RETURN(Service before, DecodeStoredService(*bytes));
      Service after = before;
      ASSIGN_OR_RETURN(bool keep, change(after));
      Write w;
      w.slot = SlotOfId(service_id);
      w.keys = {key};
      w.before = {std::move(*bytes)};
      w.after = {keep ? StoredService(after) : ""};
      Diff(keys_.EntriesOf(tenant, before),
           keep ? keys_.EntriesOf(tenant, after) : std::vector<Entry>(), &w);
      ASSIGN_OR_RETURN(PutResult result, Apply(w));
      if (result != PutResult::kConflict) {
        return keep ? std::optional<Service>(std::move(after)) : std::nullopt;
      }
    }
    return absl::UnavailableError("service " + std::to_string(service_id) +
                                  " kept changing under concurrent updates");
  }

  // The write that stores a new service with every entry it has.
  Write NewService(std::string_view tenant, const Service& service) {
    Write w;
    w.slot = SlotOfId(service.service_id);
    w.keys = {keys_.ServiceRecordKey(tenant, service.service_id)};
    w.before = {""};
    w.after = {StoredService(service)};
    w.add = keys_.EntriesOf(tenant, service);
    return w;
  }

  absl::Status PutNew(std::string_view tenant, const Service& service) {
    ASSIGN_OR_RETURN(PutResult result, Apply(NewService(tenant, service)));
    if (result == PutResult::kConflict) {
      return absl::InternalError("service id " + std::to_string(service.service_id) +
                                 " already in use: an id sequence went back");
    }
    return absl::OkStatus();
  }

  std::string StoredService(const Service& service) { return NewToken() + EncodeService(service); }

  static void Diff(std::vector<Entry> before, std::vector<Entry> after, Write* w) {
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                        std::back_inserter(w->add));
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(w->remove));
  }

  static bool Confirmed(const std::vector<Entry>& entries, const std::string& set,
                        const std::string& member) {
    for (const Entry& e : entries) {
      if (e.set == set && e.member == member) return true;
    }
    return false;
  }

  // Runs a write's commands on `slot` followed by WAIT; Unavailable unless the replicas
  // confirm. Returns the commands' replies (without WAIT's).
  absl::StatusOr<std::vector<RedisReply>> RunConfirmed(uint16_t slot,
                                                       std::vector<RedisCommand> commands) {
    const size_t n = commands.size();
    if (wait_replicas_ > 0) {
      // WAIT counts replicas that reached this connection's last write. A command that wrote
      // nothing (a ctx_put or commit found already applied by a resend, a ZADD of an entry
      // already there) may leave that offset behind the write it stands for, on another
      // connection; Redis versions differ in what they then wait for. A write of the slot's
      // fence, always propagated, puts every earlier write of this master before the offset
      // WAIT waits for.
      commands.push_back({"INCR", keys_.Fence(slot)});
      commands.push_back({"WAIT", std::to_string(wait_replicas_),
                          std::to_string(wait_timeout_.count())});
    }
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, client_->Run(slot, commands));
    if (wait_replicas_ > 0) {
      const RedisReply& wait = replies.back();
      if (wait.type != RedisReply::Type::kInteger || wait.integer < wait_replicas_) {
        return absl::UnavailableError(
            "the write is in doubt: " +
            (wait.error() ? wait.str
                          : std::to_string(wait.integer) + " of " +
                                std::to_string(wait_replicas_) +
                                " Redis replicas confirmed it in time"));
      }
      replies.resize(n);
    }
    return replies;
  }

  // Runs commands that must each succeed (a plain write), confirmed.
  absl::Status Confirm(uint16_t slot, std::vector<RedisCommand> commands) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RunConfirmed(slot, std::move(commands)));
    for (const RedisReply& r : replies) {
      if (r.error()) return ReplyError("redis", r);
    }
    return absl::OkStatus();
  }

  // A write as commands: the ctx_put of its records and their own slot's entries, and the
  // entries of other slots to add before it and remove after it, by slot.
  struct Planned {
    RedisCommand put;
    std::map<uint16_t, std::vector<RedisCommand>> foreign_add, foreign_remove;
  };

  static Planned Plan(const Write& w) {
    Planned p;
    std::vector<std::string> sets;
    std::vector<std::string> ops;
    auto local = [&](const Entry& e, const char* op) {
      auto it = std::find(sets.begin(), sets.end(), e.set);
      if (it == sets.end()) it = sets.insert(sets.end(), e.set);
      ops.push_back(std::to_string(w.keys.size() + (it - sets.begin()) + 1));
      ops.push_back(op);
      ops.push_back(e.member);
    };
    for (const Entry& e : w.remove) {
      if (e.slot == w.slot) {
        local(e, "-");
      } else {
        p.foreign_remove[e.slot].push_back({"ZREM", e.set, e.member});
      }
    }
    for (const Entry& e : w.add) {
      if (e.slot == w.slot) {
        local(e, "+");
      } else {
        p.foreign_add[e.slot].push_back({"ZADD", e.set, "0", e.member});
      }
    }
    p.put = {"FCALL", "ctx_put", std::to_string(w.keys.size() + sets.size())};
    p.put.insert(p.put.end(), w.keys.begin(), w.keys.end());
    p.put.insert(p.put.end(), sets.begin(), sets.end());
    p.put.push_back(std::to_string(w.keys.size()));
    for (size_t i = 0; i < w.keys.size(); ++i) {
      p.put.push_back(w.before[i]);
      p.put.push_back(w.after[i]);
    }
    p.put.insert(p.put.end(), ops.begin(), ops.end());
    return p;
  }

  // The write protocol of the file comment: foreign additions (confirmed), then the records
  // and their own slot's entries in one ctx_put (confirmed), then foreign removals.
  absl::StatusOr<PutResult> Apply(const Write& w) {
    Planned p = Plan(w);
    for (auto& [slot, commands] : p.foreign_add) {
      RETURN_IF_ERROR(Confirm(slot, std::move(commands)));
    }
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, RunConfirmed(w.slot, {std::move(p.put)}));
    if (replies[0].type != RedisReply::Type::kInteger) return ReplyError("ctx_put", replies[0]);
    const auto result = static_cast<PutResult>(replies[0].integer);
    if (result == PutResult::kConflict) return result;
    // Entries no record confirms any more: readers skip them already, so their removal needs
    // no confirmation, and a failure leaves only what CheckIntegrity counts.
    for (auto& [slot, commands] : p.foreign_remove) client_->Run(slot, commands).IgnoreError();
    return result;
  }

  absl::StatusOr<std::optional<std::string>> GetValue(uint16_t slot, const std::string& key) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, client_->Run(slot, {{"GET", key}}));
    if (replies[0].nil()) return std::optional<std::string>();
    if (replies[0].type != RedisReply::Type::kString) return ReplyError("GET", replies[0]);
    return std::optional<std::string>(std::move(replies[0].str));
  }

  // One window of one sorted set (ctx_scan), newest first, at most `count` entries (-1: all)
  // and only those below the member `below` when it is not empty. `record_kind` is the kind
  // byte and the key of id 0 of the records, whose last 8 bytes the script replaces by each id.
  absl::StatusOr<std::vector<Found>> ScanSet(const Entry& where, const TimeRange& range,
                                             long long count, const std::string& want,
                                             const std::string& record_kind,
                                             const std::string& below) {
    auto [max, min] = LexBounds(range);
    if (!below.empty()) max = "(" + below;  // inside the window: below its upper end
    const std::string prefix =
        keys_.Tag(where.slot) + record_kind.substr(0, record_kind.size() - 8);
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     client_->Run(where.slot, {{"FCALL", "ctx_scan", "1", where.set, max, min,
                                                "0", std::to_string(count),
                                                want, prefix, std::to_string(where.slot)}}));
    RedisReply& reply = replies[0];
    if (reply.type != RedisReply::Type::kArray) return ReplyError("ctx_scan", reply);
    std::vector<Found> out;
    out.reserve(reply.elements.size() / 2);
    for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
      Found f;
      f.member = std::move(reply.elements[i].str);
      if (f.member.size() < kSuffixBytes) return absl::DataLossError("corrupt index entry");
      f.foreign = SlotOfId(IdOfMember(f.member)) != where.slot;
      if (!reply.elements[i + 1].nil()) f.record = std::move(reply.elements[i + 1].str);
      out.push_back(std::move(f));
    }
    return out;
  }

  // Reads the records of foreign entries from their slots, one round trip per slot.
  template <typename KeyOf>
  absl::Status FetchForeign(std::vector<Found>* found, const KeyOf& key_of) {
    std::map<uint16_t, std::vector<Found*>> by_slot;
    for (Found& f : *found) {
      if (f.foreign) by_slot[SlotOfId(IdOfMember(f.member))].push_back(&f);
    }
    for (auto& [slot, entries] : by_slot) {
      std::vector<RedisCommand> gets;
      for (Found* f : entries) gets.push_back({"GET", key_of(IdOfMember(f->member))});
      ASSIGN_OR_RETURN(std::vector<RedisReply> replies, client_->Run(slot, gets));
      for (size_t i = 0; i < entries.size(); ++i) {
        if (replies[i].type == RedisReply::Type::kString) {
          entries[i]->record = std::move(replies[i].str);
        } else if (!replies[i].nil()) {
          return ReplyError("GET", replies[i]);
        }
      }
    }
    return absl::OkStatus();
  }

  // The number a head key's reply holds (none: 0).
  // A number Redis keeps as decimal text (a head, a sequence, the access version); 0 when
  // the key is absent.
  static absl::StatusOr<uint64_t> ParseNumber(const RedisReply& reply, std::string_view what) {
    if (reply.nil()) return 0;
    if (reply.error()) return ReplyError("GET", reply);
    uint64_t n = 0;
    if (reply.type != RedisReply::Type::kString || !absl::SimpleAtoi(reply.str, &n)) {
      return absl::DataLossError("corrupt " + std::string(what) + ": " + reply.str);
    }
    return n;
  }

  absl::StatusOr<uint64_t> GetNumber(uint16_t slot, const std::string& key,
                                     std::string_view what) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies, client_->Run(slot, {{"GET", key}}));
    return ParseNumber(replies[0], what);
  }

  // The records of an HGETALL reply by field, in the order RocksDB's keys have
  // (WorkspaceKey: length-prefixed, so shorter fields first).
  template <typename T>
  static absl::StatusOr<std::vector<std::pair<std::string, T>>> HashRecords(
      RedisReply& reply, absl::StatusOr<T> (*decode)(std::string_view)) {
    if (reply.type != RedisReply::Type::kArray) return ReplyError("HGETALL", reply);
    std::vector<std::pair<std::string, T>> out;
    for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
      ASSIGN_OR_RETURN(T record, decode(reply.elements[i + 1].str));
      out.emplace_back(std::move(reply.elements[i].str), std::move(record));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return WorkspaceKey('w', "", a.first) < WorkspaceKey('w', "", b.first);
    });
    return out;
  }

  // Every tenant's (ListTenants and the default tenant) records of a Workspace part, in the
  // order of RocksDB's keys.
  template <typename T>
  absl::StatusOr<std::vector<std::pair<std::string, T>>> ListWorkspace(
      char part, absl::StatusOr<T> (*decode)(std::string_view)) {
    ASSIGN_OR_RETURN(std::vector<Tenant> tenants, ListTenants());
    std::set<std::string> names = {""};
    for (const Tenant& t : tenants) names.insert(t.name);
    std::vector<std::pair<std::string, std::pair<std::string, T>>> found;  // by WorkspaceKey
    for (const std::string& tenant : names) {
      ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                       client_->Run(WorkspaceSlot(tenant),
                                    {{"HGETALL", keys_.WorkspacePart(tenant, part)}}));
      ASSIGN_OR_RETURN(auto records, HashRecords<T>(replies[0], decode));
      for (auto& [field, record] : records) {
        found.emplace_back(WorkspaceKey(part, tenant, field),
                           std::pair<std::string, T>(tenant, std::move(record)));
      }
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::string, T>> out;
    for (auto& [key, record] : found) out.push_back(std::move(record));
    return out;
  }

  // A random token of kTokenBytes bytes.
  std::string NewToken() {
    uint64_t token;
    {
      std::lock_guard<std::mutex> lock(token_mu_);
      token = tokens_();
    }
    std::string out;
    AppendBigEndian64(token, &out);
    return out;
  }

  // A new access version: random rather than counted, so that a failover losing the last
  // access write and a later write on the promoted replica never give two different sets of
  // records one version. Decimal, as AccessVersion reads it.
  std::string NewVersion() { return std::to_string(ReadBigEndian64(NewToken()) >> 1); }

  // An access record and the access version, in one transaction (one slot).
  absl::Status PutAccess(char kind, const std::string& field, std::string value) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     RunConfirmed(kMetaSlot, {{"MULTI"},
                                              {"HSET", keys_.MetaHash(kind), field, std::move(value)},
                                              {"SET", keys_.AccessVersion(), NewVersion()},
                                              {"EXEC"}}));
    if (replies[3].type != RedisReply::Type::kArray) return ReplyError("EXEC", replies[3]);
    for (const RedisReply& r : replies[3].elements) {
      if (r.error()) return ReplyError("access write", r);
    }
    return absl::OkStatus();
  }

  template <typename T>
  absl::StatusOr<std::vector<std::pair<std::string, T>>> ListMeta(
      char kind, absl::StatusOr<T> (*decode)(std::string_view)) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                     client_->Run(kMetaSlot, {{"HGETALL", keys_.MetaHash(kind)}}));
    if (replies[0].type != RedisReply::Type::kArray) return ReplyError("HGETALL", replies[0]);
    std::vector<std::pair<std::string, std::string>> fields;
    for (size_t i = 0; i + 1 < replies[0].elements.size(); i += 2) {
      fields.emplace_back(std::move(replies[0].elements[i].str),
                          std::move(replies[0].elements[i + 1].str));
    }
    std::sort(fields.begin(), fields.end());  // the RocksDB store lists in key order too
    std::vector<std::pair<std::string, T>> out;
    for (const auto& [field, value] : fields) {
      ASSIGN_OR_RETURN(T record, decode(value));
      std::string tenant;
      if (!ParseWorkspaceKeyTenant(field, &tenant)) {
        return absl::DataLossError("corrupt workspace key");
      }
      out.emplace_back(std::move(tenant), std::move(record));
    }
    return out;
  }

  std::unique_ptr<RedisClusterClient> client_;
  const Layout keys_;
  const int wait_replicas_;
  const std::chrono::milliseconds wait_timeout_;
  std::array<std::mutex, kStripes> stripes_;  // per service: this node's updates queue here
  std::mutex token_mu_;
  std::mt19937_64 tokens_{std::random_device{}()};  // guarded by token_mu_
};

absl::StatusOr<uint64_t> RedisBulkLoader::Add(std::string record) {
  ASSIGN_OR_RETURN(Service service, DecodeService(record));
  if (service.service_id == 0) {
    if (next_ == end_) return absl::FailedPreconditionError("more new ids than ReserveIds took");
    service.service_id = MakeId(next_++, HomeSlot(tenant_, service));
  }
  RedisStore::Planned p = RedisStore::Plan(store_->NewService(tenant_, service));
  puts_[SlotOfId(service.service_id)].push_back(std::move(p.put));
  for (auto& [slot, commands] : p.foreign_add) {
    auto& to = foreign_adds_[slot];
    to.insert(to.end(), std::make_move_iterator(commands.begin()),
              std::make_move_iterator(commands.end()));
  }
  return service.service_id;
}

absl::StatusOr<bool> RedisBulkLoader::IdInUse(uint64_t service_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   store_->GetValue(SlotOfId(service_id),
                                    store_->keys_.ServiceRecordKey(tenant_, service_id)));
  return bytes.has_value();
}

absl::Status RedisBulkLoader::ReserveIds(uint64_t max_explicit_id, uint64_t unassigned) {
  // An explicit id's sequence number must never be handed out: new ids go above it.
  RETURN_IF_ERROR(store_->RaiseSequence(kServiceSequence, tenant_, max_explicit_id >> kSlotBits));
  if (unassigned > 0) {
    ASSIGN_OR_RETURN(next_, store_->TakeSequence(kServiceSequence, tenant_, unassigned));
    end_ = next_ + unassigned;
  }
  return absl::OkStatus();
}

absl::Status RedisBulkLoader::Finish() {
  // Pipelines of this many commands, each followed by its WAIT.
  constexpr size_t kPipeline = 256;
  struct Batch {
    uint16_t slot;
    std::vector<RedisCommand> commands;
  };
  auto batches_of = [&](std::map<uint16_t, std::vector<RedisCommand>>& by_slot) {
    std::vector<Batch> out;
    for (auto& [slot, commands] : by_slot) {
      for (size_t i = 0; i < commands.size(); i += kPipeline) {
        Batch b{slot, {}};
        for (size_t j = i; j < std::min(commands.size(), i + kPipeline); ++j) {
          b.commands.push_back(std::move(commands[j]));
        }
        out.push_back(std::move(b));
      }
    }
    by_slot.clear();
    return out;
  };
  auto run_all = [&](std::vector<Batch> batches, bool puts) -> absl::Status {
    std::atomic<size_t> next{0};
    std::mutex mu;
    absl::Status first = absl::OkStatus();
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < batches.size();) {
        auto replies = store_->RunConfirmed(batches[i].slot, std::move(batches[i].commands));
        absl::Status s = replies.status();
        for (size_t r = 0; s.ok() && r < replies->size(); ++r) {
          const RedisReply& reply = (*replies)[r];
          if (reply.error()) s = ReplyError("import", reply);
          if (puts && reply.type == RedisReply::Type::kInteger &&
              reply.integer == static_cast<long long>(PutResult::kConflict)) {
            s = absl::AlreadyExistsError("a service id of the import is already in use");
          }
        }
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.ok()) first = s;
          next.store(batches.size());
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(work);
    for (std::thread& t : threads) t.join();
    return first;
  };
  RETURN_IF_ERROR(run_all(batches_of(foreign_adds_), false));
  return run_all(batches_of(puts_), true);
}

// Reads every key of this deployment (SCAN on each master) and checks, as RocksDB's check
// does: every record decodes and lives in the slot its id names; every entry a record should
// have is in its set; every entry in a set is one its record has (an entry outside its
// record's slot that no record confirms is left by an interrupted write: readers skip it, and
// it is counted apart, not as a problem); the id sequences are above every id handed out.
absl::StatusOr<IntegrityReport> RedisStore::CheckIntegrity() {
  IntegrityReport report;
  uint64_t unconfirmed = 0;
  auto problem = [&report](std::string what) {
    if (report.problems.size() < 100) report.problems.push_back(std::move(what));
    ++report.problem_count;
  };
  // Every key of the deployment, by kind: "{tag}" + prefix + kind + rest.
  std::string pattern = "\\{*\\}";
  for (char c : keys_.prefix()) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '*';
  struct Key {
    std::string key;
    uint16_t slot;
    std::string_view rest;  // after the kind byte
  };
  std::map<char, std::vector<Key>> by_kind;
  ASSIGN_OR_RETURN(std::vector<RedisNode> masters, client_->Masters());
  for (const RedisNode& master : masters) {
    std::string cursor = "0";
    do {
      ASSIGN_OR_RETURN(std::vector<RedisReply> replies,
                       client_->RunOn(master, {{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}}));
      const RedisReply& r = replies[0];
      if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) {
        return ReplyError("SCAN", r);
      }
      cursor = r.elements[0].str;
      for (const RedisReply& k : r.elements[1].elements) {
        const size_t close = k.str.find('}');
        const size_t kind_at = close + 1 + keys_.prefix().size();
        if (close == std::string::npos || kind_at >= k.str.size()) continue;
        by_kind[k.str[kind_at]].push_back({k.str, RedisKeySlot(k.str), {}});
      }
    } while (cursor != "0");
  }
  for (auto& [kind, list] : by_kind) {
    for (Key& k : list) {
      k.rest = std::string_view(k.key).substr(k.key.find('}') + 2 + keys_.prefix().size());
    }
  }
  // Runs one command per key, pipelined by slot (512 at a time); `take` gets each reply.
  auto each_reply = [&](const std::vector<Key>& keys, const char* command,
                        const std::function<absl::Status(const Key&, RedisReply&)>& take)
      -> absl::Status {
    std::map<uint16_t, std::vector<const Key*>> by_slot;
    for (const Key& k : keys) by_slot[k.slot].push_back(&k);
    for (auto& [slot, list] : by_slot) {
      for (size_t i = 0; i < list.size(); i += 512) {
        std::vector<RedisCommand> commands;
        const size_t end = std::min(list.size(), i + 512);
        for (size_t j = i; j < end; ++j) {
          if (std::string_view(command) == "ZRANGE") {
            commands.push_back({command, list[j]->key, "0", "-1"});
          } else {
            commands.push_back({command, list[j]->key});
          }
        }
        ASSIGN_OR_RETURN(std::vector<RedisReply> replies, client_->Run(slot, commands));
        for (size_t j = i; j < end; ++j) RETURN_IF_ERROR(take(*list[j], replies[j - i]));
      }
    }
    return absl::OkStatus();
  };

  // Records: each decodes, sits in its id's slot; their entries are what the sets must hold.
  std::map<std::pair<std::string, std::string>, uint64_t> expected;  // (set, member) -> id
  std::map<std::string, uint64_t> max_service_seq, max_interaction_seq;  // by tenant
  for (char kind : {'s', 'i'}) {
    RETURN_IF_ERROR(each_reply(by_kind[kind], "GET", [&](const Key& k, RedisReply& value) {
      if (value.nil()) return absl::OkStatus();  // deleted since the scan
      if (value.type != RedisReply::Type::kString) return ReplyError("GET", value);
      std::string_view tenant, rest;
      if (!SplitLengthPrefixed(k.rest, &tenant, &rest) || rest.size() != 8) {
        problem("record with a malformed key " + k.key);
        return absl::OkStatus();
      }
      const uint64_t id = ReadBigEndian64(rest);
      if (SlotOfId(id) != k.slot) problem("record " + std::to_string(id) + " is not in its id's slot");
      // The record's entries, if it decodes to its id; else a problem and none.
      auto entries_of = [&](const auto& record, uint64_t record_id, const char* what,
                            std::map<std::string, uint64_t>& max_seq) {
        if (!record.ok() || record_id != id) {
          problem(what + std::to_string(id) + ": record does not decode to its id");
          return std::vector<Entry>();
        }
        uint64_t& max = max_seq[std::string(tenant)];
        max = std::max(max, id >> kSlotBits);
        return keys_.EntriesOf(tenant, *record);
      };
      std::vector<Entry> entries;
      if (kind == 's') {
        ++report.services;
        absl::StatusOr<Service> svc = DecodeStoredService(value.str);
        entries = entries_of(svc, svc.ok() ? svc->service_id : 0, "service ", max_service_seq);
      } else {
        ++report.interactions;
        absl::StatusOr<Interaction> x = DecodeInteraction(value.str);
        entries = entries_of(x, x.ok() ? x->interaction_id : 0, "interaction ",
                             max_interaction_seq);
      }
      for (Entry& e : entries) expected.emplace(std::make_pair(std::move(e.set), std::move(e.member)), id);
      return absl::OkStatus();
    }));
  }
  // Sets: every entry is one its record has, and every entry a record has is there.
  for (char kind : {'x', 'y'}) {
    RETURN_IF_ERROR(each_reply(by_kind[kind], "ZRANGE", [&](const Key& k, RedisReply& members) {
      if (members.type != RedisReply::Type::kArray) return ReplyError("ZRANGE", members);
      for (RedisReply& m : members.elements) {
        if (kind == 'x') ++report.service_index_entries; else ++report.interaction_index_entries;
        if (expected.erase({k.key, m.str}) > 0) continue;
        if (m.str.size() >= kSuffixBytes && SlotOfId(IdOfMember(m.str)) != k.slot) {
          ++unconfirmed;  // a pointer to another slot no record confirms: skipped by readers
        } else {
          problem("index entry of id " +
                  (m.str.size() >= kSuffixBytes ? std::to_string(IdOfMember(m.str)) : "?") +
                  " matches no record");
        }
      }
      return absl::OkStatus();
    }));
  }
  for (const auto& [entry, id] : expected) {
    problem("record " + std::to_string(id) + " is missing from an index");
  }
  // Sequences: above every id stored.
  for (auto [name, max_seq] : {std::pair{kServiceSequence, &max_service_seq},
                               std::pair{kInteractionSequence, &max_interaction_seq}}) {
    for (const auto& [tenant, seq] : *max_seq) {
      absl::StatusOr<uint64_t> value =
          GetNumber(kMetaSlot, keys_.SequenceKey(name, tenant), "id sequence");
      if (!value.ok() && !absl::IsDataLoss(value.status())) return value.status();
      if (!value.ok() || *value < seq) {
        problem("the id sequence " + std::string(name) + " of tenant '" + tenant +
                "' is below ids stored");
      }
    }
  }
  for (char kind : {'d', 'w', 'W', 'S', 'n', 'v'}) report.other_records += by_kind[kind].size();
  if (unconfirmed > 0) {
    report.problems.push_back("note: " + std::to_string(unconfirmed) +
                              " index entries in another slot than their record are confirmed "
                              "by none (left by interrupted writes; queries skip them)");
  }
  return report;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenRedisStore(const RedisStoreOptions& options) {
  RedisClusterOptions cluster = options.cluster;
  cluster.functions = kRedisFunctions;
  ASSIGN_OR_RETURN(std::unique_ptr<RedisClusterClient> client,
                   RedisClusterClient::Connect(std::move(cluster)));
  return std::unique_ptr<Store>(
      new RedisStore(std::move(client), options));
}

}  // namespace contextd::storage
