#include "server/history/history_fields.h"

#include <charconv>

#include "query/text.h"
#include "query/timestamp.h"
#include "server/api/json.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using storage::Value;

absl::Status Bad(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError("field '" + std::string(field) + "': " + std::string(why));
}

absl::StatusOr<std::string> Text(std::string_view field, const Value& v) {
  if (v.kind != Value::Kind::kString) return Bad(field, "expected a string");
  if (v.string_value.size() > kMaxHistoryTextBytes) {
    return Bad(field, "longer than " + std::to_string(kMaxHistoryTextBytes) + " bytes");
  }
  return v.string_value;
}

}  // namespace

std::string CanonicalChannel(std::string_view name) {
  for (const ChannelName& c : kChannels) {
    if (query::EqualsIgnoreCase(name, c.canonical) || query::EqualsIgnoreCase(name, c.pega)) {
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

absl::StatusOr<std::string> PegaInteractionId(std::string_view field, const Value& v) {
  if (v.kind == Value::Kind::kInt) return std::to_string(v.int_value);
  if (v.kind != Value::Kind::kString) {
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
  if (query::EqualsIgnoreCase(text, "inbound")) return std::string("Inbound");
  if (query::EqualsIgnoreCase(text, "outbound")) return std::string("Outbound");
  return Bad(field, "expected Inbound or Outbound");
}

absl::StatusOr<storage::Interaction> ParseNativeInteraction(const Value& json,
                                                            storage::TimeMs now_ms) {
  if (json.kind != Value::Kind::kObject) {
    return absl::InvalidArgumentError("an interaction must be a JSON object");
  }
  storage::Interaction x;
  x.time_ms = now_ms;
  for (const auto& [name, v] : json.object) {
    const HistoryField* field = nullptr;
    for (const HistoryField& f : kHistoryFields) {
      if (name == f.native) field = &f;
    }
    if (field == nullptr) return Bad(name, "unknown field");
    if (field->text != nullptr) {
      ASSIGN_OR_RETURN(x.*(field->text), Text(name, v));
    } else if (field->number != nullptr) {
      if (v.kind != Value::Kind::kInt) return Bad(name, "expected an integer");
      x.*(field->number) = v.int_value;
    } else if (name == "time") {
      if (v.kind != Value::Kind::kString) return Bad(name, "expected a timestamp string");
      absl::StatusOr<storage::TimeMs> t = query::ParseTimestamp(v.string_value);
      if (!t.ok()) return Bad(name, std::string(t.status().message()));
      x.time_ms = *t;
    } else if (name == "channel") {
      ASSIGN_OR_RETURN(std::string channel, Text(name, v));
      x.channel = CanonicalChannel(channel);
    } else if (name == "negotiation_actions") {
      if (v.kind != Value::Kind::kArray) return Bad(name, "expected an array of strings");
      for (const Value& item : v.array) {
        ASSIGN_OR_RETURN(std::string action, Text(name, item));
        x.negotiation_actions.push_back(std::move(action));
      }
    } else if (name == "attributes") {
      if (v.kind != Value::Kind::kObject) return Bad(name, "expected an object");
      x.attributes = v.object;
    } else {
      return Bad(name, "is set by the server");
    }
  }
  ASSIGN_OR_RETURN(x.direction, Direction("direction", x.direction));
  if (!x.pega_interaction_id.empty()) {
    ASSIGN_OR_RETURN(
        x.pega_interaction_id,
        PegaInteractionId("pega_interaction_id", Value::String(x.pega_interaction_id)));
  }
  return x;
}

std::string RenderNativeInteractions(const std::vector<storage::Interaction>& records) {
  std::string out;
  out.reserve(64 + records.size() * 256);
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("interactions");
  w.BeginArray();
  for (const storage::Interaction& x : records) {
    w.BeginObject();
    w.Key("interaction_id");
    w.Uint(x.interaction_id);
    w.Key("time");
    w.String(query::FormatTimestamp(x.time_ms));
    if (!x.channel.empty()) {
      w.Key("channel");
      w.String(x.channel);
    }
    for (const HistoryField& f : kHistoryFields) {
      if (f.text != nullptr && !(x.*(f.text)).empty()) {
        w.Key(f.native);
        w.String(x.*(f.text));
      } else if (f.number != nullptr && (x.*(f.number)).has_value()) {
        w.Key(f.native);
        w.Int(*(x.*(f.number)));
      }
    }
    if (!x.negotiation_actions.empty()) {
      w.Key("negotiation_actions");
      w.BeginArray();
      for (const std::string& a : x.negotiation_actions) w.String(a);
      w.EndArray();
    }
    if (!x.attributes.empty()) {
      w.Key("attributes");
      w.Value(Value::Object(x.attributes));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace contextd::server
