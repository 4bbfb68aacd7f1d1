#include "server/history/pega.h"

#include <cstdio>

#include "query/history_fields.h"
#include "query/timestamp.h"
#include "server/api/json.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using query::HistoryField;
using query::HistoryFieldOf;
using query::HistoryKind;
using storage::Interaction;
using storage::Value;

// The Pega name of a text member (query/history_fields.h).
const char* Pega(std::string Interaction::*member) { return HistoryFieldOf(member).pega; }

// The CaptureResponse V3 name of the customer; V2 and CustomerOfferHistory use the table's.
constexpr char kSubjectId[] = "SubjectID";
// The CustomerOfferHistory field derived from the action: /Issue/Group/Name; not stored.
constexpr char kIdentifier[] = "Identifier";

absl::Status Required(std::string_view field) {
  return absl::InvalidArgumentError(std::string(field) + " is required");
}

constexpr TextRule kPegaText{Naming::kBare, query::kMaxHistoryTextBytes};

// A string member; "" when absent.
absl::StatusOr<std::string> OptionalText(const Value& object, std::string_view field) {
  return TextMember(object.object, field, kPegaText);
}

absl::StatusOr<std::string> RequiredText(const Value& object, std::string_view field) {
  ASSIGN_OR_RETURN(std::string text, OptionalText(object, field));
  if (text.empty()) return Required(field);
  return text;
}

// The Pega result fields with a place in the model (the table's Pega names, SubjectID) or
// derived from it (Identifier).
bool IsModelField(std::string_view name) {
  if (name == kIdentifier || name == kSubjectId) return true;
  for (const HistoryField& f : query::kHistoryFields) {
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
  RETURN_IF_ERROR(ObjectMembers(body).status());
  const bool v3 = version == CaptureVersion::kV3;
  ASSIGN_OR_RETURN(std::string container,
                   v3 ? RequiredText(body, "ContainerName") : OptionalText(body, "ContainerName"));
  ASSIGN_OR_RETURN(std::string customer, v3 ? OptionalText(body, kSubjectId)
                                            : RequiredText(body, Pega(&Interaction::customer_id)));
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
    RETURN_IF_ERROR(ObjectMembers(result, "RankedResults: every result").status());
    storage::Interaction x;
    x.time_ms = now_ms;
    x.customer_id = customer;
    std::string result_context = context;
    if (v3) {
      ASSIGN_OR_RETURN(std::string subject, OptionalText(result, kSubjectId));
      if (!subject.empty()) x.customer_id = subject;
      if (x.customer_id.empty()) return Required(kSubjectId);
      ASSIGN_OR_RETURN(std::string own_context, OptionalText(result, "ContextName"));
      if (!own_context.empty()) result_context = own_context;
      if (result_context.empty()) return Required("ContextName");
    }
    for (auto member :
         {&Interaction::action_name, &Interaction::action_issue, &Interaction::action_group}) {
      ASSIGN_OR_RETURN(x.*member, RequiredText(result, Pega(member)));
    }
    const char* interaction_id = Pega(&Interaction::pega_interaction_id);
    const Value* id = storage::FindField(result.object, interaction_id);
    if (id == nullptr || (id->kind == Value::Kind::kString && id->string_value.empty())) {
      return Required(interaction_id);
    }
    ASSIGN_OR_RETURN(x.pega_interaction_id, query::PegaInteractionId(interaction_id, *id));
    for (const HistoryField& f : query::kHistoryFields) {
      if (f.text == nullptr || *f.pega == '\0' || f.text == &Interaction::customer_id ||
          f.text == &Interaction::pega_interaction_id || f.text == &Interaction::action_name ||
          f.text == &Interaction::action_issue || f.text == &Interaction::action_group) {
        continue;
      }
      ASSIGN_OR_RETURN(x.*(f.text), OptionalText(result, f.pega));
    }
    ASSIGN_OR_RETURN(x.direction, query::Direction(Pega(&Interaction::direction), x.direction));
    ASSIGN_OR_RETURN(std::string channel,
                     OptionalText(result, HistoryFieldOf(HistoryKind::kChannel).pega));
    x.channel = query::CanonicalChannel(channel);
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
  RETURN_IF_ERROR(ObjectMembers(body).status());
  return RequiredText(body, Pega(&Interaction::customer_id));
}

std::string RenderOfferHistory(const std::vector<storage::Interaction>& records) {
  std::string out;
  out.reserve(32 + records.size() * 320);
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("OfferHistory");
  w.BeginArray();
  // CustomerOfferHistory lists the action first, then the outcome (not the customer or the
  // campaign: CaptureResponse takes those in only).
  auto text = [&w](const storage::Interaction& x, std::string Interaction::*member) {
    w.Key(Pega(member));
    w.String(x.*member);
  };
  for (const storage::Interaction& x : records) {
    const query::ChannelName* channel = query::FindChannel(x.channel);
    w.BeginObject();
    text(x, &Interaction::action_name);
    text(x, &Interaction::action_issue);
    text(x, &Interaction::action_group);
    w.Key(HistoryFieldOf(HistoryKind::kChannel).pega);
    w.String(channel != nullptr ? channel->pega : x.channel);
    text(x, &Interaction::direction);
    text(x, &Interaction::pega_interaction_id);
    text(x, &Interaction::external_id);
    w.Key(HistoryFieldOf(HistoryKind::kTime).pega);
    w.String(FormatPegaTime(x.time_ms));
    text(x, &Interaction::outcome);
    text(x, &Interaction::behaviour);
    w.Key(kIdentifier);
    w.String("/" + x.action_issue + "/" + x.action_group + "/" + x.action_name);
    if (!x.negotiation_actions.empty()) {
      w.Key(HistoryFieldOf(HistoryKind::kActions).pega);
      w.BeginArray();
      for (const std::string& name : x.negotiation_actions) {
        w.BeginObject();
        w.Key(Pega(&Interaction::action_name));
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
