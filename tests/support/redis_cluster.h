#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "tests/support/temp_dir.h"

namespace contextd::testing {

// A private Redis Cluster: 3 masters + 3 replicas of Debian's redis-server on 127.0.0.1 in a
// fresh temp dir (AOF on, node timeout 1000 ms, so a failover takes about 2 s), driven by
// tests/support/redis_cluster.sh. For tests that break the cluster (kill a master, restart a
// node): they must not share the ctest fixture's cluster (SharedClusterSeeds()). Which node is
// a replica is redis-cli's choice: ask MasterOfSlot, never assume.
// Every method but the destructor throws std::runtime_error with the script's output when
// the script fails.
// Thread-safety: none; one test thread drives it.
class RedisCluster {
 public:
  // Starts the cluster on free ports of 20000..22700 and waits until it is healthy (about
  // 2.5 s). Should the test process die without the destructor, a watchdog the script
  // leaves stops the nodes.
  RedisCluster();
  ~RedisCluster();  // stops every node and removes the directory
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // "127.0.0.1:P0,...,127.0.0.1:P5": all six nodes, as a client's seed list.
  std::string seeds() const { return seeds_; }
  const std::string& dir() const { return dir_.path(); }  // the nodes' dirs and logs

  // The port of the master serving `slot` (0..16383), as the first node that answers sees it.
  // After a failover, call WaitHealthy first for a settled answer.
  uint16_t MasterOfSlot(int slot);
  // The pid of the node on `port`. Throws if it is not running.
  pid_t Pid(uint16_t port);
  // SIGKILL to the node on `port`; returns once the process is gone.
  void KillNode(uint16_t port);
  // Starts the node on `port` again with its command line, nodes.conf and AOF (a running
  // one is stopped first); returns once it answers. A killed master that was failed over
  // rejoins as a replica: WaitHealthy() waits for that.
  void Restart(uint16_t port);
  // Waits (60 s at most) until every node but `skip_port` (0: none) agrees on a cluster
  // with all slots served by 3 masters, every other node a replica with its link up.
  void WaitHealthy(uint16_t skip_port = 0);

 private:
  // Runs `redis_cluster.sh <command> <dir> <args>`; returns its output, trimmed.
  std::string Script(const std::string& command, const std::string& args = "");

  TempDir dir_;
  std::string seeds_;
};

// The seeds of the cluster the ctest fixture `redis_cluster` runs for every test that
// requires it (tests/CMakeLists.txt: contextd_requires_redis_cluster): the contents of the
// file named by env CONTEXTD_REDIS_SEEDS_FILE, trimmed; "" when that is unset (the test runs
// outside ctest). Throws std::runtime_error if the file cannot be read.
std::string SharedClusterSeeds();

}  // namespace contextd::testing
