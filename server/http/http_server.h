#pragma once

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

struct HttpOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port
  int threads = 2;
  size_t max_body_bytes = 1 << 20;
  Durability durability = Durability::kAlways;
  RequestLog* log = nullptr;  // not owned; one line per request when set
  // For tests: every request sees this time as `now` instead of the system clock.
  std::optional<int64_t> fixed_now_ms;
};

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
