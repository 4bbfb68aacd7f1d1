// The Workspace's session table under load: sign-in upkeep touches a bounded number of
// sessions whatever the table's size, a user's sessions are capped, and credentials a session
// was started for find it again without a hash.

#include <string>

#include "gtest/gtest.h"
#include "query/workspace.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

constexpr int64_t kIdleMs = 60'000;

class WorkspaceSessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int u = 0; u < kUsers; ++u) {
      ASSERT_TRUE(workspace_.CreateUser("t", {Name(u), "pw", "", "", "", {kRoleAgent}}).ok());
    }
  }
  static std::string Name(int u) { return "agent" + std::to_string(u); }

  static constexpr int kUsers = 40;
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_ = testing::OpenTestStore(dir_.path());
  History history_{store_.get()};
  // One hash iteration: these tests make thousands of sessions.
  Workspace workspace_{store_.get(), &history_, WorkspaceOptions{kIdleMs, 1, 64}};
};

// Sessions looked at by one sign-in at `now_ms`.
uint64_t ExaminedBySignIn(Workspace& ws, const std::string& user, int64_t now_ms) {
  const uint64_t before = ws.session_stats().examined;
  EXPECT_TRUE(ws.SignIn("t", user, "pw", now_ms).ok());
  return ws.session_stats().examined - before;
}

TEST_F(WorkspaceSessionsTest, SignInUpkeepDoesNotGrowWithTheTable) {
  // 40 users x 50 live sessions.
  for (int i = 0; i < 50; ++i) {
    for (int u = 0; u < kUsers; ++u) ASSERT_TRUE(workspace_.SignIn("t", Name(u), "pw", i).ok());
  }
  ASSERT_EQ(workspace_.session_stats().live, 2000u);
  // A sign-in while none has expired: the one expiry it checks.
  EXPECT_LE(ExaminedBySignIn(workspace_, Name(0), 100), 2u);
  // All 2001 expired at once: one sign-in ends at most its bounded share...
  const int64_t later = 200 + kIdleMs;
  EXPECT_LE(ExaminedBySignIn(workspace_, Name(1), later), 65u);
  EXPECT_GE(workspace_.session_stats().live, 2001u - 64u);
  // ... and the next ones keep sweeping: the table shrinks back to the live sessions.
  for (int i = 0; i < 40; ++i) EXPECT_LE(ExaminedBySignIn(workspace_, Name(2), later + i), 65u);
  EXPECT_EQ(workspace_.session_stats().live, 41u);
}

TEST_F(WorkspaceSessionsTest, AUserKeepsAtMost64SessionsTheIdlestEnds) {
  std::vector<std::string> ids;
  for (int i = 0; i < 70; ++i) {
    absl::StatusOr<Session> s = workspace_.SignIn("t", Name(0), "pw", i);
    ASSERT_TRUE(s.ok());
    ids.push_back(s->id);
  }
  ASSERT_TRUE(workspace_.Resume(ids[6], 100).ok());  // used lately: kept over the next ones
  absl::StatusOr<Session> s71 = workspace_.SignIn("t", Name(0), "pw", 101);
  ASSERT_TRUE(s71.ok());
  EXPECT_EQ(workspace_.session_stats().live, 64u);
  for (int i = 0; i <= 6; ++i) {
    EXPECT_EQ(workspace_.Resume(ids[i], 102).ok(), i == 6) << i;  // 0..5 and 7 ended
  }
  EXPECT_FALSE(workspace_.Resume(ids[7], 102).ok());
  for (int i = 8; i < 70; ++i) EXPECT_TRUE(workspace_.Resume(ids[i], 102).ok()) << i;
  // Other users are not touched by it.
  EXPECT_TRUE(workspace_.SignIn("t", Name(1), "pw", 103).ok());
  EXPECT_EQ(workspace_.session_stats().live, 65u);
}

TEST_F(WorkspaceSessionsTest, RememberedCredentialsFindTheirSessionWithoutAHash) {
  EXPECT_EQ(workspace_.SignInRemembered("t", Name(0), "pw", 0).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<Session> s = workspace_.SignIn("t", Name(0), "pw", 0);
  ASSERT_TRUE(s.ok());
  absl::StatusOr<Session> again = workspace_.SignInRemembered("t", Name(0), "pw", 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, s->id);
  // Only the exact credentials, in the same tenant.
  EXPECT_FALSE(workspace_.SignInRemembered("t", Name(0), "pw2", 1000).ok());
  EXPECT_FALSE(workspace_.SignInRemembered("t", Name(0), "p", 1000).ok());
  EXPECT_FALSE(workspace_.SignInRemembered("u", Name(0), "pw", 1000).ok());
  EXPECT_FALSE(workspace_.SignInRemembered("t", Name(1), "pw", 1000).ok());
  // Its idle time restarted; once the session ended, the credentials are forgotten.
  EXPECT_TRUE(workspace_.SignInRemembered("t", Name(0), "pw", 1000 + kIdleMs - 1).ok());
  EXPECT_FALSE(workspace_.SignInRemembered("t", Name(0), "pw", 1000 + 2 * kIdleMs).ok());
  EXPECT_FALSE(workspace_.Resume(s->id, 1000 + 2 * kIdleMs).ok());
}

}  // namespace
}  // namespace contextd::query
