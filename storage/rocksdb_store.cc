// The RocksDB store (rocksdb_internal.h): opening the database (refusing a damaged one), the
// service, interaction, Workspace and access records' reads and writes, index scans, the
// durable sync and the operational figures. The bulk loader is rocksdb_bulk_loader.cc, the integrity checker
// rocksdb_integrity.cc, what each record puts in the index families index_entries.cc.

#include "storage/rocksdb_store.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "storage/codec.h"
#include "storage/errors.h"
#include "storage/id_high_water.h"
#include "storage/rocksdb_internal.h"
#include "storage/status_macros.h"

namespace contextd::storage {

absl::Status FromRocksDb(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(s.ToString());
  if (s.IsBusy() || s.IsTryAgain() || s.IsIOError()) return absl::UnavailableError(s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(s.ToString());
  return absl::InternalError(s.ToString());
}

namespace {

// The keys of one index prefix whose time lies in `range`, as iterator bounds in `options`.
// Not copyable: the options point into the strings.
struct WindowRange {
  WindowRange(std::string_view prefix, const TimeRange& range)
      : lower(IndexBound(prefix, range.from_ms)),
        // An unbounded upper end must still include time INT64_MAX: the prefix's successor.
        upper(range.to_ms == std::numeric_limits<TimeMs>::max()
                  ? std::string(prefix) + std::string(9, '\xff')
                  : IndexBound(prefix, range.to_ms)),
        lower_slice(lower),
        upper_slice(upper) {
    options.iterate_lower_bound = &lower_slice;
    options.iterate_upper_bound = &upper_slice;
  }
  WindowRange(const WindowRange&) = delete;
  WindowRange& operator=(const WindowRange&) = delete;

  const std::string lower;
  const std::string upper;
  const rocksdb::Slice lower_slice;
  const rocksdb::Slice upper_slice;
  rocksdb::ReadOptions options;
};

absl::Status WalFailedError() {
  return absl::UnavailableError(
      "a write to the write-ahead log failed: writes are refused until contextd restarts");
}

// Notes a failed append to the write-ahead log (RocksDB reports it as the background error
// of a write, kWriteCallback), and keeps RocksDB's own recovery from using that log
// (RocksDbStore::wal_failed_).
class WalErrorListener : public rocksdb::EventListener {
 public:
  explicit WalErrorListener(std::shared_ptr<std::atomic<bool>> failed)
      : failed_(std::move(failed)) {}

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status*) override {
    if (reason == rocksdb::BackgroundErrorReason::kWriteCallback) failed_->store(true);
  }

  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    if (failed_->load()) *auto_recovery = false;
  }

 private:
  std::shared_ptr<std::atomic<bool>> failed_;
};

bool EntryMayMatch(const IndexScan& scan, std::string_view value) {
  if (scan.status == IndexScan::Status::kAny || scan.index != IndexKind::kStarted) return true;
  const bool completed = !value.empty() && value[0] == '\1';
  return completed == (scan.status == IndexScan::Status::kCompleted);
}

}  // namespace

// Holds the owner-record locks of up to two active records, taken in stripe order so that
// concurrent moves between the same owners cannot deadlock. Taken after a service stripe,
// never before one.
class RocksDbStore::OwnerLocks {
 public:
  OwnerLocks(RocksDbStore* store, const std::string* a, const std::string* b) {
    std::vector<size_t> stripes;
    for (const std::string* key : {a, b}) {
      if (key) stripes.push_back(std::hash<std::string>()(*key) % kStripes);
    }
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    for (size_t i : stripes) locks_.emplace_back(store->owner_stripes_[i]);
  }

 private:
  std::vector<std::unique_lock<std::mutex>> locks_;
};

RocksDbStore::RocksDbStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
                           bool sync, std::string dir, std::map<std::string, uint64_t> high_water,
                           std::shared_ptr<std::atomic<bool>> wal_failed, DiskSpaceGuard disk)
    : db_(db),
      handles_(std::move(handles)),
      wal_failed_(std::move(wal_failed)),
      disk_(std::move(disk)),
      dir_(std::move(dir)),
      high_water_(std::move(high_water)) {
  write_options_.sync = sync;
}

RocksDbStore::~RocksDbStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
  delete db_;
}

absl::StatusOr<IdCounter*> RocksDbStore::Ids(IdKind kind, std::string_view tenant) {
  std::lock_guard<std::mutex> lock(ids_mu_);
  auto& counters = kind == IdKind::kService ? service_ids_ : interaction_ids_;
  if (auto it = counters.find(tenant); it != counters.end()) return it->second.get();
  auto counter = std::make_unique<IdCounter>();
  counter->key = IdLimitKey(
      kind == IdKind::kService ? "next_service_id_limit" : "next_interaction_id_limit", tenant);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta(), counter->key, &value);
  if (!s.IsNotFound()) {
    RETURN_IF_ERROR(FromRocksDb(s));
    if (value.size() != 8) return absl::DataLossError("corrupt id limit " + counter->key);
    counter->next = counter->limit = ReadBigEndian64(value);
  }
  return counters.emplace(std::string(tenant), std::move(counter)).first->second.get();
}

absl::StatusOr<Service> RocksDbStore::Create(std::string_view tenant, Service service) {
  ASSIGN_OR_RETURN(IdCounter * ids, Ids(IdKind::kService, tenant));
  ASSIGN_OR_RETURN(service.service_id, TakeIds(*ids, 1));
  std::optional<ActiveEntry> active = ActiveEntryOf(tenant, service);
  OwnerLocks locks(this, active ? &active->record_key : nullptr, nullptr);
  rocksdb::WriteBatch batch;
  RETURN_IF_ERROR(MoveActive(nullptr, active ? &*active : nullptr, &batch));
  RETURN_IF_ERROR(FromRocksDb(
      batch.Put(services(), ServiceKey(tenant, service.service_id), EncodeService(service))));
  for (const IndexEntry& e : IndexEntriesOf(tenant, service)) {
    RETURN_IF_ERROR(FromRocksDb(batch.Put(index(), e.key, e.value)));
  }
  RETURN_IF_ERROR(Commit(write_options_, &batch));
  return service;
}

absl::StatusOr<Service> RocksDbStore::Get(std::string_view tenant, uint64_t service_id) {
  return Read(rocksdb::ReadOptions(), tenant, service_id);
}

absl::StatusOr<Service> RocksDbStore::Update(std::string_view tenant, uint64_t service_id,
                                             const Mutation& mutate) {
  std::lock_guard<std::mutex> lock(StripeOf(service_id));
  ASSIGN_OR_RETURN(Service before, Read(rocksdb::ReadOptions(), tenant, service_id));
  Service after = before;
  RETURN_IF_ERROR(mutate(after));
  if (after.service_id != service_id) return absl::InternalError("mutation changed the id");

  rocksdb::WriteBatch batch;
  std::vector<IndexEntry> old_entries = IndexEntriesOf(tenant, before);
  std::vector<IndexEntry> new_entries = IndexEntriesOf(tenant, after);
  for (const IndexEntry& e : old_entries) {
    bool kept = false;
    for (const IndexEntry& n : new_entries) kept = kept || n.key == e.key;
    if (!kept) RETURN_IF_ERROR(FromRocksDb(batch.Delete(index(), e.key)));
  }
  for (const IndexEntry& e : new_entries) {
    bool unchanged = false;
    for (const IndexEntry& o : old_entries)
      unchanged = unchanged || (o.key == e.key && o.value == e.value);
    if (!unchanged) RETURN_IF_ERROR(FromRocksDb(batch.Put(index(), e.key, e.value)));
  }
  std::optional<ActiveEntry> old_active = ActiveEntryOf(tenant, before);
  std::optional<ActiveEntry> new_active = ActiveEntryOf(tenant, after);
  const bool same_active = old_active.has_value() == new_active.has_value() &&
                           (!old_active || (old_active->record_key == new_active->record_key &&
                                            old_active->entry == new_active->entry));
  OwnerLocks locks(this, !same_active && old_active ? &old_active->record_key : nullptr,
                   !same_active && new_active ? &new_active->record_key : nullptr);
  if (!same_active) {
    RETURN_IF_ERROR(MoveActive(old_active ? &*old_active : nullptr,
                               new_active ? &*new_active : nullptr, &batch));
  }
  RETURN_IF_ERROR(
      FromRocksDb(batch.Put(services(), ServiceKey(tenant, service_id), EncodeService(after))));
  RETURN_IF_ERROR(Commit(write_options_, &batch));
  return after;
}

absl::Status RocksDbStore::Delete(std::string_view tenant, uint64_t service_id) {
  std::lock_guard<std::mutex> lock(StripeOf(service_id));
  ASSIGN_OR_RETURN(Service before, Read(rocksdb::ReadOptions(), tenant, service_id));
  rocksdb::WriteBatch batch;
  RETURN_IF_ERROR(FromRocksDb(batch.Delete(services(), ServiceKey(tenant, service_id))));
  for (const IndexEntry& e : IndexEntriesOf(tenant, before)) {
    RETURN_IF_ERROR(FromRocksDb(batch.Delete(index(), e.key)));
  }
  std::optional<ActiveEntry> active = ActiveEntryOf(tenant, before);
  OwnerLocks locks(this, active ? &active->record_key : nullptr, nullptr);
  RETURN_IF_ERROR(MoveActive(active ? &*active : nullptr, nullptr, &batch));
  return Commit(write_options_, &batch);
}

// Every family is in db_ and shares its WAL (rocksdb_internal.h), so this one sync covers all.
absl::Status RocksDbStore::Sync() {
  if (wal_failed_->load(std::memory_order_relaxed)) return WalFailedError();
  absl::Status s = Written(db_->SyncWAL());
  // A failed sync leaves the WAL file in error: RocksDB refuses it until a restart.
  if (absl::IsUnavailable(s)) wal_failed_->store(true, std::memory_order_relaxed);
  return s;
}

absl::Status RocksDbStore::Writable() {
  if (wal_failed_->load(std::memory_order_relaxed)) return WalFailedError();
  RETURN_IF_ERROR(disk_.Check());
  if (write_error_.load(std::memory_order_relaxed)) TryResume(/*now=*/false);
  return absl::OkStatus();
}

absl::Status RocksDbStore::Commit(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch) {
  RETURN_IF_ERROR(Writable());
  return Written(db_->Write(options, batch));
}

absl::Status RocksDbStore::Commit(const rocksdb::WriteOptions& options,
                                  rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key,
                                  const rocksdb::Slice& value) {
  RETURN_IF_ERROR(Writable());
  return Written(db_->Put(options, family, key, value));
}

absl::StatusOr<std::vector<Interaction>> RocksDbStore::Append(std::string_view tenant,
                                                              std::vector<Interaction> records) {
  if (records.empty()) return records;
  ASSIGN_OR_RETURN(IdCounter * ids, Ids(IdKind::kInteraction, tenant));
  ASSIGN_OR_RETURN(uint64_t id, TakeIds(*ids, records.size()));
  rocksdb::WriteBatch batch;
  for (Interaction& x : records) {
    x.interaction_id = id++;
    const std::string bytes = EncodeInteraction(x);
    RETURN_IF_ERROR(FromRocksDb(
        batch.Put(interactions(), InteractionRecordKey(tenant, x.interaction_id), bytes)));
    for (const std::string& key : InteractionIndexKeysOf(tenant, x)) {
      RETURN_IF_ERROR(FromRocksDb(batch.Put(interaction_index(), key, bytes)));
    }
  }
  RETURN_IF_ERROR(Commit(write_options_, &batch));
  return records;
}

absl::StatusOr<std::vector<Interaction>> RocksDbStore::ScanInteractions(
    const InteractionScan& scan) {
  std::vector<Interaction> out;
  if (scan.range.Empty() || scan.limit == 0) return out;
  const WindowRange window(InteractionIndexPrefix(scan.tenant, scan.by, scan.key), scan.range);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(window.options, interaction_index()));
  for (it->SeekForPrev(window.upper); it->Valid() && out.size() < scan.limit; it->Prev()) {
    ASSIGN_OR_RETURN(Interaction x, DecodeInteraction(ToView(it->value())));
    if (!scan.keep || scan.keep(x)) out.push_back(std::move(x));
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return out;
}

absl::StatusOr<std::optional<CustomerKeys>> RocksDbStore::GetCustomerKeys(
    std::string_view tenant, std::string_view customer_id) {
  std::string bytes;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta(), CustomerKeysKey(tenant, customer_id), &bytes);
  if (s.IsNotFound()) return std::optional<CustomerKeys>();
  RETURN_IF_ERROR(FromRocksDb(s));
  ASSIGN_OR_RETURN(CustomerKeys keys, DecodeCustomerKeys(bytes));
  return std::optional<CustomerKeys>(std::move(keys));
}

absl::Status RocksDbStore::PutCustomerKeys(std::string_view tenant, std::string_view customer_id,
                                           const CustomerKeys& keys) {
  return Commit(write_options_, meta(), CustomerKeysKey(tenant, customer_id),
                              EncodeCustomerKeys(keys));
}

namespace {

bool ActiveItem(const WorkItem& item) {
  return item.state != "Completed" && item.state != "Canceled";
}

}  // namespace

absl::StatusOr<WorkspaceSnapshot> RocksDbStore::LoadWorkspace(std::string_view tenant) {
  WorkspaceSnapshot out;
  // The records as of the head: a snapshot taken while no commit can write.
  const rocksdb::Snapshot* snapshot;
  {
    std::lock_guard<std::mutex> lock(workspace_mu_);
    if (auto it = workspaces_.find(tenant); it != workspaces_.end()) {
      out.head = it->second.head;
      for (const auto& [name, agent] : it->second.agents) out.agents.push_back(agent);
    }
    snapshot = db_->GetSnapshot();
  }
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  absl::Status status = absl::OkStatus();
  for (char kind : {'u', 'i'}) {
    // WorkspaceKey(kind, tenant, "") without the empty id's length byte: every key of the
    // tenant's records of this kind starts so, and no other tenant's does.
    std::string prefix = WorkspaceKey(kind, tenant, "");
    prefix.pop_back();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, workspace()));
    for (it->Seek(prefix); status.ok() && it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      if (kind == 'u') {
        absl::StatusOr<User> user = DecodeUser(ToView(it->value()));
        status = user.status();
        if (user.ok()) out.users.push_back(*std::move(user));
      } else {
        absl::StatusOr<WorkItem> item = DecodeWorkItem(ToView(it->value()));
        status = item.status();
        if (item.ok() && ActiveItem(*item)) out.items.push_back(*std::move(item));
      }
    }
    if (status.ok()) status = FromRocksDb(it->status());
  }
  db_->ReleaseSnapshot(snapshot);
  RETURN_IF_ERROR(status);
  return out;
}

absl::StatusOr<uint64_t> RocksDbStore::WorkspaceHead(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(workspace_mu_);
  auto it = workspaces_.find(tenant);
  return it == workspaces_.end() ? 0 : it->second.head;
}

absl::StatusOr<uint64_t> RocksDbStore::CommitWorkspace(std::string_view tenant, uint64_t expected,
                                                       const WorkspaceChange& change) {
  if (change.empty()) return absl::InvalidArgumentError("an empty Workspace change");
  std::lock_guard<std::mutex> lock(workspace_mu_);
  auto it = workspaces_.find(tenant);
  const uint64_t head = it == workspaces_.end() ? 0 : it->second.head;
  if (head != expected) {
    return absl::AbortedError("the Workspace of tenant '" + std::string(tenant) + "' is at " +
                              std::to_string(head) + ", not " + std::to_string(expected));
  }
  rocksdb::WriteBatch batch;
  for (const User& user : change.users) {
    RETURN_IF_ERROR(FromRocksDb(
        batch.Put(workspace(), WorkspaceKey('u', tenant, user.user_name), EncodeUser(user))));
  }
  for (const WorkItem& item : change.items) {
    RETURN_IF_ERROR(FromRocksDb(
        batch.Put(workspace(), WorkspaceKey('i', tenant, item.id), EncodeWorkItem(item))));
  }
  if (batch.Count() > 0) RETURN_IF_ERROR(Commit(write_options_, &batch));
  if (it == workspaces_.end()) it = workspaces_.emplace(std::string(tenant), Workspace()).first;
  Workspace& ws = it->second;
  for (const AgentState& agent : change.agents) {
    if (agent.channels.empty()) {
      ws.agents.erase(agent.user_name);
    } else {
      ws.agents[agent.user_name] = agent;
    }
  }
  ws.changes.emplace_back(++ws.head, change);
  while (ws.changes.size() > kKeptWorkspaceChanges) ws.changes.pop_front();
  return ws.head;
}

absl::StatusOr<std::vector<std::pair<uint64_t, WorkspaceChange>>> RocksDbStore::ReadWorkspace(
    std::string_view tenant, uint64_t after) {
  std::vector<std::pair<uint64_t, WorkspaceChange>> out;
  std::lock_guard<std::mutex> lock(workspace_mu_);
  auto it = workspaces_.find(tenant);
  const uint64_t head = it == workspaces_.end() ? 0 : it->second.head;
  if (after > head) {
    return absl::OutOfRangeError("Workspace change " + std::to_string(after) +
                                 " is past the head " + std::to_string(head));
  }
  if (after == head) return out;
  const auto& changes = it->second.changes;
  if (changes.empty() || after + 1 < changes.front().first) {
    return absl::OutOfRangeError("Workspace changes after " + std::to_string(after) +
                                 " are no longer kept");
  }
  // The journal holds consecutive numbers up to the head.
  for (auto c = changes.begin() + static_cast<ptrdiff_t>(after + 1 - changes.front().first);
       c != changes.end(); ++c) {
    out.push_back(*c);
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, User>>> RocksDbStore::ListUsers() {
  return ListWorkspace<User>('u', DecodeUser);
}

absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> RocksDbStore::ListWorkItems() {
  return ListWorkspace<WorkItem>('i', DecodeWorkItem);
}

absl::Status RocksDbStore::PutSession(const StoredSession& session, TimeMs now_ms) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  if (auto it = sessions_.find(session.id); it != sessions_.end()) {
    sessions_by_expiry_.erase({it->second.expires_ms, it->first});
    it->second = session;
  } else {
    sessions_.emplace(session.id, session);
  }
  sessions_by_expiry_.emplace(session.expires_ms, session.id);
  // Sessions expired more than a minute before the caller's clock: a few per put.
  const TimeMs keep_from = now_ms < std::numeric_limits<TimeMs>::min() + kSessionGraceMs
                               ? std::numeric_limits<TimeMs>::min()
                               : now_ms - kSessionGraceMs;
  for (int i = 0; i < 8 && !sessions_by_expiry_.empty(); ++i) {
    auto oldest = sessions_by_expiry_.begin();
    if (oldest->first >= keep_from) break;
    sessions_.erase(oldest->second);
    sessions_by_expiry_.erase(oldest);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredSession>> RocksDbStore::GetSession(std::string_view id) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::optional<StoredSession>();
  return std::optional<StoredSession>(it->second);
}

// Access records live in the workspace family under their own kinds: 'k' API keys (by id),
// 't' tenants (by name).
absl::Status RocksDbStore::PutApiKey(const ApiKey& key) {
  RETURN_IF_ERROR(
      Commit(SyncedWrite(), workspace(), WorkspaceKey('k', "", key.id), EncodeApiKey(key)));
  access_version_.fetch_add(1, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ApiKey>> RocksDbStore::ListApiKeys() {
  ASSIGN_OR_RETURN(auto keys, ListWorkspace<ApiKey>('k', DecodeApiKey));
  std::vector<ApiKey> out;
  for (auto& [tenant, key] : keys) out.push_back(std::move(key));
  return out;
}

absl::Status RocksDbStore::PutTenant(const Tenant& tenant) {
  RETURN_IF_ERROR(Commit(SyncedWrite(), workspace(), WorkspaceKey('t', tenant.name, ""),
                         EncodeTenant(tenant)));
  access_version_.fetch_add(1, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tenant>> RocksDbStore::ListTenants() {
  ASSIGN_OR_RETURN(auto tenants, ListWorkspace<Tenant>('t', DecodeTenant));
  std::vector<Tenant> out;
  for (auto& [name, tenant] : tenants) out.push_back(std::move(tenant));
  return out;
}

absl::Status RocksDbStore::Written(const rocksdb::Status& s) {
  if (s.ok()) {
    write_error_.store(false, std::memory_order_relaxed);
  } else if (s.IsIOError()) {  // NoSpace is an IOError too
    write_error_.store(true, std::memory_order_relaxed);
    TryResume(/*now=*/false);
  }
  return FromRocksDb(s);
}

void RocksDbStore::TryResume(bool now) {
  if (wal_failed_->load(std::memory_order_relaxed)) return;  // Resume would use the WAL
  if (!now && resume_ticks_.fetch_add(1, std::memory_order_relaxed) % 64 != 0) return;
  if (resuming_.exchange(true)) return;  // one attempt at a time
  // After a failed flush or compaction (a full disk) RocksDB refuses every write (its
  // background error) until Resume() succeeds: it flushes the memtables, which needs space.
  if (db_->Resume().ok()) write_error_.store(false, std::memory_order_relaxed);
  resuming_.store(false);
}

absl::StatusOr<StoreStats> RocksDbStore::Stats() {
  StoreStats out;
  if (write_error_.load(std::memory_order_relaxed)) TryResume(/*now=*/true);
  const bool disk_full = !disk_.Check().ok();
  out.write_error = write_error_.load(std::memory_order_relaxed) ||
                    wal_failed_->load(std::memory_order_relaxed) || disk_full;
  rocksdb::Statistics* stats = db_->GetOptions().statistics.get();
  if (stats != nullptr) {
    out.block_cache_hits = stats->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    out.block_cache_misses = stats->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    out.write_stall_micros = stats->getTickerCount(rocksdb::STALL_MICROS);
  }
  uint64_t v = 0;
  for (rocksdb::ColumnFamilyHandle* cf : handles_) {
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      out.pending_compaction_bytes += v;
    }
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) {
      out.live_sst_bytes += v;
    }
  }
  if (!db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &v)) {
    return absl::UnavailableError("the store does not answer");
  }
  out.writes_stopped = v != 0;
  return out;
}

absl::StatusOr<std::vector<Service>> RocksDbStore::Scan(const IndexScan& scan) {
  std::vector<Service> out;
  if (scan.range.Empty()) return out;
  const std::string prefix = IndexPrefix(scan.tenant, scan.index, scan.owner_kind, scan.owner);
  const WindowRange window(prefix, scan.range);
  const rocksdb::ReadOptions& options = window.options;

  // No snapshot: taking one locks the DB mutex on every query. Callers re-check every
  // predicate on the records (ServiceStore::Scan's contract), and a record gone since its
  // index entry was read is skipped, so reading index and records apart returns no wrong
  // service; it reads each at least as fresh as the index.
  std::vector<std::string> keys;
  if (scan.index == IndexKind::kActive) {
    RETURN_IF_ERROR(ActiveIds(scan, options, &keys));
  } else {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, index()));
    for (it->SeekForPrev(window.upper); it->Valid(); it->Prev()) {
      TimeMs time_ms;
      uint64_t id;
      if (!ParseIndexKey(ToView(it->key()), prefix.size(), &time_ms, &id)) continue;
      if (!EntryMayMatch(scan, ToView(it->value()))) continue;
      keys.push_back(ServiceKey(scan.tenant, id));
    }
    RETURN_IF_ERROR(FromRocksDb(it->status()));
  }
  if (keys.empty()) return out;

  std::vector<rocksdb::Slice> key_slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(options, services(), keys.size(), key_slices.data(), values.data(),
                statuses.data());
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    RETURN_IF_ERROR(FromRocksDb(statuses[i]));
    ASSIGN_OR_RETURN(Service s, DecodeService(ToView(values[i])));
    out.push_back(std::move(s));
  }
  return out;
}

template <typename T>
absl::StatusOr<std::vector<std::pair<std::string, T>>> RocksDbStore::ListWorkspace(
    char kind, absl::StatusOr<T> (*decode)(std::string_view)) {
  std::vector<std::pair<std::string, T>> out;
  const std::string lower(1, kind), upper(1, static_cast<char>(kind + 1));
  rocksdb::ReadOptions options;
  rocksdb::Slice upper_slice(upper);
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, workspace()));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(T record, decode(ToView(it->value())));
    std::string tenant;
    if (!ParseWorkspaceKeyTenant(ToView(it->key()), &tenant)) {
      return absl::DataLossError("corrupt workspace key");
    }
    out.emplace_back(std::move(tenant), std::move(record));
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return out;
}

absl::StatusOr<Service> RocksDbStore::Read(const rocksdb::ReadOptions& options,
                                           std::string_view tenant, uint64_t service_id) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(options, services(), ServiceKey(tenant, service_id), &value);
  if (s.IsNotFound()) return NotFound("service", std::to_string(service_id));
  RETURN_IF_ERROR(FromRocksDb(s));
  return DecodeService(ToView(value));
}

absl::StatusOr<uint64_t> RocksDbStore::TakeIds(IdCounter& counter, uint64_t n) {
  std::lock_guard<std::mutex> lock(counter.mu);
  if (counter.next > kMaxId || kMaxId - counter.next < n - 1) {
    return absl::OutOfRangeError("no ids left: ids stay at or below 2^53-1 (9007199254740991)");
  }
  if (counter.limit - counter.next < n) {
    RETURN_IF_ERROR(PersistIdLimit(counter, ((counter.next + n) / kIdBlock + 1) * kIdBlock));
  }
  const uint64_t first = counter.next;
  counter.next += n;
  return first;
}

absl::Status RocksDbStore::PersistIdLimit(IdCounter& counter, uint64_t limit) {
  std::string value;
  AppendBigEndian64(limit, &value);
  RETURN_IF_ERROR(Commit(SyncedWrite(), meta(), counter.key, value));
  {
    std::lock_guard<std::mutex> lock(high_water_mu_);
    std::map<std::string, uint64_t> raised = high_water_;
    uint64_t& recorded = raised[counter.key];
    recorded = std::max(recorded, limit);
    RETURN_IF_ERROR(WriteIdHighWater(dir_, raised));
    high_water_ = std::move(raised);
  }
  counter.limit = limit;
  return absl::OkStatus();
}

absl::Status RocksDbStore::CheckIdLimits(bool recover_anyway, std::vector<std::string>* dropped) {
  std::map<std::string, uint64_t> high_water;
  {
    std::lock_guard<std::mutex> lock(high_water_mu_);
    high_water = high_water_;
  }
  for (const auto& [key, file_limit] : high_water) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta(), key, &value);
    uint64_t db_limit = 1;  // no id handed out
    if (!s.IsNotFound()) {
      RETURN_IF_ERROR(FromRocksDb(s));
      if (value.size() != 8) return absl::DataLossError("corrupt id limit " + key);
      db_limit = ReadBigEndian64(value);
    }
    if (db_limit >= file_limit) continue;
    // IdLimitKey: the counter's name, then '|' and the length-prefixed tenant when not "".
    const size_t bar = key.find('|');
    std::string_view tenant, rest;
    if (bar != std::string::npos) {
      SplitLengthPrefixed(std::string_view(key).substr(bar + 1), &tenant, &rest);
    }
    const std::string what = "the id counter " + key.substr(0, bar) + " of tenant '" +
                             std::string(tenant) + "' is at " + std::to_string(db_limit) +
                             " in the database but at " + std::to_string(file_limit) + " in " +
                             dir_ + "/" + kIdHighWaterFile;
    if (!recover_anyway) {
      return absl::DataLossError(
          what +
          ": synced writes are missing from the database (a WAL file was removed or cut "
          "short at a record boundary), and acknowledged writes with them");
    }
    std::string raised;
    AppendBigEndian64(file_limit, &raised);
    RETURN_IF_ERROR(Written(db_->Put(SyncedWrite(), meta(), key, raised)));
    dropped->push_back(what + ": writes that took ids from " + std::to_string(db_limit) +
                       " up to " + std::to_string(file_limit - 1) +
                       " may be lost; new ids start at " + std::to_string(file_limit));
  }
  return absl::OkStatus();
}

absl::Status RocksDbStore::MoveActive(const ActiveEntry* from, const ActiveEntry* to,
                                      rocksdb::WriteBatch* batch) {
  const bool same = from && to && from->record_key == to->record_key;
  ActiveRecord from_record, to_record;
  if (from) RETURN_IF_ERROR(ReadActiveRecord(from->record_key, &from_record));
  if (to && !same) RETURN_IF_ERROR(ReadActiveRecord(to->record_key, &to_record));
  ActiveRecord& target = same ? from_record : to_record;
  // Overflow keys are written once and removed once: SingleDelete lets a compaction drop
  // the pair as soon as it sees both.
  if (from && !from_record.Remove(from->entry)) {
    RETURN_IF_ERROR(FromRocksDb(batch->SingleDelete(index(), from->overflow_key)));
  }
  if (to && !target.Insert(to->entry)) {
    RETURN_IF_ERROR(FromRocksDb(batch->Put(index(), to->overflow_key, "")));
  }
  if (from && !same) RETURN_IF_ERROR(WriteActiveRecord(from->record_key, from_record, batch));
  if (to) RETURN_IF_ERROR(WriteActiveRecord(to->record_key, target, batch));
  return absl::OkStatus();
}

absl::Status RocksDbStore::WriteActiveRecord(const std::string& key, const ActiveRecord& record,
                                             rocksdb::WriteBatch* batch) {
  return FromRocksDb(record.empty() ? batch->Delete(index(), key)
                                    : batch->Put(index(), key, record.Encode()));
}

absl::Status RocksDbStore::ActiveIds(const IndexScan& scan, const rocksdb::ReadOptions& options,
                                     std::vector<std::string>* keys) {
  const std::string prefix =
      IndexPrefix(scan.tenant, IndexKind::kActive, scan.owner_kind, scan.owner);
  std::string bytes;
  rocksdb::Status s = db_->Get(options, index(), prefix, &bytes);
  if (!s.IsNotFound()) RETURN_IF_ERROR(FromRocksDb(s));
  ActiveRecord record;
  if (!record.Parse(bytes)) return absl::DataLossError("corrupt active record");
  const std::string lower = IndexBound("", scan.range.from_ms);
  const std::string upper = IndexBound("", scan.range.to_ms);
  const bool bounded = scan.range.to_ms != std::numeric_limits<TimeMs>::max();
  std::vector<std::string> entries;
  std::string_view all = record.entries();
  for (size_t pos = 0; pos < all.size(); pos += kActiveEntryBytes) {
    std::string_view e = all.substr(pos, kActiveEntryBytes);
    if (e >= lower && (!bounded || e < upper)) entries.emplace_back(e);
  }
  if (record.overflow() > 0) {
    const std::string overflow =
        IndexPrefix(scan.tenant, IndexKind::kActiveOverflow, scan.owner_kind, scan.owner);
    const std::string from = overflow + lower;
    const std::string to = bounded ? overflow + upper : overflow + std::string(9, '\xff');
    rocksdb::ReadOptions ranged = options;
    rocksdb::Slice from_slice(from), to_slice(to);
    ranged.iterate_lower_bound = &from_slice;
    ranged.iterate_upper_bound = &to_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ranged, index()));
    for (it->Seek(from); it->Valid(); it->Next()) {
      if (it->key().size() == overflow.size() + kActiveEntryBytes) {
        entries.emplace_back(it->key().data() + overflow.size(), kActiveEntryBytes);
      }
    }
    RETURN_IF_ERROR(FromRocksDb(it->status()));
  }
  std::sort(entries.begin(), entries.end(), std::greater<>());
  for (const std::string& e : entries) {
    keys->push_back(ServiceKey(scan.tenant, ReadBigEndian64(std::string_view(e).substr(8))));
  }
  return absl::OkStatus();
}

absl::Status RocksDbStore::ReadActiveRecord(const std::string& key, ActiveRecord* record) {
  std::string bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), index(), key, &bytes);
  if (s.IsNotFound()) return absl::OkStatus();
  RETURN_IF_ERROR(FromRocksDb(s));
  if (!record->Parse(bytes)) return absl::DataLossError("corrupt active record");
  return absl::OkStatus();
}

namespace {

// RocksDB's info log, forwarded to `target` (none: dropped), keeping the lines in which WAL
// recovery says what it dropped ("<file>: dropping N bytes; Corruption: ...") and where it stopped
// ("Point in time recovered to log #N seq #S"): RocksDB's statuses do not name the file, its log
// does.
class RecoveryLogger final : public rocksdb::Logger {
 public:
  explicit RecoveryLogger(std::shared_ptr<rocksdb::Logger> target)
      : rocksdb::Logger(target ? target->GetInfoLogLevel() : rocksdb::InfoLogLevel::INFO_LEVEL),
        target_(std::move(target)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    va_list copy;
    va_copy(copy, ap);
    if (target_) target_->Logv(level, format, ap);
    char line[1024];
    vsnprintf(line, sizeof line, format, copy);
    va_end(copy);
    std::string_view text(line);
    if (text.find(": dropping ") == std::string_view::npos &&
        text.find("Point in time recovered") == std::string_view::npos) {
      return;
    }
    // RocksDB prefixes its source position: "[db/db_impl/db_impl_open.cc:982] ".
    if (!text.empty() && text[0] == '[') {
      if (size_t end = text.find("] "); end != std::string_view::npos) text.remove_prefix(end + 2);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (lines_.size() < 20) lines_.emplace_back(text);
  }
  void LogHeader(const char* format, va_list ap) override {
    if (target_) target_->LogHeader(format, ap);
  }
  size_t GetLogFileSize() const override {
    return target_ ? target_->GetLogFileSize() : kDoNotSupportGetLogFileSize;
  }
  void Flush() override {
    if (target_) target_->Flush();
  }

  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  const std::shared_ptr<rocksdb::Logger> target_;
  std::mutex mu_;
  std::vector<std::string> lines_;  // guarded by mu_
};

// RocksDB's info log (DIR/LOG; the previous one becomes LOG.old) as a stdio file whose write
// errors are ignored. RocksDB 7.8.3's own file logger (CreateLoggerFromOptions) aborts the
// process on the line after a failed write (WritableFileWriter's assertion, see
// RocksDbStore::wal_failed_): on a full disk, the first error RocksDB logged killed contextd.
class StdioLogger final : public rocksdb::Logger {
 public:
  explicit StdioLogger(FILE* file) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(file) {}
  ~StdioLogger() override { fclose(file_); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    timeval now{};
    gettimeofday(&now, nullptr);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    std::lock_guard<std::mutex> lock(mu_);
    fprintf(file_, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", local.tm_year + 1900, local.tm_mon + 1,
            local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
            static_cast<long>(now.tv_usec));
    vfprintf(file_, format, ap);
    fputc('\n', file_);
    fflush(file_);
    clearerr(file_);  // a full disk loses lines, nothing else
  }
  void Flush() override {
    std::lock_guard<std::mutex> lock(mu_);
    fflush(file_);
  }

 private:
  std::mutex mu_;
  FILE* file_;  // owned
};

// The info log of the database at `dir`; null (no log) when LOG cannot be created.
std::shared_ptr<rocksdb::Logger> OpenStdioLogger(const std::string& dir) {
  const std::string path = dir + "/LOG";
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) std::filesystem::rename(path, path + ".old", ec);
  FILE* file = fopen(path.c_str(), "we");
  if (file == nullptr) return nullptr;
  return std::make_shared<StdioLogger>(file);
}

// What a data directory holds, as far as opening it cares.
struct DataDir {
  bool exists = false;
  std::string current;                                 // CURRENT's contents; "" if none
  std::vector<std::string> database_files;             // *.sst, *.log, MANIFEST-*, ids
  std::string newest_manifest;                         // "" if none
  std::vector<std::pair<std::string, uint64_t>> wals;  // *.log and their sizes, oldest first
};

absl::StatusOr<DataDir> ReadDataDir(const std::string& path) {
  namespace fs = std::filesystem;
  DataDir out;
  std::error_code ec;
  out.exists = fs::is_directory(path, ec);
  if (!out.exists) {
    if (fs::exists(path, ec)) return absl::FailedPreconditionError(path + " is not a directory");
    return out;
  }
  auto ends_with = [](const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  bool has_current = false;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == "CURRENT") has_current = true;
    const bool manifest = name.rfind("MANIFEST-", 0) == 0;
    const bool wal = ends_with(name, ".log");
    if (manifest || wal || ends_with(name, ".sst") || name == kIdHighWaterFile) {
      out.database_files.push_back(name);
    }
    if (manifest && name > out.newest_manifest) out.newest_manifest = name;
    if (wal) {
      std::error_code size_ec;
      const uintmax_t size = fs::file_size(it->path(), size_ec);
      out.wals.emplace_back(name, size_ec ? 0 : size);
    }
  }
  if (ec) return absl::UnavailableError("cannot list " + path + ": " + ec.message());
  std::sort(out.database_files.begin(), out.database_files.end());
  std::sort(out.wals.begin(), out.wals.end());
  if (has_current) {
    std::ifstream in(path + "/CURRENT");
    std::getline(in, out.current);
    if (out.current.empty()) {
      return absl::FailedPreconditionError(path +
                                           "/CURRENT is empty (it names the database's "
                                           "MANIFEST file); restore it or a backup");
    }
  }
  return out;
}

// Whether another process holds RocksDB's lock on `lock_file` (a running server). Takes no
// lock and writes nothing.
bool LockedByAnother(const std::string& lock_file) {
  const int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

// Whether RocksDB's complaints (RecoveryLogger lines) are all about the end of `wal`, the
// newest WAL file, ending inside a record, and the file still has the blocks RocksDB
// preallocated past its end (fallocate, FALLOC_FL_KEEP_SIZE). A crash during a write leaves
// exactly this; that record's write never returned, so it was never acknowledged. A file cut
// short afterwards (truncate, a copy) has no blocks past its end and is refused.
bool TornTailOfACrash(const std::vector<std::string>& lines, const std::string& path,
                      const std::string& wal) {
  for (const std::string& line : lines) {
    if (line.find("/" + wal + ": dropping") == std::string::npos) return false;
    if (line.find("truncated record body") == std::string::npos &&
        line.find("error reading trailing data") == std::string::npos &&
        line.find("truncated header") == std::string::npos) {
      return false;
    }
  }
  struct stat st;
  if (lines.empty() || ::stat((path + "/" + wal).c_str(), &st) != 0) return false;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t page = 4096;
  return static_cast<uint64_t>(st.st_blocks) * 512 > (size + page - 1) / page * page;
}

// Hard links to the WAL files as they are, in `path`/damaged-wal/, before a recovery that
// drops part of them deletes them. Returns a line for the recovery report.
std::string KeepDamagedWals(const std::string& path, const DataDir& dir) {
  namespace fs = std::filesystem;
  const std::string keep = path + "/damaged-wal";
  std::error_code ec;
  fs::create_directories(keep, ec);
  std::string files;
  for (const auto& [name, size] : dir.wals) {
    if (!ec && !fs::exists(keep + "/" + name))
      fs::create_hard_link(path + "/" + name, keep + "/" + name, ec);
    files += (files.empty() ? "" : ", ") + name + " (" + std::to_string(size) + " bytes)";
  }
  if (ec) return "WAL files before recovery: " + files + "; could not keep them: " + ec.message();
  return "WAL files before recovery: " + files + "; kept as they were in " + keep;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbOptions& options,
                                                        RecoveryReport* report) {
  RecoveryReport unused;
  if (report == nullptr) report = &unused;
  ASSIGN_OR_RETURN(DataDir dir, ReadDataDir(options.path));
  if (dir.current.empty() && !dir.database_files.empty()) {
    // RocksDB would start a new, empty database here and later delete the old files.
    std::string files;
    for (size_t i = 0; i < dir.database_files.size() && i < 5; ++i) {
      files += (i ? ", " : "") + dir.database_files[i];
    }
    if (dir.database_files.size() > 5) files += ", ...";
    return absl::FailedPreconditionError(
        options.path + "/CURRENT is missing, but the directory holds a database (" + files +
        "); not starting an empty one over it. CURRENT names the newest MANIFEST file: " +
        (dir.newest_manifest.empty() ? std::string("no MANIFEST is left either; restore a backup")
                                     : "restore it (echo " + dir.newest_manifest + " > " +
                                           options.path + "/CURRENT) or restore a backup"));
  }
  if (!dir.current.empty() && !std::filesystem::exists(options.path + "/" + dir.current)) {
    return absl::FailedPreconditionError(options.path + "/CURRENT names " + dir.current +
                                         ", which is missing: restore a backup");
  }
  if (options.read_only && dir.current.empty()) {
    return absl::FailedPreconditionError(dir.exists
                                             ? options.path + " holds no database (no CURRENT file)"
                                             : "no data directory " + options.path);
  }
  for (const auto& [name, size] : dir.wals) {
    ++report->wal_files;
    report->wal_bytes += size;
  }
  absl::StatusOr<std::map<std::string, uint64_t>> high_water = ReadIdHighWater(options.path);
  if (high_water.status().code() == absl::StatusCode::kDataLoss) {
    // Not DataLoss: recover_anyway cannot help here.
    return absl::FailedPreconditionError(
        std::string(high_water.status().message()) +
        ": restore it from a backup, or, if no WAL file was lost, remove it (the next id block "
        "rewrites it)");
  }
  if (!high_water.ok()) return high_water.status();
  if (options.read_only && LockedByAnother(options.path + "/LOCK")) {
    return absl::UnavailableError("data directory is in use by a running server: " + options.path);
  }

  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);

  auto cf_options = [&] {
    rocksdb::ColumnFamilyOptions cf;
    cf.level_compaction_dynamic_level_bytes = true;
    cf.compression = rocksdb::kLZ4Compression;
    // LZ4 at every level: a working set larger than the block cache decompresses blocks on
    // the request path, and ZSTD decompression showed as ~19% of a cold read (callgrind).
    cf.bottommost_compression = rocksdb::kLZ4Compression;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    // Whole-key Bloom filters on every family: besides the records, the index family's
    // active records are point lookups (7% less CPU per IVR read at 10^6 services, A/B).
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return cf;
  };

  rocksdb::DBOptions db_options;
  if (options.env != nullptr) db_options.env = options.env;
  db_options.create_if_missing = dir.current.empty() && !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.paranoid_checks = true;
  // Every column family is flushed once the WAL passes this, not only those whose memtable
  // fills: otherwise a family with few writes keeps every WAL file since its last flush.
  db_options.max_total_wal_size = options.max_wal_bytes;
  db_options.max_background_jobs = 2;
  // Point lookups of hot records (a caller's active record, the services it lists) are
  // answered from this cache of whole values, without the index, filter and block search:
  // 17% less CPU per IVR read at 10^6 services (README.md, "Measured choices"). Not read-only:
  // there RocksDB 7.8.3 answered Gets wrongly through it (`check` saw an active record without
  // its services after any restart), and a single pass gains nothing from it.
  if (!options.read_only) db_options.row_cache = rocksdb::NewLRUCache(options.row_cache_bytes);
  // Tickers only (block cache hits, stalls) for /metrics; no timers or histograms.
  db_options.statistics = rocksdb::CreateDBStatistics();
  db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options()},
      {"services", cf_options()},
      {"index", cf_options()},
      {"interactions", cf_options()},
      {"interaction_index", cf_options()},
      {"workspace", cf_options()},
  };
  auto wal_failed = std::make_shared<std::atomic<bool>>(false);
  db_options.listeners.push_back(std::make_shared<WalErrorListener>(wal_failed));
  DiskSpaceGuard disk(options.path, options.disk_reserve_bytes);
  // A full disk: a clear message, not RocksDB's failure.
  if (!options.read_only) RETURN_IF_ERROR(disk.Check());

  // WAL recovery: kAbsoluteConsistency refuses any damage, a torn last record too: RocksDB
  // cannot tell a record cut by a crash during its write (never acknowledged) from a file cut
  // short later, which loses acknowledged writes. Only a torn tail that still has RocksDB's
  // preallocated blocks behind it is dropped (TornTailOfACrash). With recover_anyway,
  // kPointInTimeRecovery keeps everything before the first damage.
  std::shared_ptr<rocksdb::Logger> log;
  if (!options.read_only) log = OpenStdioLogger(options.path);  // read_only: no LOG file
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  auto open = [&](rocksdb::WALRecoveryMode mode, std::shared_ptr<RecoveryLogger> logger) {
    db_options.wal_recovery_mode = mode;
    db_options.info_log = std::move(logger);
    handles.clear();
    return options.read_only
               ? rocksdb::DB::OpenForReadOnly(db_options, options.path, families, &handles, &db)
               : rocksdb::DB::Open(db_options, options.path, families, &handles, &db);
  };
  auto logger = std::make_shared<RecoveryLogger>(log);
  rocksdb::Status s = open(rocksdb::WALRecoveryMode::kAbsoluteConsistency, logger);
  if (s.IsCorruption() && !dir.wals.empty() &&
      TornTailOfACrash(logger->Lines(), options.path, dir.wals.back().first)) {
    // kTolerateCorruptedTailRecords drops the torn record and refuses any other damage.
    report->torn_tail = logger->Lines();
    logger = std::make_shared<RecoveryLogger>(log);
    s = open(rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords, logger);
  }
  if (s.IsCorruption() && !logger->Lines().empty()) {
    std::string damage;
    for (const std::string& line : logger->Lines()) damage += (damage.empty() ? "" : "; ") + line;
    if (!options.recover_anyway || options.read_only) {
      return absl::DataLossError("the write-ahead log is damaged: " + damage +
                                 " (starting would drop the writes from there on, which may "
                                 "have been acknowledged)");
    }
    const std::string kept = KeepDamagedWals(options.path, dir);
    logger = std::make_shared<RecoveryLogger>(log);
    s = open(rocksdb::WALRecoveryMode::kPointInTimeRecovery, logger);
    if (s.ok()) {
      report->dropped.push_back(kept);
      for (const std::string& line : logger->Lines()) report->dropped.push_back(line);
    }
  }
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::UnavailableError("data directory is in use: " + s.ToString());
    }
    if (s.IsNoSpace()) {  // recovery writes the logs' records to table files first
      return absl::UnavailableError("the disk holding " + options.path +
                                    " is full: free space and start again (" + s.ToString() +
                                    ")");
    }
    return FromRocksDb(s);
  }
  auto store = std::make_unique<RocksDbStore>(db, std::move(handles), options.sync, options.path,
                                              std::move(*high_water), std::move(wal_failed),
                                              std::move(disk));
  RETURN_IF_ERROR(
      store->CheckIdLimits(options.recover_anyway && !options.read_only, &report->dropped));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace contextd::storage
