#include "server/api/dialect.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/cord.h"
#include "server/api/json.h"

namespace contextd::server {

namespace {

constexpr char kHttpStatusUrl[] = "contextd/http-status";  // payload: the decimal status

absl::StatusCode CodeOfHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
    case 417:
      return absl::StatusCode::kInvalidArgument;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
      return absl::StatusCode::kFailedPrecondition;
    case 413:
    case 414:
    case 429:
    case 431:
      return absl::StatusCode::kResourceExhausted;
    case 501:
    case 505:
      return absl::StatusCode::kUnimplemented;
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

ApiResponse NativeError(const absl::Status& status) {
  ApiResponse r;
  r.status = CommonHttpStatus(status);
  JsonWriter w(&r.body);
  w.BeginObject();
  w.Key("message");
  w.String(PublicMessage(status));
  w.EndObject();
  return r;
}

}  // namespace

const Dialect kNativeDialect{"contextd", NativeError};

absl::Status ProtocolError(int http_status, std::string_view message) {
  absl::Status s(CodeOfHttpStatus(http_status), absl::string_view(message.data(), message.size()));
  s.SetPayload(kHttpStatusUrl, absl::Cord(std::to_string(http_status)));
  return s;
}

std::optional<int> ProtocolHttpStatus(const absl::Status& status) {
  auto payload = status.GetPayload(kHttpStatusUrl);  // absl::optional in Debian's abseil
  if (!payload) return std::nullopt;
  return std::stoi(std::string(*payload));
}

int CommonHttpStatus(const absl::Status& status) {
  if (std::optional<int> fixed = ProtocolHttpStatus(status)) return *fixed;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 413;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string PublicMessage(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kResourceExhausted:
      return std::string(status.message());
    case absl::StatusCode::kUnimplemented:
      if (ProtocolHttpStatus(status)) return std::string(status.message());
      break;
    case absl::StatusCode::kUnavailable:
      std::fprintf(stderr, "contextd: unavailable: %s\n", status.ToString().c_str());
      return "service unavailable, try again";
    default:
      break;
  }
  std::fprintf(stderr, "contextd: internal error: %s\n", status.ToString().c_str());
  return "internal error";
}

ApiResponse ErrorReply(const Dialect& dialect, const absl::Status& status) {
  ApiResponse r = dialect.error(status);
  if (r.status == 401 && dialect.key_auth)
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"contextd\"");
  // Every 503 is temporary (a full disk, a failed sync, a busy pool, too many connections,
  // a server stopping): the client may retry after a second.
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

ApiResponse RetryLater(const Dialect& dialect, int http_status, std::string_view message,
                       int64_t retry_after_ms) {
  ApiResponse r = ErrorReply(dialect, ProtocolError(http_status, message));
  const int64_t seconds = std::max<int64_t>(1, (retry_after_ms + 999) / 1000);
  std::erase_if(r.headers, [](const auto& h) { return h.first == "Retry-After"; });
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

}  // namespace contextd::server
