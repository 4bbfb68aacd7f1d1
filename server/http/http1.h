#pragma once

// HTTP/1.x request framing as pure functions of the bytes received: the request line, the
// header block and chunked bodies. The connections (http_server.cc) call them; they know no
// socket and no dialect, so they are unit tested (tests/server/http/http1_test.cc) and fuzzed
// (tests/fuzz/fuzz_http1.cc) on their own.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace contextd::server::http1 {

inline constexpr size_t kMaxHeadBytes = 64 * 1024;   // request line and headers
inline constexpr size_t kMaxTargetBytes = 8 * 1024;  // the request target
inline constexpr size_t kMaxTenantBytes = 256;       // the ContactCenterId header

// An error detected while framing a request; the connection is closed after the reply.
struct HeadError {
  int status;
  std::string message;
};

// What contextd needs of a request head. Pistache's parser is not used: its typed header
// parsers reject ordinary headers (a Java client's default Accept, odd Cookie or Date
// values), it reserve()s whatever Content-Length says (engineering notes 1.3), keeps no raw
// query string (so repeated parameters cannot be seen), and drops pipelined requests
// (upstream issue #1034).
struct RequestHead {
  size_t head_bytes = 0;  // through the blank line
  std::string method;
  std::string target;
  bool http10 = false;  // HTTP/1.0 (else HTTP/1.1)
  size_t content_length = 0;
  size_t max_body = 0;   // the route's limit (RequestHandler::MaxBodyBytes)
  bool chunked = false;  // Transfer-Encoding: chunked (then content_length is 0)
  bool close = false;    // the client asked to close after this request
  bool expect_continue = false;
  std::optional<std::string> tenant;                         // ContactCenterId
  std::vector<std::pair<std::string, std::string>> headers;  // kPassedHeaders, lower-case names
};

// Request headers handed to the Api (ApiRequest::headers).
inline constexpr std::string_view kPassedHeaders[] = {
    "authorization", "cookie", "x-csrf-token", "upgrade", "host", "x-request-id", "x-api-key"};

// Decodes a chunked request body incrementally, as its bytes arrive. Thread-safety: one thread
// at a time.
class ChunkDecoder {
 public:
  enum class State { kMore, kDone, kError };

  // `wire` holds every body byte received so far (from the end of the head). Returns kDone
  // once the last chunk and the trailers are in (body() and wire_bytes() then hold the
  // result), kError with `error` set for malformed framing or a body over `max_body`.
  State Feed(std::string_view wire, size_t max_body, HeadError* error);

  std::string& body() { return body_; }
  size_t wire_bytes() const { return pos_; }

 private:
  static constexpr size_t kMaxLine = 8192;

  State Fail(HeadError* error, int status, std::string message) {
    *error = {status, std::move(message)};
    return State::kError;
  }

  size_t pos_ = 0;  // wire bytes consumed
  bool in_trailers_ = false;
  size_t trailer_bytes_ = 0;
  std::string body_;
};

// Validates the request line ("METHOD SP target SP HTTP/x.y") into head->method, target and
// http10 (an HTTP/1.0 request closes unless it asks for keep-alive). Returns the error to
// answer: 400 malformed, 414 target too long, 501 unknown method, 505 other versions.
std::optional<HeadError> ParseRequestLine(std::string_view line, RequestHead* head);

// Validates the header lines (between the request line and the blank line, CRLF-separated)
// into `head`. Hostile framing (a negative, huge or conflicting Content-Length; a body over
// `max_body`; unsupported Transfer-Encoding or Expect) is refused here with its status.
std::optional<HeadError> ParseHeaders(std::string_view block, size_t max_body, RequestHead* head);

}  // namespace contextd::server::http1
