#include <algorithm>
#include <thread>

#include "gtest/gtest.h"
#include "storage/codec.h"
#include "storage/rocksdb_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

Interaction Record(std::string customer, TimeMs time_ms, std::string account = "",
                   std::string contact = "") {
  Interaction x;
  x.customer_id = std::move(customer);
  x.account_number = std::move(account);
  x.contact_number = std::move(contact);
  x.time_ms = time_ms;
  x.channel = "voice";
  return x;
}

// The interaction store's contract (interaction_store.h), run against every backend.
class InteractionStoreTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { store_ = testing::OpenTestStore(GetParam(), dir_.path()); }

  std::vector<uint64_t> Append(std::vector<Interaction> records, std::string tenant = "t") {
    auto stored = store_->Append(tenant, std::move(records));
    EXPECT_TRUE(stored.ok()) << stored.status();
    std::vector<uint64_t> ids;
    if (stored.ok()) {
      for (const Interaction& x : *stored) ids.push_back(x.interaction_id);
    }
    return ids;
  }

  std::vector<TimeMs> Times(InteractionKey by, std::string key, TimeRange range = {},
                            size_t limit = 1000, std::string tenant = "t") {
    auto found =
        store_->ScanInteractions({std::move(tenant), by, std::move(key), range, limit, nullptr});
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<TimeMs> times;
    if (found.ok()) {
      for (const Interaction& x : *found) times.push_back(x.time_ms);
    }
    return times;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

using TimesV = std::vector<TimeMs>;

INSTANTIATE_TEST_SUITE_P(Backends, InteractionStoreTest, ::testing::ValuesIn(testing::kBackends),
                         testing::BackendParamName<::testing::TestParamInfo<testing::Backend>>);

TEST_P(InteractionStoreTest, CodecRoundTripsEveryField) {
  Interaction x = Record("c", -5, "1|2|3|0|0|4|1", "5550142");
  x.interaction_id = 77;
  x.direction = "Outbound";
  x.campaign = "Renewals";
  x.action_name = "MI";
  x.action_issue = "Sales";
  x.action_group = "Handsets";
  x.outcome = "Accepted";
  x.outcome_id = -4;
  x.behaviour = "Positive";
  x.agent = "agent7";
  x.agent_comment = "call after 5";
  x.lead_score_before = "10";
  x.lead_score_after = "25";
  x.mode_id = 3;
  x.mode = "Mobile";
  x.target_value = "0";
  x.external_id = "S-13805";
  x.pega_interaction_id = "-7714067498846096636";
  x.negotiation_actions = {"a", "b"};
  x.attributes = {{"Rank", Value::Int(1)}, {"Propensity", Value::Double(0.5)}};
  const std::string bytes = EncodeInteraction(x);
  auto back = DecodeInteraction(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, x);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeInteraction(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss)
        << n;
  }
}

TEST_P(InteractionStoreTest, EachKeyListsItsRecordsNewestFirst) {
  Append({Record("c1", 100, "acct", "555"), Record("c1", 300), Record("c2", 200, "acct")});
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c1"), (TimesV{300, 100}));
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c2"), (TimesV{200}));
  EXPECT_EQ(Times(InteractionKey::kAccount, "acct"), (TimesV{200, 100}));
  EXPECT_EQ(Times(InteractionKey::kContact, "555"), (TimesV{100}));
  EXPECT_EQ(Times(InteractionKey::kContact, "55"), (TimesV{}));  // no prefix matches
  EXPECT_EQ(Times(InteractionKey::kCustomer, ""), (TimesV{}));
}

TEST_P(InteractionStoreTest, WindowIsHalfOpenAndLimitKeepsTheNewest) {
  std::vector<Interaction> records;
  for (TimeMs t : {-10, 0, 10, 20, 30}) records.push_back(Record("c", t));
  Append(records);
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c", {0, 30}), (TimesV{20, 10, 0}));
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c", {-10, 1}), (TimesV{0, -10}));
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c", {30, 30}), (TimesV{}));
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c", {}, 2), (TimesV{30, 20}));
}

TEST_P(InteractionStoreTest, EqualTimesOrderByIdNewestFirst) {
  std::vector<uint64_t> ids = Append({Record("c", 5), Record("c", 5), Record("c", 5)});
  auto found = store_->ScanInteractions({"t", InteractionKey::kCustomer, "c", {}, 10, nullptr});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ((*found)[0].interaction_id, ids[2]);
  EXPECT_EQ((*found)[2].interaction_id, ids[0]);
}

TEST_P(InteractionStoreTest, TenantsAreSeparate) {
  Append({Record("c", 1)}, "a");
  Append({Record("c", 2)}, "b");
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c", {}, 10, "a"), (TimesV{1}));
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c", {}, 10, "b"), (TimesV{2}));
  ASSERT_TRUE(store_->PutCustomerKeys("a", "c", {"acct", "555"}).ok());
  auto other = store_->GetCustomerKeys("b", "c");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST_P(InteractionStoreTest, IdsStayUniqueAcrossRestartsAndConcurrentAppends) {
  std::vector<uint64_t> all = Append({Record("c", 1), Record("c", 2)});
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> per_thread(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 50; ++n) {
        auto stored = store_->Append("t", {Record("c", n), Record("d", n)});
        if (stored.ok()) {
          for (const Interaction& x : *stored) per_thread[i].push_back(x.interaction_id);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& ids : per_thread) all.insert(all.end(), ids.begin(), ids.end());
  store_.reset();
  store_ = testing::OpenTestStore(GetParam(), dir_.path());
  std::vector<uint64_t> after = Append({Record("c", 3)});
  all.insert(all.end(), after.begin(), after.end());
  EXPECT_EQ(all.size(), 2u + 4 * 50 * 2 + 1);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  EXPECT_EQ(Times(InteractionKey::kCustomer, "c").size(), 2u + 4 * 50 + 1);
  EXPECT_EQ(Times(InteractionKey::kCustomer, "d").size(), 4u * 50);
}

TEST_P(InteractionStoreTest, CustomerKeysRoundTripAndReplace) {
  auto none = store_->GetCustomerKeys("t", "c");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->PutCustomerKeys("t", "c", {"acct", "555"}).ok());
  ASSERT_TRUE(store_->PutCustomerKeys("t", "c", {"acct2", ""}).ok());
  auto got = store_->GetCustomerKeys("t", "c");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, (CustomerKeys{"acct2", ""}));
}

}  // namespace
}  // namespace contextd::storage
