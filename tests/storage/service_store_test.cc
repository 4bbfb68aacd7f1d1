#include "storage/rocksdb_store.h"

#include <algorithm>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

// The service store's contract (service_store.h), run against every backend.
class ServiceStoreTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { Open(); }

  // Opens the store again on the same records (a restart).
  void Open() {
    store_.reset();
    store_ = testing::OpenTestStore(GetParam(), dir_.path());
  }

  Service Anonymous(std::string key, TimeMs started) {
    Service s;
    s.contact_key = std::move(key);
    s.started.timestamp_ms = started;
    return s;
  }

  uint64_t Create(Service s, std::string tenant = "t") {
    auto created = store_->Create(tenant, std::move(s));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->service_id : 0;
  }

  std::vector<uint64_t> ScanIds(OwnerKind kind, std::string owner, IndexKind index,
                                TimeRange range = {},
                                IndexScan::Status status = IndexScan::Status::kAny,
                                std::string tenant = "t") {
    IndexScan scan{std::move(tenant), kind, std::move(owner), index, range, status};
    auto found = store_->Scan(scan);
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<uint64_t> ids;
    if (found.ok()) {
      for (const Service& s : *found) ids.push_back(s.service_id);
    }
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

using Ids = std::vector<uint64_t>;

INSTANTIATE_TEST_SUITE_P(Backends, ServiceStoreTest, ::testing::ValuesIn(testing::kBackends),
                         testing::BackendParamName<::testing::TestParamInfo<testing::Backend>>);

// What only the embedded backend promises: its directory lock, ids counted from 1 per tenant.
class RocksDbStoreTest : public ServiceStoreTest {};
INSTANTIATE_TEST_SUITE_P(RocksDbOnly, RocksDbStoreTest,
                         ::testing::Values(testing::Backend::kRocksDb),
                         testing::BackendParamName<::testing::TestParamInfo<testing::Backend>>);

TEST_P(ServiceStoreTest, CreateAssignsIncreasingIdsAndGetReadsBack) {
  uint64_t a = Create(Anonymous("k", 1000));
  uint64_t b = Create(Anonymous("k", 2000));
  EXPECT_GT(a, 0u);
  EXPECT_GT(b, a);
  auto got = store_->Get("t", b);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->contact_key, "k");
  EXPECT_EQ(got->started.timestamp_ms, 2000);
  EXPECT_EQ(store_->Get("t", 999).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(ServiceStoreTest, IndexesFollowTheRecordThroughItsLifecycle) {
  uint64_t id = Create(Anonymous("408", 1000));
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "408", IndexKind::kActive), Ids{id});
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "408", IndexKind::kStarted), Ids{id});
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "408", IndexKind::kCompleted), Ids{});

  // Associating moves every entry from the contact key to the customer at once.
  ASSERT_TRUE(store_
                  ->Update("t", id,
                           [](Service& s) {
                             s.customer_id = "C1";
                             return absl::OkStatus();
                           })
                  .ok());
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "408", IndexKind::kActive), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "408", IndexKind::kStarted), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kActive), Ids{id});

  // Completing swaps the active entry for a completed one.
  ASSERT_TRUE(store_
                  ->Update("t", id,
                           [](Service& s) {
                             s.completed = Event{5000, {}};
                             return absl::OkStatus();
                           })
                  .ok());
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kActive), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kCompleted, {5000, 5001}), Ids{id});
  EXPECT_EQ(
      ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kStarted, {}, IndexScan::Status::kActive),
      Ids{});
  EXPECT_EQ(
      ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kStarted, {}, IndexScan::Status::kCompleted),
      Ids{id});

  // Reassociating moves it out of the first customer's history.
  ASSERT_TRUE(store_
                  ->Update("t", id,
                           [](Service& s) {
                             s.customer_id = "C2";
                             return absl::OkStatus();
                           })
                  .ok());
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kCompleted), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C2", IndexKind::kCompleted), Ids{id});

  ASSERT_TRUE(store_->Delete("t", id).ok());
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C2", IndexKind::kCompleted), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C2", IndexKind::kStarted), Ids{});
  EXPECT_EQ(store_->Get("t", id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("t", id).code(), absl::StatusCode::kNotFound);
}

TEST_P(ServiceStoreTest, FailedMutationWritesNothing) {
  uint64_t id = Create(Anonymous("k", 1000));
  auto r = store_->Update("t", id, [](Service& s) {
    s.customer_id = "C1";
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(store_->Get("t", id)->customer_id.has_value());
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive), Ids{id});
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "C1", IndexKind::kActive), Ids{});
}

TEST_P(ServiceStoreTest, ScanReadsHalfOpenWindowNewestFirst) {
  uint64_t a = Create(Anonymous("k", 1000));
  uint64_t b = Create(Anonymous("k", 2000));
  uint64_t c = Create(Anonymous("k", 2000));
  uint64_t d = Create(Anonymous("k", 3000));
  Create(Anonymous("k2", 2000));  // another owner, never seen
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kStarted), (Ids{d, c, b, a}));
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kStarted, {2000, 3000}), (Ids{c, b}));
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kStarted, {1001, 2000}), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kStarted, {3000, 3000}), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kStarted, {3000, 2000}), Ids{});
}

TEST_P(ServiceStoreTest, TenantsAreIsolated) {
  uint64_t id = Create(Anonymous("k", 1000), "t");
  EXPECT_EQ(store_->Get("other", id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive, {}, IndexScan::Status::kAny, "other"),
      Ids{});
  EXPECT_EQ(store_->Delete("other", id).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get("t", id).ok());
}

// Each tenant counts its own ids: a tenant's ids say nothing of other tenants' writes. Both
// sequences survive a restart, the default tenant's under its original key.
TEST_P(RocksDbStoreTest, EachTenantHasItsOwnIdSequence) {
  const uint64_t first_t = Create(Anonymous("k", 1000), "t");
  for (int i = 0; i < 5; ++i) Create(Anonymous("k", 1000), "t");
  const uint64_t first_other = Create(Anonymous("k", 1000), "other");
  const uint64_t first_default = Create(Anonymous("k", 1000), "");
  EXPECT_EQ(first_other, first_t);
  EXPECT_EQ(first_default, first_t);
  const uint64_t last_t = Create(Anonymous("k", 1000), "t");
  Open();
  EXPECT_GT(Create(Anonymous("k", 1000), "t"), last_t);
  EXPECT_GT(Create(Anonymous("k", 1000), "other"), first_other);
  EXPECT_GT(Create(Anonymous("k", 1000), ""), first_default);
  auto report = store_->CheckIntegrity();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->problem_count, 0u) << (report->problems.empty() ? "" : report->problems[0]);
}

TEST_P(ServiceStoreTest, RestartKeepsRecordsIndexesAndNeverReusesIds) {
  uint64_t a = Create(Anonymous("k", 1000));
  uint64_t b = Create(Anonymous("k", 2000));
  ASSERT_TRUE(store_->Delete("t", b).ok());  // the highest id is gone before the restart
  Open();
  EXPECT_TRUE(store_->Get("t", a).ok());
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive), Ids{a});
  uint64_t c = Create(Anonymous("k", 3000));
  EXPECT_GT(c, b);
}

TEST_P(RocksDbStoreTest, SecondOpenOfADirectoryIsUnavailable) {
  RocksDbOptions options;
  options.path = dir_.path();
  EXPECT_EQ(OpenRocksDbStore(options).status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(ServiceStoreTest, ConcurrentUpdatesOfOneServiceLoseNothing) {
  uint64_t id = Create(Anonymous("k", 1000));
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store_->Update("t", id, [](Service& s) {
          State st;
          st.state_id = static_cast<int32_t>(s.states.size());
          s.states.push_back(st);
          return absl::OkStatus();
        });
        ASSERT_TRUE(r.ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto got = store_->Get("t", id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->states.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < got->states.size(); ++i) EXPECT_EQ(got->states[i].state_id, int32_t(i));
}

TEST_P(ServiceStoreTest, ActiveRecordStaysExactUnderConcurrentOwnerChanges) {
  // 4 x 300 / 2 = 600 active services: more than the active record holds (overflow keys).
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::vector<uint64_t>> still_active(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto created = store_->Create("t", Anonymous("k", 1000 + i));
        ASSERT_TRUE(created.ok());
        if (i % 2 == 0) {
          still_active[t].push_back(created->service_id);
          continue;
        }
        ASSERT_TRUE(store_
                        ->Update("t", created->service_id,
                                 [](Service& s) {
                                   s.completed = Event{s.started.timestamp_ms, {}};
                                   return absl::OkStatus();
                                 })
                        .ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint64_t> want;
  for (const auto& ids : still_active) want.insert(want.end(), ids.begin(), ids.end());
  std::vector<uint64_t> got = ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  // The active record honours time windows like every other index.
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive, {1000, 1001}).size(),
            size_t{kThreads});
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive, {1200, 1300}).size(),
            size_t{kThreads * 50});

  // Completing everything empties record and overflow alike; newest first throughout.
  std::vector<uint64_t> ordered = ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive);
  for (size_t i = 1; i < ordered.size(); ++i) {
    auto a = store_->Get("t", ordered[i - 1]), b = store_->Get("t", ordered[i]);
    ASSERT_GE(std::make_pair(a->started.timestamp_ms, a->service_id),
              std::make_pair(b->started.timestamp_ms, b->service_id));
  }
  for (uint64_t id : want) {
    ASSERT_TRUE(store_
                    ->Update("t", id,
                             [](Service& s) {
                               s.customer_id = "moved";
                               return absl::OkStatus();
                             })
                    .ok());
  }
  EXPECT_EQ(ScanIds(OwnerKind::kAnonymous, "k", IndexKind::kActive), Ids{});
  EXPECT_EQ(ScanIds(OwnerKind::kCustomer, "moved", IndexKind::kActive).size(), want.size());
}

}  // namespace
}  // namespace contextd::storage
