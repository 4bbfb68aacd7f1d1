// End to end: interaction history recorded once and read through every dialect (native,
// Pega CustomerOfferHistory / CaptureResponse, LCM GetCustomerJourney), on the real binary
// with a fixed clock.

#include <algorithm>

#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

using storage::Value;

constexpr char kNow[] = "2024-03-11T08:15:02.004Z";
constexpr char kCoh[] = "/prweb/PRRestService/PegaMKTContainer/V2/CustomerOfferHistory";
constexpr char kCohApi[] = "/prweb/api/PegaMKTContainer/V2/CustomerOfferHistory";
constexpr char kCapture[] = "/prweb/PRRestService/PegaMKTContainer/V2/CaptureResponse";
constexpr char kCaptureV3[] = "/prweb/api/PegaMKTContainer/V3/CaptureResponse";

// JSON equality with object members compared as sets (member order carries no meaning).
bool SameJson(const Value& a, const Value& b) {
  if (a.kind != b.kind) {
    return a.is_number() && b.is_number() && a.ScalarText() == b.ScalarText();
  }
  if (a.kind == Value::Kind::kArray) {
    if (a.array.size() != b.array.size()) return false;
    for (size_t i = 0; i < a.array.size(); ++i) {
      if (!SameJson(a.array[i], b.array[i])) return false;
    }
    return true;
  }
  if (a.kind == Value::Kind::kObject) {
    if (a.object.size() != b.object.size()) return false;
    for (const auto& [name, value] : a.object) {
      const Value* other = storage::FindField(b.object, name);
      if (other == nullptr || !SameJson(value, *other)) return false;
    }
    return true;
  }
  return a == b;
}

class HistoryFixture : public ServerTest {
 protected:
  void SetUp() override { StartAt(kNow); }

  void StartAt(const std::string& now) { StartServer({"--sync", "none", "--fixed-now", now}); }

  void Ingest(const std::string& body) {
    HttpReply r = client_->Post("/contextd/v1/interactions", body);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  HttpReply Journey(const std::string& data) {
    return client_->Post("/lcm/messages",
                         R"({"channel":"LCM","topic":"WebService","subtopic":"GetCustomerJourney",)"
                         R"("source":"contextd-test","data":)" +
                             data + "}");
  }

  // The CallCompletedTime of each element of a journey reply.
  std::vector<std::string> JourneyTimes(const HttpReply& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> times;
    Value v = Json(r);
    const Value* message = Field(v, "message");
    const Value* response = message ? Field(*message, "response") : nullptr;
    if (response == nullptr) return times;
    for (const Value& e : response->array) {
      times.push_back(Field(e, "CallCompletedTime")->string_value);
    }
    return times;
  }

  std::vector<std::string> OfferNames(const std::string& customer) {
    HttpReply r = client_->Get(std::string(kCoh) + "?CustomerID=" + customer);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> names;
    Value v = Json(r);
    if (const Value* history = Field(v, "OfferHistory")) {
      for (const Value& e : history->array) names.push_back(Field(e, "Name")->string_value);
    }
    return names;
  }

  void ExpectError(const HttpReply& r, int status, std::string_view status_field,
                   std::string_view message) {
    EXPECT_EQ(r.status, status) << r.body;
    Value v = Json(r);
    const Value* s = Field(v, "Status");
    const Value* m = Field(v, "Message");
    ASSERT_TRUE(s && m) << r.body;
    EXPECT_EQ(s->string_value, status_field);
    EXPECT_NE(m->string_value.find(message), std::string::npos) << r.body;
  }

  void ExpectLcmError(const HttpReply& r, std::string_view callid, std::string_view error_message,
                      std::string_view msg) {
    EXPECT_EQ(r.status, 400) << r.body;
    Value v = Json(r);
    ASSERT_TRUE(Field(v, "message")) << r.body;
    EXPECT_EQ(Field(v, "subtopic")->string_value, "CustomerJourney");
    const Value& message = *Field(v, "message");
    EXPECT_EQ(Field(message, "callid")->string_value, callid);
    const Value* error = Field(message, "error");
    ASSERT_TRUE(error) << r.body;
    EXPECT_EQ(Field(*error, "errorType")->string_value, "WS_Error");
    EXPECT_NE(Field(*error, "errorMessage")->string_value.find(error_message), std::string::npos)
        << r.body;
    EXPECT_EQ(Field(*error, "msg")->string_value, msg);
  }
};

// Pega's documented sample response (pega-customer-offer-history-b), field for field, from
// records ingested natively.
using HistoryTest = OnEveryBackend<HistoryFixture>;
INSTANTIATE_TEST_SUITE_P(Backends, HistoryTest, ::testing::ValuesIn(kBackends), BackendTestName);

TEST_P(HistoryTest, PegaSampleResponseReproducedFromNativeRecords) {
  Ingest(R"({"customer_id":"CONNOR","time":"2016-02-24T10:10:58.055Z","channel":"voice",)"
         R"("direction":"Inbound","action_name":"MI","action_issue":"Sales",)"
         R"("action_group":"Handsets","pega_interaction_id":"-7714067498846096636",)"
         R"("external_id":"","outcome":"Accepted","behaviour":"Positive"})");
  Ingest(
      R"({"customer_id":"CONNOR","time":"2016-02-25T12:55:01.526Z","channel":"CallCenter",)"
      R"("direction":"inbound","action_name":"Negotiation","action_issue":"Negotiation",)"
      R"("action_group":"Negotiation","pega_interaction_id":"7382338912749122452",)"
      R"("external_id":"S-13805","outcome":"Rejected","behaviour":"Negative",)"
      R"("negotiation_actions":["Handsets_fromGoogleNexus4","DataPlan100Min","MemoryCard_V2_M3"]})");
  const auto sample = server::ParseJson(R"({
"OfferHistory": [
{
"Name": "Negotiation",
"Issue": "Negotiation",
"Channel": "CallCenter",
"InteractionID": "7382338912749122452",
"ExternalID": "S-13805",
"OutcomeTime": "20160225T125501.526 GMT",
"Behaviour": "Negative",
"OfferHistory": [
{ "Name": "Handsets_fromGoogleNexus4" },
{ "Name": "DataPlan100Min" },
{ "Name": "MemoryCard_V2_M3" }
],
"Outcome": "Rejected",
"Identifier": "/Negotiation/Negotiation/Negotiation",
"Direction": "Inbound",
"Group": "Negotiation"
},
{
"Name": "MI",
"Issue": "Sales",
"Channel": "CallCenter",
"InteractionID": "-7714067498846096636",
"ExternalID": "",
"OutcomeTime": "20160224T101058.055 GMT",
"Behaviour": "Positive",
"Outcome": "Accepted",
"Identifier": "/Sales/Handsets/MI",
"Direction": "Inbound",
"Group": "Handsets"
}]
})");
  ASSERT_TRUE(sample.ok());
  for (const HttpReply& r : {client_->Post(kCoh, R"({"CustomerID":"CONNOR"})"),
                             client_->Get(std::string(kCoh) + "?CustomerID=CONNOR"),
                             client_->Post(kCohApi, R"({"CustomerID":"CONNOR"})"),
                             client_->Get(std::string(kCohApi) + "?CustomerID=CONNOR")}) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(SameJson(Json(r), *sample)) << r.body;
  }
}

// LCM's documented sample response, field for field, from a record ingested natively and
// the documented "By AccountNumber" request.
TEST_P(HistoryTest, LcmSampleResponseReproducedFromNativeRecords) {
  StartAt("2020-09-30T00:00:00.000Z");
  Ingest(R"({"external_id":"2","account_number":"2|3|3|0|0|44|1",)"
         R"("campaign":"SamplePreviewCampaign-ACQ","mode_id":3,"mode":"Mobile","outcome_id":0,)"
         R"("outcome":"Success","agent":"AECAgent","agent_comment":"",)"
         R"("time":"2020-05-12T09:22:23Z","channel":"voice","target_value":"0",)"
         R"("contact_number":"6591462346","lead_score_before":"0","lead_score_after":"0",)"
         R"("direction":"Outbound"})");
  HttpReply r = client_->Post("/lcm/messages", R"({
        "channel": "LCM",
        "topic": "WebService",
        "subtopic": "GetCustomerJourney",
        "data":
        {
            "callid": "12345",
            "AccountNumber": "2|3|3|0|0|44|1",
            "CampaignName": "SamplePreviewCampaign-ACQ",
            "ChannelID": "-1",
            "MonthType": "5"
        }
    })");
  const auto sample = server::ParseJson(R"({
        "channel": "LCM",
        "topic": "WebService",
        "subtopic": "CustomerJourney",
        "message":
        {
            "callid": "12345",
            "response":
            [
                {
                    "ContactID": "2",
                    "CampaignName": "SamplePreviewCampaign-ACQ",
                    "ModeID": 3,
                    "Mode": "Mobile",
                    "OutcomeId": 0,
                    "Outcome": "Success",
                    "AgentName": "AECAgent",
                    "AgentComment": "",
                    "CallCompletedTime": "5/12/2020 9:22:23 AM",
                    "CallCompletedDate": "12",
                    "CallCompletedMonth": "May",
                    "CallCompletedYear": "2020",
                    "ChannelType": 2,
                    "TargetValue": "0",
                    "ContactValue": "6591462346",
                    "CallCompletedTimeFormat": "09:22 AM",
                    "PreviousLeadScore": "0",
                    "CurrentLeadScore": "0",
                    "CallType": "Outbound"
                }
            ]
        }
    })");
  ASSERT_TRUE(sample.ok());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(SameJson(Json(r), *sample)) << r.body;
}

// The reference's own example: afternoon time, ChannelID 2, MonthType 6.
TEST_P(HistoryTest, LcmReferenceExampleAfternoon) {
  Ingest(R"({"external_id":"19","account_number":"4|3|12|0|0|51|1","campaign":"Renewals-Q4",)"
         R"("mode_id":1,"mode":"Home","outcome_id":4,"outcome":"Callback","agent":"agent7",)"
         R"("agent_comment":"call after 5","time":"2023-11-03T16:05:09Z","channel":"voice",)"
         R"("target_value":"0","contact_number":"5550142","lead_score_before":"10",)"
         R"("lead_score_after":"25","direction":"Outbound"})");
  HttpReply r = Journey(
      R"({"callid":"77001","AccountNumber":"4|3|12|0|0|51|1","ChannelID":"2","MonthType":"6"})");
  const auto want = server::ParseJson(
      R"({"channel":"LCM","topic":"WebService","subtopic":"CustomerJourney","message":{"callid":"77001","response":[)"
      R"({"ContactID":"19","CampaignName":"Renewals-Q4","ModeID":1,"Mode":"Home","OutcomeId":4,"Outcome":"Callback",)"
      R"("AgentName":"agent7","AgentComment":"call after 5","CallCompletedTime":"11/3/2023 4:05:09 PM",)"
      R"("CallCompletedDate":"3","CallCompletedMonth":"November","CallCompletedYear":"2023","ChannelType":2,)"
      R"("TargetValue":"0","ContactValue":"5550142","CallCompletedTimeFormat":"04:05 PM",)"
      R"("PreviousLeadScore":"10","CurrentLeadScore":"25","CallType":"Outbound"}]}})");
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(SameJson(Json(r), *want)) << r.body;
}

TEST_P(HistoryTest, LcmTimesRenderInTheConfiguredZone) {
  StartServer({"--sync", "none", "--fixed-now", kNow, "--lcm-time-zone", "America/New_York"});
  Ingest(R"({"account_number":"A","channel":"voice","time":"2023-11-03T16:05:09Z"})");
  Ingest(R"({"account_number":"A","channel":"voice","time":"2024-01-10T03:30:00Z"})");
  // EDT (UTC-4) in November before the 5th; EST (UTC-5) in January, the day before in UTC.
  HttpReply r = Journey(R"({"AccountNumber":"A","ChannelID":2,"MonthType":12})");
  EXPECT_EQ(JourneyTimes(r),
            (std::vector<std::string>{"1/9/2024 10:30:00 PM", "11/3/2023 12:05:09 PM"}));
  Value v = Json(r);
  const Value& newest = Field(*Field(v, "message"), "response")->array.at(0);
  EXPECT_EQ(Field(newest, "CallCompletedDate")->string_value, "9");
  EXPECT_EQ(Field(newest, "CallCompletedTimeFormat")->string_value, "10:30 PM");
}

TEST_P(HistoryTest, CaptureResponseIsReadableThroughEveryDialect) {
  HttpReply keys =
      client_->Request("PUT", "/contextd/v1/customers/C-4471",
                       R"({"account_number":"4|3|12|0|0|51|1","contact_number":"5550142"})");
  ASSERT_EQ(keys.status, 200) << keys.body;
  HttpReply r = client_->Post(
      kCapture,
      R"({"ContainerName":"AgentOffers","CustomerID":"C-4471","RankedResults":[{"Name":"TravelCard","Issue":"Sales",)"
      R"("Group":"Cards","Rank":1,"CampaignID":"NBA","InteractionID":"-5120394857720391122","Outcome":"Accepted",)"
      R"("Behaviour":"Positive","Channel":"CallCenter","Direction":"Inbound"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(SameJson(
      Json(r),
      *server::ParseJson(R"({"Status":"OK","Message":"Response captured successfully"})")));
  HttpReply v3 = client_->Post(
      std::string(kCaptureV3) + "/Initiate",
      R"({"ContainerName":"AgentOffers","ContextName":"Customer","RankedResults":[{"SubjectID":"C-4471","Name":"Roaming",)"
      R"("Issue":"Retention","Group":"Plans","InteractionID":42,"Outcome":"Impression","Behaviour":"Neutral",)"
      R"("Channel":"Web","Direction":"Outbound"}]})");
  ASSERT_EQ(v3.status, 200) << v3.body;

  // Pega: both, newest first (same clock: the later write first).
  HttpReply coh = client_->Post(kCoh, R"({"CustomerID":"C-4471"})");
  ASSERT_EQ(coh.status, 200);
  const auto want = server::ParseJson(
      R"({"OfferHistory":[{"Name":"Roaming","Issue":"Retention","Group":"Plans","Channel":"Web","Direction":"Outbound",)"
      R"("InteractionID":"42","ExternalID":"","OutcomeTime":"20240311T081502.004 GMT","Outcome":"Impression",)"
      R"("Behaviour":"Neutral","Identifier":"/Retention/Plans/Roaming"},)"
      R"({"Name":"TravelCard","Issue":"Sales","Group":"Cards","Channel":"CallCenter","Direction":"Inbound",)"
      R"("InteractionID":"-5120394857720391122","ExternalID":"","OutcomeTime":"20240311T081502.004 GMT",)"
      R"("Outcome":"Accepted","Behaviour":"Positive","Identifier":"/Sales/Cards/TravelCard"}]})");
  EXPECT_TRUE(SameJson(Json(coh), *want)) << coh.body;

  // LCM by the customer's account: only the voice record is an LCM channel.
  HttpReply j = Journey(R"({"AccountNumber":"4|3|12|0|0|51|1","ChannelID":-1,"MonthType":3})");
  EXPECT_EQ(JourneyTimes(j), std::vector<std::string>{"3/11/2024 8:15:02 AM"});
  Value jv = Json(j);
  const Value& element = Field(*Field(jv, "message"), "response")->array.at(0);
  EXPECT_EQ(Field(element, "CampaignName")->string_value, "NBA");
  EXPECT_EQ(Field(element, "ChannelType")->int_value, 2);
  EXPECT_EQ(Field(*Field(jv, "message"), "callid")->string_value, "");

  // Native by contact number: both, with the Pega extras kept as attributes.
  HttpReply n = client_->Get("/contextd/v1/interactions?contact_number=5550142");
  ASSERT_EQ(n.status, 200) << n.body;
  Value nv = Json(n);
  const auto& records = Field(nv, "interactions")->array;
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Field(records[0], "channel")->string_value, "web");
  EXPECT_EQ(Field(records[1], "channel")->string_value, "voice");
  const Value* attributes = Field(records[1], "attributes");
  ASSERT_TRUE(attributes);
  EXPECT_EQ(Field(*attributes, "Rank")->int_value, 1);
  EXPECT_EQ(Field(*attributes, "ContainerName")->string_value, "AgentOffers");
}

TEST_P(HistoryTest, PegaSeedRequestSampleIsInvalidJsonAndAnswered400) {
  // The documented request sample has a trailing comma; strict parsing refuses it.
  ExpectError(client_->Post(kCoh, R"({"CustomerID":"CONNOR",})"), 400, "ERROR", "JSON");
  ExpectError(client_->Post(kCohApi, "\"OfferHistory\": [\n\"Name\": \"Negotiation\",\n"), 400,
              "ERROR", "JSON");
  ExpectError(
      client_->Post(kCapture,
                    R"({"CustomerID":"C","RankedResults":[{"Name":"MI" "Issue":"Sales"}]})"),
      400, "ERROR", "JSON");
}

TEST_P(HistoryTest, PegaErrorsNameTheFieldAndWriteNothing) {
  const std::string ok =
      R"({"Name":"A","Issue":"I","Group":"G","InteractionID":"1","Channel":"Web"})";
  struct Case {
    const char* path;
    std::string body;
    const char* message;
  };
  const Case cases[] = {
      {kCapture, R"({"RankedResults":[)" + ok + "]}", "CustomerID is required"},
      {kCapture, R"({"CustomerID":"C"})", "RankedResults is required"},
      {kCapture, R"({"CustomerID":"C","RankedResults":[]})", "RankedResults is required"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[)" + ok +
           R"(,{"Issue":"I","Group":"G","InteractionID":"1"}]})",
       "Name is required"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[{"Name":"A","Group":"G","InteractionID":"1"}]})",
       "Issue is required"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[{"Name":"A","Issue":"I","InteractionID":"1"}]})",
       "Group is required"},
      {kCapture, R"({"CustomerID":"C","RankedResults":[{"Name":"A","Issue":"I","Group":"G"}]})",
       "InteractionID is required"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[{"Name":"A","Issue":"I","Group":"G","InteractionID":"12a"}]})",
       "signed 64-bit decimal"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[{"Name":"A","Issue":"I","Group":"G","InteractionID":"9223372036854775808"}]})",
       "signed 64-bit decimal"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[{"Name":7,"Issue":"I","Group":"G","InteractionID":"1"}]})",
       "Name: expected a string"},
      {kCapture,
       R"({"CustomerID":"C","RankedResults":[{"Name":"A","Issue":"I","Group":"G","InteractionID":"1","Direction":"Sideways"}]})",
       "Inbound or Outbound"},
      {kCaptureV3, R"({"SubjectID":"C","ContextName":"Customer","RankedResults":[)" + ok + "]}",
       "ContainerName is required"},
      {kCaptureV3, R"({"ContainerName":"X","ContextName":"Customer","RankedResults":[)" + ok + "]}",
       "SubjectID is required"},
      {kCaptureV3, R"({"ContainerName":"X","SubjectID":"C","RankedResults":[)" + ok + "]}",
       "ContextName is required"},
      {kCoh, R"({})", "CustomerID is required"},
      {kCoh, R"(["C"])", "JSON object"},
      {kCoh, "", "body is required"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    ExpectError(client_->Post(c.path, c.body), 400, "ERROR", c.message);
  }
  ExpectError(client_->Get(kCoh), 400, "ERROR", "CustomerID is required");
  ExpectError(client_->Get("/prweb/api/PegaMKTContainer/V2/Nope"), 404, "ERROR", "no such");
  EXPECT_EQ(OfferNames("C"), std::vector<std::string>{});
  // An unknown customer is an empty history, not an error.
  HttpReply r = client_->Post(kCoh, R"({"CustomerID":"nobody","Extra":1})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"OfferHistory":[]})");
}

TEST_P(HistoryTest, MonthWindowEdges) {
  // Three months before 2024-05-31T10:00 is 2024-02-29T10:00 (the day clamps to February).
  StartAt("2024-05-31T10:00:00.000Z");
  Ingest(
      "{\"account_number\":\"A\",\"channel\":\"sms\",\"time\":\"2024-02-29T09:59:59.999Z\"}\n"
      "{\"account_number\":\"A\",\"channel\":\"sms\",\"time\":\"2024-02-29T10:00:00.000Z\"}\n"
      "{\"account_number\":\"A\",\"channel\":\"sms\",\"time\":\"2024-05-31T10:00:00.000Z\"}\n"
      "{\"account_number\":\"A\",\"channel\":\"sms\",\"time\":\"2024-05-31T10:00:00.001Z\"}\n"
      "{\"account_number\":\"A\",\"channel\":\"sms\",\"time\":\"2014-05-31T10:00:00.000Z\"}\n");
  EXPECT_EQ(JourneyTimes(Journey(R"({"AccountNumber":"A","ChannelID":"1","MonthType":"3"})")),
            (std::vector<std::string>{"5/31/2024 10:00:00 AM", "2/29/2024 10:00:00 AM"}));
  EXPECT_EQ(JourneyTimes(Journey(R"({"AccountNumber":"A","ChannelID":1,"MonthType":4})")),
            (std::vector<std::string>{"5/31/2024 10:00:00 AM", "2/29/2024 10:00:00 AM",
                                      "2/29/2024 9:59:59 AM"}));
  EXPECT_EQ(JourneyTimes(Journey(R"({"AccountNumber":"A","ChannelID":1,"MonthType":120})")).size(),
            4u);
  // Voice only: none of these SMS records.
  EXPECT_EQ(JourneyTimes(Journey(R"({"AccountNumber":"A","ChannelID":2,"MonthType":120})")).size(),
            0u);
  for (const char* bad : {"0", "121", "-1", "\"3.5\"", "\"abc\"", "\"\"", "null"}) {
    SCOPED_TRACE(bad);
    ExpectLcmError(
        Journey(std::string(R"({"callid":"9","AccountNumber":"A","ChannelID":1,"MonthType":)") +
                bad + "}"),
        "9", "MonthType", "Invalid request.");
  }
}

TEST_P(HistoryTest, LcmKeysFiltersAndErrors) {
  Ingest(
      "{\"account_number\":\"ACC\",\"contact_number\":\"909003299700\",\"channel\":\"voice\","
      "\"campaign\":\"tmasi\",\"time\":\"2024-01-01T00:00:00Z\"}\n"
      "{\"contact_number\":\"909003299700\",\"channel\":\"voice\",\"campaign\":\"tmasi\",\"time\":"
      "\"2024-01-02T00:00:00Z\"}\n"
      "{\"contact_number\":\"909003299700\",\"channel\":\"email\",\"campaign\":\"other\",\"time\":"
      "\"2024-01-03T00:00:00Z\"}\n");
  // The documented "By ContactNumber" request: an empty AccountNumber counts as absent.
  EXPECT_EQ(
      JourneyTimes(Journey(
          R"({"AccountNumber":"","CampaignName":"tmasi","ChannelID":2,"MonthType":10,"ContactNumber":"909003299700"})")),
      (std::vector<std::string>{"1/2/2024 12:00:00 AM", "1/1/2024 12:00:00 AM"}));
  // AccountNumber wins over ContactNumber.
  EXPECT_EQ(
      JourneyTimes(Journey(
          R"({"AccountNumber":"ACC","CampaignName":"tmasi","ChannelID":2,"MonthType":10,"ContactNumber":"909003299700"})")),
      (std::vector<std::string>{"1/1/2024 12:00:00 AM"}));
  EXPECT_EQ(
      JourneyTimes(Journey(R"({"ChannelID":-1,"MonthType":10,"ContactNumber":"909003299700"})"))
          .size(),
      3u);
  EXPECT_EQ(
      JourneyTimes(Journey(R"({"ChannelID":"3","MonthType":10,"ContactNumber":"909003299700"})")),
      (std::vector<std::string>{"1/3/2024 12:00:00 AM"}));
  EXPECT_EQ(JourneyTimes(Journey(R"({"ChannelID":"-1","MonthType":"10","ContactNumber":"nobody"})"))
                .size(),
            0u);

  ExpectLcmError(Journey(R"({"ChannelID":2,"MonthType":10})"), "", "Callid is empty",
                 "Invalid Call ID.");
  ExpectLcmError(Journey(R"({"callid":"","AccountNumber":"","ChannelID":2,"MonthType":10})"), "",
                 "Callid is empty", "Invalid Call ID.");
  ExpectLcmError(Journey(R"({"callid":"555","ChannelID":2,"MonthType":10})"), "555",
                 "Invalid Call ID:555", "Invalid Call ID.");
  ExpectLcmError(Journey(R"({"callid":"1","AccountNumber":"ACC","MonthType":10})"), "1",
                 "ChannelID is required", "Invalid request.");
  ExpectLcmError(Journey(R"({"callid":"1","AccountNumber":"ACC","ChannelID":4,"MonthType":10})"),
                 "1", "Invalid ChannelID", "Invalid request.");
  ExpectLcmError(Journey(R"({"callid":"1","AccountNumber":"ACC","ChannelID":2})"), "1",
                 "MonthType is required", "Invalid request.");
  ExpectLcmError(Journey(R"({"callid":"1","AccountNumber":["ACC"],"ChannelID":2,"MonthType":1})"),
                 "1", "AccountNumber", "Invalid request.");
  ExpectLcmError(
      client_->Post(
          "/lcm/messages",
          R"({"channel":"LCM","topic":"WebService","subtopic":"GetBusinessOutcomes","data":{}})"),
      "", "subtopic", "Invalid request.");
  ExpectLcmError(
      client_->Post("/lcm/messages",
                    R"({"channel":"LCM","topic":"webservice","subtopic":"GetCustomerJourney"})"),
      "", "data", "Invalid request.");
  ExpectLcmError(client_->Post("/lcm/messages", R"({"channel":"LCM",)"), "", "JSON",
                 "Invalid request.");
  // topic compares without case (the docs spell it both ways).
  EXPECT_EQ(
      client_
          ->Post(
              "/lcm/messages",
              R"({"channel":"LCM","topic":"Webservice","subtopic":"GetCustomerJourney","data":{"ContactNumber":"909003299700","ChannelID":-1,"MonthType":12}})")
          .status,
      200);
  EXPECT_EQ(client_->Get("/lcm/messages").status, 405);
}

TEST_P(HistoryTest, NativeIngestIsAllOrNothingAndNamesTheLine) {
  HttpReply bad = client_->Post("/contextd/v1/interactions",
                                "{\"customer_id\":\"c\",\"channel\":\"sms\"}\n"
                                "{\"customer_id\":\"c\",\"time\":\"yesterday\"}\n");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("line 2: field 'time'"), std::string::npos) << bad.body;
  HttpReply keyless =
      client_->Post("/contextd/v1/interactions", "{\"customer_id\":\"c\"}\n{\"channel\":\"sms\"}");
  EXPECT_EQ(keyless.status, 400) << keyless.body;
  EXPECT_NE(keyless.body.find("record 2"), std::string::npos) << keyless.body;
  for (const char* body : {"{\"customer_id\":\"c\",}", "[]", "{\"customer_id\":5}",
                           "{\"customer_id\":\"c\",\"interaction_id\":3}",
                           "{\"customer_id\":\"c\",\"outcome_id\":1.5}",
                           "{\"customer_id\":\"c\",\"negotiation_actions\":[1]}",
                           "{\"customer_id\":\"c\",\"attributes\":[]}",
                           "{\"customer_id\":\"c\",\"pega_interaction_id\":\"x\"}", ""}) {
    SCOPED_TRACE(body);
    HttpReply r = client_->Post("/contextd/v1/interactions", body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(Field(Json(r), "message")) << r.body;
  }
  HttpReply none = client_->Get("/contextd/v1/interactions?customer_id=c");
  EXPECT_EQ(none.body, R"({"interactions":[]})");

  HttpReply ok = client_->Post(
      "/contextd/v1/interactions",
      "{\"customer_id\":\"c\",\"channel\":\"SMS\"}\r\n"
      "{\"customer_id\":\"c\",\"channel\":\"Email\",\"time\":\"2024-03-10T00:00:00Z\"}\n\n");
  ASSERT_EQ(ok.status, 201) << ok.body;
  Value v = Json(ok);
  EXPECT_EQ(Field(v, "stored")->int_value, 2);
  HttpReply all = client_->Get("/contextd/v1/interactions?customer_id=c");
  Value av = Json(all);
  ASSERT_EQ(Field(av, "interactions")->array.size(), 2u);
  const Value& newest = Field(av, "interactions")->array[0];
  EXPECT_EQ(Field(newest, "time")->string_value, kNow);  // no time: the server clock
  EXPECT_EQ(Field(newest, "channel")->string_value, "sms");
}

TEST_P(HistoryTest, NativeQueryParametersAndCustomerKeys) {
  Ingest(
      "{\"customer_id\":\"c\",\"channel\":\"sms\",\"campaign\":\"x\",\"time\":\"2024-01-01T00:00:"
      "00Z\"}\n"
      "{\"customer_id\":\"c\",\"channel\":\"voice\",\"campaign\":\"y\",\"time\":\"2024-01-02T00:00:"
      "00Z\"}\n"
      "{\"customer_id\":\"c\",\"channel\":\"web\",\"campaign\":\"x\",\"time\":\"2024-01-03T00:00:"
      "00Z\"}\n");
  auto count = [&](const std::string& query) {
    HttpReply r = client_->Get("/contextd/v1/interactions?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    const Value v = Json(r);  // Field points into it
    const Value* list = Field(v, "interactions");
    return list ? list->array.size() : size_t{999};
  };
  EXPECT_EQ(count("customer_id=c"), 3u);
  EXPECT_EQ(count("customer_id=c&channel=sms,Web"), 2u);
  EXPECT_EQ(count("customer_id=c&campaign=x"), 2u);
  EXPECT_EQ(count("customer_id=c&from=2024-01-02T00:00:00Z"), 2u);
  EXPECT_EQ(count("customer_id=c&to=2024-01-02T00:00:00Z"), 1u);
  EXPECT_EQ(count("customer_id=c&limit=1"), 1u);
  for (const char* bad :
       {"", "customer_id=c&account_number=a", "customer_id=c&limit=0", "customer_id=c&limit=1001",
        "customer_id=c&from=x", "customer_id=c&nope=1", "customer_id=c&customer_id=d"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(client_->Get(std::string("/contextd/v1/interactions?") + bad).status, 400);
  }
  HttpReply missing = client_->Get("/contextd/v1/customers/c");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(client_->Request("PUT", "/contextd/v1/customers/c", R"({"account":"a"})").status, 400);
  EXPECT_EQ(client_->Request("PUT", "/contextd/v1/customers/c", R"({"account_number":1})").status,
            400);
  HttpReply put = client_->Request("PUT", "/contextd/v1/customers/c%20d",
                                   R"({"account_number":"1|2|3|0|0|4|1"})");
  EXPECT_EQ(put.status, 200) << put.body;
  HttpReply got = client_->Get("/contextd/v1/customers/c%20d");
  EXPECT_EQ(got.body,
            R"({"customer_id":"c d","account_number":"1|2|3|0|0|4|1","contact_number":""})");
}

TEST_P(HistoryTest, RecordsSurviveARestartAndIdsKeepGrowing) {
  StartServer({"--sync", "always", "--fixed-now", kNow});
  HttpReply first = client_->Post("/contextd/v1/interactions", R"({"customer_id":"c"})");
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(server_->Stop(), 0);
  StartServer({"--sync", "always", "--fixed-now", kNow});
  HttpReply second = client_->Post("/contextd/v1/interactions", R"({"customer_id":"c"})");
  ASSERT_EQ(second.status, 201);
  const int64_t a = Field(Json(first), "interaction_ids")->array[0].int_value;
  const int64_t b = Field(Json(second), "interaction_ids")->array[0].int_value;
  EXPECT_GT(b, a);
  HttpReply all = client_->Get("/contextd/v1/interactions?customer_id=c");
  EXPECT_EQ(Field(Json(all), "interactions")->array.size(), 2u);
}

}  // namespace
}  // namespace contextd::testing
