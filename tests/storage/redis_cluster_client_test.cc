// The cluster client (redis_cluster_client.h) against real Redis Cluster nodes: slot hashing,
// the slot map, MOVED and ASK, reconnects, pipelining, failover, the function library.

#include "storage/redis_cluster_client.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/support/redis_cluster.h"

namespace contextd::storage {
namespace {

using Commands = std::vector<RedisCommand>;

// Vectors measured with CLUSTER KEYSLOT on Redis 7.0.15 (reference notes, 5.1 and 7.10).
TEST(RedisKeySlotTest, MatchesTheServersHashAndHashTags) {
  EXPECT_EQ(RedisHashSlot("123456789"), 0x31C3 & 16383);  // the CRC's check value
  EXPECT_EQ(RedisKeySlot("foo"), 12182);
  EXPECT_EQ(RedisKeySlot("bar"), 5061);
  EXPECT_EQ(RedisKeySlot("{user1000}.following"), 3443);
  EXPECT_EQ(RedisKeySlot("user1000"), 3443);
  EXPECT_EQ(RedisKeySlot("foo{}{bar}"), 8363);     // an empty tag: the whole key
  EXPECT_EQ(RedisKeySlot("foo{{bar}}zap"), 4015);  // hashes "{bar"
  EXPECT_EQ(RedisKeySlot("foo{bar}{zap}"), 5061);  // the first tag only
  EXPECT_EQ(RedisKeySlot("{ctx:42}:doc:7"), 8170);
  EXPECT_EQ(RedisKeySlot(std::string("bin\0\xff{", 6)), 4723);
}

TEST(RedisKeySlotTest, EverySlotHasATagThatLandsInIt) {
  for (int slot = 0; slot < kRedisSlots; ++slot) {
    const std::string& tag = RedisSlotTag(static_cast<uint16_t>(slot));
    ASSERT_EQ(RedisKeySlot("{" + tag + "}anything"), slot) << tag;
  }
}

TEST(ParseRedisNodesTest, ReadsHostPortListsAndRefusesTheRest) {
  auto nodes = ParseRedisNodes("127.0.0.1:7000,redis-a:7001");
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(*nodes, (std::vector<RedisNode>{{"127.0.0.1", 7000}, {"redis-a", 7001}}));
  for (const char* bad : {"", "127.0.0.1", ":7000", "h:0", "h:65536", "h:70x", "h:1,"}) {
    EXPECT_EQ(ParseRedisNodes(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

RedisClusterOptions OptionsFor(const std::string& seeds) {
  RedisClusterOptions options;
  options.seeds = *ParseRedisNodes(seeds);
  return options;
}

TEST(RedisClusterClientTest, NoSeedAnsweringIsUnavailable) {
  RedisClusterOptions options = OptionsFor("127.0.0.1:1");
  EXPECT_EQ(RedisClusterClient::Connect(options).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(RedisClusterClientTest, PipelinesRepliesInOrderAndAgreesWithClusterKeyslot) {
  auto client = RedisClusterClient::Connect(OptionsFor(testing::SharedClusterSeeds()));
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string tag = "{pipeline-" + std::to_string(::getpid()) + "}";
  const uint16_t slot = RedisKeySlot(tag);
  Commands commands;
  for (int i = 0; i < 100; ++i) commands.push_back({"SET", tag + std::to_string(i), std::to_string(i)});
  for (int i = 0; i < 100; ++i) commands.push_back({"GET", tag + std::to_string(i)});
  commands.push_back({"CLUSTER", "KEYSLOT", tag + "x"});
  commands.push_back({"GET", tag + "missing"});
  auto replies = (*client)->Run(slot, commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), commands.size());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ((*replies)[i].str, "OK");
    EXPECT_EQ((*replies)[100 + i].str, std::to_string(i));
  }
  EXPECT_EQ((*replies)[200].integer, slot);
  EXPECT_TRUE((*replies)[201].nil());
  // A wrong command is a reply, not a failed call.
  auto wrong = (*client)->Run(slot, {{"INCR", tag + "0", "extra"}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE((*wrong)[0].error());
}

// One private cluster for the tests that move slots, kill connections and nodes.
class RedisClusterTopologyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new testing::RedisCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    auto client = RedisClusterClient::Connect(OptionsFor(cluster_->seeds()));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  // Runs one command on one node directly; fails the test on an error.
  RedisReply On(uint16_t port, RedisCommand command) {
    auto replies = client_->RunOn({"127.0.0.1", port}, {std::move(command)});
    EXPECT_TRUE(replies.ok()) << replies.status();
    return replies.ok() ? (*replies)[0] : RedisReply{};
  }

  uint16_t OtherMaster(uint16_t port) {
    auto masters = client_->Masters();
    EXPECT_TRUE(masters.ok());
    for (const RedisNode& m : *masters) {
      if (m.port != port) return m.port;
    }
    return 0;
  }

  static testing::RedisCluster* cluster_;
  std::unique_ptr<RedisClusterClient> client_;
};

testing::RedisCluster* RedisClusterTopologyTest::cluster_ = nullptr;

// The slot moves to another master behind the client's back: its map is stale, the old owner
// answers MOVED, the client reads the map again and goes to the new one.
TEST_F(RedisClusterTopologyTest, FollowsMovedWhenASlotChangesOwner) {
  const std::string key = "{moved}k";
  const uint16_t slot = RedisKeySlot(key);
  ASSERT_TRUE(client_->Run(slot, {{"SET", key, "v"}}).ok());
  const uint16_t from = cluster_->MasterOfSlot(slot), to = OtherMaster(from);
  const std::string to_id = On(to, {"CLUSTER", "MYID"}).str;
  const std::string from_id = On(from, {"CLUSTER", "MYID"}).str;
  const std::string s = std::to_string(slot);
  EXPECT_EQ(On(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}).str, "OK");
  EXPECT_EQ(On(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}).str, "OK");
  EXPECT_EQ(On(from, {"MIGRATE", "127.0.0.1", std::to_string(to), key, "0", "5000"}).str, "OK");
  EXPECT_EQ(On(to, {"CLUSTER", "SETSLOT", s, "NODE", to_id}).str, "OK");
  EXPECT_EQ(On(from, {"CLUSTER", "SETSLOT", s, "NODE", to_id}).str, "OK");

  const uint64_t redirects = client_->counters().redirects;
  auto replies = client_->Run(slot, {{"GET", key}, {"SET", key, "w"}, {"GET", key}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "v");
  EXPECT_EQ((*replies)[2].str, "w");
  EXPECT_GT(client_->counters().redirects, redirects);
  EXPECT_EQ(On(to, {"GET", key}).str, "w");  // it went to the new owner
}

// Mid-migration a key already moved is answered ASK by the source: the client asks the target
// (ASKING first) for that call only, and leaves its map alone.
TEST_F(RedisClusterTopologyTest, FollowsAskDuringAMigration) {
  const std::string moved = "{ask}moved", stays = "{ask}stays";
  const uint16_t slot = RedisKeySlot(moved);
  ASSERT_TRUE(client_->Run(slot, {{"SET", moved, "1"}, {"SET", stays, "2"}}).ok());
  const uint16_t from = cluster_->MasterOfSlot(slot), to = OtherMaster(from);
  const std::string to_id = On(to, {"CLUSTER", "MYID"}).str;
  const std::string from_id = On(from, {"CLUSTER", "MYID"}).str;
  const std::string s = std::to_string(slot);
  EXPECT_EQ(On(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}).str, "OK");
  EXPECT_EQ(On(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}).str, "OK");
  EXPECT_EQ(On(from, {"MIGRATE", "127.0.0.1", std::to_string(to), moved, "0", "5000"}).str, "OK");

  const uint64_t refreshes = client_->counters().map_refreshes;
  auto replies = client_->Run(slot, {{"GET", moved}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "1");
  replies = client_->Run(slot, {{"GET", stays}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "2");
  EXPECT_EQ(client_->counters().map_refreshes, refreshes);  // ASK leaves the map as it is

  // Finish the migration so that the suite's other tests see a settled cluster.
  EXPECT_EQ(On(from, {"MIGRATE", "127.0.0.1", std::to_string(to), stays, "0", "5000"}).str, "OK");
  EXPECT_EQ(On(to, {"CLUSTER", "SETSLOT", s, "NODE", to_id}).str, "OK");
  EXPECT_EQ(On(from, {"CLUSTER", "SETSLOT", s, "NODE", to_id}).str, "OK");
}

TEST_F(RedisClusterTopologyTest, ReconnectsAfterTheServerDropsItsConnections) {
  const uint16_t slot = RedisKeySlot("{reconnect}");
  ASSERT_TRUE(client_->Run(slot, {{"SET", "{reconnect}k", "1"}}).ok());
  const uint16_t master = cluster_->MasterOfSlot(slot);
  const uint64_t before = client_->counters().connections;
  // Drops every normal connection, the pooled one the next call would use among them.
  On(master, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"});
  auto replies = client_->Run(slot, {{"GET", "{reconnect}k"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "1");
  EXPECT_GT(client_->counters().connections, before);
}

TEST_F(RedisClusterTopologyTest, LoadsItsFunctionsAgainOnANodeThatLostThem) {
  RedisClusterOptions options = OptionsFor(cluster_->seeds());
  options.functions =
      "#!lua name=probe\n"
      "redis.register_function('probe_echo', function(keys, args) return args[1] end)\n";
  auto client = RedisClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const uint16_t slot = RedisKeySlot("{fn}");
  auto replies = (*client)->Run(slot, {{"FCALL", "probe_echo", "1", "{fn}", "hi"}});
  ASSERT_TRUE(replies.ok());
  EXPECT_EQ((*replies)[0].str, "hi");
  // As a node replaced by an empty one would be: the library is gone.
  EXPECT_EQ(On(cluster_->MasterOfSlot(slot), {"FUNCTION", "DELETE", "probe"}).str, "OK");
  replies = (*client)->Run(slot, {{"FCALL", "probe_echo", "1", "{fn}", "again"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "again");
}

// While the slot has no master the call waits and retries; once the replica is promoted it is
// served there, within the retry deadline. (ctest runs each test in a process of its own, so
// each has a cluster of its own.)
TEST_F(RedisClusterTopologyTest, ServesTheSlotAgainAfterItsMasterDies) {
  const std::string key = "{failover}k";
  const uint16_t slot = RedisKeySlot(key);
  ASSERT_TRUE(client_->Run(slot, {{"SET", key, "before"}, {"WAIT", "1", "1000"}}).ok());
  cluster_->KillNode(cluster_->MasterOfSlot(slot));
  auto replies = client_->Run(slot, {{"GET", key}, {"SET", key, "after"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0].str, "before");
  EXPECT_EQ((*replies)[1].str, "OK");
  EXPECT_GT(client_->counters().retries, 0u);
}

}  // namespace
}  // namespace contextd::storage
