#include "query/history.h"

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

using storage::Interaction;
using storage::InteractionKey;

Interaction Record(std::string customer, storage::TimeMs time_ms, std::string channel = "voice",
                   std::string campaign = "") {
  Interaction x;
  x.customer_id = std::move(customer);
  x.time_ms = time_ms;
  x.channel = std::move(channel);
  x.campaign = std::move(campaign);
  return x;
}

class HistoryTest : public ::testing::Test {
 protected:
  std::vector<storage::TimeMs> Times(HistoryQuery q) {
    q.tenant = tenant_;
    auto found = history_.Query(q);
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<storage::TimeMs> times;
    if (found.ok()) {
      for (const Interaction& x : *found) times.push_back(x.time_ms);
    }
    return times;
  }

  const std::string tenant_ = "t";
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_ = testing::OpenTestStore(dir_.path());
  History history_{store_.get()};
};

using TimesV = std::vector<storage::TimeMs>;

TEST_F(HistoryTest, RecordWithoutAnyKeyFailsAndWritesNothing) {
  Interaction keyless = Record("", 5);
  auto r = history_.Record("t", {Record("c", 1), keyless});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(r.status().message()).find("record 2:"), std::string::npos);
  HistoryQuery q;
  q.key = "c";
  EXPECT_EQ(Times(q), TimesV{});
}

TEST_F(HistoryTest, DirectoryFillsMissingKeysOnly) {
  ASSERT_TRUE(history_.SetCustomerKeys("t", "c", {"acct", "555"}).ok());
  Interaction own = Record("c", 2);
  own.contact_number = "777";
  ASSERT_TRUE(history_.Record("t", {Record("c", 1), own, Record("other", 3)}).ok());
  HistoryQuery q;
  q.by = InteractionKey::kAccount;
  q.key = "acct";
  EXPECT_EQ(Times(q), (TimesV{2, 1}));
  q.by = InteractionKey::kContact;
  q.key = "555";
  EXPECT_EQ(Times(q), (TimesV{1}));
  q.key = "777";
  EXPECT_EQ(Times(q), (TimesV{2}));
  EXPECT_EQ(history_.GetCustomerKeys("t", "other").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(HistoryTest, FiltersApplyBeforeTheLimit) {
  std::vector<Interaction> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(Record("c", i, i % 2 ? "sms" : "voice", i < 5 ? "early" : "late"));
  }
  ASSERT_TRUE(history_.Record("t", records).ok());
  HistoryQuery q;
  q.key = "c";
  q.channels = {"voice"};
  q.limit = 2;
  EXPECT_EQ(Times(q), (TimesV{8, 6}));
  q.campaign = "early";
  EXPECT_EQ(Times(q), (TimesV{4, 2}));
  q.channels = {"sms", "voice"};
  q.limit = 100;
  q.range = {2, 4};
  EXPECT_EQ(Times(q), (TimesV{3, 2}));
  q.campaign = "nope";
  EXPECT_EQ(Times(q), TimesV{});
}

}  // namespace
}  // namespace contextd::query
