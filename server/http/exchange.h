#pragma once

// What the HTTP transport exchanges with the service behind it: a request free of any HTTP
// library type, its reply, and the interface the transport serves requests through. The
// transport knows no route and no dialect.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace contextd::server {

struct ApiRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // raw origin-form target, still percent-encoded
  std::string_view body;
  // The ContactCenterId header, if the request has one.
  std::optional<std::string> tenant_header;
  // The tenant the request acts in ("" is the default tenant): set by the router from the
  // header and the caller's key before a handler runs.
  std::string tenant;
  int64_t now_ms = 0;
  // The client's address (the TCP peer, "127.0.0.1", "::1"): failed authentications are
  // throttled by it.
  std::string_view peer;  // not owned
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

struct ApiResponse {
  // Sends the final reply of a held request; callable from any thread, once (later calls
  // are ignored). Returns false when nothing was sent (the client is gone, or it was
  // completed before), so the caller can keep what the reply would have carried.
  using Complete = std::function<bool(ApiResponse)>;

  int status = 200;
  std::string body;               // JSON (or plain text); empty for body-less replies
  std::string_view content_type;  // "" for JSON; else a static media type ("text/plain", ...)
  std::string allow;              // for 405: the methods the path accepts, comma-separated
  int route = -1;                 // index of the route that served it (RequestHandler::RouteName)
  bool wrote = false;             // a successful write: acknowledge it only once durable
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  // Set for a reply that is not ready yet (a CometD connect held until a message or a
  // timeout): the HTTP layer calls hold(complete, false) once the request is parked, and
  // hold(complete, true) when the reply must be completed at once (the client sent a next
  // request on the connection). The other fields are unused then.
  std::function<void(Complete, bool now)> hold;
};

// The service the transport serves.
// Thread-safety: every method may be called from any reactor thread at once.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // The reply to one framed request. Never throws.
  virtual ApiResponse Handle(const ApiRequest& request) = 0;

  // The largest request body the route of (method, target) takes, at most `server_max`.
  virtual size_t MaxBodyBytes(std::string_view method, std::string_view target,
                              size_t server_max) const = 0;

  // The reply for a failure the transport meets itself, before or after Handle (a framing
  // error 400, a body over the limit 413, a write that could not be made durable 503), in
  // the shape of the API of `route` (ApiResponse::route, after Handle), else of the API that
  // `target` ("" when unknown) belongs to.
  virtual ApiResponse TransportError(int route, std::string_view target, int http_status,
                                     std::string_view message) const = 0;

  // "METHOD pattern" of route `route` (ApiResponse::route), or "" for -1.
  virtual std::string_view RouteName(int route) const = 0;

  // The server is stopping: readiness probes fail from now on.
  virtual void SetShuttingDown() = 0;
};

}  // namespace contextd::server
