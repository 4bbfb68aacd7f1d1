#include "storage/codec.h"

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace contextd::storage {
namespace {

Service FullService() {
  Service s;
  s.service_id = 9007199254740991ull;
  s.customer_id = "C0042";
  s.contact_key = "408-832-7799";
  s.service_type = Value::String("Billing");
  s.est_duration_s = 600;
  s.started = {-5, {{"media_type", Value::Int(3)}}};
  s.completed = Event{1700000000000, {{"disposition", Value::String("Resolved")}}};
  s.attached = {
      {"Offer",
       Value::Object({{"name", Value::String("gold")},
                      {"n", Value::Array({Value::Double(1.5), Value::Null(), Value::Bool(true),
                                          Value::Uint(18446744073709551615ull)})}})}};
  State st;
  st.state_id = 0;
  st.state_type = Value::Int(8);
  st.started = {10, {}};
  s.states.push_back(st);
  State st2;  // every field set
  st2.state_id = 1;
  st2.state_type = Value::String("Hold");
  st2.previous_state_id = 0;
  st2.est_duration_s = 45;
  st2.started = {11, {{"reason", Value::String("transfer")}}};
  st2.completed = Event{12, {{"outcome", Value::Bool(false)}}};
  st2.attached = {{"queue", Value::String("Q2")}};
  s.states.push_back(st2);
  Task t;  // every field set
  t.task_id = 0;
  t.state_id = 1;
  t.task_type = Value::String("call");
  t.est_duration_s = 90;
  t.started = {13, {{"media_type", Value::Int(1)}}};
  t.completed = Event{14, {{"disposition", Value::String("Done")}}};
  t.attached = {{"k", Value::String("v\n\"")}};
  s.tasks.push_back(t);
  return s;
}

TEST(CodecTest, RoundTripsMinimalService) {
  Service s;
  s.service_id = 1;
  s.contact_key = "k";
  absl::StatusOr<Service> back = DecodeService(EncodeService(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(CodecTest, KeysDecodeReadsOnlyWhatPlacesAService) {
  Service s = FullService();
  absl::StatusOr<Service> keys = DecodeServiceKeys(EncodeService(s));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->service_id, s.service_id);
  EXPECT_EQ(keys->customer_id, s.customer_id);
  EXPECT_EQ(keys->contact_key, s.contact_key);
  EXPECT_EQ(keys->started.timestamp_ms, s.started.timestamp_ms);
  ASSERT_TRUE(keys->completed.has_value());
  EXPECT_EQ(keys->completed->timestamp_ms, s.completed->timestamp_ms);
  EXPECT_TRUE(keys->attached.empty());
  EXPECT_TRUE(keys->states.empty());
  EXPECT_EQ(PeekServiceId(EncodeService(s)), s.service_id);
}

// Every record kind the codec encodes, fully populated: every field differs from its default
// and, where fields share a type, from the others, so a field dropped, defaulted or swapped
// with its neighbour on the way changes the decoded record.
Interaction FullInteraction() {
  Interaction x;
  x.interaction_id = 9007199254740991ull;
  x.time_ms = -1700000000123;
  x.customer_id = "cust";
  x.account_number = "2|3|3|0|0|44|1";
  x.contact_number = "+14088327799";
  x.channel = "voice";
  x.direction = "Inbound";
  x.campaign = "spring";
  x.action_name = "GoldCard";
  x.action_issue = "Grow";
  x.action_group = "Cards";
  x.outcome = "Accepted";
  x.outcome_id = -7;
  x.behaviour = "Positive";
  x.agent = "agent1";
  x.agent_comment = "said \"yes\"\n";
  x.lead_score_before = "0.25";
  x.lead_score_after = "0.75";
  x.mode_id = 1LL << 40;
  x.mode = "Outbound";
  x.target_value = "100";
  x.external_id = "ext-9";
  x.pega_interaction_id = "-9223372036854775808";
  x.negotiation_actions = {"offer", "", "accept"};
  x.attributes = {{"Rank", Value::Int(1)}, {"Propensity", Value::Double(0.5)},
                  {"Nested", Value::Object({{"a", Value::Array({Value::Null()})}})}};
  return x;
}

User FullUser() {
  User u;
  u.user_name = "agent1";
  u.first_name = "Ada";
  u.last_name = "Lovelace";
  u.email = "ada@example.com";
  u.roles = {"ROLE_AGENT", "ROLE_ADMIN"};
  u.password_salt = std::string("\0salt\xff", 6);
  u.password_hash = std::string(32, '\x9c');
  u.hash_iterations = 600000;
  u.enabled = false;
  return u;
}

WorkItem FullWorkItem() {
  WorkItem w;
  w.id = "0123456789abcdef";
  w.mediatype = "email";
  w.state = "Processing";
  w.queue = "Sales";
  w.owner = "agent1";
  w.rejected_by = {"agent2", "agent3"};
  w.workbin = "Drafts";
  w.interaction_type = "Inbound";
  w.customer_id = "cust";
  w.contact = "ada@example.com";
  w.received_ms = 1700000000456;
  w.user_data = {{"Subject", Value::String("Hello")}, {"Priority", Value::Uint(3)}};
  return w;
}

AgentState FullAgentState() {
  AgentState a;
  a.user_name = "agent1";
  a.channels = {{"voice", true}, {"email", false}, {"chat", true}};
  a.ready_since_ms = -1700000000789;
  return a;
}

// Every part of a change set, non-ASCII and binary bytes included.
WorkspaceChange FullWorkspaceChange() {
  WorkspaceChange c;
  User u = FullUser();
  u.user_name = "Jos\u00e9";
  c.users = {FullUser(), u};
  WorkItem second = FullWorkItem();
  second.id = "fedcba9876543210";
  second.state = "Completed";
  second.user_data = {{"Betreff", Value::String("Gr\u00fc\u00dfe \u2713")}};
  c.items = {FullWorkItem(), second};
  AgentState ended;
  ended.user_name = "agent2";
  c.agents = {FullAgentState(), ended};
  WorkspaceNote status;
  status.user_name = "agent1";
  status.type = "StatusChange";
  status.item = FullWorkItem();
  WorkspaceNote bin;
  bin.user_name = "Jos\u00e9";
  bin.type = "WorkbinContent";
  bin.item = second;
  bin.workbin = std::string("Entw\xc3\xbcrfe\0\xff", 11);
  bin.workbin_items = {FullWorkItem(), second};
  c.notes = {status, bin};
  return c;
}

StoredSession FullStoredSession() {
  StoredSession s;
  s.id = "3f9a0c1e7b2d4c6a";
  s.tenant = "acme";
  s.user_name = "agent1";
  s.csrf_token = "t0k3n";
  s.admin = true;
  s.agent = true;
  s.expires_ms = 1700000001800;
  s.password_hash = std::string(32, '\x9c');
  return s;
}

ApiKey FullApiKey() {
  ApiKey k;
  k.id = "key-id";
  k.digest = std::string(32, '\x01');
  k.role = 3;
  k.all_tenants = true;
  k.tenant = "acme";
  k.name = "ops laptop";
  k.created_ms = 1700000000000;
  k.revoked_ms = 1700000009999;
  return k;
}

// One record kind, type-erased: its fully populated record's bytes and what decoding does.
struct CodecCase {
  std::string name;
  std::string bytes;  // the encoding of the fully populated record
  // The status of decoding `bytes`.
  std::function<absl::Status(std::string_view bytes)> decode;
  // Whether `bytes` decode to exactly the fully populated record.
  std::function<bool(std::string_view bytes)> round_trips;
};

template <typename T>
CodecCase Case(std::string name, const T& record, std::string (*encode)(const T&),
               absl::StatusOr<T> (*decode)(std::string_view)) {
  return {std::move(name), encode(record),
          [decode](std::string_view b) { return decode(b).status(); },
          [record, decode](std::string_view b) {
            absl::StatusOr<T> back = decode(b);
            return back.ok() && *back == record;
          }};
}

std::vector<CodecCase> EveryRecordKind() {
  return {Case("Service", FullService(), EncodeService, DecodeService),
          Case("Interaction", FullInteraction(), EncodeInteraction, DecodeInteraction),
          Case("CustomerKeys", CustomerKeys{"2|3|3|0|0|44|1", "+14088327799"},
               EncodeCustomerKeys, DecodeCustomerKeys),
          Case("User", FullUser(), EncodeUser, DecodeUser),
          Case("WorkItem", FullWorkItem(), EncodeWorkItem, DecodeWorkItem),
          Case("AgentState", FullAgentState(), EncodeAgentState, DecodeAgentState),
          Case("WorkspaceChange", FullWorkspaceChange(), EncodeWorkspaceChange,
               DecodeWorkspaceChange),
          Case("StoredSession", FullStoredSession(), EncodeStoredSession, DecodeStoredSession),
          Case("ApiKey", FullApiKey(), EncodeApiKey, DecodeApiKey),
          Case("Tenant", Tenant{"acme", 1700000000000}, EncodeTenant, DecodeTenant)};
}

// Names the case in test output (instead of its bytes).
void PrintTo(const CodecCase& c, std::ostream* os) { *os << c.name; }

class RecordKindTest : public ::testing::TestWithParam<CodecCase> {};

TEST_P(RecordKindTest, RoundTripsEveryField) {
  EXPECT_TRUE(GetParam().round_trips(GetParam().bytes));
}

// Every strict prefix of a record is an error (DataLoss), never a record.
TEST_P(RecordKindTest, RejectsEveryTruncation) {
  const std::string_view bytes = GetParam().bytes;
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(GetParam().decode(bytes.substr(0, n)).code(), absl::StatusCode::kDataLoss);
  }
}

// The first byte is the format version (1); any other is DataLoss.
TEST_P(RecordKindTest, RejectsAnUnknownVersion) {
  ASSERT_EQ(GetParam().bytes[0], 1);
  for (char version : {'\0', '\2', '\x7f', '\xff'}) {
    std::string other = GetParam().bytes;
    other[0] = version;
    EXPECT_EQ(GetParam().decode(other).code(), absl::StatusCode::kDataLoss) << int{version};
  }
}

// A record is exactly its bytes: anything after it is DataLoss.
TEST_P(RecordKindTest, RejectsTrailingBytes) {
  for (std::string_view tail : {std::string_view("\0", 1), std::string_view("x")}) {
    EXPECT_EQ(GetParam().decode(GetParam().bytes + std::string(tail)).code(),
              absl::StatusCode::kDataLoss);
  }
}

INSTANTIATE_TEST_SUITE_P(Codec, RecordKindTest, ::testing::ValuesIn(EveryRecordKind()),
                         [](const ::testing::TestParamInfo<CodecCase>& info) {
                           return info.param.name;
                         });

TEST(CodecTest, RoundTripsEmptyWorkspaceRecords) {
  for (const WorkspaceChange& c : {WorkspaceChange{}, WorkspaceChange{{User{}}, {}, {}, {}},
                                   WorkspaceChange{{}, {WorkItem{}}, {AgentState{}},
                                                   {WorkspaceNote{}}}}) {
    absl::StatusOr<WorkspaceChange> back = DecodeWorkspaceChange(EncodeWorkspaceChange(c));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, c);
  }
  absl::StatusOr<AgentState> agent = DecodeAgentState(EncodeAgentState(AgentState{}));
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(*agent, AgentState{});
  absl::StatusOr<StoredSession> session = DecodeStoredSession(EncodeStoredSession({}));
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(*session, StoredSession{});
}

// The records of a change are their own encodings: a user or item read from a change reads as
// the record itself does, and one that does not decode makes the change DataLoss.
TEST(CodecTest, WorkspaceChangeHoldsItsRecordsAsTheirOwnBytes) {
  WorkspaceChange c;
  c.users = {FullUser()};
  const std::string bytes = EncodeWorkspaceChange(c);
  const std::string user = EncodeUser(FullUser());
  const size_t at = bytes.find(user);
  ASSERT_NE(at, std::string::npos);
  std::string broken = bytes;
  broken[at] = '\2';  // the nested user's format byte
  EXPECT_EQ(DecodeWorkspaceChange(broken).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace contextd::storage
