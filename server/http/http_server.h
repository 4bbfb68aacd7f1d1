#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/http/exchange.h"
#include "server/http/latency.h"

namespace contextd::server {

class RequestLog;

// When a write is acknowledged.
enum class Durability {
  kAlways,  // after its WAL is fsynced; concurrent writes share one fsync (group commit)
  kBatch,   // at once; the WAL is fsynced every 10 ms (a machine crash loses at most that)
  kNone,    // at once; the OS writes the WAL back when it likes (a process crash loses
            // nothing, a machine crash may lose the last seconds)
};

// What the server's connections are doing, for /metrics. Updated by the server, read from
// any thread.
struct ConnectionCounters {
  std::atomic<int64_t> open{0};      // connections being served
  std::atomic<int64_t> paused{0};    // not read from: their unsent replies are over the bound
  std::atomic<uint64_t> refused{0};  // refused at max_connections
  std::atomic<uint64_t> overrun{0};  // closed: kept sending while their replies went unread
};

struct HttpOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  Durability durability = Durability::kAlways;
  RequestLog* log = nullptr;  // not owned; one line per request when set
  // Connections served at once; more are answered 503 and closed at once. At most, and by
  // default (0), DefaultMaxConnections(): Start raises the fd limit to its hard limit.
  size_t max_connections = 0;
  // A connection with no request in progress is closed after this long without one, and
  // so is one whose client reads none of its replies for this long.
  std::chrono::seconds idle_timeout{75};
  ConnectionCounters* counters = nullptr;  // not owned; kept up to date when set
  // For tests: every request sees this time as `now` instead of the system clock.
  std::optional<int64_t> fixed_now_ms;
};

// A connection's replies not yet taken by its socket (queued behind a slow reader, or
// waiting for their sync) are bounded: past this many bytes, no further request of the
// connection is served until they drain below half of it. Its input is then bounded too:
// a client that sends more than kMaxUnreadInput bytes beyond the request in progress while
// it reads none of its replies is disconnected. (One reply may cross the bound: the largest
// a connection holds is the bound, one reply, one request and kMaxUnreadInput.)
inline constexpr size_t kMaxUnsentReplyBytes = 1 << 20;
inline constexpr size_t kMaxUnreadInput = 1 << 20;

// Raises the soft fd limit to the hard one and returns the connection limit it leaves room
// for: the fd limit less a reserve for the store's files and the server's own.
size_t DefaultMaxConnections();

// The HTTP front end: a Pistache endpoint whose handler frames requests itself before
// Pistache parses them (see http_server.cc for the Pistache 0.0.5 pitfalls this covers),
// then hands each request to the RequestHandler. A reply with `wrote` set is sent only
// after `sync` (the store's durable sync) covered it, as `durability` says.
// Thread-safety: Start and Shutdown from one thread; requests are served on `threads`
// reactor threads.
class HttpServer {
 public:
  // Makes every write acknowledged so far durable; called from the commit thread.
  using Sync = std::function<absl::Status()>;

  // Neither pointer is owned; both must outlive the server. Every reply's server-side
  // latency is recorded in `latencies`.
  HttpServer(RequestHandler* handler, RouteLatencies* latencies, Sync sync, HttpOptions options);
  ~HttpServer();

  // Binds and starts serving in background threads. Returns the bound port.
  absl::StatusOr<uint16_t> Start();

  // Stops accepting, delivers pending replies (syncing their writes) and joins the worker
  // threads; in-flight handlers finish first.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace contextd::server
