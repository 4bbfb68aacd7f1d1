#include "server/history/native.h"

#include "query/history_fields.h"
#include "query/timestamp.h"
#include "server/api/json.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using query::HistoryField;
using query::HistoryKind;
using storage::Value;

absl::Status Bad(std::string_view field, std::string_view why) {
  return MemberError(Naming::kQuoted, field, why);
}

constexpr TextRule kNativeText{Naming::kQuoted, query::kMaxHistoryTextBytes};

}  // namespace

absl::StatusOr<storage::Interaction> ParseNativeInteraction(const Value& json,
                                                            storage::TimeMs now_ms) {
  RETURN_IF_ERROR(ObjectMembers(json, "an interaction").status());
  storage::Interaction x;
  x.time_ms = now_ms;
  for (const auto& [name, v] : json.object) {
    const HistoryField* field = nullptr;
    for (const HistoryField& f : query::kHistoryFields) {
      if (name == f.native) field = &f;
    }
    if (field == nullptr) return Bad(name, "unknown field");
    switch (field->kind) {
      case HistoryKind::kMember:
        if (field->text != nullptr) {
          ASSIGN_OR_RETURN(x.*(field->text), Text(v, name, kNativeText));
        } else {
          if (v.kind != Value::Kind::kInt) return Bad(name, "expected an integer");
          x.*(field->number) = v.int_value;
        }
        break;
      case HistoryKind::kId:
        return Bad(name, "is set by the server");
      case HistoryKind::kTime: {
        if (v.kind != Value::Kind::kString) return Bad(name, "expected a timestamp string");
        absl::StatusOr<storage::TimeMs> t = query::ParseTimestamp(v.string_value);
        if (!t.ok()) return Bad(name, std::string(t.status().message()));
        x.time_ms = *t;
        break;
      }
      case HistoryKind::kChannel: {
        ASSIGN_OR_RETURN(std::string channel, Text(v, name, kNativeText));
        x.channel = query::CanonicalChannel(channel);
        break;
      }
      case HistoryKind::kActions:
        if (v.kind != Value::Kind::kArray) return Bad(name, "expected an array of strings");
        for (const Value& item : v.array) {
          ASSIGN_OR_RETURN(std::string action, Text(item, name, kNativeText));
          x.negotiation_actions.push_back(std::move(action));
        }
        break;
      case HistoryKind::kAttributes:
        if (v.kind != Value::Kind::kObject) return Bad(name, "expected an object");
        x.attributes = v.object;
        break;
    }
  }
  const char* direction = query::HistoryFieldOf(&storage::Interaction::direction).native;
  ASSIGN_OR_RETURN(x.direction, query::Direction(direction, x.direction));
  if (!x.pega_interaction_id.empty()) {
    ASSIGN_OR_RETURN(x.pega_interaction_id,
                     query::PegaInteractionId(
                         query::HistoryFieldOf(&storage::Interaction::pega_interaction_id).native,
                         Value::String(x.pega_interaction_id)));
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
    for (const HistoryField& f : query::kHistoryFields) {
      switch (f.kind) {
        case HistoryKind::kMember:
          if (f.text != nullptr && !(x.*(f.text)).empty()) {
            w.Key(f.native);
            w.String(x.*(f.text));
          } else if (f.number != nullptr && (x.*(f.number)).has_value()) {
            w.Key(f.native);
            w.Int(*(x.*(f.number)));
          }
          break;
        case HistoryKind::kId:
          w.Key(f.native);
          w.Uint(x.interaction_id);
          break;
        case HistoryKind::kTime:
          w.Key(f.native);
          w.String(query::FormatTimestamp(x.time_ms));
          break;
        case HistoryKind::kChannel:
          if (!x.channel.empty()) {
            w.Key(f.native);
            w.String(x.channel);
          }
          break;
        case HistoryKind::kActions:
          if (!x.negotiation_actions.empty()) {
            w.Key(f.native);
            w.BeginArray();
            for (const std::string& a : x.negotiation_actions) w.String(a);
            w.EndArray();
          }
          break;
        case HistoryKind::kAttributes:
          if (!x.attributes.empty()) {
            w.Key(f.native);
            w.Value(Value::Object(x.attributes));
          }
          break;
      }
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace contextd::server
