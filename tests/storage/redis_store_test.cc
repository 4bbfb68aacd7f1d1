// What the Redis Cluster store promises beyond the store suites it shares with RocksDB
// (service_store_test, interaction_store_test): several nodes on one cluster, ids that carry
// their record's slot, the commit rule for entries in another slot, confirmed writes.
// Runs on the cluster ctest starts (tests/support/redis_cluster.sh).

#include "storage/redis_store.h"

#include <algorithm>
#include <thread>

#include "gtest/gtest.h"
#include "storage/keys.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

class RedisStoreTest : public ::testing::Test {
 protected:
  RedisStoreOptions Options() {
    RedisStoreOptions options;
    options.cluster.seeds = *ParseRedisNodes(testing::SharedClusterSeeds());
    options.key_prefix = dir_.path() + "/";
    return options;
  }

  // One more contextd node on the same records.
  std::unique_ptr<Store> Node(int wait_replicas = 1) {
    RedisStoreOptions options = Options();
    options.wait_replicas = wait_replicas;
    auto store = OpenRedisStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The documented key layout (redis_store.cc): an owner's slot and one of its index sets.
  uint16_t OwnerSlot(char kind, const std::string& tenant, const std::string& owner) {
    return RedisHashSlot(std::string(1, kind) + std::to_string(tenant.size()) + ":" + tenant +
                         owner);
  }
  std::string CustomerSet(IndexKind index, const std::string& customer) {
    return "{" + RedisSlotTag(OwnerSlot('c', "t", customer)) + "}" + dir_.path() + "/x" +
           IndexPrefix("t", index, OwnerKind::kCustomer, customer);
  }

  std::vector<uint64_t> Ids(Store& store, OwnerKind kind, const std::string& owner,
                            IndexKind index) {
    auto found = store.Scan({"t", kind, owner, index, {}, IndexScan::Status::kAny});
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<uint64_t> ids;
    if (found.ok()) {
      for (const Service& s : *found) ids.push_back(s.service_id);
    }
    return ids;
  }

  static Service Anonymous(std::string key, TimeMs started) {
    Service s;
    s.contact_key = std::move(key);
    s.started.timestamp_ms = started;
    return s;
  }

  testing::TempDir dir_;
};

TEST_F(RedisStoreTest, IdsCarryTheOwnersSlotAndFollowCreationOrderAcrossNodes) {
  auto a = Node(), b = Node();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    Store& node = i % 2 ? *b : *a;
    Service s = Anonymous("caller-" + std::to_string(i), 1000);
    auto created = node.Create("t", s);
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_EQ(created->service_id % kRedisSlots, OwnerSlot('k', "t", *s.contact_key));
    EXPECT_LE(created->service_id, kMaxId);
    ids.push_back(created->service_id);
    // Read your writes on the other node.
    EXPECT_TRUE((i % 2 ? *a : *b).Get("t", created->service_id).ok());
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

TEST_F(RedisStoreTest, ConcurrentUpdatesOnTwoNodesLoseNothing) {
  auto a = Node(), b = Node();
  auto created = a->Create("t", Anonymous("k", 1000));
  ASSERT_TRUE(created.ok());
  const uint64_t id = created->service_id;
  constexpr int kPerNode = 150;
  auto add_states = [&](Store* node) {
    for (int i = 0; i < kPerNode; ++i) {
      auto r = node->Update("t", id, [](Service& s) {
        State st;
        st.state_id = static_cast<int32_t>(s.states.size());
        s.states.push_back(st);
        return absl::OkStatus();
      });
      ASSERT_TRUE(r.ok()) << r.status();
    }
  };
  std::thread ta(add_states, a.get()), tb(add_states, b.get());
  ta.join();
  tb.join();
  auto got = a->Get("t", id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->states.size(), size_t{2 * kPerNode});
  for (size_t i = 0; i < got->states.size(); ++i) EXPECT_EQ(got->states[i].state_id, int32_t(i));
}

// An owner change writes the new owner's entries (another slot) before the record: a crash
// between the two leaves entries no record confirms. Readers must not list them.
TEST_F(RedisStoreTest, EntriesNoRecordConfirmsAreNotListed) {
  auto node = Node();
  auto created = node->Create("t", Anonymous("K", 1000));
  ASSERT_TRUE(created.ok());
  const uint64_t id = created->service_id;
  ASSERT_NE(OwnerSlot('c', "t", "C9"), OwnerSlot('k', "t", "K"));  // else nothing is foreign

  // The state such a crash leaves: C9's started and active sets name the service, whose
  // record still says it belongs to the caller K.
  const std::string entry = IndexKey("", 1000, id);
  auto client = RedisClusterClient::Connect(Options().cluster);
  ASSERT_TRUE(client.ok());
  const uint16_t slot = OwnerSlot('c', "t", "C9");
  auto replies = (*client)->Run(
      slot, {{"ZADD", CustomerSet(IndexKind::kStarted, "C9"), "0", entry + std::string(1, '\0')},
             {"ZADD", CustomerSet(IndexKind::kActive, "C9"), "0", entry}});
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ((*replies)[0].integer, 1);

  EXPECT_EQ(Ids(*node, OwnerKind::kCustomer, "C9", IndexKind::kActive), std::vector<uint64_t>{});
  EXPECT_EQ(Ids(*node, OwnerKind::kCustomer, "C9", IndexKind::kStarted), std::vector<uint64_t>{});
  EXPECT_EQ(Ids(*node, OwnerKind::kAnonymous, "K", IndexKind::kActive), std::vector<uint64_t>{id});

  // The owner change itself, completed: now the same entries are confirmed.
  ASSERT_TRUE(node->Update("t", id, [](Service& s) {
                    s.customer_id = "C9";
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(Ids(*node, OwnerKind::kCustomer, "C9", IndexKind::kActive), std::vector<uint64_t>{id});
  EXPECT_EQ(Ids(*node, OwnerKind::kAnonymous, "K", IndexKind::kActive), std::vector<uint64_t>{});
}

// Interactions of one batch live in the first record's slot; the others' keys point there.
TEST_F(RedisStoreTest, InteractionBatchAcrossOwnersIsFoundUnderEveryKey) {
  auto a = Node(), b = Node();
  Interaction x, y;
  x.customer_id = "alice";
  x.account_number = "acct-1";
  x.time_ms = 5;
  y.customer_id = "bob";
  y.contact_number = "+15550100";
  y.time_ms = 6;
  auto stored = a->Append("t", {x, y});
  ASSERT_TRUE(stored.ok()) << stored.status();
  for (auto [by, key, want] : {std::tuple{InteractionKey::kCustomer, "alice", (*stored)[0]},
                               std::tuple{InteractionKey::kAccount, "acct-1", (*stored)[0]},
                               std::tuple{InteractionKey::kCustomer, "bob", (*stored)[1]},
                               std::tuple{InteractionKey::kContact, "+15550100", (*stored)[1]}}) {
    auto found = b->ScanInteractions({"t", by, key, {}, 10, nullptr});
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_EQ(found->size(), 1u) << key;
    EXPECT_EQ((*found)[0], want);
  }
}

// A write the replicas do not confirm is in doubt: Unavailable, never a silent success.
TEST_F(RedisStoreTest, UnconfirmedWriteIsUnavailable) {
  auto node = Node(/*wait_replicas=*/2);  // the cluster has one replica per master
  auto created = node->Create("t", Anonymous("k", 1000));
  ASSERT_EQ(created.status().code(), absl::StatusCode::kUnavailable) << created.status();
  EXPECT_NE(created.status().message().find("in doubt"), std::string_view::npos);
  EXPECT_EQ(node->PutTenant({"x", 1}).code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisStoreTest, CheckFindsAMissingEntryAndCountsUnconfirmedOnesApart) {
  auto node = Node();
  Service s = Anonymous("K", 1000);
  s.customer_id = "C1";
  auto created = node->Create("t", s);
  ASSERT_TRUE(created.ok());
  Interaction x;
  x.customer_id = "C1";
  x.account_number = "A1";
  x.time_ms = 7;
  ASSERT_TRUE(node->Append("t", {x}).ok());
  auto report = node->CheckIntegrity();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->problem_count, 0u) << report->problems[0];
  EXPECT_EQ(report->services, 1u);
  EXPECT_EQ(report->interactions, 1u);
  EXPECT_EQ(report->service_index_entries, 2u);  // started, active
  EXPECT_EQ(report->interaction_index_entries, 2u);

  auto client = RedisClusterClient::Connect(Options().cluster);
  ASSERT_TRUE(client.ok());
  // An entry no record confirms, in another slot than the record's: debris, not a problem.
  const uint16_t c9 = OwnerSlot('c', "t", "C9");
  ASSERT_NE(c9, OwnerSlot('c', "t", "C1"));
  ASSERT_TRUE((*client)->Run(c9, {{"ZADD", CustomerSet(IndexKind::kActive, "C9"), "0",
                                    IndexKey("", 1000, created->service_id)}}).ok());
  report = node->CheckIntegrity();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->problem_count, 0u);
  ASSERT_FALSE(report->problems.empty());
  EXPECT_NE(report->problems[0].find("1 index entries"), std::string::npos) << report->problems[0];
  // The record's own active entry gone: a problem.
  const uint16_t c1 = OwnerSlot('c', "t", "C1");
  ASSERT_TRUE((*client)->Run(c1, {{"ZREM", CustomerSet(IndexKind::kActive, "C1"),
                                    IndexKey("", 1000, created->service_id)}}).ok());
  report = node->CheckIntegrity();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->problem_count, 1u);
  EXPECT_NE(report->problems[0].find("is missing from an index"), std::string::npos);
}

TEST_F(RedisStoreTest, KeyPrefixesKeepDeploymentsApart) {
  auto node = Node();
  ASSERT_TRUE(node->PutTenant({"acme", 1}).ok());
  testing::TempDir other_dir;
  RedisStoreOptions options = Options();
  options.key_prefix = other_dir.path() + "/";
  auto other = OpenRedisStore(options);
  ASSERT_TRUE(other.ok());
  auto tenants = (*other)->ListTenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_TRUE(tenants->empty());
  EXPECT_EQ(node->ListTenants()->size(), 1u);
}

}  // namespace
}  // namespace contextd::storage
