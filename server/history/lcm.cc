#include "server/history/lcm.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "query/history_fields.h"
#include "query/text.h"
#include "query/timestamp.h"
#include "server/api/json.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using query::HistoryFieldOf;
using query::HistoryKind;
using storage::Interaction;
using storage::Value;

constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
constexpr int kMaxMonths = 120;

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

// A member given as a string or an integer, as text; "" when absent or null.
absl::StatusOr<std::string> TextOrNumber(const Value& object, std::string_view field) {
  return TextMember(object.object, field,
                    TextRule{Naming::kBare, query::kMaxHistoryTextBytes, /*integers=*/true});
}

absl::StatusOr<int> SmallInt(const Value& object, std::string_view field, int min, int max) {
  ASSIGN_OR_RETURN(std::string text, TextOrNumber(object, field));
  if (text.empty()) return Invalid(std::string(field) + " is required");
  int n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || n < min || n > max) {
    return Invalid("Invalid " + std::string(field) + ": " + text.substr(0, 32));
  }
  return n;
}

std::string Digits(unsigned v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*u", width, v);
  return buf;
}

// Set once by SetLcmTimeZone before threads start; read-only afterwards.
bool local_zone = false;

// The calendar fields of `time_ms` in the configured zone.
query::CivilTime LcmCivil(storage::TimeMs time_ms) {
  if (!local_zone) return query::ToCivil(time_ms);
  const std::time_t seconds =
      static_cast<std::time_t>(time_ms >= 0 ? time_ms / 1000 : (time_ms - 999) / 1000);
  std::tm tm{};
  if (localtime_r(&seconds, &tm) == nullptr) return query::ToCivil(time_ms);
  query::CivilTime c;
  c.year = tm.tm_year + 1900;
  c.month = static_cast<unsigned>(tm.tm_mon + 1);
  c.day = static_cast<unsigned>(tm.tm_mday);
  c.hour = static_cast<unsigned>(tm.tm_hour);
  c.minute = static_cast<unsigned>(tm.tm_min);
  c.second = static_cast<unsigned>(tm.tm_sec);
  return c;
}

// Opens the CustomerJourney envelope up to its message's callid; the caller adds the rest of
// the message and closes both objects.
void BeginEnvelope(JsonWriter& w, std::string_view callid) {
  w.BeginObject();
  w.Key("channel");
  w.String("LCM");
  w.Key("topic");
  w.String("WebService");
  w.Key("subtopic");
  w.String("CustomerJourney");
  w.Key("message");
  w.BeginObject();
  w.Key("callid");
  w.String(callid);
}

}  // namespace

absl::Status SetLcmTimeZone(const std::string& zone) {
  if (zone == "UTC") return absl::OkStatus();
  if (zone.empty() || zone.find("..") != std::string::npos || zone[0] == '/' ||
      !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + zone)) {
    return absl::InvalidArgumentError("unknown time zone '" + zone + "'");
  }
  setenv("TZ", zone.c_str(), 1);
  tzset();
  local_zone = true;
  return absl::OkStatus();
}

absl::StatusOr<JourneyRequest> ParseJourneyRequest(const Value& body, std::string_view tenant,
                                                   storage::TimeMs now_ms, std::string* callid) {
  RETURN_IF_ERROR(ObjectMembers(body, "the message").status());
  auto member = [&](std::string_view name, std::string_view want) -> absl::Status {
    const Value* v = storage::FindField(body.object, name);
    if (v == nullptr || v->kind != Value::Kind::kString ||
        !query::EqualsIgnoreCase(v->string_value, want)) {
      return Invalid(std::string(name) + ": expected \"" + std::string(want) + "\"");
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(member("channel", "LCM"));
  RETURN_IF_ERROR(member("topic", "WebService"));
  RETURN_IF_ERROR(member("subtopic", "GetCustomerJourney"));
  const Value* data = storage::FindField(body.object, "data");
  if (data == nullptr) return MemberError(Naming::kBare, "data", "is required");
  RETURN_IF_ERROR(ObjectMembers(*data, "data").status());
  JourneyRequest out;
  ASSIGN_OR_RETURN(out.callid, TextOrNumber(*data, "callid"));
  *callid = out.callid;
  const char* channel_id = HistoryFieldOf(HistoryKind::kChannel).lcm_request;
  ASSIGN_OR_RETURN(int channel, SmallInt(*data, channel_id, -1, 3));
  if (channel == 0) return Invalid("Invalid " + std::string(channel_id) + ": 0");
  ASSIGN_OR_RETURN(int months, SmallInt(*data, "MonthType", 1, kMaxMonths));
  auto request_key = [](std::string Interaction::*member) {
    return HistoryFieldOf(member).lcm_request;
  };
  ASSIGN_OR_RETURN(std::string account,
                   TextOrNumber(*data, request_key(&Interaction::account_number)));
  ASSIGN_OR_RETURN(std::string contact,
                   TextOrNumber(*data, request_key(&Interaction::contact_number)));
  ASSIGN_OR_RETURN(out.query.campaign, TextOrNumber(*data, request_key(&Interaction::campaign)));

  query::HistoryQuery& q = out.query;
  q.tenant = std::string(tenant);
  if (!account.empty()) {
    q.by = storage::InteractionKey::kAccount;
    q.key = std::move(account);
  } else if (!contact.empty()) {
    q.by = storage::InteractionKey::kContact;
    q.key = std::move(contact);
  } else if (out.callid.empty()) {
    return Invalid("Callid is empty");
  } else {
    // Interactions are not indexed by call id: a call id alone names nothing we can find.
    return Invalid("Invalid Call ID:" + out.callid);
  }
  for (const query::ChannelName& c : query::kChannels) {
    if (c.lcm_code != 0 && (channel == -1 || channel == c.lcm_code)) {
      q.channels.push_back(c.canonical);
    }
  }
  q.range = {query::MonthsBefore(now_ms, months), now_ms + 1};
  return out;
}

std::string RenderJourney(std::string_view callid,
                          const std::vector<storage::Interaction>& records) {
  std::string out;
  out.reserve(128 + records.size() * 480);
  JsonWriter w(&out);
  BeginEnvelope(w, callid);
  w.Key("response");
  w.BeginArray();
  // The element's fields in LCM's order: members under their table (`lcm`) names, absent
  // text "" and absent numbers null; the completion time also as date, month, year and time
  // of day, which only LCM derives.
  const storage::Interaction* x = nullptr;
  auto text = [&](std::string Interaction::*member) {
    w.Key(HistoryFieldOf(member).lcm);
    w.String(x->*member);
  };
  auto number = [&](std::optional<int64_t> Interaction::*member) {
    w.Key(HistoryFieldOf(member).lcm);
    if (const std::optional<int64_t>& v = x->*member) {
      w.Int(*v);
    } else {
      w.Value(Value::Null());
    }
  };
  for (const storage::Interaction& record : records) {
    x = &record;
    const query::CivilTime c = LcmCivil(record.time_ms);
    const unsigned hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
    const char* am_pm = c.hour < 12 ? "AM" : "PM";
    const query::ChannelName* channel = query::FindChannel(record.channel);
    w.BeginObject();
    text(&Interaction::external_id);
    text(&Interaction::campaign);
    number(&Interaction::mode_id);
    text(&Interaction::mode);
    number(&Interaction::outcome_id);
    text(&Interaction::outcome);
    text(&Interaction::agent);
    text(&Interaction::agent_comment);
    w.Key(HistoryFieldOf(HistoryKind::kTime).lcm);
    w.String(std::to_string(c.month) + "/" + std::to_string(c.day) + "/" + std::to_string(c.year) +
             " " + std::to_string(hour12) + ":" + Digits(c.minute, 2) + ":" + Digits(c.second, 2) +
             " " + am_pm);
    w.Key("CallCompletedDate");
    w.String(std::to_string(c.day));
    w.Key("CallCompletedMonth");
    w.String(kMonths[c.month - 1]);
    w.Key("CallCompletedYear");
    w.String(std::to_string(c.year));
    w.Key(HistoryFieldOf(HistoryKind::kChannel).lcm);
    w.Int(channel != nullptr ? channel->lcm_code : 0);
    text(&Interaction::target_value);
    text(&Interaction::contact_number);
    w.Key("CallCompletedTimeFormat");
    w.String(Digits(hour12, 2) + ":" + Digits(c.minute, 2) + " " + am_pm);
    text(&Interaction::lead_score_before);
    text(&Interaction::lead_score_after);
    text(&Interaction::direction);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return out;
}

std::string RenderLcmError(std::string_view callid, std::string_view error_message) {
  const bool about_call_id =
      error_message == "Callid is empty" || error_message.starts_with("Invalid Call ID:");
  std::string out;
  JsonWriter w(&out);
  BeginEnvelope(w, callid);
  w.Key("error");
  w.BeginObject();
  w.Key("errorType");
  w.String("WS_Error");
  w.Key("errorMessage");
  w.String(error_message);
  w.Key("msg");
  w.String(about_call_id ? "Invalid Call ID." : "Invalid request.");
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace contextd::server
