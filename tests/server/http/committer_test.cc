#include "server/http/committer.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace contextd::server {
namespace {

TEST(CommitterTest, DeliversInOrderAndSharesOneSyncPerBatch) {
  std::atomic<int> syncs{0};
  std::atomic<bool> release{false};
  Committer committer([&] {
    ++syncs;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return absl::OkStatus();
  });
  std::vector<int> delivered;
  std::mutex mu;
  auto item = [&](int i, bool needs_sync) {
    return Committer::Item{needs_sync, [&, i](const absl::Status& s) {
                             EXPECT_TRUE(s.ok());
                             std::lock_guard<std::mutex> lock(mu);
                             delivered.push_back(i);
                           }};
  };
  committer.Enqueue(item(0, true));  // its sync blocks until released
  while (syncs.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int i = 1; i <= 50; ++i) committer.Enqueue(item(i, i % 2 == 0));
  release = true;
  committer.Close();
  EXPECT_EQ(syncs.load(), 2);  // one for item 0, one shared by the 50 queued behind it
  EXPECT_EQ(committer.syncs(), 2u);
  ASSERT_EQ(delivered.size(), 51u);
  for (int i = 0; i <= 50; ++i) EXPECT_EQ(delivered[static_cast<size_t>(i)], i);
}

TEST(CommitterTest, ItemsWithoutWritesNeedNoSync) {
  int syncs = 0;
  Committer committer([&] {
    ++syncs;
    return absl::OkStatus();
  });
  int delivered = 0;
  committer.Enqueue({false, [&](const absl::Status&) { ++delivered; }});
  committer.Close();
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(syncs, 0);
}

TEST(CommitterTest, ASyncFailureReachesEveryItemItCovered) {
  Committer committer([] { return absl::UnavailableError("disk gone"); });
  absl::Status seen;
  committer.Enqueue({true, [&](const absl::Status& s) { seen = s; }});
  committer.Close();
  EXPECT_EQ(seen.code(), absl::StatusCode::kUnavailable);
}

TEST(CommitterTest, AfterCloseItemsAreSyncedAndDeliveredInline) {
  int syncs = 0;
  Committer committer([&] {
    ++syncs;
    return absl::OkStatus();
  });
  committer.Close();
  bool delivered = false;
  committer.Enqueue({true, [&](const absl::Status& s) { delivered = s.ok(); }});
  EXPECT_TRUE(delivered);
  EXPECT_EQ(syncs, 1);
}

}  // namespace
}  // namespace contextd::server
