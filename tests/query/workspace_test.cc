#include "query/workspace.h"

#include <map>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "query/history_fields.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

struct Recorded {
  std::string user;
  std::string type;
  std::string state;
  std::string id;
  std::vector<std::string> capabilities;
  std::set<std::string> workbin_ids;  // WorkbinContent: the items listed
};

class Recorder : public WorkspaceListener {
 public:
  void Deliver(const std::string&, const std::string& user, WorkNotification n) override {
    std::lock_guard<std::mutex> lock(mu);
    std::set<std::string> workbin_ids;
    for (const ItemView& v : n.workbin_items) workbin_ids.insert(v.item.id);
    got.push_back({user, n.notification_type, n.view.item.state, n.view.item.id,
                   n.view.capabilities, std::move(workbin_ids)});
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

// The capabilities an interaction reports in each state, written out (the implementation's
// table is not consulted). Reference: dialects-api.md 1.5. Invited is documented. The state
// machine decided in 1.5 needs PlaceInQueue, PlaceInWorkbin and SingleStepTransfer in
// Processing, Cancel in Composing and a way out of InWorkbin; the rest is ours (1.4 accepts
// Transfer as SingleStepTransfer's other name, section 5.4; GetWorkbinContent is our design,
// 5.9). The 8.5.2 sample for Processing also lists SetInFocus, an operation 1.4 does not have:
// contextd neither lists nor accepts it. Queued items are no agent's; Completed and Canceled
// ones are gone: none has capabilities.
const std::map<std::string, std::vector<std::string>> kCapabilities = {
    {"Queued", {}},
    {"Invited", {"Accept", "Reject"}},
    {"Processing",
     {"Complete", "PlaceInQueue", "PlaceInWorkbin", "AttachUserData", "UpdateUserData",
      "DeleteUserData", "SingleStepTransfer", "Transfer", "GetWorkbinContent"}},
    {"InWorkbin", {"Accept", "GetWorkbinContent"}},
    {"Composing", {"Cancel", "AttachUserData", "UpdateUserData", "DeleteUserData"}},
    {"Completed", {}},
    {"Canceled", {}},
};

// One cell of the state x operation matrix: alice owns an item in `state` (its queue "q",
// userData {k: "orig"}, in workbin "later" when InWorkbin) and sends `op` with queueName
// "other", workbin "later", userId "bob" and userData {k: "v"}.
struct Cell {
  const char* state;
  const char* op;
  // Refused: "" (FailedPrecondition "<op> is not allowed in state <state>", statusCode 2 on the
  // wire per 1.4, nothing changes, nobody is told). Allowed: the notifications, as
  // "<user> <notificationType> <state>", in order.
  const char* told;
  // The item afterwards, as "<owner> <state> <queue> <workbin> k=<k>" ("-" for empty), or
  // "gone" once Completed or Canceled.
  const char* after;
};

constexpr char kRefused[] = "";

// Every operation of 1.4 (both transfer names) plus SetInFocus in every state an agent can
// hold. Rows from the 1.5 state machine: Invited Accept/Reject, Processing Complete/
// PlaceInQueue/PlaceInWorkbin/SingleStepTransfer, Composing Cancel ("Completed; then Invited
// for the next agent": bob is the other Ready agent). Reject and PlaceInQueue leave the
// rejecting agent's copy Completed (that it is not offered to that agent again is
// QueuedUntilReadyThenOfferedToTheLeastBusy's business).
const std::vector<Cell> kMatrix = {
    // clang-format off
    // state       operation             who is told, in order / the item afterwards
    {"Invited",    "Accept",             "alice StatusChange Processing",
                                         "alice Processing q - k=orig"},
    {"Invited",    "Reject",             "alice StatusChange Completed, bob StatusChange Invited",
                                         "bob Invited q - k=orig"},
    {"Invited",    "Cancel",             kRefused, ""},
    {"Invited",    "Complete",           kRefused, ""},
    {"Invited",    "PlaceInQueue",       kRefused, ""},
    {"Invited",    "UpdateUserData",     kRefused, ""},
    {"Invited",    "AttachUserData",     kRefused, ""},
    {"Invited",    "DeleteUserData",     kRefused, ""},
    {"Invited",    "PlaceInWorkbin",     kRefused, ""},
    {"Invited",    "GetWorkbinContent",  kRefused, ""},
    {"Invited",    "SingleStepTransfer", kRefused, ""},
    {"Invited",    "Transfer",           kRefused, ""},
    {"Invited",    "SetInFocus",         kRefused, ""},

    {"Processing", "Accept",             kRefused, ""},
    {"Processing", "Reject",             kRefused, ""},
    {"Processing", "Cancel",             kRefused, ""},
    {"Processing", "Complete",           "alice StatusChange Completed",
                                         "gone"},
    {"Processing", "PlaceInQueue",       "alice StatusChange Completed, bob StatusChange Invited",
                                         "bob Invited other - k=orig"},
    {"Processing", "UpdateUserData",     "alice PropertiesUpdated Processing",
                                         "alice Processing q - k=v"},
    {"Processing", "AttachUserData",     "alice PropertiesUpdated Processing",
                                         "alice Processing q - k=v"},
    {"Processing", "DeleteUserData",     "alice PropertiesUpdated Processing",
                                         "alice Processing q - k=-"},
    {"Processing", "PlaceInWorkbin",     "alice StatusChange InWorkbin",
                                         "alice InWorkbin q later k=orig"},
    {"Processing", "GetWorkbinContent",  "alice WorkbinContent Processing",
                                         "alice Processing q - k=orig"},
    {"Processing", "SingleStepTransfer", "alice StatusChange Completed, bob StatusChange Invited",
                                         "bob Invited q - k=orig"},
    {"Processing", "Transfer",           "alice StatusChange Completed, bob StatusChange Invited",
                                         "bob Invited q - k=orig"},
    {"Processing", "SetInFocus",         kRefused, ""},

    {"InWorkbin",  "Accept",             "alice StatusChange Processing",
                                         "alice Processing q - k=orig"},
    {"InWorkbin",  "Reject",             kRefused, ""},
    {"InWorkbin",  "Cancel",             kRefused, ""},
    {"InWorkbin",  "Complete",           kRefused, ""},
    {"InWorkbin",  "PlaceInQueue",       kRefused, ""},
    {"InWorkbin",  "UpdateUserData",     kRefused, ""},
    {"InWorkbin",  "AttachUserData",     kRefused, ""},
    {"InWorkbin",  "DeleteUserData",     kRefused, ""},
    {"InWorkbin",  "PlaceInWorkbin",     kRefused, ""},
    {"InWorkbin",  "GetWorkbinContent",  "alice WorkbinContent InWorkbin",
                                         "alice InWorkbin q later k=orig"},
    {"InWorkbin",  "SingleStepTransfer", kRefused, ""},
    {"InWorkbin",  "Transfer",           kRefused, ""},
    {"InWorkbin",  "SetInFocus",         kRefused, ""},

    {"Composing",  "Accept",             kRefused, ""},
    {"Composing",  "Reject",             kRefused, ""},
    {"Composing",  "Cancel",             "alice StatusChange Canceled",
                                         "gone"},
    {"Composing",  "Complete",           kRefused, ""},
    {"Composing",  "PlaceInQueue",       kRefused, ""},
    {"Composing",  "UpdateUserData",     "alice PropertiesUpdated Composing",
                                         "alice Composing q - k=v"},
    {"Composing",  "AttachUserData",     "alice PropertiesUpdated Composing",
                                         "alice Composing q - k=v"},
    {"Composing",  "DeleteUserData",     "alice PropertiesUpdated Composing",
                                         "alice Composing q - k=-"},
    {"Composing",  "PlaceInWorkbin",     kRefused, ""},
    {"Composing",  "GetWorkbinContent",  kRefused, ""},
    {"Composing",  "SingleStepTransfer", kRefused, ""},
    {"Composing",  "Transfer",           kRefused, ""},
    {"Composing",  "SetInFocus",         kRefused, ""},
    // clang-format on
};

std::string Describe(const storage::WorkItem& item) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  const storage::Value* k = storage::FindField(item.user_data, "k");
  return or_dash(item.owner) + " " + item.state + " " + or_dash(item.queue) + " " +
         or_dash(item.workbin) + " k=" + (k != nullptr ? k->ScalarText() : "-");
}

// Every cell of kMatrix, each on a fresh item; every view and notification carries exactly
// the capabilities of kCapabilities for its state.
TEST_F(WorkspaceTest, EveryOperationInEveryState) {
  Ready(alice_);
  Ready(bob_);
  const Session admin = *workspace_.SignIn("t", "admin", "pw", 0);
  auto capabilities_of = [](const std::string& state) {
    auto it = kCapabilities.find(state);
    return it == kCapabilities.end() ? std::vector<std::string>{"<unknown state>"} : it->second;
  };
  // A fresh item owned by alice in `state`.
  auto make = [&](const std::string& state) {
    const storage::Fields data = {{"k", storage::Value::String("orig")}};
    if (state == "Composing") return Create(data, "alice");
    std::string id = Create(data);
    if (!workspace_.GetInteraction(alice_, id).ok()) {  // offered to bob: he hands it over
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
  std::set<std::pair<std::string, std::string>> covered;
  for (const Cell& cell : kMatrix) {
    SCOPED_TRACE(std::string(cell.state) + " x " + cell.op);
    covered.emplace(cell.state, cell.op);
    const std::string id = make(cell.state);
    auto before = workspace_.GetInteraction(alice_, id);
    ASSERT_TRUE(before.ok()) << before.status();
    ASSERT_EQ(before->item.state, cell.state);
    EXPECT_EQ(before->capabilities, capabilities_of(cell.state));
    recorder_.Take();
    const absl::Status s = Op(alice_, id, cell.op);
    std::vector<Recorded> told = recorder_.Take();
    std::string told_text;
    for (const Recorded& r : told) {
      told_text += (told_text.empty() ? "" : ", ") + r.user + " " + r.type + " " + r.state;
      EXPECT_EQ(r.capabilities, capabilities_of(r.state)) << r.user << " told " << r.state;
      if (r.type == "WorkbinContent") {
        // The workbin lists the item exactly when it is in it.
        EXPECT_EQ(r.workbin_ids.count(id), cell.state == std::string("InWorkbin") ? 1u : 0u);
      }
    }
    auto after = workspace_.GetInteraction(admin, id);
    if (std::string(cell.told).empty()) {  // kRefused
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
      EXPECT_EQ(s.message(), std::string(cell.op) + " is not allowed in state " + cell.state);
      EXPECT_EQ(told_text, "");
      ASSERT_TRUE(after.ok()) << after.status();
      EXPECT_EQ(after->item, before->item);
      continue;
    }
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(told_text, cell.told);
    if (std::string(cell.after) == "gone") {
      EXPECT_EQ(after.status().code(), absl::StatusCode::kNotFound);
    } else {
      ASSERT_TRUE(after.ok()) << after.status();
      EXPECT_EQ(Describe(after->item), cell.after);
      EXPECT_EQ(after->capabilities, capabilities_of(after->item.state));
    }
  }
  // The matrix is whole: every state an agent can hold x every operation.
  EXPECT_EQ(covered.size(), 4u * 13u);

  // A queued item is nobody's: every operation is NotFound for an agent, and an admin sees it
  // without capabilities. Nobody is Ready for chat, so it stays queued.
  NewInteraction chat;
  chat.mediatype = "chat";
  const std::string queued = workspace_.CreateInteraction("t", chat, 1000)->item.id;
  auto view = workspace_.GetInteraction(admin, queued);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->item.state, "Queued");
  EXPECT_EQ(view->capabilities, capabilities_of("Queued"));
  for (const char* op : {"Accept", "Reject", "Complete", "Cancel"}) {
    const absl::Status s = Op(alice_, queued, op);
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << op;
    EXPECT_EQ(s.message(), "interaction " + queued + " not found");
  }
  // Another agent's item, or one gone once completed: NotFound.
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

  // A restart: the store closed and opened again (RocksDB keeps agents in memory only).
  store_.reset();
  std::unique_ptr<storage::Store> reopened = testing::OpenTestStore(dir_.path());
  History history(reopened.get());
  Workspace reloaded(reopened.get(), &history);
  ASSERT_TRUE(reloaded.Load().ok());
  auto listed = reloaded.ActiveInteractions("t");
  ASSERT_TRUE(listed.ok());
  const std::vector<ItemView>& items = *listed;
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].item.id, waiting);
  EXPECT_EQ(items[0].item.state, "Queued");  // offers do not survive a restart
  EXPECT_TRUE(reloaded.SignIn("t", "alice", "pw", 0).ok());
}

// The record takes every member the history field table names a userData key for (README
// lists them), a number only from an integer.
TEST_F(WorkspaceTest, CompleteRecordsTheUserDataKeysOfTheHistoryTable) {
  std::set<std::string> keys;
  storage::Fields data;
  for (const HistoryField& f : kHistoryFields) {
    if (*f.workspace == '\0') continue;
    keys.insert(f.workspace);
    data.emplace_back(f.workspace, f.text != nullptr ? storage::Value::String(f.native)
                                                     : storage::Value::Int(7));
  }
  EXPECT_EQ(keys, (std::set<std::string>{"CustomerID", "AccountNumber", "ContactNumber",
                                         "Outcome", "OutcomeId", "CampaignName",
                                         "AgentComment"}));
  Ready(alice_);
  const std::string id = Create(data);
  ASSERT_TRUE(Op(alice_, id, "Accept").ok());
  ASSERT_TRUE(Op(alice_, id, "Complete").ok());
  HistoryQuery q;
  q.tenant = "t";
  q.key = "customer_id";  // the CustomerID given above
  auto found = history_.Query(q);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  const storage::Interaction& x = (*found)[0];
  for (const HistoryField& f : kHistoryFields) {
    if (*f.workspace == '\0') continue;
    if (f.text != nullptr) {
      EXPECT_EQ(x.*(f.text), f.native) << f.workspace;
    }
    if (f.number != nullptr) {
      EXPECT_EQ(x.*(f.number), 7) << f.workspace;
    }
  }
  EXPECT_EQ(x.agent, "alice");
  EXPECT_EQ(x.external_id, id);
  EXPECT_EQ(x.direction, "Inbound");
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
