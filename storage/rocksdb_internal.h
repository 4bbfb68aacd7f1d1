#pragma once

// The RocksDB store's private pieces shared by its files: the store class itself
// (rocksdb_store.cc defines it: open, reads, writes, scans, stats, the durable sync), the bulk
// loader (rocksdb_bulk_loader.cc) and the integrity checker (rocksdb_integrity.cc). Nothing
// outside storage/rocksdb_*.cc includes this; the public seam is rocksdb_store.h and store.h.
//
// Layout: one RocksDB database with six column families sharing its one write-ahead log:
//   default ("meta")    id counter limits (IdLimitKey), customer keys (CustomerKeysKey)
//   services            service records (ServiceKey -> EncodeService)
//   index               started/completed entries, active records and their overflow
//   interactions        interaction records (InteractionRecordKey -> EncodeInteraction)
//   interaction_index   interaction index entries, each holding the whole record
//   workspace           Workspace users 'u' and work items 'i', API keys 'k', tenants 't'
// Kept in memory only (lost on restart): each tenant's Workspace head, its last changes
// (ReadWorkspace) and its agents, and the Workspace sessions.

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/disk_space.h"
#include "storage/index_entries.h"
#include "storage/store.h"

namespace contextd::storage {

// Ids are reserved (their limit persisted) this many at a time.
inline constexpr uint64_t kIdBlock = 1024;

// The store's neutral status for a RocksDB status: NotFound, Unavailable (busy, try again,
// I/O error), DataLoss (corruption), else Internal.
absl::Status FromRocksDb(const rocksdb::Status& s);

inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// A persistent id sequence of one tenant. Ids are reserved in blocks: the upper end of the
// current block is persisted (synced, then copied to the id high-water file outside the WAL,
// id_high_water.h) before any id of it is handed out, so after a restart counting resumes above
// every id ever given, even one that lost WAL files: the open refuses a database whose limits
// are behind that file, or with recover_anyway raises them to it (CheckIdLimits). Each tenant
// counts on its own, so its ids say nothing of other tenants' writes.
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

  // Takes ownership of `db` and its column family `handles` (in the order above). `dir` holds
  // the id high-water file, whose contents are `high_water` (id_high_water.h). `wal_failed` is
  // set (by the listener OpenRocksDbStore installs) when an append to the write-ahead log
  // failed; `disk` guards the free space of the data directory's disk.
  RocksDbStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync,
               std::string dir, std::map<std::string, uint64_t> high_water,
               std::shared_ptr<std::atomic<bool>> wal_failed, DiskSpaceGuard disk);
  ~RocksDbStore() override;

  absl::StatusOr<Service> Create(std::string_view tenant, Service service) override;
  absl::StatusOr<Service> Get(std::string_view tenant, uint64_t service_id) override;
  absl::StatusOr<Service> Update(std::string_view tenant, uint64_t service_id,
                                 const Mutation& mutate) override;
  absl::Status Delete(std::string_view tenant, uint64_t service_id) override;
  std::unique_ptr<BulkLoader> NewBulkLoader(std::string_view tenant) override;
  absl::StatusOr<std::vector<Service>> Scan(const IndexScan& scan) override;

  absl::StatusOr<std::vector<Interaction>> Append(std::string_view tenant,
                                                  std::vector<Interaction> records) override;
  absl::StatusOr<std::vector<Interaction>> ScanInteractions(const InteractionScan& scan) override;
  absl::StatusOr<std::optional<CustomerKeys>> GetCustomerKeys(
      std::string_view tenant, std::string_view customer_id) override;
  absl::Status PutCustomerKeys(std::string_view tenant, std::string_view customer_id,
                               const CustomerKeys& keys) override;

  absl::StatusOr<WorkspaceSnapshot> LoadWorkspace(std::string_view tenant) override;
  absl::StatusOr<uint64_t> WorkspaceHead(std::string_view tenant) override;
  absl::StatusOr<uint64_t> CommitWorkspace(std::string_view tenant, uint64_t expected,
                                           const WorkspaceChange& change) override;
  absl::StatusOr<std::vector<std::pair<uint64_t, WorkspaceChange>>> ReadWorkspace(
      std::string_view tenant, uint64_t after) override;
  absl::StatusOr<std::vector<std::pair<std::string, User>>> ListUsers() override;
  absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> ListWorkItems() override;
  // Sessions live in this map only; each put drops a few expired more than kSessionGraceMs
  // before its `now_ms`.
  absl::Status PutSession(const StoredSession& session, TimeMs now_ms) override;
  absl::StatusOr<std::optional<StoredSession>> GetSession(std::string_view id) override;

  absl::Status PutApiKey(const ApiKey& key) override;
  absl::StatusOr<std::vector<ApiKey>> ListApiKeys() override;
  absl::Status PutTenant(const Tenant& tenant) override;
  absl::StatusOr<std::vector<Tenant>> ListTenants() override;
  // One process writes the database: the version counts this process's access writes.
  absl::StatusOr<uint64_t> AccessVersion() override {
    return access_version_.load(std::memory_order_acquire);
  }

  absl::Status Sync() override;
  absl::StatusOr<StoreStats> Stats() override;
  absl::StatusOr<IntegrityReport> CheckIntegrity() override;  // rocksdb_integrity.cc

  // Compares the database's id limits with the high-water file's. A limit the database has
  // not reached means a synced write that raised it was lost: DataLoss naming the counter and
  // both limits; with `recover_anyway` instead the database's limit is raised to the file's
  // (so no id is handed out twice) and a line per counter is added to `dropped`.
  absl::Status CheckIdLimits(bool recover_anyway, std::vector<std::string>* dropped);

 private:
  // Every write goes through these: refused while the WAL is in error or the disk's reserve
  // is used up (Writable), then applied, keeping write_error_ (Written).
  absl::Status Commit(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch);
  absl::Status Commit(const rocksdb::WriteOptions& options, rocksdb::ColumnFamilyHandle* family,
                      const rocksdb::Slice& key, const rocksdb::Slice& value);
  absl::Status Writable();
  // FromRocksDb for the status of a write or a WAL sync, keeping write_error_.
  absl::Status Written(const rocksdb::Status& s);
  // While write_error_ is set: asks RocksDB to resume writing, `now` (a readiness probe) or
  // on one write attempt in 64 (the store reads no clock); clears write_error_ when it does
  // (the disk has room again). Runs on the calling thread: Resume flushes the memtables.
  void TryResume(bool now);

  static constexpr size_t kStripes = 1024;

  class OwnerLocks;

  // A tenant's Workspace as far as it lives in memory: its users and items are in the
  // workspace family, the rest is here.
  struct Workspace {
    uint64_t head = 0;  // 0 at open
    std::deque<std::pair<uint64_t, WorkspaceChange>> changes;  // the last kKeptWorkspaceChanges
    std::map<std::string, AgentState> agents;                  // by user name; none ended
  };

  // The id sequence of (kind, tenant), its persisted limit read on first use.
  absl::StatusOr<IdCounter*> Ids(IdKind kind, std::string_view tenant);

  // Returns the first of `n` consecutive fresh ids of `counter`; OutOfRange when they would
  // pass kMaxId (the sequence is used up: nothing is handed out). REQUIRES: n >= 1.
  absl::StatusOr<uint64_t> TakeIds(IdCounter& counter, uint64_t n);

  // Raises the counter's persisted limit (a synced write, then the high-water file).
  // REQUIRES: counter.mu is held.
  absl::Status PersistIdLimit(IdCounter& counter, uint64_t limit);

  absl::StatusOr<Service> Read(const rocksdb::ReadOptions& options, std::string_view tenant,
                               uint64_t service_id);

  template <typename T>
  absl::StatusOr<std::vector<std::pair<std::string, T>>> ListWorkspace(
      char kind, absl::StatusOr<T> (*decode)(std::string_view));

  // Adds to `batch` the removal of `from` and the insertion of `to` in their owners'
  // active records (or overflow keys). REQUIRES: the OwnerLocks of both records are held.
  absl::Status MoveActive(const ActiveEntry* from, const ActiveEntry* to,
                          rocksdb::WriteBatch* batch);
  absl::Status WriteActiveRecord(const std::string& key, const ActiveRecord& record,
                                 rocksdb::WriteBatch* batch);
  // The active record stored under `key`; an empty record when there is none.
  absl::Status ReadActiveRecord(const std::string& key, ActiveRecord* record);
  // The primary keys of the active services a kActive scan selects, newest first.
  absl::Status ActiveIds(const IndexScan& scan, const rocksdb::ReadOptions& options,
                         std::vector<std::string>* keys);

  std::mutex& StripeOf(uint64_t service_id) { return stripes_[service_id % kStripes]; }

  static rocksdb::WriteOptions SyncedWrite() {
    rocksdb::WriteOptions synced;
    synced.sync = true;
    return synced;
  }

  rocksdb::ColumnFamilyHandle* meta() { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* services() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* index() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* interactions() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* interaction_index() { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* workspace() { return handles_[5]; }

  rocksdb::DB* db_;  // owned
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  // Every write but the synced ones (id limits, access records) goes through these; the WAL
  // is never disabled, so Sync covers them all.
  rocksdb::WriteOptions write_options_;
  // Set by a write or WAL sync that failed with an I/O error, cleared by the next that
  // succeeds: the store cannot make writes durable now (StoreStats::write_error).
  std::atomic<bool> write_error_{false};
  std::atomic<uint64_t> resume_ticks_{0};  // write attempts since the store opened (TryResume)
  std::atomic<bool> resuming_{false};
  std::atomic<uint64_t> access_version_{0};  // AccessVersion
  // Set once an append to, or a sync of, the write-ahead log failed. After a failed append,
  // RocksDB 7.8.3 asserts (WritableFileWriter::AssertFalseAndGetStatusForPrevError,
  // `sync_without_flush_called_`; see facebook/rocksdb#10555 and #12448) when that WAL file
  // is used again: by a later SyncWAL, by Resume's flush, by shutdown's final sync. So from
  // then on the store refuses every write and sync itself and never resumes: writes come back
  // with a restart, which recovers the WAL. DiskSpaceGuard keeps a full disk from getting here.
  std::shared_ptr<std::atomic<bool>> wal_failed_;
  DiskSpaceGuard disk_;
  const std::string dir_;
  std::mutex high_water_mu_;                    // guards high_water_ and its file
  std::map<std::string, uint64_t> high_water_;  // IdLimitKey -> limit (id_high_water.h)
  std::mutex ids_mu_;  // guards the two maps (each counter has its own lock)
  std::map<std::string, std::unique_ptr<IdCounter>, std::less<>> service_ids_;      // by tenant
  std::map<std::string, std::unique_ptr<IdCounter>, std::less<>> interaction_ids_;  // by tenant
  std::array<std::mutex, kStripes> stripes_;                                        // per service
  std::array<std::mutex, kStripes> owner_stripes_;  // per owner active record
  // Guards workspaces_ and orders every tenant's Workspace commits (held across their write).
  std::mutex workspace_mu_;
  std::map<std::string, Workspace, std::less<>> workspaces_;  // by tenant
  std::mutex sessions_mu_;  // guards the two below
  std::map<std::string, StoredSession, std::less<>> sessions_;  // by id
  std::set<std::pair<TimeMs, std::string>> sessions_by_expiry_;
};

}  // namespace contextd::storage
