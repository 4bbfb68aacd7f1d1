// CheckIntegrity: silent on a consistent store, and names each kind of disagreement made by
// editing the RocksDB files behind the store's back.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/rocksdb_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = testing::OpenTestStore(dir_.path()); }

  uint64_t Create(std::string key, TimeMs started, bool completed) {
    Service s;
    s.contact_key = std::move(key);
    s.started.timestamp_ms = started;
    auto created = store_->Create("t", std::move(s));
    EXPECT_TRUE(created.ok()) << created.status();
    if (completed) {
      EXPECT_TRUE(store_->Update("t", created->service_id, [&](Service& x) {
        x.completed = Event{};
        x.completed->timestamp_ms = started + 1;
        return absl::OkStatus();
      }).ok());
    }
    return created->service_id;
  }

  IntegrityReport Check() {
    auto report = store_->CheckIntegrity();
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : IntegrityReport{};
  }

  // Edits the closed store's column families directly, then reopens the store.
  void Tamper(const std::function<void(rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>& edit) {
    store_.reset();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "services", "index", "interactions", "interaction_index",
                             "workspace"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), families, &handles, &db).ok());
    edit(db, handles);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
    store_ = testing::OpenTestStore(dir_.path());
  }

  static bool Mentions(const IntegrityReport& r, const std::string& text) {
    for (const std::string& p : r.problems) {
      if (p.find(text) != std::string::npos) return true;
    }
    return false;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(IntegrityTest, AConsistentStoreHasNoProblems) {
  for (int i = 0; i < 140; ++i) Create("busy", 1000 + i, false);  // past the active record
  Create("k", 5000, true);
  Interaction x;
  x.customer_id = "C1";
  x.contact_number = "408";
  x.time_ms = 7000;
  ASSERT_TRUE(store_->Append("t", {x, x}).ok());
  IntegrityReport r = Check();
  EXPECT_EQ(r.problem_count, 0u) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_EQ(r.services, 141u);
  EXPECT_EQ(r.interactions, 2u);
  EXPECT_EQ(r.interaction_index_entries, 4u);
  EXPECT_GT(r.service_index_entries, 141u);
}

TEST_F(IntegrityTest, NamesEveryKindOfDisagreement) {
  const uint64_t active = Create("a", 1000, false);
  const uint64_t completed = Create("b", 2000, true);
  const uint64_t gone = Create("c", 3000, false);
  Interaction x;
  x.customer_id = "C1";
  x.time_ms = 7000;
  auto appended = store_->Append("t", {x});
  ASSERT_TRUE(appended.ok());
  const uint64_t interaction = (*appended)[0].interaction_id;
  Tamper([&](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& cf) {
    const rocksdb::WriteOptions w;
    // A missing started entry; a stray completed entry; a record removed under its entries;
    // a record that does not decode; a missing interaction index entry.
    EXPECT_TRUE(db->Delete(w, cf[2], IndexKey(IndexPrefix("t", IndexKind::kStarted,
                                                          OwnerKind::kAnonymous, "a"),
                                              1000, active)).ok());
    EXPECT_TRUE(db->Put(w, cf[2], IndexKey(IndexPrefix("t", IndexKind::kCompleted,
                                                       OwnerKind::kAnonymous, "z"),
                                           9000, 424242), "x").ok());
    EXPECT_TRUE(db->Delete(w, cf[1], ServiceKey("t", gone)).ok());
    EXPECT_TRUE(db->Put(w, cf[1], ServiceKey("t", completed), "garbage").ok());
    EXPECT_TRUE(db->Delete(w, cf[4], IndexKey(InteractionIndexPrefix("t", InteractionKey::kCustomer,
                                                                     "C1"),
                                              7000, interaction)).ok());
  });
  IntegrityReport r = Check();
  EXPECT_GE(r.problem_count, 5u);
  EXPECT_TRUE(Mentions(r, "service " + std::to_string(active) + ": index entry")) << r.problems[0];
  EXPECT_TRUE(Mentions(r, "(service 424242)"));
  EXPECT_TRUE(Mentions(r, "lists service " + std::to_string(gone)));  // its active record
  EXPECT_TRUE(Mentions(r, "service " + std::to_string(completed) + ": record does not decode"));
  EXPECT_TRUE(Mentions(r, "interaction " + std::to_string(interaction) + ": index entry"));
}

}  // namespace
}  // namespace contextd::storage
