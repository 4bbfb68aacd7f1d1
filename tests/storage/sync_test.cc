// Store::Sync makes the returned writes of every record family durable: a power cut emulated
// by keeping only the synced bytes of each write-ahead log loses nothing written before it.

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "storage/rocksdb_store.h"
#include "tests/support/temp_dir.h"

namespace contextd::storage {
namespace {

namespace fs = std::filesystem;

// Records, per write-ahead log file, how many bytes were handed to the OS and how many of
// them a Sync or Fsync made durable.
class SyncTrackingEnv final : public rocksdb::EnvWrapper {
 public:
  SyncTrackingEnv() : EnvWrapper(rocksdb::Env::Default()) {}

  rocksdb::Status NewWritableFile(const std::string& name,
                                  std::unique_ptr<rocksdb::WritableFile>* file,
                                  const rocksdb::EnvOptions& options) override {
    rocksdb::Status s = target()->NewWritableFile(name, file, options);
    if (s.ok() && name.size() > 4 && name.substr(name.size() - 4) == ".log") {
      *file = std::make_unique<File>(std::move(*file), this, fs::path(name).filename());
    }
    return s;
  }

  const char* Name() const override { return "SyncTrackingEnv"; }

  // Copies `from` to `to` as a power cut would leave it: each log file only up to its synced
  // length. (The other files are written synced by RocksDB itself.)
  void CopyAsAfterPowerCut(const std::string& from, const std::string& to) {
    std::lock_guard<std::mutex> lock(mu_);
    fs::create_directories(to);
    for (const fs::directory_entry& e : fs::directory_iterator(from)) {
      const std::string name = e.path().filename();
      if (name == "LOCK") continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (auto it = logs_.find(name); it != logs_.end()) bytes.resize(it->second.synced);
      std::ofstream(fs::path(to) / name, std::ios::binary) << bytes;
    }
  }

 private:
  struct Lengths {
    uint64_t appended = 0;
    uint64_t synced = 0;
  };

  class File final : public rocksdb::WritableFileWrapper {
   public:
    File(std::unique_ptr<rocksdb::WritableFile> target, SyncTrackingEnv* env, std::string name)
        : WritableFileWrapper(target.get()), owned_(std::move(target)), env_(env),
          name_(std::move(name)) {
      std::lock_guard<std::mutex> lock(env_->mu_);
      env_->logs_[name_] = {};
    }
    rocksdb::Status Append(const rocksdb::Slice& data) override {
      Appended(data.size());
      return WritableFileWrapper::Append(data);
    }
    rocksdb::Status Append(const rocksdb::Slice& data,
                           const rocksdb::DataVerificationInfo& info) override {
      Appended(data.size());
      return WritableFileWrapper::Append(data, info);
    }
    rocksdb::Status Sync() override { return Synced(WritableFileWrapper::Sync()); }
    rocksdb::Status Fsync() override { return Synced(WritableFileWrapper::Fsync()); }

   private:
    void Appended(size_t n) {
      std::lock_guard<std::mutex> lock(env_->mu_);
      env_->logs_[name_].appended += n;
    }
    rocksdb::Status Synced(rocksdb::Status s) {
      std::lock_guard<std::mutex> lock(env_->mu_);
      if (s.ok()) env_->logs_[name_].synced = env_->logs_[name_].appended;
      return s;
    }

    std::unique_ptr<rocksdb::WritableFile> owned_;
    SyncTrackingEnv* env_;
    std::string name_;
  };

  std::mutex mu_;
  std::map<std::string, Lengths> logs_;  // by file name; guarded by mu_
};

std::unique_ptr<Store> Open(const std::string& path, rocksdb::Env* env) {
  RocksDbOptions options;
  options.path = path;
  options.sync = false;  // only Sync makes writes durable
  options.env = env;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksDbStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// One record of each family the store holds unsynced. The id counters are warmed up first:
// reserving ids is a synced write, which would sync everything before it.
struct Written {
  uint64_t service_id = 0;
  uint64_t interaction_id = 0;
};

Written WriteEveryFamily(Store& store) {
  Service s;
  s.customer_id = "C1";
  s.started.timestamp_ms = 1700000000000;
  absl::StatusOr<Service> created = store.Create("", s);
  EXPECT_TRUE(created.ok()) << created.status();
  Interaction x;
  x.customer_id = "C1";
  x.time_ms = 1700000000000;
  absl::StatusOr<std::vector<Interaction>> appended = store.Append("", {x});
  EXPECT_TRUE(appended.ok()) << appended.status();
  EXPECT_TRUE(store.PutCustomerKeys("", "C1", {"A1", "555"}).ok());
  WorkspaceChange change;
  change.users.emplace_back().user_name = "agent1";
  change.items.emplace_back().id = "w1";
  EXPECT_TRUE(store.CommitWorkspace("", 0, change).ok());
  return {created.ok() ? created->service_id : 0,
          appended.ok() && !appended->empty() ? (*appended)[0].interaction_id : 0};
}

// How many of the records WriteEveryFamily wrote a store holds (0 to 5).
int Held(Store& store, const Written& w) {
  int held = 0;
  held += store.Get("", w.service_id).ok();
  IndexScan active;
  active.owner = "C1";
  active.index = IndexKind::kActive;
  absl::StatusOr<std::vector<Service>> services = store.Scan(active);
  EXPECT_TRUE(services.ok()) << services.status();
  InteractionScan window;
  window.key = "C1";
  absl::StatusOr<std::vector<Interaction>> history = store.ScanInteractions(window);
  EXPECT_TRUE(history.ok()) << history.status();
  held += history.ok() && history->size() == 1 && (*history)[0].interaction_id == w.interaction_id;
  absl::StatusOr<std::optional<CustomerKeys>> keys = store.GetCustomerKeys("", "C1");
  held += keys.ok() && keys->has_value() && (*keys)->account_number == "A1";
  absl::StatusOr<std::vector<std::pair<std::string, User>>> users = store.ListUsers();
  held += users.ok() && users->size() == 1;
  absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> items = store.ListWorkItems();
  held += items.ok() && items->size() == 1;
  // The index must agree with the record: an active scan lists the service iff it is held.
  EXPECT_EQ(services.ok() && services->size() == 1, store.Get("", w.service_id).ok());
  return held;
}

TEST(SyncTest, OneSyncMakesEveryFamilyDurable) {
  testing::TempDir dir;
  SyncTrackingEnv env;
  std::unique_ptr<Store> store = Open(dir.path() + "/db", &env);
  ASSERT_NE(store, nullptr);
  // Warm-up: the id counters reserve a block with a synced write.
  Service warm;
  warm.customer_id = "C0";
  ASSERT_TRUE(store->Create("", warm).ok());
  Interaction warm_x;
  warm_x.customer_id = "C0";
  ASSERT_TRUE(store->Append("", {warm_x}).ok());

  const Written written = WriteEveryFamily(*store);
  env.CopyAsAfterPowerCut(dir.path() + "/db", dir.path() + "/unsynced");
  ASSERT_TRUE(store->Sync().ok());
  env.CopyAsAfterPowerCut(dir.path() + "/db", dir.path() + "/synced");

  {  // The emulation holds: without the Sync every one of them is lost.
    std::unique_ptr<Store> cut = Open(dir.path() + "/unsynced", nullptr);
    ASSERT_NE(cut, nullptr);
    EXPECT_EQ(Held(*cut, written), 0);
  }
  std::unique_ptr<Store> cut = Open(dir.path() + "/synced", nullptr);
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(Held(*cut, written), 5);
}

}  // namespace
}  // namespace contextd::storage
