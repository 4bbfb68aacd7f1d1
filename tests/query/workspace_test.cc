#include "query/workspace.h"

#include <thread>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

struct Recorded {
  std::string user;
  std::string type;
  std::string state;
  std::string id;
};

class Recorder : public WorkspaceListener {
 public:
  void Deliver(const std::string&, const std::string& user, WorkNotification n) override {
    std::lock_guard<std::mutex> lock(mu);
    got.push_back({user, n.notification_type, n.view.item.state, n.view.item.id});
  }
  std::vector<Recorded> Take() {
    std::lock_guard<std::mutex> lock(mu);
    return std::exchange(got, {});
  }
  std::mutex mu;
  std::vector<Recorded> got;
};

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_.SetListener(&recorder_);
    for (const char* name : {"alice", "bob"}) {
      ASSERT_TRUE(workspace_.CreateUser("t", {name, "pw", "", "", "", {kRoleAgent}}).ok());
    }
    ASSERT_TRUE(workspace_.CreateUser("t", {"admin", "pw", "", "", "", {kRoleAdmin}}).ok());
    alice_ = *workspace_.SignIn("t", "alice", "pw", 0);
    bob_ = *workspace_.SignIn("t", "bob", "pw", 0);
  }

  void Ready(const Session& s) {
    ASSERT_TRUE(workspace_.StartContactCenterSession(s, {"email"}, 0).ok());
    ASSERT_TRUE(workspace_.SetChannelReady(s, "email", true, 0).ok());
  }

  std::string Create(storage::Fields data = {}, std::string composing = "") {
    NewInteraction n;
    n.mediatype = "email";
    n.queue = "q";
    n.user_data = std::move(data);
    n.composing_agent = std::move(composing);
    auto v = workspace_.CreateInteraction("t", n, 1000);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? v->item.id : "";
  }

  absl::Status Op(const Session& s, const std::string& id, std::string name) {
    Operation op;
    op.name = std::move(name);
    op.queue_name = "other";
    op.workbin = "later";
    op.target_user = s.user_name == "alice" ? "bob" : "alice";
    op.user_data = {{"k", storage::Value::String("v")}};
    return workspace_.Operate(s, id, op, 2000);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_ = testing::OpenTestStore(dir_.path());
  History history_{store_.get()};
  Workspace workspace_{store_.get(), &history_, WorkspaceOptions{60000, 1000}};
  Recorder recorder_;
  Session alice_, bob_;
};

TEST_F(WorkspaceTest, SignInChecksPasswordAndSessionsExpire) {
  EXPECT_EQ(workspace_.SignIn("t", "alice", "nope", 0).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(workspace_.SignIn("t", "carol", "pw", 0).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(workspace_.SignIn("other", "alice", "pw", 0).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(workspace_.Resume(alice_.id, 59999).ok());
  EXPECT_TRUE(workspace_.Resume(alice_.id, 119998).ok());  // idle time restarted
  EXPECT_EQ(workspace_.Resume(alice_.id, 179998).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(workspace_.CreateUser("t", {"alice", "x", "", "", "", {kRoleAgent}}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(WorkspaceTest, QueuedUntilReadyThenOfferedToTheLeastBusy) {
  const std::string first = Create();
  EXPECT_TRUE(recorder_.Take().empty());
  Ready(alice_);
  auto got = recorder_.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user, "alice");
  EXPECT_EQ(got[0].state, "Invited");
  Ready(bob_);
  const std::string second = Create();
  got = recorder_.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].user, "bob");  // alice has one already
  // Reject: alice's copy completes, the item goes to bob (alice is not offered it again).
  ASSERT_TRUE(Op(alice_, first, "Reject").ok());
  got = recorder_.Take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].user, "alice");
  EXPECT_EQ(got[0].state, "Completed");
  EXPECT_EQ(got[1].user, "bob");
  EXPECT_EQ(got[1].state, "Invited");
  EXPECT_EQ(got[1].id, first);
}

// Every operation in every state the agent can see: allowed ones succeed, refused ones fail
// with FailedPrecondition and change nothing.
TEST_F(WorkspaceTest, EveryOperationInEveryState) {
  Ready(alice_);
  Ready(bob_);
  const std::vector<std::string> ops = {"Accept",
                                        "Reject",
                                        "Cancel",
                                        "Complete",
                                        "PlaceInQueue",
                                        "UpdateUserData",
                                        "AttachUserData",
                                        "DeleteUserData",
                                        "PlaceInWorkbin",
                                        "GetWorkbinContent",
                                        "SingleStepTransfer",
                                        "Transfer"};
  // Brings a fresh item owned by alice into `state`.
  auto make = [&](const std::string& state) {
    if (state == "Composing") return Create({}, "alice");
    // bob is busier, so alice gets the offer.
    std::string id = Create();
    auto view = workspace_.GetInteraction(alice_, id);
    if (!view.ok()) {  // offered to bob: hand it over
      EXPECT_TRUE(Op(bob_, id, "Accept").ok());
      EXPECT_TRUE(Op(bob_, id, "Transfer").ok());
    }
    if (state != "Invited") {
      EXPECT_TRUE(Op(alice_, id, "Accept").ok());
    }
    if (state == "InWorkbin") {
      EXPECT_TRUE(Op(alice_, id, "PlaceInWorkbin").ok());
    }
    return id;
  };
  for (const std::string state : {"Invited", "Processing", "InWorkbin", "Composing"}) {
    const std::vector<std::string> allowed = Workspace::CapabilitiesOf(state);
    for (const std::string& op : ops) {
      SCOPED_TRACE(state + " " + op);
      const std::string id = make(state);
      auto before = workspace_.GetInteraction(alice_, id);
      ASSERT_TRUE(before.ok());
      ASSERT_EQ(before->item.state, state);
      absl::Status s = Op(alice_, id, op);
      const bool ok = std::find(allowed.begin(), allowed.end(),
                                op == "Transfer" ? "SingleStepTransfer" : op) != allowed.end();
      if (ok) {
        EXPECT_TRUE(s.ok()) << s;
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
        auto after = workspace_.GetInteraction(alice_, id);
        ASSERT_TRUE(after.ok());
        EXPECT_EQ(after->item, before->item);
      }
    }
  }
  // Not visible to the agent (bob's, or gone once completed): NotFound.
  const std::string id = make("Processing");
  EXPECT_EQ(Op(bob_, id, "Accept").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Op(alice_, id, "Complete").ok());
  EXPECT_EQ(Op(alice_, id, "Complete").code(), absl::StatusCode::kNotFound);
}

TEST_F(WorkspaceTest, CompleteWritesHistoryAndItemsSurviveARestart) {
  Ready(alice_);
  const std::string id = Create(
      {{"CustomerID", storage::Value::String("C-1")}, {"Outcome", storage::Value::String("Sold")}});
  ASSERT_TRUE(Op(alice_, id, "Accept").ok());
  const std::string waiting = Create();  // offered to alice too
  ASSERT_TRUE(Op(alice_, id, "Complete").ok());
  HistoryQuery q;
  q.tenant = "t";
  q.key = "C-1";
  auto found = history_.Query(q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].outcome, "Sold");
  EXPECT_EQ((*found)[0].agent, "alice");
  EXPECT_EQ((*found)[0].channel, "email");
  EXPECT_EQ((*found)[0].external_id, id);

  Workspace reloaded(store_.get(), &history_);
  ASSERT_TRUE(reloaded.Load().ok());
  auto items = reloaded.ActiveInteractions("t");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].item.id, waiting);
  EXPECT_EQ(items[0].item.state, "Queued");  // offers do not survive a restart
  EXPECT_TRUE(reloaded.SignIn("t", "alice", "pw", 0).ok());
}

TEST_F(WorkspaceTest, ConcurrentOperationsHaveOneWinner) {
  Ready(alice_);
  const std::string id = Create();
  Session again = *workspace_.SignIn("t", "alice", "pw", 0);  // a second desktop
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (const Session* s : {&alice_, &again, &alice_, &again}) {
    threads.emplace_back([&, s] { wins += Op(*s, id, "Accept").ok(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
}

}  // namespace
}  // namespace contextd::query
