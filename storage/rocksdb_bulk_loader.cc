// The bulk loader behind `contextd import` (BulkLoader in service_store.h): collects the
// load's records in memory, then writes sorted SST files and ingests them in one atomic step.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "rocksdb/sst_file_writer.h"
#include "storage/codec.h"
#include "storage/rocksdb_internal.h"
#include "storage/status_macros.h"

namespace contextd::storage {

// Collects the load's records and index entries in memory; Finish sorts them, writes one SST
// file per column family (two threads) and ingests both in one atomic step. Nothing of the
// load is visible, on disk or after a crash, until that step; no memtable, WAL or flush is
// involved, and into an empty store the files land in the last level, already compacted.
class RocksDbBulkLoader final : public BulkLoader {
 public:
  RocksDbBulkLoader(RocksDbStore* store, std::string_view tenant)
      : store_(store), tenant_(tenant), ids_(store->Ids(IdKind::kService, tenant)) {
    if (!ids_.ok()) return;  // IdInUse and ReserveIds report it
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
    if (!ids_.ok()) return ids_.status();  // first_free_id_ is unknown: no id is known free
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
    options.bottommost_level_compaction =
        rocksdb::BottommostLevelCompaction::kIfHaveCompactionFilter;
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
  std::mutex mu_;                     // guards files_ and ingest_ while Finish writes
  std::vector<std::string> files_;    // written, not yet ingested
  std::map<rocksdb::ColumnFamilyHandle*, std::vector<std::string>> ingest_;  // by family
};

std::unique_ptr<BulkLoader> RocksDbStore::NewBulkLoader(std::string_view tenant) {
  return std::make_unique<RocksDbBulkLoader>(this, tenant);
}

}  // namespace contextd::storage
