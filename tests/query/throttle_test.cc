#include "query/throttle.h"

#include "gtest/gtest.h"

namespace contextd::query {
namespace {

TEST(AuthThrottleTest, RefusesPastTheBudgetUntilTheWindowEnds) {
  AuthThrottle t(ThrottleOptions{5, 3, 60'000, 100});
  // Per name: 3 failures of "alice" from different addresses.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.RetryAfterMs("10.0.0." + std::to_string(i), "alice", 1000), 0);
    t.RecordFailure("10.0.0." + std::to_string(i), "alice", 1000 + i);
  }
  EXPECT_EQ(t.RetryAfterMs("10.0.0.9", "alice", 2000), 59'000);
  EXPECT_EQ(t.RetryAfterMs("10.0.0.9", "bob", 2000), 0);
  EXPECT_EQ(t.RetryAfterMs("10.0.0.9", "alice", 61'000), 0);  // the window ended
  // Per address: 5 failures over several names.
  for (int i = 0; i < 5; ++i) t.RecordFailure("10.0.0.7", "user" + std::to_string(i), 3000);
  EXPECT_EQ(t.RetryAfterMs("10.0.0.7", "zed", 3500), 59'500);
  EXPECT_EQ(t.RetryAfterMs("10.0.0.7", "", 3500), 59'500);
  EXPECT_EQ(t.RetryAfterMs("10.0.0.8", "zed", 3500), 0);
  EXPECT_EQ(t.failures(), 8u);
  EXPECT_EQ(t.throttled(), 3u);
}

TEST(AuthThrottleTest, ZeroBudgetNeverRefusesAndTheTableStaysBounded) {
  AuthThrottle off(ThrottleOptions{0, 0, 60'000, 100});
  for (int i = 0; i < 50; ++i) off.RecordFailure("a", "n", 0);
  EXPECT_EQ(off.RetryAfterMs("a", "n", 1), 0);
  // 1000 distinct sources in one window: only the newest 100 are tracked, the newest is.
  AuthThrottle t(ThrottleOptions{1, 1, 60'000, 100});
  for (int i = 0; i < 1000; ++i) t.RecordFailure("addr" + std::to_string(i), "", i);
  EXPECT_GT(t.RetryAfterMs("addr999", "", 1000), 0);
  EXPECT_EQ(t.RetryAfterMs("addr0", "", 1000), 0);
}

}  // namespace
}  // namespace contextd::query
