#include "server/history/pega.h"

#include <cstdio>

#include "query/timestamp.h"
#include "server/api/json.h"
#include "server/history/history_fields.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using storage::Value;

absl::Status Required(std::string_view field) {
  return absl::InvalidArgumentError(std::string(field) + " is required");
}

// A string member; "" when absent. InvalidArgument for another type.
absl::StatusOr<std::string> OptionalText(const Value& object, std::string_view field) {
  const Value* v = storage::FindField(object.object, field);
  if (v == nullptr || v->kind == Value::Kind::kNull) return std::string();
  if (v->kind != Value::Kind::kString) {
    return absl::InvalidArgumentError(std::string(field) + ": expected a string");
  }
  if (v->string_value.size() > kMaxHistoryTextBytes) {
    return absl::InvalidArgumentError(std::string(field) + ": longer than " +
                                      std::to_string(kMaxHistoryTextBytes) + " bytes");
  }
  return v->string_value;
}

absl::StatusOr<std::string> RequiredText(const Value& object, std::string_view field) {
  ASSIGN_OR_RETURN(std::string text, OptionalText(object, field));
  if (text.empty()) return Required(field);
  return text;
}

// The Pega result fields with a place in the model besides the table's text members.
bool IsModelField(std::string_view name) {
  if (name == "Identifier" || name == "SubjectID" || name == "InteractionID") return true;
  for (const HistoryField& f : kHistoryFields) {
    if (name == f.pega) return true;
  }
  return false;
}

}  // namespace

std::string FormatPegaTime(storage::TimeMs time_ms) {
  const query::CivilTime c = query::ToCivil(time_ms);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02uT%02u%02u%02u.%03u GMT",
                static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second,
                c.millis);
  return buf;
}

absl::StatusOr<std::vector<storage::Interaction>> ParseCaptureResponse(const Value& body,
                                                                       CaptureVersion version,
                                                                       storage::TimeMs now_ms) {
  if (body.kind != Value::Kind::kObject) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  const bool v3 = version == CaptureVersion::kV3;
  ASSIGN_OR_RETURN(std::string container,
                   v3 ? RequiredText(body, "ContainerName") : OptionalText(body, "ContainerName"));
  ASSIGN_OR_RETURN(std::string customer,
                   v3 ? OptionalText(body, "SubjectID") : RequiredText(body, "CustomerID"));
  std::string context;
  if (v3) {
    ASSIGN_OR_RETURN(context, OptionalText(body, "ContextName"));
  }

  const Value* results = storage::FindField(body.object, "RankedResults");
  if (results == nullptr || results->kind != Value::Kind::kArray || results->array.empty()) {
    return absl::InvalidArgumentError("RankedResults is required: a non-empty array");
  }
  std::vector<storage::Interaction> out;
  for (const Value& result : results->array) {
    if (result.kind != Value::Kind::kObject) {
      return absl::InvalidArgumentError("RankedResults: every result must be an object");
    }
    storage::Interaction x;
    x.time_ms = now_ms;
    x.customer_id = customer;
    std::string result_context = context;
    if (v3) {
      ASSIGN_OR_RETURN(std::string subject, OptionalText(result, "SubjectID"));
      if (!subject.empty()) x.customer_id = subject;
      if (x.customer_id.empty()) return Required("SubjectID");
      ASSIGN_OR_RETURN(std::string own_context, OptionalText(result, "ContextName"));
      if (!own_context.empty()) result_context = own_context;
      if (result_context.empty()) return Required("ContextName");
    }
    ASSIGN_OR_RETURN(x.action_name, RequiredText(result, "Name"));
    ASSIGN_OR_RETURN(x.action_issue, RequiredText(result, "Issue"));
    ASSIGN_OR_RETURN(x.action_group, RequiredText(result, "Group"));
    const Value* id = storage::FindField(result.object, "InteractionID");
    if (id == nullptr || (id->kind == Value::Kind::kString && id->string_value.empty())) {
      return Required("InteractionID");
    }
    ASSIGN_OR_RETURN(x.pega_interaction_id, PegaInteractionId("InteractionID", *id));
    for (const HistoryField& f : kHistoryFields) {
      if (f.text == nullptr || *f.pega == '\0' || std::string_view(f.pega) == "CustomerID" ||
          std::string_view(f.pega) == "InteractionID") {
        continue;
      }
      ASSIGN_OR_RETURN(x.*(f.text), OptionalText(result, f.pega));
    }
    ASSIGN_OR_RETURN(x.direction, Direction("Direction", x.direction));
    ASSIGN_OR_RETURN(std::string channel, OptionalText(result, "Channel"));
    x.channel = CanonicalChannel(channel);
    if (!container.empty()) x.attributes.emplace_back("ContainerName", Value::String(container));
    if (!result_context.empty()) {
      x.attributes.emplace_back("ContextName", Value::String(result_context));
    }
    for (const auto& [name, value] : result.object) {
      if (!IsModelField(name) && name != "ContextName") x.attributes.emplace_back(name, value);
    }
    out.push_back(std::move(x));
  }
  return out;
}

absl::StatusOr<std::string> ParseOfferHistoryRequest(const Value& body) {
  if (body.kind != Value::Kind::kObject) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  return RequiredText(body, "CustomerID");
}

std::string RenderOfferHistory(const std::vector<storage::Interaction>& records) {
  std::string out;
  out.reserve(32 + records.size() * 320);
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("OfferHistory");
  w.BeginArray();
  for (const storage::Interaction& x : records) {
    const ChannelName* channel = FindChannel(x.channel);
    w.BeginObject();
    w.Key("Name");
    w.String(x.action_name);
    w.Key("Issue");
    w.String(x.action_issue);
    w.Key("Group");
    w.String(x.action_group);
    w.Key("Channel");
    w.String(channel != nullptr ? channel->pega : x.channel);
    w.Key("Direction");
    w.String(x.direction);
    w.Key("InteractionID");
    w.String(x.pega_interaction_id);
    w.Key("ExternalID");
    w.String(x.external_id);
    w.Key("OutcomeTime");
    w.String(FormatPegaTime(x.time_ms));
    w.Key("Outcome");
    w.String(x.outcome);
    w.Key("Behaviour");
    w.String(x.behaviour);
    w.Key("Identifier");
    w.String("/" + x.action_issue + "/" + x.action_group + "/" + x.action_name);
    if (!x.negotiation_actions.empty()) {
      w.Key("OfferHistory");
      w.BeginArray();
      for (const std::string& name : x.negotiation_actions) {
        w.BeginObject();
        w.Key("Name");
        w.String(name);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

std::string RenderPegaStatus(std::string_view status, std::string_view message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("Status");
  w.String(status);
  w.Key("Message");
  w.String(message);
  w.EndObject();
  return out;
}

}  // namespace contextd::server
