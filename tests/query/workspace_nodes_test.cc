// Two Workspaces over one store, as two contextd nodes are: users, sessions, routing, agents'
// operations and notifications agree across them (storage/workspace_store.h: numbered changes
// per tenant). On both backends: RocksDB shares one store object, Redis two stores on one
// cluster and key prefix.

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "query/workspace.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

struct Note {
  std::string user;
  std::string type;
  std::string state;
  std::string id;
  int64_t reference_id;
};

class Notes : public WorkspaceListener {
 public:
  void Deliver(const std::string&, const std::string& user, WorkNotification n) override {
    std::lock_guard<std::mutex> lock(mu_);
    got_.push_back({user, n.notification_type, n.view.item.state, n.view.item.id, n.reference_id});
  }
  std::vector<Note> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(got_, {});
  }

 private:
  std::mutex mu_;
  std::vector<Note> got_;
};

class WorkspaceNodesTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    store_a_ = testing::OpenTestStore(GetParam(), dir_.path());
    // Redis: a second store on the same records, a second node; RocksDB: the same store.
    if (GetParam() == testing::Backend::kRedis) {
      store_b_ = testing::OpenTestStore(GetParam(), dir_.path());
    }
    storage::Store* b = store_b_ ? store_b_.get() : store_a_.get();
    history_a_ = std::make_unique<History>(store_a_.get());
    history_b_ = std::make_unique<History>(b);
    a_ = std::make_unique<Workspace>(store_a_.get(), history_a_.get(), WorkspaceOptions{60000, 1});
    b_ = std::make_unique<Workspace>(b, history_b_.get(), WorkspaceOptions{60000, 1});
    a_->SetListener(&notes_a_);
    b_->SetListener(&notes_b_);
  }

  void Ready(Workspace& ws, const Session& s) {
    ASSERT_TRUE(ws.StartContactCenterSession(s, {"email"}, 0).ok());
    ASSERT_TRUE(ws.SetChannelReady(s, "email", true, 0).ok());
  }

  std::string Create(Workspace& ws) {
    NewInteraction n;
    n.mediatype = "email";
    auto v = ws.CreateInteraction("t", n, 1000);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->item.id : "";
  }

  absl::Status Op(Workspace& ws, const Session& s, const std::string& id, std::string name) {
    Operation op;
    op.name = std::move(name);
    return ws.Operate(s, id, op, 2000);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_a_, store_b_;
  std::unique_ptr<History> history_a_, history_b_;
  std::unique_ptr<Workspace> a_, b_;
  Notes notes_a_, notes_b_;
};

INSTANTIATE_TEST_SUITE_P(Backends, WorkspaceNodesTest, ::testing::ValuesIn(testing::kBackends),
                         testing::BackendParamName<::testing::TestParamInfo<testing::Backend>>);

TEST_P(WorkspaceNodesTest, UsersAndSessionsOfOneNodeServeOnTheOther) {
  ASSERT_TRUE(a_->CreateUser("t", {"alice", "pw", "", "", "", {kRoleAgent}}).ok());
  EXPECT_EQ(b_->CreateUser("t", {"alice", "x", "", "", "", {kRoleAgent}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto users = b_->Users("t");
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);
  auto session = a_->SignIn("t", "alice", "pw", 0);
  ASSERT_TRUE(session.ok());
  auto resumed = b_->Resume(session->id, 1000);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->user_name, "alice");
  EXPECT_EQ(resumed->csrf_token, session->csrf_token);
  // Used on b for longer than the idle time: a keeps it alive too (b wrote it back).
  for (int64_t t = 30000; t <= 150000; t += 30000) ASSERT_TRUE(b_->Resume(session->id, t).ok());
  EXPECT_TRUE(a_->Resume(session->id, 160000).ok());
  EXPECT_FALSE(a_->Resume(session->id, 160000 + 60001).ok());
  EXPECT_FALSE(b_->Resume("no-such-session", 0).ok());
}

TEST_P(WorkspaceNodesTest, AnItemCreatedOnOneNodeIsOfferedToAnAgentReadyOnTheOther) {
  ASSERT_TRUE(a_->CreateUser("t", {"alice", "pw", "", "", "", {kRoleAgent}}).ok());
  const Session alice = *a_->SignIn("t", "alice", "pw", 0);
  Ready(*a_, alice);
  const std::string id = Create(*b_);
  // b routed it (it knows alice is Ready from a's change); a learns of it on its next poll.
  a_->Poll();
  std::vector<Note> got = notes_a_.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user, "alice");
  EXPECT_EQ(got[0].state, "Invited");
  EXPECT_EQ(got[0].id, id);
  // b delivered the same note to its own clients, with the same reference id.
  std::vector<Note> on_b = notes_b_.Take();
  ASSERT_EQ(on_b.size(), 1u);
  EXPECT_EQ(on_b[0].reference_id, got[0].reference_id);
  ASSERT_TRUE(Op(*b_, alice, id, "Accept").ok());
  a_->Poll();
  got = notes_a_.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].state, "Processing");
  EXPECT_GT(got[0].reference_id, on_b[0].reference_id);
}

// Two nodes racing: every item is offered to one agent once, and of two Accepts of one item
// (one on each node) exactly one wins.
TEST_P(WorkspaceNodesTest, RacingNodesOfferOnceAndOneAcceptWins) {
  for (const char* name : {"alice", "bob"}) {
    ASSERT_TRUE(a_->CreateUser("t", {name, "pw", "", "", "", {kRoleAgent}}).ok());
  }
  const Session alice = *a_->SignIn("t", "alice", "pw", 0);
  const Session bob = *b_->SignIn("t", "bob", "pw", 0);
  Ready(*a_, alice);
  Ready(*b_, bob);
  constexpr int kItems = 40;
  std::vector<std::string> ids_a, ids_b;
  std::thread ta([&] {
    for (int i = 0; i < kItems; ++i) ids_a.push_back(Create(*a_));
  });
  std::thread tb([&] {
    for (int i = 0; i < kItems; ++i) ids_b.push_back(Create(*b_));
  });
  ta.join();
  tb.join();
  a_->Poll();
  b_->Poll();
  // Each node saw every offer once (its own and the other's), one per item.
  for (Notes* notes : {&notes_a_, &notes_b_}) {
    std::map<std::string, int> offers;
    for (const Note& n : notes->Take()) {
      if (n.state == "Invited") ++offers[n.id];
    }
    ASSERT_EQ(offers.size(), size_t{2 * kItems});
    for (const auto& [id, count] : offers) EXPECT_EQ(count, 1) << id;
  }
  auto mine = a_->MyInteractions(alice);
  ASSERT_TRUE(mine.ok());
  ASSERT_FALSE(mine->empty());
  // Accepts of one Invited item from both nodes at once, as the same agent: one wins.
  int rounds = 0;
  for (const ItemView& v : *mine) {
    if (v.item.state != "Invited") continue;
    std::atomic<int> won{0}, lost{0};
    auto accept = [&](Workspace* ws) {
      absl::Status s = Op(*ws, alice, v.item.id, "Accept");
      (s.ok() ? won : lost).fetch_add(1);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
      }
    };
    std::thread x(accept, a_.get()), y(accept, b_.get());
    x.join();
    y.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), 1);
    ++rounds;
  }
  EXPECT_GT(rounds, 0);
}

}  // namespace
}  // namespace contextd::query
