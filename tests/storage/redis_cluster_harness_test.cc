// The Redis Cluster test harness works: the ctest fixture's shared cluster answers on every
// seed, and a private cluster keeps a key when the master serving it is killed (its replica
// takes over with the data). Driven by redis-cli, a real cluster client.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/command.h"
#include "tests/support/eventually.h"
#include "tests/support/redis_cluster.h"

namespace contextd::testing {
namespace {

// The ports of "127.0.0.1:P0,127.0.0.1:P1,...".
std::vector<uint16_t> Ports(const std::string& seeds) {
  std::vector<uint16_t> ports;
  size_t at = 0;
  while ((at = seeds.find(':', at)) != std::string::npos) {
    ports.push_back(static_cast<uint16_t>(std::stoi(seeds.substr(++at))));
  }
  return ports;
}

// redis-cli against the node on `port`; `flags` such as "-c" (follow cluster redirects).
CommandResult Cli(uint16_t port, const std::string& command, const std::string& flags = "") {
  return RunCommand("redis-cli " + flags + " -h 127.0.0.1 -p " + std::to_string(port) + " " +
                    command);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(RedisClusterHarnessTest, SharedClusterIsOkOnEverySeed) {
  const std::string seeds = SharedClusterSeeds();
  if (seeds.empty()) GTEST_SKIP() << "CONTEXTD_REDIS_SEEDS_FILE is unset: run it with ctest";
  const std::vector<uint16_t> ports = Ports(seeds);
  ASSERT_EQ(ports.size(), 6u) << seeds;
  for (uint16_t port : ports) {
    SCOPED_TRACE(port);
    const CommandResult r = Cli(port, "cluster info");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("cluster_state:ok"), std::string::npos) << r.output;
  }
}

TEST(RedisClusterHarnessTest, PrivateClusterKeepsAKeyWhenItsMasterIsKilled) {
  RedisCluster cluster;
  const std::vector<uint16_t> ports = Ports(cluster.seeds());
  ASSERT_EQ(ports.size(), 6u) << cluster.seeds();
  const std::string key = "harness:failover";
  const std::string value = "intact-" + std::to_string(getpid());

  // SET through the cluster client, then WAIT on the same connection (the master's, after the
  // redirect) until a replica has it: the kill must not race the asynchronous replication.
  const CommandResult set =
      RunCommand("printf 'SET " + key + " " + value + "\\nWAIT 1 5000\\n' | redis-cli -c -h " +
                 "127.0.0.1 -p " + std::to_string(ports[0]));
  ASSERT_EQ(set.code, 0) << set.output;
  ASSERT_TRUE(EndsWith(set.output, "OK\n1\n")) << "not on a replica: " << set.output;

  const CommandResult keyslot = Cli(ports[0], "cluster keyslot " + key);
  ASSERT_EQ(keyslot.code, 0) << keyslot.output;
  const int slot = std::stoi(keyslot.output);
  const uint16_t master = cluster.MasterOfSlot(slot);
  cluster.KillNode(master);

  // Until a replica is promoted (about 2 s) the others answer MOVED to the dead master or
  // CLUSTERDOWN; redis-cli -c fails then, and we ask again.
  const uint16_t survivor = master == ports[0] ? ports[1] : ports[0];
  std::string answer;
  const bool readable = Eventually(
      [&] {
        const CommandResult get = Cli(survivor, "get " + key, "-c");
        answer = get.output;
        if (get.code == 0 && EndsWith(answer, value + "\n")) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return false;
      },
      std::chrono::seconds(15));
  ASSERT_TRUE(readable) << "last answer: " << answer;

  cluster.WaitHealthy(master);
  const uint16_t promoted = cluster.MasterOfSlot(slot);
  EXPECT_NE(promoted, master);

  // The killed node comes back (same nodes.conf and AOF) as a replica of the promoted one.
  cluster.Restart(master);
  cluster.WaitHealthy();
  EXPECT_EQ(cluster.MasterOfSlot(slot), promoted);
  const CommandResult role = Cli(master, "role");
  EXPECT_EQ(role.output.rfind("slave\n", 0), 0u) << role.output;
  const CommandResult get = Cli(master, "get " + key, "-c");
  EXPECT_TRUE(EndsWith(get.output, value + "\n")) << get.output;
}

}  // namespace
}  // namespace contextd::testing
