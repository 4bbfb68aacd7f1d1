#include "server/http/uri.h"

#include "server/http/utf8.h"

namespace contextd::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError("invalid percent-encoding in '" + std::string(in) + "'");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!IsValidUtf8(out)) {
    return absl::InvalidArgumentError("percent-encoding decodes to invalid UTF-8 in '" +
                                      std::string(in) + "'");
  }
  return out;
}

absl::StatusOr<Target> ParseTarget(std::string_view raw) {
  Target t;
  if (size_t hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
  std::string_view path = raw;
  std::string_view query;
  if (size_t q = raw.find('?'); q != std::string_view::npos) {
    path = raw.substr(0, q);
    query = raw.substr(q + 1);
  }
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    std::string_view seg =
        path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (!seg.empty()) {
      absl::StatusOr<std::string> decoded = PercentDecode(seg, false);
      if (!decoded.ok()) return decoded.status();
      t.segments.push_back(std::move(*decoded));
    }
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view pair =
        query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      absl::StatusOr<std::string> key = PercentDecode(pair.substr(0, eq), true);
      if (!key.ok()) return key.status();
      std::string value;
      if (eq != std::string_view::npos) {
        absl::StatusOr<std::string> v = PercentDecode(pair.substr(eq + 1), true);
        if (!v.ok()) return v.status();
        value = std::move(*v);
      }
      t.params.emplace_back(std::move(*key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return t;
}

}  // namespace contextd::server
