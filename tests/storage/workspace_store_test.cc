// The Workspace seam's contract (workspace_store.h), run against every backend: numbered
// changes per tenant committed by compare-and-set on the head, the journal ReadWorkspace
// replays, the snapshot LoadWorkspace reads, sessions. The Redis half also checks that a commit
// the client sends again (after a connection failure) is applied once.

#include "storage/workspace_store.h"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "storage/codec.h"
#include "storage/redis_cluster_client.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

// The callers' clock in the session tests.
constexpr TimeMs kNow = 1767225600000;

using Journal = std::vector<std::pair<uint64_t, WorkspaceChange>>;

User MakeUser(std::string name, std::string first_name = "Ada") {
  User u;
  u.user_name = std::move(name);
  u.first_name = std::move(first_name);
  u.roles = {"ROLE_AGENT"};
  u.password_salt = std::string("\0s\xff", 3);
  u.hash_iterations = 1000;
  return u;
}

WorkItem MakeItem(std::string id, std::string state, std::string owner = "") {
  WorkItem w;
  w.id = std::move(id);
  w.mediatype = "email";
  w.state = std::move(state);
  w.queue = "Sales";
  w.owner = std::move(owner);
  w.received_ms = 1700000000000;
  w.user_data = {{"Subject", Value::String("Gr\u00fc\u00dfe")}};
  return w;
}

AgentState MakeAgent(std::string name, std::vector<std::pair<std::string, bool>> channels) {
  AgentState a;
  a.user_name = std::move(name);
  a.channels = std::move(channels);
  a.ready_since_ms = 1700000000100;
  return a;
}

// A change that adds one user (its first name tells changes apart).
WorkspaceChange UserChange(const std::string& name, const std::string& first_name) {
  WorkspaceChange c;
  c.users = {MakeUser(name, first_name)};
  return c;
}

class WorkspaceStoreTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { Open(); }

  // Opens the store again on the same records (a restart).
  void Open() {
    store_.reset();
    store_ = testing::OpenTestStore(GetParam(), dir_.path());
  }

  // Another node on the same records: Redis, a second store on the cluster; RocksDB, whose
  // directory one process holds, the same store.
  Store* OtherNode() {
    if (GetParam() == testing::Backend::kRocksDb) return store_.get();
    if (!other_) other_ = testing::OpenTestStore(GetParam(), dir_.path());
    return other_.get();
  }

  uint64_t Commit(const std::string& tenant, uint64_t expected, const WorkspaceChange& c) {
    absl::StatusOr<uint64_t> head = store_->CommitWorkspace(tenant, expected, c);
    EXPECT_TRUE(head.ok()) << head.status();
    return head.value_or(0);
  }

  WorkspaceSnapshot Load(const std::string& tenant) {
    absl::StatusOr<WorkspaceSnapshot> snapshot = store_->LoadWorkspace(tenant);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? *std::move(snapshot) : WorkspaceSnapshot();
  }

  Journal Read(const std::string& tenant, uint64_t after) {
    absl::StatusOr<Journal> changes = store_->ReadWorkspace(tenant, after);
    EXPECT_TRUE(changes.ok()) << changes.status();
    return changes.ok() ? *std::move(changes) : Journal();
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Store> other_;
};

INSTANTIATE_TEST_SUITE_P(Backends, WorkspaceStoreTest, ::testing::ValuesIn(testing::kBackends),
                         testing::BackendParamName<::testing::TestParamInfo<testing::Backend>>);

TEST_P(WorkspaceStoreTest, CommitThenLoadReturnsTheRecords) {
  WorkspaceChange c;
  c.users = {MakeUser("bob"), MakeUser("alice"), MakeUser("Jos\u00e9")};
  c.items = {MakeItem("0002", "Queued"), MakeItem("0001", "Processing", "alice")};
  c.agents = {MakeAgent("alice", {{"email", true}, {"chat", false}})};
  c.notes = {{"alice", "StatusChange", c.items[1], "", {}}};
  ASSERT_EQ(Commit("t", 0, c), 1u);

  WorkspaceSnapshot s = Load("t");
  EXPECT_EQ(s.head, 1u);
  // In the order of their keys: length-prefixed names, so shorter ones first.
  EXPECT_EQ(s.users,
            (std::vector<User>{MakeUser("bob"), MakeUser("Jos\u00e9"), MakeUser("alice")}));
  EXPECT_EQ(s.items, (std::vector<WorkItem>{c.items[1], c.items[0]}));
  EXPECT_EQ(s.agents, c.agents);
  EXPECT_EQ(Read("t", 0), (Journal{{1, c}}));
  // Another tenant's Workspace is apart.
  WorkspaceSnapshot other = Load("u");
  EXPECT_EQ(other.head, 0u);
  EXPECT_TRUE(other.users.empty() && other.items.empty() && other.agents.empty());
  // Another node sees the same.
  absl::StatusOr<WorkspaceSnapshot> seen = OtherNode()->LoadWorkspace("t");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->head, 1u);
  EXPECT_EQ(seen->users, s.users);

  absl::StatusOr<IntegrityReport> report = store_->CheckIntegrity();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->problem_count, 0u) << report->problems[0];
  EXPECT_GT(report->other_records, 0u);

  // A restart keeps users and items; RocksDB keeps head, journal and agents in memory only.
  Open();
  s = Load("t");
  EXPECT_EQ(s.users.size(), 3u);
  EXPECT_EQ(s.items.size(), 2u);
  if (GetParam() == testing::Backend::kRocksDb) {
    EXPECT_EQ(s.head, 0u);
    EXPECT_TRUE(s.agents.empty());
  } else {
    EXPECT_EQ(s.head, 1u);
    EXPECT_EQ(s.agents, c.agents);
    EXPECT_EQ(Read("t", 0), (Journal{{1, c}}));
  }
}

TEST_P(WorkspaceStoreTest, HeadsNumberEachTenantsChanges) {
  EXPECT_EQ(store_->WorkspaceHead("t").value_or(99), 0u);
  EXPECT_EQ(Commit("t", 0, UserChange("a", "1")), 1u);
  EXPECT_EQ(Commit("t", 1, UserChange("a", "2")), 2u);
  EXPECT_EQ(Commit("", 0, UserChange("a", "x")), 1u);  // the default tenant counts apart
  EXPECT_EQ(Commit("t", 2, UserChange("b", "3")), 3u);
  EXPECT_EQ(store_->WorkspaceHead("t").value_or(99), 3u);
  EXPECT_EQ(store_->WorkspaceHead("").value_or(99), 1u);
  EXPECT_EQ(store_->WorkspaceHead("other").value_or(99), 0u);
  EXPECT_EQ(OtherNode()->WorkspaceHead("t").value_or(99), 3u);
  EXPECT_EQ(Load("t").users, (std::vector<User>{MakeUser("a", "2"), MakeUser("b", "3")}));
}

TEST_P(WorkspaceStoreTest, StaleHeadIsAbortedAndWritesNothing) {
  WorkspaceChange first = UserChange("a", "first");
  ASSERT_EQ(Commit("t", 0, first), 1u);
  WorkspaceChange late;
  late.users = {MakeUser("a", "late"), MakeUser("b")};
  late.items = {MakeItem("0001", "Queued")};
  late.agents = {MakeAgent("a", {{"voice", true}})};
  for (uint64_t expected : {0, 2, 7}) {
    SCOPED_TRACE(expected);
    EXPECT_EQ(store_->CommitWorkspace("t", expected, late).status().code(),
              absl::StatusCode::kAborted);
  }
  EXPECT_EQ(store_->WorkspaceHead("t").value_or(99), 1u);
  WorkspaceSnapshot s = Load("t");
  EXPECT_EQ(s.head, 1u);
  EXPECT_EQ(s.users, first.users);
  EXPECT_TRUE(s.items.empty());
  EXPECT_TRUE(s.agents.empty());
  EXPECT_EQ(Read("t", 0), (Journal{{1, first}}));
  EXPECT_EQ(Commit("t", 1, late), 2u);  // on top of the head it is taken
}

TEST_P(WorkspaceStoreTest, ReadWorkspaceReturnsTheChangesAfterInOrder) {
  std::vector<WorkspaceChange> changes;
  for (int i = 0; i < 5; ++i) {
    WorkspaceChange c = UserChange("u" + std::to_string(i % 2), std::to_string(i));
    c.items = {MakeItem("i" + std::to_string(i), i % 2 ? "Completed" : "Queued")};
    c.notes = {{"u0", "StatusChange", c.items[0], "", {}}};
    changes.push_back(c);
    ASSERT_EQ(Commit("t", i, c), uint64_t(i + 1));
  }
  for (uint64_t after = 0; after <= 5; ++after) {
    SCOPED_TRACE(after);
    Journal want;
    for (uint64_t n = after + 1; n <= 5; ++n) want.emplace_back(n, changes[n - 1]);
    EXPECT_EQ(Read("t", after), want);
    absl::StatusOr<Journal> other = OtherNode()->ReadWorkspace("t", after);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(*other, want);
  }
  // Past the head: this node saw changes the store does not have.
  EXPECT_EQ(store_->ReadWorkspace("t", 6).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ReadWorkspace("other", 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(Read("other", 0).empty());
}

TEST_P(WorkspaceStoreTest, ReadWorkspaceIsOutOfRangePastTheKeptChanges) {
  constexpr uint64_t kCommits = kKeptWorkspaceChanges + 4;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t head = 0; head < kCommits; ++head) {
    WorkspaceChange c = UserChange("a", std::to_string(head));
    c.agents = {MakeAgent("a", {{"voice", head % 2 == 0}})};
    absl::StatusOr<uint64_t> next = store_->CommitWorkspace("t", head, c);
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_EQ(*next, head + 1);
  }
  std::printf("%llu commits in %lld ms\n", static_cast<unsigned long long>(kCommits),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
  // The last kKeptWorkspaceChanges are kept: 5..4100, everything after 4.
  Journal kept = Read("t", 4);
  ASSERT_EQ(kept.size(), kKeptWorkspaceChanges);
  EXPECT_EQ(kept.front().first, 5u);
  EXPECT_EQ(kept.back().first, kCommits);
  EXPECT_EQ(kept.back().second.agents[0].channels[0].second, kCommits % 2 == 1);
  for (uint64_t after : {0, 1, 3}) {
    SCOPED_TRACE(after);
    EXPECT_EQ(store_->ReadWorkspace("t", after).status().code(), absl::StatusCode::kOutOfRange);
  }
  EXPECT_EQ(Read("t", kCommits - 1).size(), 1u);
  EXPECT_EQ(Load("t").users, UserChange("a", std::to_string(kCommits - 1)).users);
}

TEST_P(WorkspaceStoreTest, LoadListsActiveItemsAndListWorkItemsAll) {
  ASSERT_TRUE(store_->PutTenant({"t", 1}).ok());  // ListWorkItems lists the tenants' items
  WorkspaceChange c;
  c.items = {MakeItem("q", "Queued"), MakeItem("p", "Processing", "a"),
             MakeItem("w", "InWorkbin", "a"), MakeItem("d", "Completed", "a"),
             MakeItem("x", "Canceled")};
  ASSERT_EQ(Commit("t", 0, c), 1u);
  auto ids = [](const std::vector<WorkItem>& items) {
    std::vector<std::string> out;
    for (const WorkItem& w : items) out.push_back(w.id);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids(Load("t").items), (std::vector<std::string>{"p", "q", "w"}));

  WorkspaceChange done;
  done.items = {MakeItem("p", "Completed", "a")};
  ASSERT_EQ(Commit("t", 1, done), 2u);
  EXPECT_EQ(ids(Load("t").items), (std::vector<std::string>{"q", "w"}));

  absl::StatusOr<std::vector<std::pair<std::string, WorkItem>>> all = store_->ListWorkItems();
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> listed;
  for (const auto& [tenant, item] : *all) {
    EXPECT_EQ(tenant, "t");
    listed.push_back(item.id);
  }
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<std::string>{"d", "p", "q", "w", "x"}));

  WorkspaceChange users;
  users.users = {MakeUser("b"), MakeUser("a")};
  ASSERT_EQ(Commit("t", 2, users), 3u);
  ASSERT_EQ(Commit("", 0, UserChange("z", "default")), 1u);
  absl::StatusOr<std::vector<std::pair<std::string, User>>> listed_users = store_->ListUsers();
  ASSERT_TRUE(listed_users.ok()) << listed_users.status();
  EXPECT_EQ(*listed_users,
            (std::vector<std::pair<std::string, User>>{
                {"", MakeUser("z", "default")}, {"t", MakeUser("a")}, {"t", MakeUser("b")}}));
}

TEST_P(WorkspaceStoreTest, AnAgentWithNoChannelsIsRemoved) {
  WorkspaceChange start;
  start.agents = {MakeAgent("a", {{"voice", false}}), MakeAgent("b", {{"email", true}})};
  ASSERT_EQ(Commit("t", 0, start), 1u);
  WorkspaceChange ready;
  ready.agents = {MakeAgent("a", {{"voice", true}, {"chat", true}})};
  ASSERT_EQ(Commit("t", 1, ready), 2u);
  EXPECT_EQ(Load("t").agents, (std::vector<AgentState>{ready.agents[0], start.agents[1]}));

  WorkspaceChange end;
  end.agents = {MakeAgent("a", {})};
  ASSERT_EQ(Commit("t", 2, end), 3u);
  EXPECT_EQ(Load("t").agents, (std::vector<AgentState>{start.agents[1]}));
  // The journal keeps the ended agent as the change said it.
  EXPECT_EQ(Read("t", 2), (Journal{{3, end}}));
}

TEST_P(WorkspaceStoreTest, SessionsArePutReplacedAndReadOnEveryNode) {
  absl::StatusOr<std::optional<StoredSession>> none = store_->GetSession("nope");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  const TimeMs later = kNow + 3600 * 1000;  // by the callers' clock
  StoredSession s;
  s.id = "7c0f\u00e9-session";
  s.tenant = "t";
  s.user_name = "alice";
  s.csrf_token = "csrf-1";
  s.agent = true;
  s.expires_ms = later;
  s.password_hash = std::string(32, '\x9c');
  ASSERT_TRUE(store_->PutSession(s, kNow).ok());
  StoredSession other = s;
  other.id = "second";
  other.user_name = "bob";
  ASSERT_TRUE(store_->PutSession(other, kNow).ok());

  absl::StatusOr<std::optional<StoredSession>> got = OtherNode()->GetSession(s.id);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, s);

  StoredSession replaced = s;
  replaced.csrf_token = "csrf-2";
  replaced.admin = true;
  replaced.expires_ms = later + 1000;
  ASSERT_TRUE(OtherNode()->PutSession(replaced, kNow).ok());
  got = store_->GetSession(s.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, replaced);
  got = store_->GetSession("second");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, other);
}

// Two nodes commit on the same head at once, 200 times: each time exactly one wins, and the
// journal holds the winners' changes in order.
TEST_P(WorkspaceStoreTest, ConcurrentCommitsOnOneHeadHaveExactlyOneWinner) {
  constexpr uint64_t kRounds = 200;
  Store* nodes[2] = {store_.get(), OtherNode()};
  std::vector<int> winner(kRounds, -1);
  std::vector<int> wins(kRounds, 0);
  std::vector<std::string> errors;
  std::mutex mu;
  std::barrier sync(2);
  auto run = [&](int node) {
    for (uint64_t round = 0; round < kRounds; ++round) {
      WorkspaceChange c;
      c.items = {MakeItem("contested", "Processing", "agent" + std::to_string(node))};
      sync.arrive_and_wait();
      absl::StatusOr<uint64_t> head = nodes[node]->CommitWorkspace("t", round, c);
      std::lock_guard<std::mutex> lock(mu);
      if (head.ok() && *head == round + 1) {
        ++wins[round];
        winner[round] = node;
      } else if (!absl::IsAborted(head.status())) {
        errors.push_back(head.ok() ? "head " + std::to_string(*head) : head.status().ToString());
      }
    }
  };
  std::thread a(run, 0), b(run, 1);
  a.join();
  b.join();
  ASSERT_TRUE(errors.empty()) << errors[0];
  for (uint64_t round = 0; round < kRounds; ++round) {
    ASSERT_EQ(wins[round], 1) << "round " << round;
  }
  EXPECT_EQ(store_->WorkspaceHead("t").value_or(0), kRounds);
  Journal journal = Read("t", 0);
  ASSERT_EQ(journal.size(), kRounds);
  for (uint64_t round = 0; round < kRounds; ++round) {
    EXPECT_EQ(journal[round].first, round + 1);
    EXPECT_EQ(journal[round].second.items[0].owner, "agent" + std::to_string(winner[round]));
  }
  const WorkspaceSnapshot last = Load("t");
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0].owner, "agent" + std::to_string(winner[kRounds - 1]));
}

// What only the Redis backend promises: a commit the client sends again is applied once.
class RedisWorkspaceTest : public WorkspaceStoreTest {
 protected:
  // The documented key layout (redis_store.cc): a part of a tenant's Workspace.
  std::string Key(const std::string& tenant, char part) {
    return "{" + RedisSlotTag(Slot(tenant)) + "}" + dir_.path() + "/W" + std::string(1, part) +
           tenant;
  }
  static uint16_t Slot(const std::string& tenant) {
    return RedisHashSlot("w" + std::to_string(tenant.size()) + ":" + tenant);
  }
  // A client of the cluster, to reach the keys behind the store's back.
  static absl::StatusOr<std::unique_ptr<RedisClusterClient>> Client() {
    RedisClusterOptions options;
    options.seeds = *ParseRedisNodes(testing::SharedClusterSeeds());
    return RedisClusterClient::Connect(options);
  }
  // ctx_ws_commit as CommitWorkspace calls it.
  RedisCommand Call(const std::string& tenant, uint64_t expected, const std::string& token,
                    const WorkspaceChange& c) {
    RedisCommand call = {"FCALL",
                         "ctx_ws_commit",
                         "5",
                         Key(tenant, 'h'),
                         Key(tenant, 'j'),
                         Key(tenant, 'u'),
                         Key(tenant, 'i'),
                         Key(tenant, 'a'),
                         std::to_string(expected),
                         token,
                         EncodeWorkspaceChange(c),
                         "4096"};
    for (const User& u : c.users) {
      call.insert(call.end(), {"3", u.user_name, EncodeUser(u)});
    }
    return call;
  }
};

INSTANTIATE_TEST_SUITE_P(RedisOnly, RedisWorkspaceTest, ::testing::Values(testing::Backend::kRedis),
                         testing::BackendParamName<::testing::TestParamInfo<testing::Backend>>);

TEST_P(RedisWorkspaceTest, ACommitSentAgainIsAppliedOnce) {
  auto client = Client();
  ASSERT_TRUE(client.ok()) << client.status();
  const WorkspaceChange mine = UserChange("a", "mine");
  const RedisCommand call = Call("t", 0, std::string("\x01tok\x00en\xff", 8), mine);
  auto run = [&](const RedisCommand& command) {
    auto replies = (*client)->Run(Slot("t"), {command});
    EXPECT_TRUE(replies.ok()) << replies.status();
    if (!replies.ok()) return -2LL;
    EXPECT_EQ((*replies)[0].type, RedisReply::Type::kInteger) << (*replies)[0].str;
    return (*replies)[0].integer;
  };
  EXPECT_EQ(run(call), 1);
  EXPECT_EQ(run(call), 1);  // sent again: the same head, nothing written again
  EXPECT_EQ(store_->WorkspaceHead("t").value_or(0), 1u);
  EXPECT_EQ(Read("t", 0), (Journal{{1, mine}}));

  // Sent again after another node's change came on top: still its own number.
  const WorkspaceChange theirs = UserChange("a", "theirs");
  ASSERT_EQ(Commit("t", 1, theirs), 2u);
  EXPECT_EQ(run(call), 1);
  EXPECT_EQ(Read("t", 0), (Journal{{1, mine}, {2, theirs}}));
  EXPECT_EQ(Load("t").users, theirs.users);

  // Another commit on the same stale head (another token) loses.
  EXPECT_EQ(run(Call("t", 0, std::string("\x02tok\x00en\xff", 8), mine)), -1);
  EXPECT_EQ(run(Call("t", 1, std::string("\x01tok\x00en\xfe", 8), mine)), -1);
  auto hlen = (*client)->Run(Slot("t"), {{"HLEN", Key("t", 'j')}});
  ASSERT_TRUE(hlen.ok());
  EXPECT_EQ((*hlen)[0].integer, 2);
}

// The journal holds the last kKeptWorkspaceChanges changes, no more.
TEST_P(RedisWorkspaceTest, TheJournalDropsOlderChanges) {
  for (uint64_t head = 0; head < kKeptWorkspaceChanges + 2; ++head) {
    ASSERT_EQ(Commit("t", head, UserChange("a", std::to_string(head))), head + 1);
  }
  auto client = Client();
  ASSERT_TRUE(client.ok()) << client.status();
  auto replies = (*client)->Run(
      Slot("t"),
      {{"HLEN", Key("t", 'j')}, {"HEXISTS", Key("t", 'j'), "2"}, {"HEXISTS", Key("t", 'j'), "3"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].integer, static_cast<long long>(kKeptWorkspaceChanges));
  EXPECT_EQ((*replies)[1].integer, 0);
  EXPECT_EQ((*replies)[2].integer, 1);
}

// A session's key expires a minute after the session (garbage collection only).
TEST_P(RedisWorkspaceTest, ASessionLongExpiredIsGone) {
  StoredSession s;
  s.id = "old";
  s.expires_ms = kNow - kSessionGraceMs - 1;  // expired more than a minute ago
  ASSERT_TRUE(store_->PutSession(s, kNow).ok());
  auto got = store_->GetSession("old");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
}

}  // namespace
}  // namespace contextd::storage
