#include "storage/rocksdb_store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <unistd.h>

#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/codec.h"
#include "storage/errors.h"
#include "storage/status_macros.h"

namespace contextd::storage {
namespace {

constexpr uint64_t kIdBlock = 1024;

constexpr size_t kStripes = 1024;

absl::Status FromRocksDb(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(s.ToString());
  if (s.IsBusy() || s.IsTryAgain() || s.IsIOError()) return absl::UnavailableError(s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(s.ToString());
  return absl::InternalError(s.ToString());
}

absl::Status ServiceNotFound(uint64_t service_id) {
  return NotFound("service", std::to_string(service_id));
}

struct IndexEntry {
  std::string key;
  std::string value;
};

// Where a service is listed: its customer, else (anonymous) its contact key.
std::optional<std::pair<OwnerKind, std::string_view>> OwnerOf(const Service& s) {
  if (s.customer_id) return std::make_pair(OwnerKind::kCustomer, std::string_view(*s.customer_id));
  if (s.contact_key) return std::make_pair(OwnerKind::kAnonymous, std::string_view(*s.contact_key));
  return std::nullopt;
}

// Every started/completed index entry a record should have: the single definition of that
// index content, from which Create, Update and Delete all derive their writes.
std::vector<IndexEntry> IndexEntriesOf(std::string_view tenant, const Service& s) {
  std::vector<IndexEntry> out;
  auto owner = OwnerOf(s);
  if (!owner) return out;
  const TimeMs started = s.started.timestamp_ms;
  out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kStarted, owner->first, owner->second),
                          started, s.service_id),
                 std::string(1, s.completed ? '\1' : '\0')});
  if (s.completed) {
    std::string started_be;
    AppendBigEndian64(static_cast<uint64_t>(started), &started_be);
    out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kCompleted, owner->first, owner->second),
                            s.completed->timestamp_ms, s.service_id),
                   std::move(started_be)});
  }
  return out;
}

// The interaction index keys of a record (customer, account, contact number: those it has).
// Each entry's value is the whole encoded record: records never change, and a window is then
// read as one contiguous range with no lookups.
std::vector<std::string> InteractionIndexKeysOf(std::string_view tenant, const Interaction& x) {
  std::vector<std::string> out;
  for (auto [by, key] : {std::pair{InteractionKey::kCustomer, &x.customer_id},
                         std::pair{InteractionKey::kAccount, &x.account_number},
                         std::pair{InteractionKey::kContact, &x.contact_number}}) {
    if (!key->empty()) {
      out.push_back(
          IndexKey(InteractionIndexPrefix(tenant, by, *key), x.time_ms, x.interaction_id));
    }
  }
  return out;
}

// A service's place in its owner's active record, if it is active and has an owner.
struct ActiveEntry {
  std::string record_key;    // IndexPrefix(tenant, kActive, owner)
  std::string overflow_key;  // its key if it lives outside the record
  std::string entry;         // kActiveEntryBytes: time, service id
};

// The decoded active record of one owner (format in keys.h).
class ActiveRecord {
 public:
  // Returns false for bytes that are not an active record.
  bool Parse(std::string_view bytes) {
    if (bytes.empty()) return true;
    if (bytes.size() < 4 || (bytes.size() - 4) % kActiveEntryBytes != 0) return false;
    overflow_ = 0;
    for (int i = 0; i < 4; ++i) overflow_ = (overflow_ << 8) | static_cast<uint8_t>(bytes[i]);
    entries_.assign(bytes.substr(4));
    return true;
  }

  std::string Encode() const {
    std::string out;
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>(overflow_ >> shift));
    return out + entries_;
  }

  bool empty() const { return entries_.empty() && overflow_ == 0; }
  uint32_t overflow() const { return overflow_; }
  std::string_view entries() const { return entries_; }

  // Inserts in order; false when the record is full (the entry then goes to the overflow).
  bool Insert(std::string_view entry) {
    if (entries_.size() >= kMaxActiveInRecord * kActiveEntryBytes) {
      ++overflow_;
      return false;
    }
    size_t pos = 0;
    while (pos < entries_.size() && entries_.compare(pos, kActiveEntryBytes, entry) < 0) {
      pos += kActiveEntryBytes;
    }
    entries_.insert(pos, entry);
    return true;
  }

  // Removes the entry; false when it is not in the record (it is in the overflow).
  bool Remove(std::string_view entry) {
    for (size_t pos = 0; pos < entries_.size(); pos += kActiveEntryBytes) {
      if (entries_.compare(pos, kActiveEntryBytes, entry) == 0) {
        entries_.erase(pos, kActiveEntryBytes);
        return true;
      }
    }
    if (overflow_ > 0) --overflow_;
    return false;
  }

 private:
  uint32_t overflow_ = 0;
  std::string entries_;
};

std::optional<ActiveEntry> ActiveEntryOf(std::string_view tenant, const Service& s) {
  auto owner = OwnerOf(s);
  if (!owner || s.completed) return std::nullopt;
  ActiveEntry a;
  a.record_key = IndexPrefix(tenant, IndexKind::kActive, owner->first, owner->second);
  a.entry = IndexKey("", s.started.timestamp_ms, s.service_id);
  a.overflow_key =
      IndexPrefix(tenant, IndexKind::kActiveOverflow, owner->first, owner->second) + a.entry;
  return a;
}

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

// A persistent id sequence of one tenant. Ids are reserved in blocks: the upper end of the
// current block is persisted (synced) before any id of it is handed out, so after a restart
// counting resumes above every id ever given. Each tenant counts on its own, so its ids say
// nothing of other tenants' writes.
struct IdCounter {
  std::string key;  // where the limit lives in the meta column family (IdLimitKey)
  std::mutex mu;
  uint64_t next = 1;   // guarded by mu
  uint64_t limit = 1;  // guarded by mu
};

enum class IdKind { kService, kInteraction };

class RocksDbStore final : public Store {
 public:
  friend class RocksDbBulkLoader;

  RocksDbStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync)
      : db_(db), handles_(std::move(handles)) {
    write_options_.sync = sync;
  }

  ~RocksDbStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }

  // The id sequence of (kind, tenant), its persisted limit read on first use.
  absl::StatusOr<IdCounter*> Ids(IdKind kind, std::string_view tenant) {
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

  absl::StatusOr<Service> Create(std::string_view tenant, Service service) override {
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
    RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
    return service;
  }

  absl::StatusOr<Service> Get(std::string_view tenant, uint64_t service_id) override {
    return Read(rocksdb::ReadOptions(), tenant, service_id);
  }

  absl::StatusOr<Service> Update(std::string_view tenant, uint64_t service_id,
                                 const Mutation& mutate) override {
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
    RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
    return after;
  }

  absl::Status Delete(std::string_view tenant, uint64_t service_id) override {
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
    return FromRocksDb(db_->Write(write_options_, &batch));
  }

  absl::Status SyncWal() override { return FromRocksDb(db_->SyncWAL()); }

  std::unique_ptr<BulkLoader> NewBulkLoader(std::string_view tenant) override;

  absl::StatusOr<std::vector<Interaction>> Append(std::string_view tenant,
                                                  std::vector<Interaction> records) override {
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
    RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
    return records;
  }

  absl::StatusOr<std::vector<Interaction>> ScanInteractions(const InteractionScan& scan) override {
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

  absl::StatusOr<std::optional<CustomerKeys>> GetCustomerKeys(
      std::string_view tenant, std::string_view customer_id) override {
    std::string bytes;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), meta(), CustomerKeysKey(tenant, customer_id), &bytes);
    if (s.IsNotFound()) return std::optional<CustomerKeys>();
    RETURN_IF_ERROR(FromRocksDb(s));
    ASSIGN_OR_RETURN(CustomerKeys keys, DecodeCustomerKeys(bytes));
    return std::optional<CustomerKeys>(std::move(keys));
  }

  absl::Status PutCustomerKeys(std::string_view tenant, std::string_view customer_id,
                               const CustomerKeys& keys) override {
    return FromRocksDb(db_->Put(write_options_, meta(), CustomerKeysKey(tenant, customer_id),
                                EncodeCustomerKeys(keys)));
  }

  absl::Status PutUser(std::string_view tenant, const User& user) override {
    return FromRocksDb(db_->Put(write_options_, workspace(),
                                WorkspaceKey('u', tenant, user.user_name), EncodeUser(user)));
  }

  absl::StatusOr<std::vector<std::pair<std::string, User>>> ListUsers() override {
    return ListWorkspace<User>('u', DecodeUser);
  }

  absl::Status PutWorkItem(std::string_view tenant, const WorkItem& item) override {
    return FromRocksDb(db_->Put(write_options_, workspace(), WorkspaceKey('i', tenant, item.id),
                                EncodeWorkItem(item)));
  }

  absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> ListWorkItems() override {
    return ListWorkspace<WorkItem>('i', DecodeWorkItem);
  }

  // Access records live in the workspace family under their own kinds: 'k' API keys (by
  // id), 't' tenants (by name).
  absl::Status PutApiKey(const ApiKey& key) override {
    return FromRocksDb(db_->Put(SyncedWrite(), workspace(), WorkspaceKey('k', "", key.id),
                                EncodeApiKey(key)));
  }

  absl::StatusOr<std::vector<ApiKey>> ListApiKeys() override {
    ASSIGN_OR_RETURN(auto keys, ListWorkspace<ApiKey>('k', DecodeApiKey));
    std::vector<ApiKey> out;
    for (auto& [tenant, key] : keys) out.push_back(std::move(key));
    return out;
  }

  absl::Status PutTenant(const Tenant& tenant) override {
    return FromRocksDb(db_->Put(SyncedWrite(), workspace(), WorkspaceKey('t', tenant.name, ""),
                                EncodeTenant(tenant)));
  }

  absl::StatusOr<std::vector<Tenant>> ListTenants() override {
    ASSIGN_OR_RETURN(auto tenants, ListWorkspace<Tenant>('t', DecodeTenant));
    std::vector<Tenant> out;
    for (auto& [name, tenant] : tenants) out.push_back(std::move(tenant));
    return out;
  }

  absl::StatusOr<IntegrityReport> CheckIntegrity() override;

  absl::StatusOr<StoreStats> Stats() override {
    StoreStats out;
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

  absl::StatusOr<std::vector<Service>> Scan(const IndexScan& scan) override {
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

 private:
  static std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

  template <typename T>
  absl::StatusOr<std::vector<std::pair<std::string, T>>> ListWorkspace(
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

  static bool EntryMayMatch(const IndexScan& scan, std::string_view value) {
    if (scan.status == IndexScan::Status::kAny || scan.index != IndexKind::kStarted) return true;
    const bool completed = !value.empty() && value[0] == '\1';
    return completed == (scan.status == IndexScan::Status::kCompleted);
  }

  absl::StatusOr<Service> Read(const rocksdb::ReadOptions& options, std::string_view tenant,
                               uint64_t service_id) {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(options, services(), ServiceKey(tenant, service_id), &value);
    if (s.IsNotFound()) return ServiceNotFound(service_id);
    RETURN_IF_ERROR(FromRocksDb(s));
    return DecodeService(ToView(value));
  }

  // Returns the first of `n` consecutive fresh ids of `counter`; OutOfRange when they would
  // pass kMaxId (the sequence is used up: nothing is handed out). REQUIRES: n >= 1.
  absl::StatusOr<uint64_t> TakeIds(IdCounter& counter, uint64_t n) {
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

  // Raises the counter's persisted limit (a synced write). REQUIRES: counter.mu is held.
  absl::Status PersistIdLimit(IdCounter& counter, uint64_t limit) {
    std::string value;
    AppendBigEndian64(limit, &value);
    RETURN_IF_ERROR(FromRocksDb(db_->Put(SyncedWrite(), meta(), counter.key, value)));
    counter.limit = limit;
    return absl::OkStatus();
  }

  static rocksdb::WriteOptions SyncedWrite() {
    rocksdb::WriteOptions synced;
    synced.sync = true;
    return synced;
  }

  std::mutex& StripeOf(uint64_t service_id) { return stripes_[service_id % kStripes]; }

  // Holds the owner-record locks of up to two active records, taken in stripe order so that
  // concurrent moves between the same owners cannot deadlock. Taken after a service stripe,
  // never before one.
  class OwnerLocks {
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

  // Adds to `batch` the removal of `from` and the insertion of `to` in their owners'
  // active records (or overflow keys). REQUIRES: the OwnerLocks of both records are held.
  absl::Status MoveActive(const ActiveEntry* from, const ActiveEntry* to,
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

  absl::Status WriteActiveRecord(const std::string& key, const ActiveRecord& record,
                                 rocksdb::WriteBatch* batch) {
    return FromRocksDb(record.empty() ? batch->Delete(index(), key)
                                      : batch->Put(index(), key, record.Encode()));
  }

  // The primary keys of the active services a kActive scan selects, newest first.
  absl::Status ActiveIds(const IndexScan& scan, const rocksdb::ReadOptions& options,
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

  absl::Status ReadActiveRecord(const std::string& key, ActiveRecord* record) {
    std::string bytes;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), index(), key, &bytes);
    if (s.IsNotFound()) return absl::OkStatus();
    RETURN_IF_ERROR(FromRocksDb(s));
    if (!record->Parse(bytes)) return absl::DataLossError("corrupt active record");
    return absl::OkStatus();
  }

  rocksdb::ColumnFamilyHandle* meta() { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* services() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* index() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* interactions() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* interaction_index() { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* workspace() { return handles_[5]; }

  rocksdb::DB* db_;  // owned
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
  std::mutex ids_mu_;  // guards the two maps (each counter has its own lock)
  std::map<std::string, std::unique_ptr<IdCounter>, std::less<>> service_ids_;      // by tenant
  std::map<std::string, std::unique_ptr<IdCounter>, std::less<>> interaction_ids_;  // by tenant
  std::array<std::mutex, kStripes> stripes_;        // per service
  std::array<std::mutex, kStripes> owner_stripes_;  // per owner active record
};

// Collects the load's records and index entries in memory; Finish sorts them, writes one SST
// file per column family (two threads) and ingests both in one atomic step. Nothing of the
// load is visible, on disk or after a crash, until that step; no memtable, WAL or flush is
// involved, and into an empty store the files land in the last level, already compacted.
class RocksDbBulkLoader final : public BulkLoader {
 public:
  RocksDbBulkLoader(RocksDbStore* store, std::string_view tenant)
      : store_(store), tenant_(tenant), ids_(store->Ids(IdKind::kService, tenant)) {
    if (!ids_.ok()) return;  // ReserveIds reports it
    std::lock_guard<std::mutex> lock((*ids_)->mu);
    first_free_id_ = next_id_ = (*ids_)->limit;  // above every id handed out
  }

  ~RocksDbBulkLoader() override {
    for (const std::string& path : files_) std::remove(path.c_str());  // left by a failed Finish
  }

  absl::StatusOr<uint64_t> Add(std::string record) override {
    if (!reserved_) return absl::FailedPreconditionError("BulkLoader::Add before ReserveIds");
    uint64_t id = PeekServiceId(record);
    if (id == 0) {  // a full decode only to assign an id
      ASSIGN_OR_RETURN(Service full, DecodeService(record));
      full.service_id = id = next_id_++;
      record = EncodeService(full);
    }
    records_.push_back(std::move(record));
    return id;
  }

  absl::StatusOr<bool> IdInUse(uint64_t service_id) override {
    if (service_id >= first_free_id_) return false;
    absl::StatusOr<Service> stored = store_->Get(tenant_, service_id);
    if (stored.ok()) return true;
    if (stored.status().code() == absl::StatusCode::kNotFound) return false;
    return stored.status();
  }

  absl::Status ReserveIds(uint64_t max_explicit_id, uint64_t unassigned) override {
    if (!ids_.ok()) return ids_.status();
    IdCounter& ids = **ids_;
    std::lock_guard<std::mutex> lock(ids.mu);
    next_id_ = std::max(first_free_id_, max_explicit_id + 1);
    const uint64_t limit = ((next_id_ + unassigned) / kIdBlock + 1) * kIdBlock;
    RETURN_IF_ERROR(store_->PersistIdLimit(ids, limit));
    ids.next = limit;
    reserved_ = true;
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    // Each half of the records on its own thread: primary keys, index entries, active entries.
    std::array<Entries, 2> halves;
    const size_t middle = records_.size() / 2;
    std::thread upper([&] { halves[1] = EntriesOf(middle, records_.size()); });
    halves[0] = EntriesOf(0, middle);
    upper.join();
    std::vector<std::string>().swap(records_);
    for (Entries& half : halves) RETURN_IF_ERROR(half.status);
    auto take = [](std::vector<IndexEntry>* from, std::vector<IndexEntry>* to) {
      to->insert(to->end(), std::make_move_iterator(from->begin()),
                 std::make_move_iterator(from->end()));
      std::vector<IndexEntry>().swap(*from);
    };
    std::vector<IndexEntry>& services = halves[0].services;
    std::vector<IndexEntry>& index = halves[0].index;
    take(&halves[1].services, &services);
    take(&halves[1].index, &index);
    // Owners' active records: merged with what the store holds; the ingested record wins.
    std::map<std::string, std::vector<ActiveEntry*>> owners;
    for (Entries& half : halves) {
      for (ActiveEntry& a : half.active) owners[a.record_key].push_back(&a);
    }
    for (auto& [record_key, entries] : owners) {
      ActiveRecord record;
      RETURN_IF_ERROR(store_->ReadActiveRecord(record_key, &record));
      for (ActiveEntry* a : entries) {
        if (!record.Insert(a->entry)) index.push_back({std::move(a->overflow_key), ""});
      }
      index.push_back({record_key, record.Encode()});
    }
    owners.clear();
    halves[0].active.clear();
    halves[1].active.clear();
    absl::Status index_written;
    std::thread index_writer([this, &index_written, &index] {
      index_written = WriteSorted(store_->index(), "index", &index);
    });
    absl::Status services_written = WriteSorted(store_->services(), "services", &services);
    index_writer.join();
    RETURN_IF_ERROR(services_written);
    RETURN_IF_ERROR(index_written);
    std::vector<rocksdb::IngestExternalFileArg> args;
    for (auto& [cf, files] : ingest_) {
      rocksdb::IngestExternalFileArg arg;
      arg.column_family = cf;
      arg.external_files = files;
      arg.options.move_files = true;
      args.push_back(std::move(arg));
    }
    if (!args.empty()) RETURN_IF_ERROR(FromRocksDb(store_->db_->IngestExternalFiles(args)));
    files_.clear();
    return absl::OkStatus();
  }

  absl::Status Compact() override {
    // Files already in the last level (a load into an empty store) are left as they are.
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kIfHaveCompactionFilter;
    for (rocksdb::ColumnFamilyHandle* cf : store_->handles_) {
      RETURN_IF_ERROR(FromRocksDb(store_->db_->CompactRange(options, cf, nullptr, nullptr)));
    }
    return absl::OkStatus();
  }

 private:
  // Writes `entries` in key order to one SST file of `cf` in the data directory, queued for
  // ingestion. Frees `entries`.
  absl::Status WriteSorted(rocksdb::ColumnFamilyHandle* cf, const char* name,
                           std::vector<IndexEntry>* entries) {
    if (entries->empty()) return absl::OkStatus();
    auto by_key = [](const IndexEntry& a, const IndexEntry& b) { return a.key < b.key; };
    std::vector<uint32_t> order;
    if (std::is_sorted(entries->begin(), entries->end(), by_key)) {
      order.resize(entries->size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
    } else {
      order = KeyOrder(*entries);
    }
    // Files of about the size compaction makes: one huge file would have index and filter
    // blocks too large for a block cache shard, read from disk again on every lookup.
    constexpr uint64_t kFileBytes = 64 << 20;
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), store_->db_->GetOptions(cf), cf);
    bool open = false;
    auto finish = [&]() -> absl::Status {
      RETURN_IF_ERROR(FromRocksDb(writer.Finish()));
      open = false;
      return absl::OkStatus();
    };
    for (uint32_t i : order) {
      if (open && writer.FileSize() >= kFileBytes) RETURN_IF_ERROR(finish());
      if (!open) {
        std::string path;
        {
          std::lock_guard<std::mutex> lock(mu_);
          path = store_->db_->GetName() + "/import-" + std::to_string(::getpid()) + "-" + name +
                 "-" + std::to_string(files_.size()) + ".sst";
          files_.push_back(path);
          ingest_[cf].push_back(path);
        }
        RETURN_IF_ERROR(FromRocksDb(writer.Open(path)));
        open = true;
      }
      IndexEntry& e = (*entries)[i];
      RETURN_IF_ERROR(FromRocksDb(writer.Put(e.key, e.value)));
      std::string().swap(e.key);
      std::string().swap(e.value);
    }
    if (open) RETURN_IF_ERROR(finish());
    std::vector<IndexEntry>().swap(*entries);
    return absl::OkStatus();
  }

  // What Finish writes for some of the records.
  struct Entries {
    std::vector<IndexEntry> services;  // key: ServiceKey, value: the record
    std::vector<IndexEntry> index;     // started and completed entries
    std::vector<ActiveEntry> active;
    absl::Status status;
  };

  // The entries of records_[begin, end); moves the records.
  Entries EntriesOf(size_t begin, size_t end) {
    Entries out;
    out.services.reserve(end - begin);
    out.index.reserve((end - begin) * 2);
    for (size_t i = begin; i < end; ++i) {
      absl::StatusOr<Service> service = DecodeServiceKeys(records_[i]);
      if (!service.ok()) {
        out.status = service.status();
        return out;
      }
      for (IndexEntry& e : IndexEntriesOf(tenant_, *service)) out.index.push_back(std::move(e));
      if (std::optional<ActiveEntry> a = ActiveEntryOf(tenant_, *service)) {
        out.active.push_back(std::move(*a));
      }
      out.services.push_back({ServiceKey(tenant_, service->service_id), std::move(records_[i])});
    }
    return out;
  }

  // The positions of `entries` in key order. Keys share long prefixes, so each is compared
  // first by its leading 16 bytes as integers; both halves are sorted on their own thread.
  static std::vector<uint32_t> KeyOrder(const std::vector<IndexEntry>& entries) {
    struct Sortable {
      uint64_t head[2];
      uint32_t index;
    };
    std::vector<Sortable> sortable(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      char bytes[16] = {};
      const std::string& key = entries[i].key;
      std::memcpy(bytes, key.data(), std::min(key.size(), sizeof bytes));
      sortable[i] = {{ReadBigEndian64(std::string_view(bytes, 8)),
                      ReadBigEndian64(std::string_view(bytes + 8, 8))},
                     static_cast<uint32_t>(i)};
    }
    auto less = [&entries](const Sortable& a, const Sortable& b) {
      if (a.head[0] != b.head[0]) return a.head[0] < b.head[0];
      if (a.head[1] != b.head[1]) return a.head[1] < b.head[1];
      return entries[a.index].key < entries[b.index].key;
    };
    auto middle = sortable.begin() + static_cast<std::ptrdiff_t>(sortable.size() / 2);
    std::thread lower([&] { std::sort(sortable.begin(), middle, less); });
    std::sort(middle, sortable.end(), less);
    lower.join();
    std::inplace_merge(sortable.begin(), middle, sortable.end(), less);
    std::vector<uint32_t> order(entries.size());
    for (size_t i = 0; i < sortable.size(); ++i) order[i] = sortable[i].index;
    return order;
  }

  RocksDbStore* store_;  // not owned
  std::string tenant_;
  uint64_t first_free_id_ = 1;  // no service id at or above it existed before the load
  uint64_t next_id_ = 1;        // the next id to assign; ReserveIds persisted the counter past it
  bool reserved_ = false;       // ReserveIds was called
  std::vector<std::string> records_;  // added, with their ids
  absl::StatusOr<IdCounter*> ids_;    // the tenant's service ids
  std::mutex mu_;  // guards files_ and ingest_ while Finish writes
  std::vector<std::string> files_;  // written, not yet ingested
  std::map<rocksdb::ColumnFamilyHandle*, std::vector<std::string>> ingest_;  // by family
};

// Both directions, streaming: each record's expected entries are looked up, and each entry's
// record is looked up and must expect exactly that entry.
absl::StatusOr<IntegrityReport> RocksDbStore::CheckIntegrity() {
  IntegrityReport report;
  auto problem = [&report](std::string what) {
    if (report.problems.size() < 100) report.problems.push_back(std::move(what));
    ++report.problem_count;
  };
  auto hex = [](std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out += static_cast<char>(c);
      } else {
        out += "\\x";
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
      }
    }
    return out;
  };
  auto get = [this](rocksdb::ColumnFamilyHandle* cf, const std::string& key,
                    std::string* value) -> absl::StatusOr<bool> {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, value);
    if (s.IsNotFound()) return false;
    RETURN_IF_ERROR(FromRocksDb(s));
    return true;
  };
  // The service a key names, decoded, if it exists and decodes.
  auto service_of = [&](std::string_view tenant, uint64_t id) -> absl::StatusOr<std::optional<Service>> {
    std::string bytes;
    ASSIGN_OR_RETURN(bool found, get(services(), ServiceKey(tenant, id), &bytes));
    if (!found) return std::optional<Service>();
    absl::StatusOr<Service> s = DecodeServiceKeys(bytes);
    if (!s.ok()) return std::optional<Service>();
    return std::optional<Service>(std::move(*s));
  };
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::map<std::string, uint64_t> max_service_id, max_interaction_id;  // by tenant

  // 1. Service records: each decodes and has its index entries and active membership.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, services()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.services;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    if (!SplitLengthPrefixed(key, &tenant, &rest) || rest.size() != 8) {
      problem("service record with a malformed key " + hex(key));
      continue;
    }
    const uint64_t id = ReadBigEndian64(rest);
    uint64_t& max_id = max_service_id[std::string(tenant)];
    max_id = std::max(max_id, id);
    absl::StatusOr<Service> s = DecodeService(ToView(it->value()));
    if (!s.ok() || s->service_id != id) {
      problem("service " + std::to_string(id) + ": record does not decode to its id");
      continue;
    }
    std::string value;
    for (const IndexEntry& e : IndexEntriesOf(tenant, *s)) {
      ASSIGN_OR_RETURN(bool found, get(index(), e.key, &value));
      if (!found || value != e.value) {
        problem("service " + std::to_string(id) + ": index entry " + hex(e.key) +
                (found ? " has a wrong value" : " is missing"));
      }
    }
    if (std::optional<ActiveEntry> a = ActiveEntryOf(tenant, *s)) {
      ActiveRecord record;
      RETURN_IF_ERROR(ReadActiveRecord(a->record_key, &record));
      bool listed = false;
      for (size_t pos = 0; pos < record.entries().size(); pos += kActiveEntryBytes) {
        listed = listed || record.entries().substr(pos, kActiveEntryBytes) == a->entry;
      }
      if (!listed) {
        ASSIGN_OR_RETURN(listed, get(index(), a->overflow_key, &value));
      }
      if (!listed) problem("service " + std::to_string(id) + ": active but not in its owner's active record");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));

  // 2. Service index entries: each belongs to an existing record that expects it.
  std::map<std::string, uint32_t> overflow_counted;  // active record key -> overflow keys seen
  std::map<std::string, uint32_t> overflow_claimed;  // active record key -> its overflow count
  it.reset(db_->NewIterator(scan, index()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.service_index_entries;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    if (!SplitLengthPrefixed(key, &tenant, &rest) || rest.empty()) {
      problem("index entry with a malformed key " + hex(key));
      continue;
    }
    const auto kind = static_cast<IndexKind>(rest[0]);
    if (kind == IndexKind::kActive) {
      ActiveRecord record;
      if (!record.Parse(ToView(it->value()))) {
        problem("active record " + hex(key) + " does not parse");
        continue;
      }
      if (record.overflow() > 0) overflow_claimed[std::string(key)] = record.overflow();
      for (size_t pos = 0; pos < record.entries().size(); pos += kActiveEntryBytes) {
        const std::string_view entry = record.entries().substr(pos, kActiveEntryBytes);
        const uint64_t id = ReadBigEndian64(entry.substr(8));
        ASSIGN_OR_RETURN(std::optional<Service> s, service_of(tenant, id));
        std::optional<ActiveEntry> a;
        if (s) a = ActiveEntryOf(tenant, *s);
        if (!a || a->record_key != key || a->entry != entry) {
          problem("active record " + hex(key) + " lists service " + std::to_string(id) +
                  ", which is not an active service of that owner started then");
        }
      }
      continue;
    }
    if (rest.size() < 17) {
      problem("index entry with a malformed key " + hex(key));
      continue;
    }
    const uint64_t id = ReadBigEndian64(key.substr(key.size() - 8));
    ASSIGN_OR_RETURN(std::optional<Service> s, service_of(tenant, id));
    bool expected = false;
    if (s && kind == IndexKind::kActiveOverflow) {
      std::optional<ActiveEntry> a = ActiveEntryOf(tenant, *s);
      expected = a && a->overflow_key == key;
      if (expected) ++overflow_counted[a->record_key];
    } else if (s) {
      for (const IndexEntry& e : IndexEntriesOf(tenant, *s)) {
        expected = expected || (e.key == key && e.value == ToView(it->value()));
      }
    }
    if (!expected) {
      problem("index entry " + hex(key) + " matches no record (service " + std::to_string(id) + ")");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  if (overflow_counted != overflow_claimed) {
    problem("active records' overflow counts disagree with their overflow entries");
  }

  // 3. Interaction records and their index entries, both ways.
  it.reset(db_->NewIterator(scan, interactions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.interactions;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    absl::StatusOr<Interaction> x = DecodeInteraction(ToView(it->value()));
    if (!SplitLengthPrefixed(key, &tenant, &rest) || rest.size() != 8 || !x.ok() ||
        x->interaction_id != ReadBigEndian64(rest)) {
      problem("interaction record " + hex(key) + " does not decode to its id");
      continue;
    }
    uint64_t& max_id = max_interaction_id[std::string(tenant)];
    max_id = std::max(max_id, x->interaction_id);
    std::string value;
    for (const std::string& k : InteractionIndexKeysOf(tenant, *x)) {
      ASSIGN_OR_RETURN(bool found, get(interaction_index(), k, &value));
      if (!found || value != ToView(it->value())) {
        problem("interaction " + std::to_string(x->interaction_id) + ": index entry " + hex(k) +
                (found ? " has a wrong value" : " is missing"));
      }
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  it.reset(db_->NewIterator(scan, interaction_index()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.interaction_index_entries;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    std::string bytes;
    bool expected = false;
    if (SplitLengthPrefixed(key, &tenant, &rest) && key.size() >= 16) {
      const uint64_t id = ReadBigEndian64(key.substr(key.size() - 8));
      ASSIGN_OR_RETURN(bool found, get(interactions(), InteractionRecordKey(tenant, id), &bytes));
      absl::StatusOr<Interaction> x = found ? DecodeInteraction(bytes) : absl::NotFoundError("");
      if (x.ok()) {
        for (const std::string& k : InteractionIndexKeysOf(tenant, *x)) {
          expected = expected || (k == key && bytes == ToView(it->value()));
        }
      }
    }
    if (!expected) problem("interaction index entry " + hex(key) + " matches no record");
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));

  // 4. Id counters are past every id in use; the other records decode.
  for (auto [kind, maxima] : {std::pair{IdKind::kService, &max_service_id},
                               std::pair{IdKind::kInteraction, &max_interaction_id}}) {
    for (const auto& [tenant, max_id] : *maxima) {
      ASSIGN_OR_RETURN(IdCounter * ids, Ids(kind, tenant));
      std::lock_guard<std::mutex> lock(ids->mu);
      if (ids->limit <= max_id) {
        problem(std::string(kind == IdKind::kService ? "service" : "interaction") +
                " id counter of tenant '" + hex(tenant) + "' is not past " + std::to_string(max_id));
      }
    }
  }
  it.reset(db_->NewIterator(scan, workspace()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.other_records;
    const std::string_view key = ToView(it->key());
    const std::string_view value = ToView(it->value());
    const bool ok = key.empty()       ? false
                    : key[0] == 'u'   ? DecodeUser(value).ok()
                    : key[0] == 'i'   ? DecodeWorkItem(value).ok()
                    : key[0] == 'k'   ? DecodeApiKey(value).ok()
                    : key[0] == 't'   ? DecodeTenant(value).ok()
                                      : false;
    if (!ok) problem("workspace/access record " + hex(key) + " does not decode");
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  it.reset(db_->NewIterator(scan, meta()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.other_records;
    const std::string_view key = ToView(it->key());
    if (key.rfind("customer_keys|", 0) == 0 && !DecodeCustomerKeys(ToView(it->value())).ok()) {
      problem("customer keys " + hex(key) + " do not decode");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return report;
}

std::unique_ptr<BulkLoader> RocksDbStore::NewBulkLoader(std::string_view tenant) {
  return std::make_unique<RocksDbBulkLoader>(this, tenant);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenRocksDbStore(const RocksDbOptions& options) {
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
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Point lookups of hot records (a caller's active record, the services it lists) are
  // answered from this cache of whole values, without the index, filter and block search:
  // 17% less CPU per IVR read at 10^6 services (README.md, "Measured choices").
  db_options.row_cache = rocksdb::NewLRUCache(options.row_cache_bytes);
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
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families, &handles, &db);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::UnavailableError("data directory is in use: " + s.ToString());
    }
    return FromRocksDb(s);
  }
  auto store = std::make_unique<RocksDbStore>(db, std::move(handles), options.sync);
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace contextd::storage
