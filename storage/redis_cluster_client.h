#pragma once

// A Redis Cluster client on hiredis 0.14, which speaks the protocol but knows nothing of a
// cluster: this owns the rest. Slot hashing (CRC16 and hash tags), the slot map read from
// CLUSTER SLOTS, MOVED (the map is re-read) and ASK (one command, not the map) redirects,
// retries while a slot has no master (failover), reconnects, pipelining, and a Lua function
// library kept loaded on every master. Nothing of hiredis shows in this header.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace contextd::storage {

inline constexpr int kRedisSlots = 16384;

// The cluster slot of `key`: CRC16/XMODEM of its hash tag (the bytes between the first '{'
// and the next '}', when there is at least one) or else of the whole key, modulo 16384.
uint16_t RedisKeySlot(std::string_view key);

// The slot of `bytes` taken whole (no hash tag rule): CRC16/XMODEM modulo 16384. With
// RedisSlotTag, places keys of anything (an owner, a customer) in that thing's slot.
uint16_t RedisHashSlot(std::string_view bytes);

// A hash tag whose keys land in `slot`: "{" + RedisSlotTag(s) + "}..." hashes to s.
// REQUIRES: slot < kRedisSlots.
const std::string& RedisSlotTag(uint16_t slot);

// One reply, owned (copied out of hiredis's reply tree).
struct RedisReply {
  enum class Type : uint8_t { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool error() const { return type == Type::kError; }
  bool nil() const { return type == Type::kNil; }
};

// One command: its arguments, binary-safe.
using RedisCommand = std::vector<std::string>;

struct RedisNode {
  std::string host;
  uint16_t port = 0;
  std::string Name() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const RedisNode&, const RedisNode&) = default;
};

// Parses "HOST:PORT[,HOST:PORT...]". InvalidArgument naming the bad part.
absl::StatusOr<std::vector<RedisNode>> ParseRedisNodes(std::string_view list);

struct RedisClusterOptions {
  std::vector<RedisNode> seeds;  // any nodes of the cluster; the rest is discovered
  std::string user;              // ACL user; "" with a password: the default user
  std::string password;          // "" for none
  std::chrono::milliseconds connect_timeout{500};
  // A socket read or write taking longer fails the attempt (a hung node). Commands that block
  // on the server (WAIT) must have a shorter timeout of their own.
  std::chrono::milliseconds command_timeout{3000};
  // How long a command is retried while its slot cannot be served (failover, CLUSTERDOWN,
  // TRYAGAIN, a node that refuses connections or times out) before Unavailable: the waits
  // between attempts and the attempts that timed out count. Redis needs about twice its
  // cluster-node-timeout to promote a replica.
  std::chrono::milliseconds retry_deadline{5000};
  // A Lua library (the source of FUNCTION LOAD) kept on every master: loaded (REPLACE) on
  // each at Connect, and again on a master that answers "Function not found" (a node
  // replaced by one without it), after which the command is sent again.
  std::string functions;
};

// Counters for monitoring, since Connect.
struct RedisClusterCounters {
  uint64_t redirects = 0;        // MOVED and ASK replies followed
  uint64_t retries = 0;          // attempts repeated after a transient failure
  uint64_t map_refreshes = 0;    // slot map reads
  uint64_t connections = 0;      // connections opened
};

// Thread-safety: all methods may be called concurrently. Each call checks a connection out of
// the node's pool for its duration, so concurrent calls use separate connections.
class RedisClusterClient {
 public:
  // Connects to the first seed that answers, reads the slot map and loads options.functions
  // on every master. Unavailable when no seed answers or the cluster does not cover every
  // slot; PermissionDenied when authentication fails.
  static absl::StatusOr<std::unique_ptr<RedisClusterClient>> Connect(RedisClusterOptions options);

  ~RedisClusterClient();
  RedisClusterClient(const RedisClusterClient&) = delete;
  RedisClusterClient& operator=(const RedisClusterClient&) = delete;

  // Sends `commands` pipelined (one write, one read) to the master serving `slot` and returns
  // their replies in order. An error reply of a command is a reply (RedisReply::error), not
  // an error status. Unavailable when the slot is not served by the retry deadline.
  //
  // Retries: while any reply says the pipeline was not served there (MOVED, ASK, TRYAGAIN,
  // CLUSTERDOWN, LOADING, MASTERDOWN, READONLY, NOREPLICAS, a missing function) or the
  // connection fails, the whole pipeline is sent again, to the redirect's target or after
  // re-reading the slot map. So every command must be idempotent, and a command that was
  // applied before its connection failed may be applied twice.
  // REQUIRES: every key of every command hashes to `slot`.
  absl::StatusOr<std::vector<RedisReply>> Run(uint16_t slot,
                                              const std::vector<RedisCommand>& commands);

  // Sends `commands` to one node as they are: no redirect is followed, no retry made (for
  // per-node commands: SCAN, INFO, FUNCTION). Unavailable when the node cannot be reached.
  absl::StatusOr<std::vector<RedisReply>> RunOn(const RedisNode& node,
                                                const std::vector<RedisCommand>& commands);

  // The masters of the current slot map, re-read first. Unavailable as Connect.
  absl::StatusOr<std::vector<RedisNode>> Masters();

  RedisClusterCounters counters() const;

 private:
  class Impl;
  explicit RedisClusterClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace contextd::storage
