#include "storage/keys.h"

#include <limits>

#include "gtest/gtest.h"

namespace contextd::storage {
namespace {

TEST(KeysTest, IndexKeysSortByTimeThenId) {
  const std::string prefix = IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C1");
  // Each key must sort strictly before the next.
  const std::vector<std::pair<TimeMs, uint64_t>> ordered = {
      {std::numeric_limits<TimeMs>::min(), 1},
      {-1000, 5},
      {-1, 1},
      {0, 0},
      {0, 1},
      {1, 0},
      {1700000000000, 2},
      {1700000000000, 3},
      {1700000000001, 1},
      {std::numeric_limits<TimeMs>::max(), 1},
  };
  for (size_t i = 1; i < ordered.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_LT(IndexKey(prefix, ordered[i - 1].first, ordered[i - 1].second),
              IndexKey(prefix, ordered[i].first, ordered[i].second));
  }
}

TEST(KeysTest, BoundsBracketTheWindow) {
  const std::string p = IndexPrefix("", IndexKind::kActive, OwnerKind::kAnonymous, "408");
  EXPECT_LE(IndexBound(p, 100), IndexKey(p, 100, 0));             // from is inclusive
  EXPECT_GE(IndexBound(p, 101), IndexKey(p, 100, ~uint64_t{0}));  // to is exclusive
}

TEST(KeysTest, OwnersAndTenantsNeverShareKeys) {
  // Length prefixes keep "C1" + something from colliding with "C12".
  const std::string a = IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C1");
  const std::string b = IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C12");
  EXPECT_NE(IndexKey(b, 0, 0).substr(0, a.size()), a);
  EXPECT_NE(IndexPrefix("t1", IndexKind::kStarted, OwnerKind::kCustomer, "C"),
            IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "1C"));
  EXPECT_NE(IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C"),
            IndexPrefix("t", IndexKind::kStarted, OwnerKind::kAnonymous, "C"));
  EXPECT_NE(ServiceKey("a", 1), ServiceKey("b", 1));
}

TEST(KeysTest, ParseInvertsIndexKey) {
  const std::string p = IndexPrefix("t", IndexKind::kCompleted, OwnerKind::kCustomer, "C");
  for (TimeMs t :
       {std::numeric_limits<TimeMs>::min(), TimeMs{-7}, TimeMs{0}, TimeMs{1700000000123}}) {
    TimeMs got_t;
    uint64_t got_id;
    ASSERT_TRUE(ParseIndexKey(IndexKey(p, t, 42), p.size(), &got_t, &got_id));
    EXPECT_EQ(got_t, t);
    EXPECT_EQ(got_id, 42u);
  }
  TimeMs t;
  uint64_t id;
  EXPECT_FALSE(ParseIndexKey("short", p.size(), &t, &id));
}

}  // namespace
}  // namespace contextd::storage
