// I/O errors injected under the store through a RocksDB Env wrapper (RocksDbOptions::env): an
// error is reported as an error, never read as an answer.

#include <atomic>
#include <filesystem>
#include <memory>

#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "storage/codec.h"
#include "storage/id_high_water.h"
#include "storage/rocksdb_store.h"
#include "storage/service_store.h"
#include "tests/support/temp_dir.h"

namespace contextd::storage {
namespace {

// Fails every read of an already open file (table files are read this way) while armed.
class FailingReadsEnv final : public rocksdb::EnvWrapper {
 public:
  FailingReadsEnv() : EnvWrapper(rocksdb::Env::Default()) {}

  std::atomic<bool> armed{false};

  rocksdb::Status NewRandomAccessFile(const std::string& name,
                                      std::unique_ptr<rocksdb::RandomAccessFile>* file,
                                      const rocksdb::EnvOptions& options) override {
    rocksdb::Status s = target()->NewRandomAccessFile(name, file, options);
    if (s.ok()) *file = std::make_unique<File>(std::move(*file), &armed);
    return s;
  }

 private:
  class File final : public rocksdb::RandomAccessFile {
   public:
    File(std::unique_ptr<rocksdb::RandomAccessFile> target, const std::atomic<bool>* armed)
        : target_(std::move(target)), armed_(armed) {}
    rocksdb::Status Read(uint64_t offset, size_t n, rocksdb::Slice* result,
                         char* scratch) const override {
      if (armed_->load()) return rocksdb::Status::IOError("injected read error");
      return target_->Read(offset, n, result, scratch);
    }

   private:
    std::unique_ptr<rocksdb::RandomAccessFile> target_;
    const std::atomic<bool>* armed_;
  };
};

Service Stored(uint64_t id) {
  Service s;
  s.service_id = id;
  std::string key = "k";
  key += std::to_string(id);
  s.contact_key = key;
  s.started.timestamp_ms = 1700000000000;
  return s;
}

std::unique_ptr<Store> Open(const std::string& path, rocksdb::Env* env) {
  RocksDbOptions options;
  options.path = path;
  options.sync = false;
  options.env = env;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksDbStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// An import checks each explicit id against the stored services; a read error there must not
// pass for "id free" (the import would overwrite a stored service with it).
TEST(FaultInjectionTest, AReadErrorIsNotAFreeIdForAnImport) {
  testing::TempDir dir;
  FailingReadsEnv env;
  {
    std::unique_ptr<Store> store = Open(dir.path(), &env);
    ASSERT_NE(store, nullptr);
    std::unique_ptr<BulkLoader> loader = store->NewBulkLoader("");
    ASSERT_TRUE(loader->ReserveIds(7, 0).ok());
    for (uint64_t id : {5, 7}) ASSERT_TRUE(loader->Add(EncodeService(Stored(id))).ok());
    ASSERT_TRUE(loader->Finish().ok());
  }
  // Reopened (nothing cached), the records are read from table files.
  std::unique_ptr<Store> store = Open(dir.path(), &env);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<BulkLoader> loader = store->NewBulkLoader("");
  env.armed = true;
  for (uint64_t id : {5, 6}) {
    absl::StatusOr<bool> in_use = loader->IdInUse(id);
    EXPECT_EQ(in_use.status().code(), absl::StatusCode::kUnavailable) << id;
  }
  env.armed = false;
  absl::StatusOr<bool> five = loader->IdInUse(5), six = loader->IdInUse(6);
  ASSERT_TRUE(five.ok() && six.ok());
  EXPECT_TRUE(*five);
  EXPECT_FALSE(*six);
  absl::StatusOr<Service> kept = store->Get("", 5);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->contact_key, "k5");
}

// A loader that cannot read the id counter cannot tell which ids are free: its id checks
// report the error instead of taking every id for free (the counter would read as "nothing
// handed out yet").
TEST(FaultInjectionTest, AnUnreadableIdCounterIsNotAFreeIdForAnImport) {
  testing::TempDir dir;
  FailingReadsEnv env;
  {
    std::unique_ptr<Store> store = Open(dir.path(), &env);
    ASSERT_NE(store, nullptr);
    std::unique_ptr<BulkLoader> loader = store->NewBulkLoader("");
    ASSERT_TRUE(loader->ReserveIds(7, 0).ok());
    ASSERT_TRUE(loader->Add(EncodeService(Stored(5))).ok());
    ASSERT_TRUE(loader->Finish().ok());
  }
  // Reopened, the counter is read from a table file when the loader is made. (Without the id
  // high-water file: the open would compare the counter with it, reading it into the row
  // cache first.)
  std::filesystem::remove(dir.path() + "/" + kIdHighWaterFile);
  std::unique_ptr<Store> store = Open(dir.path(), &env);
  ASSERT_NE(store, nullptr);
  env.armed = true;
  std::unique_ptr<BulkLoader> loader = store->NewBulkLoader("");
  env.armed = false;  // the stored services are readable again; the counter was not
  for (uint64_t id : {5, 6, 5000}) {
    absl::StatusOr<bool> in_use = loader->IdInUse(id);
    EXPECT_EQ(in_use.status().code(), absl::StatusCode::kUnavailable) << id;
  }
  EXPECT_EQ(loader->ReserveIds(5, 0).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace contextd::storage
