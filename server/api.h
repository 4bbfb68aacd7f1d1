#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "query/access.h"
#include "query/engine.h"
#include "query/history.h"
#include "query/workspace.h"
#include "server/latency.h"
#include "server/uri.h"
#include "storage/model.h"
#include "storage/store.h"

namespace contextd::server {

// A request as the API sees it, free of any HTTP library type.
struct ApiRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // raw origin-form target, still percent-encoded
  std::string_view body;
  // The ContactCenterId header, if the request has one.
  std::optional<std::string> tenant_header;
  // The tenant the request acts in ("" is the default tenant): set by Api::Handle from the
  // header and the caller's key before a handler runs.
  std::string tenant;
  storage::TimeMs now_ms = 0;
  // Authorization, X-Api-Key, Cookie, X-CSRF-TOKEN, Upgrade, Host and X-Request-Id as
  // received, names lower-case; not owned.
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;

  // The value of header `name` (lower-case), or "".
  std::string_view Header(std::string_view name) const {
    if (headers == nullptr) return {};
    for (const auto& [n, v] : *headers) {
      if (n == name) return v;
    }
    return {};
  }
};

// Which API family a route belongs to: it decides the shape of error bodies.
enum class Dialect {
  kGenesys,    // {"message","exception"}; unknown ids are 400 NotFoundException
  kNative,     // /contextd/v1: {"message"}; unknown ids are 404
  kPega,       // /prweb: {"Status":"ERROR","Message"}
  kLcm,        // /lcm: the CustomerJourney envelope with a WS_Error
  kWorkspace,  // /api/v2: {"statusCode":N,"statusMessage"}
};

class Cometd;

// The Workspace API's collaborators; absent (null) ones make its routes answer 503.
struct WorkspaceBackend {
  query::Workspace* workspace = nullptr;  // not owned
  Cometd* cometd = nullptr;               // not owned
  bool csrf = false;  // cookie-authenticated writes must carry the session's X-CSRF-TOKEN
};

// Who may call the key-checked routes (every route but /health, /ready, /ui and the
// Workspace API, which signs its users in itself).
struct AccessPolicy {
  query::Access* access = nullptr;  // not owned; null: no key admin routes (503)
  // Development only: requests without a key act as an admin of every tenant. The server
  // then listens on a loopback address only.
  bool open = false;
};

struct ApiResponse {
  // Sends the final reply of a held request; callable from any thread, once (later calls
  // are ignored). Returns false when nothing was sent (the client is gone, or it was
  // completed before), so the caller can keep what the reply would have carried.
  using Complete = std::function<bool(ApiResponse)>;

  int status = 200;
  std::string body;               // JSON (or plain text); empty for body-less replies
  std::string_view content_type;  // "" for JSON; else a static media type ("text/plain", ...)
  std::string allow;              // for 405: the methods the path accepts, comma-separated
  int route = -1;                 // index into Api::RouteNames() of the route that served it
  bool wrote = false;             // a successful write: acknowledge it only once durable
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  // Set for a reply that is not ready yet (a CometD connect held until a message or a
  // timeout): the HTTP layer calls hold(complete, false) once the request is parked, and
  // hold(complete, true) when the reply must be completed at once (the client sent a next
  // request on the connection). The other fields are unused then.
  std::function<void(Complete, bool now)> hold;
};

// The error body and status for `status`, the one mapping from error codes to HTTP:
// NotFound -> 400 (Genesys answers unknown ids with 400 NotFoundException; the native API
// with 404); other client errors -> 400; ResourceExhausted -> 413; Unavailable -> 503;
// anything else -> 500 with a generic message (the real one goes to the log). The body has
// the dialect's error shape.
ApiResponse ErrorResponse(const absl::Status& status, Dialect dialect = Dialect::kGenesys);

// An error reply with an explicit HTTP status (404, 405, 408, 413, ...).
ApiResponse HttpError(int http_status, std::string_view message,
                      Dialect dialect = Dialect::kGenesys);

// Routes and serves every dialect: Context Services, the native API (/contextd/v1, /health),
// Pega and LCM. Handlers parse, call the engine or the history, render; they hold no
// business logic.
// Thread-safety: thread-safe (holds only pointers to thread-safe objects).
class Api {
 public:
  // None is owned; all must outlive the Api. `latencies` is served at
  // GET /contextd/v1/latency (reset by POST /contextd/v1/latency/reset).
  // `store` (optional) answers GET /ready and the storage figures of GET /metrics.
  Api(query::Engine* engine, query::History* history, RouteLatencies* latencies,
      AccessPolicy access, WorkspaceBackend workspace = {}, storage::Store* store = nullptr)
      : engine_(engine),
        history_(history),
        latencies_(latencies),
        access_(access),
        workspace_(workspace),
        store_(store) {}

  // Never throws for any input; internal failures become a 500 reply.
  ApiResponse Handle(const ApiRequest& request);

  // The largest request body the route of (method, target) takes, at most `server_max`:
  // a few KiB for routes that read no body, 256 KiB for events and captures, `server_max`
  // for history ingest (NDJSON).
  static size_t MaxBodyBytes(std::string_view method, std::string_view target, size_t server_max);

  // "METHOD pattern" of every route, in the order ApiResponse::route indexes.
  static std::vector<std::string> RouteNames();

  // Makes every write acknowledged so far durable, of every record family (Store::Sync).
  // FailedPrecondition without a store.
  absl::Status Sync() {
    return store_ != nullptr ? store_->Sync()
                             : absl::FailedPreconditionError("no store to sync");
  }

  // From now on GET /ready answers 503 (the server is stopping).
  void SetShuttingDown() { shutting_down_.store(true); }

  struct Call;  // one matched request: path captures, parameters, body

 private:
  query::Engine* engine_;      // not owned
  query::History* history_;    // not owned
  RouteLatencies* latencies_;  // not owned
  AccessPolicy access_;
  WorkspaceBackend workspace_;
  storage::Store* store_;  // not owned; may be null
  std::atomic<bool> shutting_down_{false};
};

}  // namespace contextd::server
