#include "storage/rocksdb_store.h"

#include <array>
#include <mutex>
#include <utility>

#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/codec.h"
#include "storage/status_macros.h"

namespace contextd::storage {
namespace {

// Ids are reserved in blocks: the upper end of the current block is persisted before any id
// of it is handed out, so after a restart counting resumes above every id ever given.
constexpr uint64_t kIdBlock = 1024;
constexpr char kIdLimitKey[] = "next_service_id_limit";

constexpr size_t kStripes = 1024;

absl::Status FromRocksDb(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(s.ToString());
  if (s.IsBusy() || s.IsTryAgain() || s.IsIOError()) return absl::UnavailableError(s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(s.ToString());
  return absl::InternalError(s.ToString());
}

absl::Status ServiceNotFound(uint64_t service_id) {
  return absl::NotFoundError("There are no service found for : " + std::to_string(service_id));
}

struct IndexEntry {
  std::string key;
  std::string value;
};

// Every index entry a record should have. The single definition of index content: Create,
// Update and Delete all derive entries from records through this function.
std::vector<IndexEntry> IndexEntriesOf(std::string_view tenant, const Service& s) {
  std::vector<IndexEntry> out;
  OwnerKind kind;
  std::string_view owner;
  if (s.customer_id) {
    kind = OwnerKind::kCustomer;
    owner = *s.customer_id;
  } else if (s.contact_key) {
    kind = OwnerKind::kAnonymous;
    owner = *s.contact_key;
  } else {
    return out;
  }
  const TimeMs started = s.started.timestamp_ms;
  out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kStarted, kind, owner), started,
                          s.service_id),
                 std::string(1, s.completed ? '\1' : '\0')});
  if (s.completed) {
    std::string started_be;
    AppendBigEndian64(static_cast<uint64_t>(started), &started_be);
    out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kCompleted, kind, owner),
                            s.completed->timestamp_ms, s.service_id),
                   std::move(started_be)});
  } else {
    out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kActive, kind, owner), started,
                            s.service_id),
                   std::string()});
  }
  return out;
}

class RocksDbStore final : public ServiceStore {
 public:
  RocksDbStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync)
      : db_(db), handles_(std::move(handles)) {
    write_options_.sync = sync;
  }

  ~RocksDbStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }

  absl::Status LoadIdLimit() {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta(), kIdLimitKey, &value);
    if (s.IsNotFound()) {
      next_id_ = id_limit_ = 1;
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(FromRocksDb(s));
    if (value.size() != 8) return absl::DataLossError("corrupt service id counter");
    next_id_ = id_limit_ = ReadBigEndian64(value);
    return absl::OkStatus();
  }

  absl::StatusOr<Service> Create(std::string_view tenant, Service service) override {
    ASSIGN_OR_RETURN(service.service_id, NextId());
    rocksdb::WriteBatch batch;
    RETURN_IF_ERROR(FromRocksDb(batch.Put(services(), ServiceKey(tenant, service.service_id),
                                          EncodeService(service))));
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
      RETURN_IF_ERROR(FromRocksDb(batch.Put(index(), e.key, e.value)));
    }
    RETURN_IF_ERROR(FromRocksDb(
        batch.Put(services(), ServiceKey(tenant, service_id), EncodeService(after))));
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
    return FromRocksDb(db_->Write(write_options_, &batch));
  }

  absl::StatusOr<std::vector<Service>> Scan(const IndexScan& scan) override {
    std::vector<Service> out;
    if (scan.range.Empty()) return out;
    const std::string prefix = IndexPrefix(scan.tenant, scan.index, scan.owner_kind, scan.owner);
    const std::string lower = IndexBound(prefix, scan.range.from_ms);
    // An unbounded upper end must still include time INT64_MAX: use the prefix's successor.
    const std::string upper = scan.range.to_ms == std::numeric_limits<TimeMs>::max()
                                  ? prefix + std::string(9, '\xff')
                                  : IndexBound(prefix, scan.range.to_ms);

    rocksdb::ManagedSnapshot snapshot(db_);
    rocksdb::ReadOptions options;
    options.snapshot = snapshot.snapshot();
    rocksdb::Slice lower_slice(lower), upper_slice(upper);
    options.iterate_lower_bound = &lower_slice;
    options.iterate_upper_bound = &upper_slice;

    std::vector<std::string> keys;
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, index()));
      for (it->SeekForPrev(upper); it->Valid(); it->Prev()) {
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

  absl::StatusOr<uint64_t> NextId() {
    std::lock_guard<std::mutex> lock(id_mu_);
    if (next_id_ == id_limit_) {
      std::string value;
      AppendBigEndian64(id_limit_ + kIdBlock, &value);
      rocksdb::WriteOptions sync_write;
      sync_write.sync = true;
      RETURN_IF_ERROR(FromRocksDb(db_->Put(sync_write, meta(), kIdLimitKey, value)));
      id_limit_ += kIdBlock;
    }
    return next_id_++;
  }

  std::mutex& StripeOf(uint64_t service_id) { return stripes_[service_id % kStripes]; }

  rocksdb::ColumnFamilyHandle* meta() { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* services() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* index() { return handles_[2]; }

  rocksdb::DB* db_;  // owned
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
  std::mutex id_mu_;
  uint64_t next_id_ = 1;   // guarded by id_mu_
  uint64_t id_limit_ = 1;  // guarded by id_mu_
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceStore>> OpenRocksDbStore(const RocksDbOptions& options) {
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);

  auto cf_options = [&](bool point_lookups) {
    rocksdb::ColumnFamilyOptions cf;
    cf.level_compaction_dynamic_level_bytes = true;
    cf.compression = rocksdb::kLZ4Compression;
    cf.bottommost_compression = rocksdb::kZSTD;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    if (point_lookups) table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return cf;
  };

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options(true)},
      {"services", cf_options(true)},
      {"index", cf_options(false)},
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
  RETURN_IF_ERROR(store->LoadIdLimit());
  return std::unique_ptr<ServiceStore>(std::move(store));
}

}  // namespace contextd::storage
