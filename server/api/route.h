#pragma once

// A route row: what one (method, path pattern) does and the rules it declares. Every rule the
// router and the transport apply to a request is read from its row: who may call it, whether
// its reply waits for the durable sync, how large its body may be, and its error dialect.
// Dialects declare their rows (server/<dialect>/routes.h); server/app.cc puts them together.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "query/service_query.h"
#include "server/api/dialect.h"
#include "server/http/exchange.h"

namespace contextd::server {

// One matched request: what a handler gets besides the dependencies its dialect bound.
struct Call {
  const ApiRequest& request;          // `tenant` is set: the one the caller may act in
  std::vector<std::string> captures;  // path parameters, left to right
  const query::Params& params;        // query parameters, decoded, in order
  const Dialect& dialect;
};

using Handler = std::function<ApiResponse(const Call&)>;

// A handler bound to the one dependency it uses (an engine, the history, ...). `deps` is not
// owned and is only dereferenced when a request is served.
// A null `deps` (a backend this server was built without) makes the route answer 503.
template <typename Deps>
Handler Bind(Deps* deps, ApiResponse (*fn)(Deps&, const Call&)) {
  if (deps == nullptr) {
    return [](const Call& c) {
      return ErrorReply(c.dialect, absl::UnavailableError("this API is not set up"));
    };
  }
  return [deps, fn](const Call& c) { return fn(*deps, c); };
}

// Who may call a route.
enum class Need : uint8_t {
  kReader,   // an API key with role reader or above
  kWriter,   // an API key with role writer or above
  kAdmin,    // an API key with the admin role
  kOpen,     // anyone (probes, the /ui/ page's files): no data behind them
  kSession,  // the Workspace API signs its users in itself
};

// The largest body a route reads.
enum class BodyLimit : uint8_t {
  kNone,   // 8 KiB: the route reads no body
  kEvent,  // 256 KiB: one event, capture, query or Workspace request
  kBulk,   // the server's --max-body-bytes: history ingest (NDJSON)
};

struct Rules {
  Need need;
  bool writes;  // a successful (2xx) reply is sent only once its write is durable
  BodyLimit body;
};

inline constexpr Rules kRead{Need::kReader, false, BodyLimit::kNone};
inline constexpr Rules kQuery{Need::kReader, false, BodyLimit::kEvent};  // a POST that reads
inline constexpr Rules kWrite{Need::kWriter, true, BodyLimit::kEvent};
inline constexpr Rules kRemove{Need::kWriter, true, BodyLimit::kNone};
inline constexpr Rules kBulkWrite{Need::kWriter, true, BodyLimit::kBulk};
inline constexpr Rules kAdminRead{Need::kAdmin, false, BodyLimit::kNone};
inline constexpr Rules kAdminWrite{Need::kAdmin, true, BodyLimit::kEvent};
inline constexpr Rules kAdminRemove{Need::kAdmin, true, BodyLimit::kNone};
inline constexpr Rules kAdminAction{Need::kAdmin, false, BodyLimit::kNone};  // stores nothing
inline constexpr Rules kOpenRead{Need::kOpen, false, BodyLimit::kNone};
inline constexpr Rules kSessionRead{Need::kSession, false, BodyLimit::kNone};
inline constexpr Rules kSessionWrite{Need::kSession, true, BodyLimit::kEvent};
inline constexpr Rules kSessionPoll{Need::kSession, false, BodyLimit::kEvent};  // CometD

struct Route {
  std::string method;
  std::string pattern;  // '/'-separated; ':x' segments capture
  Handler handler;
  const Dialect* dialect;
  Rules rules;
};

inline ApiResponse Json(int http_status, std::string body) {
  ApiResponse r;
  r.status = http_status;
  r.body = std::move(body);
  return r;
}

inline ApiResponse Empty(int http_status) {
  ApiResponse r;
  r.status = http_status;
  return r;
}

// Runs `fn`, turning an error status into its reply in the route's dialect.
template <typename Fn>
ApiResponse Reply(const Call& c, Fn&& fn) {
  absl::StatusOr<ApiResponse> r = fn();
  if (!r.ok()) return ErrorReply(c.dialect, r.status());
  return std::move(*r);
}

}  // namespace contextd::server
