// The id counters stop at kMaxId (2^53-1): a batch that would pass it takes no id and writes
// nothing (OutOfRange), a batch that ends at it is allowed, and once the ids are used up every
// later request is refused, across a restart too. No API sets the interaction counter, so the
// tests write its persisted limit (the meta key golden_test.cc pins) while the store is closed.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/model.h"
#include "storage/rocksdb_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

class IdLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = testing::OpenTestStore(dir_.path()); }

  void Reopen() {
    store_.reset();
    store_ = testing::OpenTestStore(dir_.path());
  }

  // Closes the store, sets the persisted limit `name` of tenant "t" to `next` (the store then
  // hands out `next` first), and reopens it.
  void SetCounter(const char* name, uint64_t next) {
    store_.reset();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* family : {"default", "services", "index", "interactions",
                               "interaction_index", "workspace"}) {
      families.emplace_back(family, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), families, &handles, &db).ok());
    std::string value;
    AppendBigEndian64(next, &value);
    EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0], IdLimitKey(name, "t"), value).ok());
    for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
    store_ = testing::OpenTestStore(dir_.path());
  }

  static std::vector<Interaction> Records(size_t n) {
    Interaction x;
    x.customer_id = "C1";
    x.channel = "sms";
    x.time_ms = 1000;
    return std::vector<Interaction>(n, x);
  }

  size_t Stored() {
    auto found = store_->ScanInteractions({"t", InteractionKey::kCustomer, "C1", {}, 100, nullptr});
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? found->size() : 0;
  }

  static Service Anonymous() {
    Service s;
    s.contact_key = "k";
    s.started.timestamp_ms = 1000;
    return s;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(IdLimitTest, InteractionBatchesEndAtTheLimit) {
  SetCounter("next_interaction_id_limit", kMaxId - 1);
  // Three ids from kMaxId-1 would reach 2^53: refused whole.
  absl::StatusOr<std::vector<Interaction>> three = store_->Append("t", Records(3));
  EXPECT_EQ(three.status().code(), absl::StatusCode::kOutOfRange) << three.status();
  EXPECT_EQ(Stored(), 0u);
  // Two end at kMaxId: allowed.
  absl::StatusOr<std::vector<Interaction>> two = store_->Append("t", Records(2));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ((*two)[0].interaction_id, kMaxId - 1);
  EXPECT_EQ((*two)[1].interaction_id, kMaxId);
  EXPECT_EQ(Stored(), 2u);
  // Used up: one more is refused, also after a restart.
  EXPECT_EQ(store_->Append("t", Records(1)).status().code(), absl::StatusCode::kOutOfRange);
  Reopen();
  EXPECT_EQ(store_->Append("t", Records(1)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Stored(), 2u);
  // Another tenant's sequence is its own.
  EXPECT_TRUE(store_->Append("u", Records(1)).ok());
}

TEST_F(IdLimitTest, ServiceIdsEndAtTheLimit) {
  SetCounter("next_service_id_limit", kMaxId);
  absl::StatusOr<Service> last = store_->Create("t", Anonymous());
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->service_id, kMaxId);
  EXPECT_EQ(store_->Create("t", Anonymous()).status().code(), absl::StatusCode::kOutOfRange);
  Reopen();
  EXPECT_EQ(store_->Create("t", Anonymous()).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(IdLimitTest, AnImportOfIdKMaxIdLeavesNoServiceIds) {
  std::unique_ptr<BulkLoader> loader = store_->NewBulkLoader("t");
  ASSERT_TRUE(loader->ReserveIds(kMaxId, 0).ok());
  ASSERT_TRUE(loader->Finish().ok());
  absl::StatusOr<Service> start = store_->Create("t", Anonymous());
  EXPECT_EQ(start.status().code(), absl::StatusCode::kOutOfRange) << start.status();
  EXPECT_NE(start.status().message().find("9007199254740991"), std::string::npos);
  Reopen();
  EXPECT_EQ(store_->Create("t", Anonymous()).status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace contextd::storage
