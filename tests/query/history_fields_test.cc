#include "query/history_fields.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/api/json.h"
#include "server/history/lcm.h"
#include "server/history/native.h"
#include "server/history/pega.h"

namespace contextd::query {
namespace {

using storage::Interaction;
using storage::Value;

// The table's name columns, for checks that hold for each.
const std::map<std::string, const char* HistoryField::*> kColumns = {
    {"native", &HistoryField::native},
    {"pega", &HistoryField::pega},
    {"lcm", &HistoryField::lcm},
    {"lcm_request", &HistoryField::lcm_request},
    {"workspace", &HistoryField::workspace},
};

// Every member of storage::Interaction set, text members to a text of their own.
Interaction Full() {
  Interaction x;
  x.interaction_id = 42;
  x.time_ms = 1714557722123;  // 2024-05-01T10:02:02.123Z
  x.channel = "voice";
  x.negotiation_actions = {"Upgrade", "Discount"};
  x.attributes = {{"Rank", Value::Int(1)}, {"Journey", Value::String("Onboard")}};
  int64_t n = 100;
  for (const HistoryField& f : kHistoryFields) {
    if (f.text != nullptr) x.*(f.text) = std::string(f.native) + " value";
    if (f.number != nullptr) x.*(f.number) = ++n;
  }
  x.direction = "Outbound";
  x.pega_interaction_id = "-5120394857720391122";
  return x;
}

// The first record of a rendered reply: `path` names the members down to its array.
Value FirstRecord(const std::string& json, std::vector<std::string> path) {
  absl::StatusOr<Value> v = server::ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status();
  Value at = v.ok() ? *v : Value::Null();
  for (const std::string& name : path) {
    const Value* next =
        at.kind == Value::Kind::kObject ? storage::FindField(at.object, name) : nullptr;
    if (next == nullptr) {
      ADD_FAILURE() << "no " << name << " in " << json;
      return Value::Null();
    }
    at = *next;
  }
  if (at.kind != Value::Kind::kArray || at.array.empty()) {
    ADD_FAILURE() << "no record in " << json;
    return Value::Null();
  }
  return at.array[0];
}

std::vector<std::string> Keys(const Value& object) {
  std::vector<std::string> out;
  for (const auto& [name, v] : object.object) out.push_back(name);
  return out;
}

TEST(HistoryFieldsTest, TableIsConsistent) {
  for (const auto& [column, name] : kColumns) {
    std::set<std::string> seen;
    for (const HistoryField& f : kHistoryFields) {
      if (*(f.*name) != '\0') {
        EXPECT_TRUE(seen.insert(f.*name).second) << column << " name twice: " << f.*name;
      }
    }
  }
  std::map<HistoryKind, int> kinds;
  for (const HistoryField& f : kHistoryFields) {
    SCOPED_TRACE(f.native);
    EXPECT_NE(*f.native, '\0');  // the native representation carries every member
    ++kinds[f.kind];
    if (f.kind == HistoryKind::kMember) {
      EXPECT_NE(f.text == nullptr, f.number == nullptr) << "one member per row";
      const HistoryField& row =
          f.text != nullptr ? HistoryFieldOf(f.text) : HistoryFieldOf(f.number);
      EXPECT_EQ(&row, &f) << "one row per member";
    } else {
      EXPECT_EQ(f.text, nullptr);
      EXPECT_EQ(f.number, nullptr);
      EXPECT_EQ(&HistoryFieldOf(f.kind), &f);
      EXPECT_EQ(*f.workspace, '\0') << "the Workspace reads members only";
    }
  }
  for (HistoryKind k : {HistoryKind::kId, HistoryKind::kTime, HistoryKind::kChannel,
                        HistoryKind::kActions, HistoryKind::kAttributes}) {
    EXPECT_EQ(kinds[k], 1) << "kind " << static_cast<int>(k);
  }
}

TEST(HistoryFieldsTest, EveryMemberHasARow) {
  for (auto m :
       {&Interaction::customer_id, &Interaction::account_number, &Interaction::contact_number,
        &Interaction::direction, &Interaction::campaign, &Interaction::action_name,
        &Interaction::action_issue, &Interaction::action_group, &Interaction::outcome,
        &Interaction::behaviour, &Interaction::agent, &Interaction::agent_comment,
        &Interaction::lead_score_before, &Interaction::lead_score_after, &Interaction::mode,
        &Interaction::target_value, &Interaction::external_id, &Interaction::pega_interaction_id}) {
    EXPECT_NE(&HistoryFieldOf(m), &kNoHistoryField);
  }
  for (auto m : {&Interaction::outcome_id, &Interaction::mode_id}) {
    EXPECT_NE(&HistoryFieldOf(m), &kNoHistoryField);
  }
  // Full() reaches every member through the table: none is left at its default.
  const Interaction x = Full();
  const Interaction none;
  for (const HistoryField& f : kHistoryFields) {
    if (f.text != nullptr) {
      EXPECT_NE(x.*(f.text), none.*(f.text)) << f.native;
    }
    if (f.number != nullptr) {
      EXPECT_NE(x.*(f.number), none.*(f.number)) << f.native;
    }
  }
}

TEST(HistoryFieldsTest, NativeRendersEveryRowInTableOrderAndParsesBack) {
  const Interaction x = Full();
  Value record = FirstRecord(server::RenderNativeInteractions({x}), {"interactions"});
  std::vector<std::string> want;
  for (const HistoryField& f : kHistoryFields) want.push_back(f.native);
  EXPECT_EQ(Keys(record), want);

  // The id is the store's: a client does not send it.
  std::erase_if(record.object, [](const Value::Member& m) {
    return m.first == HistoryFieldOf(HistoryKind::kId).native;
  });
  absl::StatusOr<Interaction> parsed = server::ParseNativeInteraction(record, 0);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Interaction expected = x;
  expected.interaction_id = 0;
  EXPECT_EQ(*parsed, expected);
}

TEST(HistoryFieldsTest, PegaRendersItsRowsAndCaptureResponseReadsThemBack) {
  const Interaction x = Full();
  Value record = FirstRecord(server::RenderOfferHistory({x}), {"OfferHistory"});
  // CustomerOfferHistory answers for one customer and lists no campaign: CaptureResponse
  // takes those two in only.
  const std::set<std::string> capture_only = {HistoryFieldOf(&Interaction::customer_id).pega,
                                              HistoryFieldOf(&Interaction::campaign).pega};
  const std::vector<std::string> keys = Keys(record);
  for (const HistoryField& f : kHistoryFields) {
    if (*f.pega == '\0' || capture_only.contains(f.pega)) continue;
    EXPECT_NE(std::find(keys.begin(), keys.end(), f.pega), keys.end()) << f.pega;
  }

  // The record back as a CaptureResponse result, with the two capture-only fields.
  record.object.emplace_back(HistoryFieldOf(&Interaction::campaign).pega,
                             Value::String(x.campaign));
  const Value body =
      Value::Object({{HistoryFieldOf(&Interaction::customer_id).pega, Value::String(x.customer_id)},
                     {"RankedResults", Value::Array({record})}});
  absl::StatusOr<std::vector<Interaction>> parsed =
      server::ParseCaptureResponse(body, server::CaptureVersion::kV2, x.time_ms);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 1u);
  // Every member with a Pega name comes back, but the negotiation actions (CaptureResponse
  // does not take them) and the time (the server's clock, here x's).
  Interaction expected;
  expected.time_ms = x.time_ms;
  expected.channel = x.channel;
  for (const HistoryField& f : kHistoryFields) {
    if (*f.pega == '\0') continue;
    if (f.text != nullptr) expected.*(f.text) = x.*(f.text);
    if (f.number != nullptr) expected.*(f.number) = x.*(f.number);
  }
  EXPECT_EQ((*parsed)[0], expected);
}

TEST(HistoryFieldsTest, LcmRendersEveryResponseRowAndReadsEveryRequestRow) {
  const Interaction x = Full();
  const Value record = FirstRecord(server::RenderJourney("c-1", {x}), {"message", "response"});
  for (const HistoryField& f : kHistoryFields) {
    if (*f.lcm == '\0') continue;
    SCOPED_TRACE(f.lcm);
    const Value* v = storage::FindField(record.object, f.lcm);
    ASSERT_NE(v, nullptr);
    if (f.text != nullptr) {
      EXPECT_EQ(v->string_value, x.*(f.text));
    } else if (f.number != nullptr) {
      EXPECT_EQ(v->int_value, *(x.*(f.number)));
    } else if (f.kind == HistoryKind::kTime) {
      EXPECT_EQ(v->string_value, "5/1/2024 10:02:02 AM");
    } else if (f.kind == HistoryKind::kChannel) {
      EXPECT_EQ(v->int_value, 2);  // voice
    } else {
      ADD_FAILURE() << "LCM renders no such row";
    }
  }

  // Every request key of the table narrows the query.
  auto request = [&x](std::string Interaction::*key, const std::string& value) {
    Value data = Value::Object({
        {"callid", Value::String("c-1")},
        {"MonthType", Value::String("1")},
        {HistoryFieldOf(HistoryKind::kChannel).lcm_request, Value::String("2")},
        {HistoryFieldOf(&Interaction::campaign).lcm_request, Value::String("Renewals")},
        {HistoryFieldOf(key).lcm_request, Value::String(value)},
    });
    std::string callid;
    return server::ParseJourneyRequest(
        Value::Object({{"channel", Value::String("LCM")},
                       {"topic", Value::String("WebService")},
                       {"subtopic", Value::String("GetCustomerJourney")},
                       {"data", data}}),
        "t", x.time_ms, &callid);
  };
  for (auto [key, by] :
       {std::pair{&Interaction::account_number, storage::InteractionKey::kAccount},
        std::pair{&Interaction::contact_number, storage::InteractionKey::kContact}}) {
    absl::StatusOr<server::JourneyRequest> r = request(key, "K-1");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->query.by, by);
    EXPECT_EQ(r->query.key, "K-1");
    EXPECT_EQ(r->query.campaign, "Renewals");
    EXPECT_EQ(r->query.channels, std::vector<std::string>{"voice"});
  }
  // Those are all the request keys the table has, and the only ones GetCustomerJourney reads.
  std::set<const HistoryField*> request_rows;
  for (const HistoryField& f : kHistoryFields) {
    if (*f.lcm_request != '\0') request_rows.insert(&f);
  }
  EXPECT_EQ(
      request_rows,
      (std::set<const HistoryField*>{
          &HistoryFieldOf(HistoryKind::kChannel), &HistoryFieldOf(&Interaction::account_number),
          &HistoryFieldOf(&Interaction::contact_number), &HistoryFieldOf(&Interaction::campaign)}));
}

}  // namespace
}  // namespace contextd::query
