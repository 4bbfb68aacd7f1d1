#include "server/http/http1.h"

#include <algorithm>
#include <cctype>

#include "query/text.h"

namespace contextd::server::http1 {
namespace {

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// True if the comma-separated header value lists `token` (case-insensitively).
bool HasToken(std::string_view value, std::string_view token) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = std::min(value.find(',', pos), value.size());
    std::string_view item = value.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (query::EqualsIgnoreCase(item, token)) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

ChunkDecoder::State ChunkDecoder::Feed(std::string_view wire, size_t max_body, HeadError* error) {
  while (true) {
    const size_t eol = wire.find("\r\n", pos_);
    if (eol == std::string_view::npos) {
      if (wire.size() - pos_ > kMaxLine) return Fail(error, 400, "chunk line too long");
      return State::kMore;
    }
    std::string_view line = wire.substr(pos_, eol - pos_);
    if (in_trailers_) {
      pos_ = eol + 2;
      if (line.empty()) return State::kDone;
      if ((trailer_bytes_ += line.size()) > kMaxLine) {
        return Fail(error, 400, "chunked trailers too long");
      }
      continue;
    }
    line = line.substr(0, std::min(line.find(';'), line.size()));  // extensions ignored
    if (line.empty() || line.size() > 15 ||
        line.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
      return Fail(error, 400, "malformed chunk size");
    }
    const uint64_t size = std::stoull(std::string(line), nullptr, 16);
    if (size > max_body || body_.size() + size > max_body) {
      return Fail(error, 413, "request body larger than " + std::to_string(max_body) + " bytes");
    }
    if (size == 0) {
      in_trailers_ = true;
      pos_ = eol + 2;
      continue;
    }
    if (wire.size() < eol + 2 + size + 2) return State::kMore;
    if (wire.substr(eol + 2 + size, 2) != "\r\n") {
      return Fail(error, 400, "chunk data not followed by CRLF");
    }
    body_.append(wire.substr(eol + 2, size));
    pos_ = eol + 2 + size + 2;
  }
}

std::optional<HeadError> ParseRequestLine(std::string_view line, RequestHead* head) {
  static constexpr std::string_view kMethods[] = {"OPTIONS", "GET",    "POST",  "HEAD",   "PUT",
                                                  "PATCH",   "DELETE", "TRACE", "CONNECT"};
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HeadError{400, "malformed request line"};
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.0") {
    head->http10 = true;
    head->close = true;  // unless it asks for keep-alive
  } else if (version != "HTTP/1.1") {
    return HeadError{505, "only HTTP/1.0 and HTTP/1.1 are supported"};
  }
  bool known = false;
  for (std::string_view m : kMethods) known = known || m == method;
  if (!known) return HeadError{501, "unsupported HTTP method"};
  if (target.empty() || target.front() != '/') {
    return HeadError{400, "request target must be an absolute path"};
  }
  if (target.size() > kMaxTargetBytes) return HeadError{414, "request target longer than 8 KiB"};
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return HeadError{400, "request target has invalid characters"};
  }
  head->method = std::string(method);
  head->target = std::string(target);
  return std::nullopt;
}

// Chunked bodies are decoded by ChunkDecoder, never by Pistache (which reads chunk sizes with
// strtol, upstream issue #1251).
std::optional<HeadError> ParseHeaders(std::string_view block, size_t max_body, RequestHead* head) {
  std::optional<uint64_t> content_length;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = std::min(block.find("\r\n", pos), block.size());
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return HeadError{400, "malformed header line"};
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    // A bare CR or LF (or a NUL) inside a field value is refused, not read as a line break
    // (RFC 9110 5.5, RFC 9112 2.2): a proxy that splits there would see other headers.
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return HeadError{400, "malformed header line"};
    }
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (query::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (!query::EqualsIgnoreCase(value, "chunked")) {
        return HeadError{501, "only the chunked transfer coding is supported"};
      }
      head->chunked = true;
    } else if (query::EqualsIgnoreCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return HeadError{400, "invalid Content-Length"};
      }
      uint64_t n = std::stoull(std::string(value));
      if (content_length && *content_length != n) {
        return HeadError{400, "conflicting Content-Length headers"};
      }
      content_length = n;
    } else if (query::EqualsIgnoreCase(name, "Connection")) {
      if (HasToken(value, "close")) head->close = true;
      if (HasToken(value, "keep-alive")) head->close = false;
    } else if (query::EqualsIgnoreCase(name, "Expect")) {
      if (!query::EqualsIgnoreCase(value, "100-continue")) {
        return HeadError{417, "only 'Expect: 100-continue' is supported"};
      }
      head->expect_continue = true;
    } else if (query::EqualsIgnoreCase(name, "ContactCenterId")) {
      if (head->tenant) return HeadError{400, "ContactCenterId header given more than once"};
      if (value.size() > kMaxTenantBytes) return HeadError{400, "ContactCenterId header too long"};
      head->tenant = std::string(value);
    } else {
      if (query::EqualsIgnoreCase(name, "Host")) {
        // RFC 9112 3.2: a request with more than one Host field line is a 400.
        for (const auto& header : head->headers) {
          if (header.first == "host") return HeadError{400, "Host header given more than once"};
        }
      }
      for (std::string_view passed : kPassedHeaders) {
        if (query::EqualsIgnoreCase(name, passed)) head->headers.emplace_back(passed, value);
      }
    }
  }
  if (head->chunked && content_length) {
    // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and the connection closes
    // after the reply (proxies such as Prism forward both).
    content_length.reset();
    head->close = true;
  }
  if (content_length && *content_length > max_body) {
    return HeadError{413, "request body larger than " + std::to_string(max_body) + " bytes"};
  }
  head->content_length = content_length.value_or(0);
  return std::nullopt;
}

}  // namespace contextd::server::http1
