#pragma once

// The router: matches a request to its route row, checks the caller may call it, runs the
// handler, and marks a successful write so the transport acknowledges it only once durable.
// It knows no dialect itself: errors take the shape of the matched route's dialect (of the
// path's first segment when no route matches).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "query/access.h"
#include "query/throttle.h"
#include "server/api/route.h"
#include "server/http/exchange.h"

namespace contextd::server {

// Who may call the key-checked routes (Need::kReader, kWriter, kAdmin).
struct AccessPolicy {
  query::Access* access = nullptr;  // not owned; null: no keys (every key check fails)
  // Development only: requests without a key act as an admin of every tenant. The server
  // then listens on a loopback address only.
  bool open = false;
  // Failed key checks, per source address and key id: over budget, a wrong key is answered
  // 429 with Retry-After. A valid key is checked first and always works. Not owned; may be
  // null (no throttling).
  query::AuthThrottle* throttle = nullptr;
};

// Thread-safety: thread-safe once built (handlers must be).
class Api : public RequestHandler {
 public:
  // `fallback` answers paths no route and no dialect prefix knows; `on_shutdown` runs when
  // the server starts stopping. Neither `fallback` nor the rows' dialects are owned.
  Api(std::vector<Route> routes, AccessPolicy access, const Dialect* fallback,
      std::function<void()> on_shutdown = {});
  Api(const Api&) = delete;  // the compiled patterns view into the rows
  Api& operator=(const Api&) = delete;

  ApiResponse Handle(const ApiRequest& request) override;
  // The route's declared BodyLimit: 8 KiB (kNone, and paths no route takes), 256 KiB
  // (kEvent), `server_max` (kBulk); never above `server_max`.
  size_t MaxBodyBytes(std::string_view method, std::string_view target,
                      size_t server_max) const override;
  ApiResponse TransportError(int route, std::string_view target, int http_status,
                             std::string_view message) const override;
  std::string_view RouteName(int route) const override;
  void SetShuttingDown() override {
    if (on_shutdown_) on_shutdown_();
  }

  // "METHOD pattern" of every route, in the order ApiResponse::route indexes.
  std::vector<std::string> RouteNames() const;
  // The rules route `route` (an index into RouteNames) declares.
  const Rules& RouteRules(size_t route) const { return routes_[route].route.rules; }

 private:
  struct Compiled {
    Route route;
    std::string name;                     // "METHOD pattern"
    std::vector<std::string_view> parts;  // the pattern's segments (views into route.pattern)
  };
  // The best-matching route for (method, segments): nullptr when none takes the path
  // (`known_path` false) or none at the most specific level takes the method (`allow` lists
  // the methods that do).
  const Compiled* Match(std::string_view method, const std::vector<std::string>& segments,
                        bool* known_path, std::string* allow) const;
  // The dialect whose prefix is the target's first path segment, else the fallback.
  const Dialect& DialectOfTarget(std::string_view target) const;
  // Sets `retry_after_ms` when a failed key check is throttled.
  absl::StatusOr<std::string> Authorize(const Route& route, const ApiRequest& request,
                                        int64_t* retry_after_ms) const;

  std::vector<Compiled> routes_;
  AccessPolicy access_;
  const Dialect* fallback_;
  std::vector<const Dialect*> dialects_;  // of the routes, each once
  std::function<void()> on_shutdown_;
};

}  // namespace contextd::server
