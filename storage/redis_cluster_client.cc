#include "storage/redis_cluster_client.h"

#include <hiredis.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "storage/status_macros.h"

namespace contextd::storage {

namespace {

constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection (the cluster spec's).
constexpr std::array<uint16_t, 256> kCrc16 = MakeCrc16Table();

uint16_t Crc16(std::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// What an error reply says about where the pipeline should go next.
enum class Redirect { kNone, kMoved, kAsk, kRetry, kNoFunction };

Redirect RedirectOf(const RedisReply& r) {
  if (!r.error()) return Redirect::kNone;
  const std::string_view s = r.str;
  if (StartsWith(s, "MOVED ")) return Redirect::kMoved;
  if (StartsWith(s, "ASK ")) return Redirect::kAsk;
  if (StartsWith(s, "TRYAGAIN") || StartsWith(s, "CLUSTERDOWN") || StartsWith(s, "LOADING") ||
      StartsWith(s, "MASTERDOWN") || StartsWith(s, "READONLY") || StartsWith(s, "NOREPLICAS")) {
    return Redirect::kRetry;
  }
  if (StartsWith(s, "ERR Function not found")) return Redirect::kNoFunction;
  return Redirect::kNone;
}

// The node of "MOVED <slot> <host>:<port>" or "ASK ..."; an empty host (a node that does not
// know its own address) means the node that answered.
std::optional<RedisNode> RedirectTarget(std::string_view error, const RedisNode& answered) {
  const size_t space = error.rfind(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto nodes = ParseRedisNodes(error.substr(space + 1));
  if (!nodes.ok() || nodes->size() != 1) {
    const size_t colon = error.rfind(':');
    if (colon == std::string_view::npos || colon < space) return std::nullopt;
    std::string_view port = error.substr(colon + 1);
    RedisNode node{answered.host, 0};
    if (std::from_chars(port.data(), port.data() + port.size(), node.port).ec != std::errc()) {
      return std::nullopt;
    }
    return node;
  }
  return (*nodes)[0];
}

}  // namespace

uint16_t RedisKeySlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close != open + 1) {
      return Crc16(key.substr(open + 1, close - open - 1)) & (kRedisSlots - 1);
    }
  }
  return Crc16(key) & (kRedisSlots - 1);
}

uint16_t RedisHashSlot(std::string_view bytes) { return Crc16(bytes) & (kRedisSlots - 1); }

const std::string& RedisSlotTag(uint16_t slot) {
  // The shortest decimal strings, first come, one per slot: about 160,000 tries fill all.
  static const std::vector<std::string> tags = [] {
    std::vector<std::string> t(kRedisSlots);
    size_t filled = 0;
    for (uint64_t n = 0; filled < t.size(); ++n) {
      std::string s = std::to_string(n);
      std::string& tag = t[Crc16(s) & (kRedisSlots - 1)];
      if (tag.empty()) {
        tag = std::move(s);
        ++filled;
      }
    }
    return t;
  }();
  return tags[slot];
}

absl::StatusOr<std::vector<RedisNode>> ParseRedisNodes(std::string_view list) {
  std::vector<RedisNode> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view part = list.substr(start, comma - start);
    start = comma + 1;
    const size_t colon = part.rfind(':');
    RedisNode node;
    const char* end = part.data() + part.size();
    auto parsed = colon == std::string_view::npos
                      ? std::from_chars_result{part.data(), std::errc::invalid_argument}
                      : std::from_chars(part.data() + colon + 1, end, node.port);
    if (colon == std::string_view::npos || colon == 0 || parsed.ec != std::errc() ||
        parsed.ptr != end || node.port == 0) {
      return absl::InvalidArgumentError("'" + std::string(part) +
                                        "' is not HOST:PORT (a Redis node)");
    }
    node.host = std::string(part.substr(0, colon));
    out.push_back(std::move(node));
  }
  return out;
}

// The connections to one node: idle ones wait here between calls.
class NodePool {
 public:
  explicit NodePool(RedisNode node) : node_(std::move(node)) {}
  ~NodePool() {
    for (redisContext* c : idle_) redisFree(c);
  }

  const RedisNode& node() const { return node_; }

  redisContext* Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) return nullptr;
    redisContext* c = idle_.back();
    idle_.pop_back();
    return c;
  }

  // A context that saw an error is dead (hiredis refuses it from then on): it is freed.
  void Give(redisContext* c) {
    if (c->err == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(c);
        return;
      }
    }
    redisFree(c);
  }

 private:
  static constexpr size_t kMaxIdle = 64;
  const RedisNode node_;
  std::mutex mu_;
  std::vector<redisContext*> idle_;
};

// Which master serves each slot, as one CLUSTER SLOTS reply said.
struct SlotMap {
  uint64_t generation = 0;
  std::vector<std::shared_ptr<NodePool>> masters;
  std::array<int16_t, kRedisSlots> owner;  // index into masters; -1: no master
};

class RedisClusterClient::Impl {
 public:
  // Redirects followed one after another before the client waits (a map still in flux).
  static constexpr int kMaxHops = 5;

  explicit Impl(RedisClusterOptions options) : options_(std::move(options)) {}

  absl::Status Init() {
    RETURN_IF_ERROR(Refresh(0));
    std::shared_ptr<const SlotMap> map = Map();
    for (int16_t owner : map->owner) {
      if (owner < 0) {
        return absl::UnavailableError("the Redis cluster does not serve every slot");
      }
    }
    if (!options_.functions.empty()) {
      for (const auto& pool : map->masters) RETURN_IF_ERROR(LoadFunctions(*pool));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<RedisReply>> Run(uint16_t slot,
                                              const std::vector<RedisCommand>& commands) {
    std::chrono::milliseconds slept{0}, backoff{5};
    std::shared_ptr<NodePool> ask;  // the target of an ASK redirect, for one attempt
    std::string last_error = "no attempt";
    int hops = 0;     // redirects followed at once, without waiting
    int reloads = 0;  // function libraries loaded again
    while (true) {
      std::shared_ptr<const SlotMap> map = Map();
      std::shared_ptr<NodePool> pool = ask;
      const bool asking = ask != nullptr;
      ask = nullptr;
      if (!pool && map->owner[slot] >= 0) pool = map->masters[map->owner[slot]];
      if (!pool) {
        last_error = "slot " + std::to_string(slot) + " has no master";
      } else {
        absl::StatusOr<std::vector<RedisReply>> replies = Exchange(*pool, commands, asking);
        if (!replies.ok()) {
          last_error = std::string(replies.status().message());
          // An attempt that timed out took its timeout: it counts against the deadline as the
          // sleeps do (the client reads no clock), so a hung node cannot hold a call longer.
          if (last_error.find("temporarily unavailable") != std::string::npos ||
              last_error.find("timed out") != std::string::npos) {
            slept += options_.command_timeout;
          }
        } else {
          Redirect redirect = Redirect::kNone;
          const RedisReply* cause = nullptr;
          for (const RedisReply& r : *replies) {
            redirect = RedirectOf(r);
            if (redirect != Redirect::kNone) {
              cause = &r;
              break;
            }
          }
          if (redirect == Redirect::kNone) return replies;
          last_error = pool->node().Name() + ": " + cause->str;
          if (redirect == Redirect::kNoFunction && ++reloads <= kMaxHops) {
            RETURN_IF_ERROR(LoadFunctions(*pool));
            retries_.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          if ((redirect == Redirect::kMoved || redirect == Redirect::kAsk) && ++hops <= kMaxHops) {
            redirects_.fetch_add(1, std::memory_order_relaxed);
            std::optional<RedisNode> target = RedirectTarget(cause->str, pool->node());
            if (redirect == Redirect::kAsk && target) {
              ask = PoolOf(*target);
              continue;  // ASK changes nothing in the map: go there at once, once
            }
            if (target && *target != pool->node()) {
              // The map is behind (a slot moved, a replica was promoted): read it again and go.
              RETURN_IF_ERROR(Refresh(map->generation));
              continue;
            }
          }
        }
      }
      // Not served now: a failover is under way, a node is down or restarting. Wait a little,
      // read the map again (a replica may have been promoted), try again.
      if (slept >= options_.retry_deadline) {
        return absl::UnavailableError("the Redis cluster did not serve slot " +
                                      std::to_string(slot) + " in " +
                                      std::to_string(options_.retry_deadline.count()) +
                                      " ms: " + last_error);
      }
      std::this_thread::sleep_for(backoff);
      slept += backoff;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
      retries_.fetch_add(1, std::memory_order_relaxed);
      hops = 0;
      Refresh(map->generation).IgnoreError();  // no node answers: the next round asks again
    }
  }

  absl::StatusOr<std::vector<RedisReply>> RunOn(const RedisNode& node,
                                                const std::vector<RedisCommand>& commands) {
    return Exchange(*PoolOf(node), commands, false);
  }

  absl::StatusOr<std::vector<RedisNode>> Masters() {
    RETURN_IF_ERROR(Refresh(Map()->generation));
    std::vector<RedisNode> out;
    for (const auto& pool : Map()->masters) out.push_back(pool->node());
    return out;
  }

  RedisClusterCounters counters() const {
    RedisClusterCounters c;
    c.redirects = redirects_.load(std::memory_order_relaxed);
    c.retries = retries_.load(std::memory_order_relaxed);
    c.map_refreshes = refreshes_.load(std::memory_order_relaxed);
    c.connections = connections_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  std::shared_ptr<const SlotMap> Map() {
    std::lock_guard<std::mutex> lock(map_mu_);
    return map_;
  }

  std::shared_ptr<NodePool> PoolOf(const RedisNode& node) {
    std::lock_guard<std::mutex> lock(pools_mu_);
    std::shared_ptr<NodePool>& pool = pools_[node.Name()];
    if (!pool) pool = std::make_shared<NodePool>(node);
    return pool;
  }

  absl::StatusOr<redisContext*> Open(const RedisNode& node) {
    redisContext* c =
        redisConnectWithTimeout(node.host.c_str(), node.port, ToTimeval(options_.connect_timeout));
    if (c == nullptr) return absl::UnavailableError(node.Name() + ": cannot allocate a context");
    if (c->err != 0) {
      std::string error = node.Name() + ": " + c->errstr;
      redisFree(c);
      return absl::UnavailableError(error);
    }
    connections_.fetch_add(1, std::memory_order_relaxed);
    // The connect timeout bounds only the connect; reads and writes need their own.
    redisSetTimeout(c, ToTimeval(options_.command_timeout));
    if (!options_.password.empty()) {
      RedisCommand auth = {"AUTH"};
      if (!options_.user.empty()) auth.push_back(options_.user);
      auth.push_back(options_.password);
      absl::StatusOr<std::vector<RedisReply>> reply = Send(c, node, {auth}, false);
      if (!reply.ok() || (*reply)[0].error()) {
        std::string error = reply.ok() ? (*reply)[0].str : std::string(reply.status().message());
        redisFree(c);
        return absl::PermissionDeniedError(node.Name() + ": authentication failed: " + error);
      }
    }
    return c;
  }

  // One round trip on a connection: every command written, every reply read. With `asking`
  // each command is preceded by ASKING (it holds for one command only); their OKs are dropped.
  static absl::StatusOr<std::vector<RedisReply>> Send(redisContext* c, const RedisNode& node,
                                                      const std::vector<RedisCommand>& commands,
                                                      bool asking) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const RedisCommand& command : commands) {
      if (asking) redisAppendCommand(c, "ASKING");
      argv.clear();
      lengths.clear();
      for (const std::string& arg : command) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(),
                                 lengths.data()) != REDIS_OK) {
        return absl::UnavailableError(node.Name() + ": " + c->errstr);
      }
    }
    std::vector<RedisReply> out;
    out.reserve(commands.size());
    for (size_t i = 0; i < commands.size() * (asking ? 2 : 1); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
        return absl::UnavailableError(node.Name() + ": " +
                                      (c->err != 0 ? c->errstr : "no reply"));
      }
      if (!asking || i % 2 == 1) out.push_back(Convert(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
    }
    return out;
  }

  absl::StatusOr<std::vector<RedisReply>> Exchange(NodePool& pool,
                                                   const std::vector<RedisCommand>& commands,
                                                   bool asking) {
    redisContext* c = pool.Take();
    if (c == nullptr) {
      ASSIGN_OR_RETURN(c, Open(pool.node()));
    }
    absl::StatusOr<std::vector<RedisReply>> replies = Send(c, pool.node(), commands, asking);
    pool.Give(c);
    return replies;
  }

  absl::Status LoadFunctions(NodePool& pool) {
    ASSIGN_OR_RETURN(std::vector<RedisReply> reply,
                     Exchange(pool, {{"FUNCTION", "LOAD", "REPLACE", options_.functions}}, false));
    if (reply[0].error()) {
      return absl::InternalError(pool.node().Name() + ": FUNCTION LOAD: " + reply[0].str);
    }
    return absl::OkStatus();
  }

  // Reads the slot map again unless it changed since `seen` (another thread read it first).
  // Asks the known masters first, then the seeds.
  absl::Status Refresh(uint64_t seen) {
    std::lock_guard<std::mutex> lock(refresh_mu_);
    std::shared_ptr<const SlotMap> current = Map();
    if (current && current->generation != seen) return absl::OkStatus();
    std::vector<RedisNode> ask;
    if (current) {
      for (const auto& pool : current->masters) ask.push_back(pool->node());
    }
    ask.insert(ask.end(), options_.seeds.begin(), options_.seeds.end());
    std::string last_error = "no node to ask";
    for (const RedisNode& node : ask) {
      absl::StatusOr<std::vector<RedisReply>> reply =
          Exchange(*PoolOf(node), {{"CLUSTER", "SLOTS"}}, false);
      if (!reply.ok()) {
        if (absl::IsPermissionDenied(reply.status())) return reply.status();
        last_error = std::string(reply.status().message());
        continue;
      }
      const RedisReply& slots = (*reply)[0];
      if (slots.type != RedisReply::Type::kArray) {
        last_error = node.Name() + ": CLUSTER SLOTS: " + slots.str;
        continue;
      }
      auto map = std::make_shared<SlotMap>();
      map->owner.fill(-1);
      map->generation = (current ? current->generation : 0) + 1;
      std::map<std::string, int16_t> index;
      for (const RedisReply& range : slots.elements) {
        // [start, end, [host, port, id, ...], replicas...]
        if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) continue;
        const RedisReply& master = range.elements[2];
        RedisNode m{master.elements[0].str.empty() ? node.host : master.elements[0].str,
                    static_cast<uint16_t>(master.elements[1].integer)};
        auto [it, added] = index.emplace(m.Name(), static_cast<int16_t>(map->masters.size()));
        if (added) map->masters.push_back(PoolOf(m));
        const long long from = range.elements[0].integer, to = range.elements[1].integer;
        for (long long s = std::max(0LL, from); s <= to && s < kRedisSlots; ++s) {
          map->owner[s] = it->second;
        }
      }
      refreshes_.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> map_lock(map_mu_);
      map_ = std::move(map);
      return absl::OkStatus();
    }
    return absl::UnavailableError("no Redis cluster node answered: " + last_error);
  }

  const RedisClusterOptions options_;
  std::mutex refresh_mu_;  // one map read at a time
  std::mutex map_mu_;      // guards map_ (the pointer; maps are immutable)
  std::shared_ptr<const SlotMap> map_;
  std::mutex pools_mu_;
  std::map<std::string, std::shared_ptr<NodePool>> pools_;  // by "host:port"; never removed
  std::atomic<uint64_t> redirects_{0}, retries_{0}, refreshes_{0}, connections_{0};
};

absl::StatusOr<std::unique_ptr<RedisClusterClient>> RedisClusterClient::Connect(
    RedisClusterOptions options) {
  if (options.seeds.empty()) return absl::InvalidArgumentError("no Redis node given");
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<RedisClusterClient>(new RedisClusterClient(std::move(impl)));
}

RedisClusterClient::RedisClusterClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisClusterClient::~RedisClusterClient() = default;

absl::StatusOr<std::vector<RedisReply>> RedisClusterClient::Run(
    uint16_t slot, const std::vector<RedisCommand>& commands) {
  return impl_->Run(slot, commands);
}

absl::StatusOr<std::vector<RedisReply>> RedisClusterClient::RunOn(
    const RedisNode& node, const std::vector<RedisCommand>& commands) {
  return impl_->RunOn(node, commands);
}

absl::StatusOr<std::vector<RedisNode>> RedisClusterClient::Masters() { return impl_->Masters(); }

RedisClusterCounters RedisClusterClient::counters() const { return impl_->counters(); }

}  // namespace contextd::storage
