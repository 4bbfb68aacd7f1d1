#include "query/history_fields.h"

#include <charconv>

#include "query/text.h"

namespace contextd::query {
namespace {

absl::Status Bad(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError("field '" + std::string(field) + "': " + std::string(why));
}

}  // namespace

std::string CanonicalChannel(std::string_view name) {
  for (const ChannelName& c : kChannels) {
    if (EqualsIgnoreCase(name, c.canonical) || EqualsIgnoreCase(name, c.pega)) {
      return c.canonical;
    }
  }
  return std::string(name);
}

const ChannelName* FindChannel(std::string_view canonical) {
  for (const ChannelName& c : kChannels) {
    if (canonical == c.canonical) return &c;
  }
  return nullptr;
}

absl::StatusOr<std::string> PegaInteractionId(std::string_view field, const storage::Value& v) {
  if (v.kind == storage::Value::Kind::kInt) return std::to_string(v.int_value);
  if (v.kind != storage::Value::Kind::kString) {
    return Bad(field, "expected a signed 64-bit decimal (string)");
  }
  const std::string& s = v.string_value;
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return Bad(field, "expected a signed 64-bit decimal, got \"" + s.substr(0, 64) + "\"");
  }
  return std::to_string(n);
}

absl::StatusOr<std::string> Direction(std::string_view field, std::string_view text) {
  if (text.empty()) return std::string();
  if (EqualsIgnoreCase(text, "inbound")) return std::string("Inbound");
  if (EqualsIgnoreCase(text, "outbound")) return std::string("Outbound");
  return Bad(field, "expected Inbound or Outbound");
}

}  // namespace contextd::query
