#pragma once

// An API dialect decides how failures look to its clients. Each dialect has ONE mapping from
// a status to its reply (HTTP status and body); handlers, the router (unknown path, wrong
// method, refused key) and the transport (framing, body size, a write not made durable) all
// answer failures through it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "server/http/exchange.h"

namespace contextd::server {

struct Dialect {
  std::string_view prefix;  // first path segment of its routes: unknown paths under it get
                            // its error shape ("" for none)
  // The dialect's one status -> reply mapping. Never called with an OK status.
  ApiResponse (*error)(const absl::Status& status);
  // Its clients present API keys: a 401 carries the Bearer challenge (WWW-Authenticate).
  bool key_auth = true;
};

// A failure whose HTTP status the protocol fixes: no route for the path (404), a method the
// path does not take (405), a framing error (400, 414, 417, 501, 505), a body over the
// route's limit (413), a write that could not be made durable (503), too many failed
// authentications (429). Its status code is the
// nearest one (405 FailedPrecondition, 413 ResourceExhausted, ...); the HTTP status rides
// along for the dialects that answer with it.
absl::Status ProtocolError(int http_status, std::string_view message);
std::optional<int> ProtocolHttpStatus(const absl::Status& status);

// The HTTP status contextd's own API gives a status: a protocol error's own; InvalidArgument,
// FailedPrecondition, AlreadyExists, OutOfRange 400; Unauthenticated 401; PermissionDenied
// 403; NotFound 404; ResourceExhausted 413; Unavailable 503; anything else 500.
int CommonHttpStatus(const absl::Status& status);

// The message a client may see: the status's own, except that Unavailable and unexpected
// errors (Internal, DataLoss, Unknown, ...) are logged and answered with a generic text.
std::string PublicMessage(const absl::Status& status);

// contextd's own API (/contextd/v1, the probes): {"message":...}; unknown ids are 404.
extern const Dialect kNativeDialect;

// dialect.error(status), with the Bearer challenge on a 401 of a key-authenticated dialect
// and `Retry-After: 1` on a 503.
ApiResponse ErrorReply(const Dialect& dialect, const absl::Status& status);

// A refusal to retry later, in the dialect's shape: `http_status` 429 (too many failed
// authentications) or 503 (busy), with `Retry-After` in whole seconds (at least 1).
ApiResponse RetryLater(const Dialect& dialect, int http_status, std::string_view message,
                       int64_t retry_after_ms);

}  // namespace contextd::server
