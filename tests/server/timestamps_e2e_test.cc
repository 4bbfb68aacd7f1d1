// End to end: the timestamp forms integrators send (README "Timestamps"). Java's
// Instant.toString() writes up to 9 fraction digits, cut to milliseconds; an unencoded `+hh:mm`
// offset in a query string decodes to a space, read as `+` in query parameters only.

#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

using TimestampsTest = OnEveryBackend<ServerTest>;
INSTANTIATE_TEST_SUITE_P(Backends, TimestampsTest, ::testing::ValuesIn(kBackends),
                         BackendTestName);

std::string StartedAt(const storage::Value& service) {
  const storage::Value* started = storage::FindField(service.object, "started");
  if (started == nullptr) return "";
  const storage::Value* t = storage::FindField(started->object, "timestamp");
  return t == nullptr ? "" : t->string_value;
}

TEST_P(TimestampsTest, NineFractionDigitsInABodyAndASpaceOffsetInAQueryString) {
  // Started 10:00:00.123 and 11:00:00.999 UTC: the nanoseconds are cut, never rounded up.
  HttpReply a =
      client_->Post(std::string(kCs) + "/services/start",
                    R"({"customer_id":"J1","timestamp":"2024-05-01T10:00:00.123456789Z"})");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(StartedAt(Json(a)), "2024-05-01T10:00:00.123Z") << a.body;
  HttpReply b = client_->Post(std::string(kCs) + "/services/start",
                              R"({"customer_id":"J1","timestamp":"2024-05-01T11:00:00.999999Z"})");
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(StartedAt(Json(b)), "2024-05-01T11:00:00.999Z") << b.body;
  const int64_t id_a = Field(Json(a), "service_id")->int_value;
  const int64_t id_b = Field(Json(b), "service_id")->int_value;

  // A body's offset must carry its sign: a space there is a 400 naming the field.
  HttpReply spaced =
      client_->Post(std::string(kCs) + "/services/start",
                    R"({"customer_id":"J1","timestamp":"2024-05-01T12:00:00 02:00"})");
  EXPECT_EQ(spaced.status, 400) << spaced.body;
  EXPECT_NE(spaced.body.find("'timestamp'"), std::string::npos) << spaced.body;

  // `+02:00` unencoded: 12:00:00.124+02:00 is 10:00:00.124Z, after a's start; read as -02:00 it
  // would be 14:00Z, after both.
  const std::string customer = std::string(kCs) + "/customers/J1/services";
  using V = std::vector<int64_t>;
  EXPECT_EQ(Ids(client_->Get(customer + "?started_from=2024-05-01T12:00:00.124+02:00")), (V{id_b}));
  EXPECT_EQ(Ids(client_->Get(customer + "?started_from=2024-05-01T12:00:00.123+02:00")),
            (V{id_b, id_a}));
  EXPECT_EQ(Ids(client_->Get(customer + "?started_from=2024-05-01T12:00:00.123%2B02:00")),
            (V{id_b, id_a}));  // encoded, as it should be sent
  // Nine digits in a query parameter too: 11:00:00.999999999 is 11:00:00.999, exclusive bound.
  EXPECT_EQ(Ids(client_->Get(customer + "?started_to=2024-05-01T11:00:00.999999999Z")), (V{id_a}));
  HttpReply ten = client_->Get(customer + "?started_to=2024-05-01T11:00:00.9999999999Z");
  EXPECT_EQ(ten.status, 400) << ten.body;
  EXPECT_NE(ten.body.find("started_to"), std::string::npos) << ten.body;

  // The native history's from/to are query parameters as well.
  HttpReply h = client_->Post(
      "/contextd/v1/interactions",
      R"({"customer_id":"J1","channel":"sms","time":"2024-05-01T10:00:00.5000001Z"})");
  ASSERT_EQ(h.status, 201) << h.body;
  auto records = [this](const std::string& from) {
    HttpReply r = client_->Get("/contextd/v1/interactions?customer_id=J1&from=" + from);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> times;
    storage::Value v = Json(r);
    const storage::Value* list = Field(v, "interactions");
    if (list == nullptr) return times;
    for (const storage::Value& x : list->array) times.push_back(Field(x, "time")->string_value);
    return times;
  };
  EXPECT_EQ(records("2024-05-01T12:00:00.501+02:00"), std::vector<std::string>{});
  EXPECT_EQ(records("2024-05-01T12:00:00.500+02:00"),
            std::vector<std::string>{"2024-05-01T10:00:00.500Z"});
}

}  // namespace
}  // namespace contextd::testing
