#include "server/api/router.h"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/app.h"

namespace contextd::server {
namespace {

// The rules of every route, written down from the route table the declared rows replaced
// (`git show b4efe6a:server/api.cc`: who may call was inferred from the method and a
// read_only flag, the sync from the method, the body limit from the method and the
// handler), so that a row declaring other rules than the route had fails here.
struct Expected {
  const char* route;
  const char* need;  // reader, writer, admin, open, session
  bool writes;
  const char* body;  // none, event, bulk
};
const Expected kExpected[] = {
    {"GET /health", "open", false, "none"},
    {"GET /ready", "open", false, "none"},
    {"GET /metrics", "admin", false, "none"},
    {"GET /ui", "open", false, "none"},
    {"GET /ui/:file", "open", false, "none"},
    {"GET /contextd/v1/latency", "admin", false, "none"},
    // Reads no body: 8 KiB now (256 KiB before, as every POST).
    {"POST /contextd/v1/latency/reset", "admin", false, "none"},
    {"POST /contextd/v1/keys", "admin", true, "event"},
    {"GET /contextd/v1/keys", "admin", false, "none"},
    {"DELETE /contextd/v1/keys/:id", "admin", true, "none"},
    {"POST /contextd/v1/tenants", "admin", true, "event"},
    {"GET /contextd/v1/tenants", "admin", false, "none"},
    {"POST /contextd/v1/interactions", "writer", true, "bulk"},
    {"GET /contextd/v1/interactions", "reader", false, "none"},
    {"PUT /contextd/v1/customers/:cid", "writer", true, "event"},
    {"GET /contextd/v1/customers/:cid", "reader", false, "none"},
    {"POST /prweb/PRRestService/PegaMKTContainer/V2/CaptureResponse", "writer", true, "event"},
    {"POST /prweb/PRRestService/PegaMKTContainer/V2/CaptureResponse/Initiate", "writer", true,
     "event"},
    {"POST /prweb/PRRestService/PegaMKTContainer/V3/CaptureResponse", "writer", true, "event"},
    {"POST /prweb/PRRestService/PegaMKTContainer/V3/CaptureResponse/Initiate", "writer", true,
     "event"},
    {"POST /prweb/PRRestService/PegaMKTContainer/V2/CustomerOfferHistory", "reader", false,
     "event"},
    {"GET /prweb/PRRestService/PegaMKTContainer/V2/CustomerOfferHistory", "reader", false, "none"},
    {"POST /prweb/api/PegaMKTContainer/V2/CaptureResponse", "writer", true, "event"},
    {"POST /prweb/api/PegaMKTContainer/V2/CaptureResponse/Initiate", "writer", true, "event"},
    {"POST /prweb/api/PegaMKTContainer/V3/CaptureResponse", "writer", true, "event"},
    {"POST /prweb/api/PegaMKTContainer/V3/CaptureResponse/Initiate", "writer", true, "event"},
    {"POST /prweb/api/PegaMKTContainer/V2/CustomerOfferHistory", "reader", false, "event"},
    {"GET /prweb/api/PegaMKTContainer/V2/CustomerOfferHistory", "reader", false, "none"},
    {"POST /lcm/messages", "reader", false, "event"},
    {"GET /api/v2/me", "session", false, "none"},
    {"POST /api/v2/me", "session", true, "event"},
    {"POST /api/v2/me/channels/:channel", "session", true, "event"},
    {"GET /api/v2/me/interactions", "session", false, "none"},
    {"POST /api/v2/me/interactions/:id", "session", true, "event"},
    {"GET /api/v2/interactions", "session", false, "none"},
    {"POST /api/v2/interactions", "session", true, "event"},
    {"GET /api/v2/interactions/:id", "session", false, "none"},
    {"PUT /api/v2/interactions/:id", "session", true, "event"},  // new in issue 15
    {"GET /api/v2/users", "session", false, "none"},
    {"POST /api/v2/users", "session", true, "event"},
    {"GET /api/v2/notifications", "session", false, "none"},
    {"POST /api/v2/notifications", "session", false, "event"},
    {"POST /api/v2/notifications/:type", "session", false, "event"},
    {"POST /genesys/1/cs/services/start", "writer", true, "event"},
    {"GET /genesys/1/cs/services/:sid", "reader", false, "none"},
    {"DELETE /genesys/1/cs/services/:sid", "writer", true, "none"},
    {"POST /genesys/1/cs/services/:sid/end", "writer", true, "event"},
    {"POST /genesys/1/cs/customers/:cid/services/:sid", "writer", true, "event"},
    {"GET /genesys/1/cs/customers/:cid/services", "reader", false, "none"},
    {"GET /genesys/1/cs/customers/:cid/services/active", "reader", false, "none"},
    {"GET /genesys/1/cs/customers/:cid/services/completed", "reader", false, "none"},
    {"GET /genesys/1/cs/services/anonymous/:key", "reader", false, "none"},
    {"GET /genesys/1/cs/services/anonymous/:key/active", "reader", false, "none"},
    {"GET /genesys/1/cs/services/anonymous/:key/completed", "reader", false, "none"},
    {"PUT /genesys/1/cs/services/:sid/extensions/:name", "writer", true, "event"},
    {"PUT /genesys/1/cs/services/:sid/extensions/:name/merge", "writer", true, "event"},
    {"POST /genesys/1/cs/services/:sid/states/start", "writer", true, "event"},
    {"POST /genesys/1/cs/services/:sid/states/transition", "writer", true, "event"},
    {"POST /genesys/1/cs/services/:sid/states/:stid/end", "writer", true, "event"},
    {"GET /genesys/1/cs/services/:sid/states", "reader", false, "none"},
    {"GET /genesys/1/cs/services/:sid/states/active", "reader", false, "none"},
    {"GET /genesys/1/cs/services/:sid/states/completed", "reader", false, "none"},
    {"GET /genesys/1/cs/services/:sid/states/:stid", "reader", false, "none"},
    {"PUT /genesys/1/cs/services/:sid/states/:stid/extensions/:name", "writer", true, "event"},
    {"PUT /genesys/1/cs/services/:sid/states/:stid/extensions/:name/merge", "writer", true,
     "event"},
    {"POST /genesys/1/cs/services/:sid/tasks/start", "writer", true, "event"},
    {"POST /genesys/1/cs/services/:sid/tasks/:tid/end", "writer", true, "event"},
    {"GET /genesys/1/cs/services/:sid/tasks", "reader", false, "none"},
    {"GET /genesys/1/cs/services/:sid/tasks/active", "reader", false, "none"},
    {"GET /genesys/1/cs/services/:sid/tasks/completed", "reader", false, "none"},
    {"GET /genesys/1/cs/services/:sid/tasks/:tid", "reader", false, "none"},
    {"PUT /genesys/1/cs/services/:sid/tasks/:tid/extensions/:name", "writer", true, "event"},
    {"POST /genesys/1/cs/services/:sid/tasks/:tid/extensions/:name", "writer", true, "event"},
    {"PUT /genesys/1/cs/services/:sid/tasks/:tid/extensions/:name/merge", "writer", true, "event"},
};

const char* NeedName(Need need) {
  switch (need) {
    case Need::kReader:
      return "reader";
    case Need::kWriter:
      return "writer";
    case Need::kAdmin:
      return "admin";
    case Need::kOpen:
      return "open";
    case Need::kSession:
      return "session";
  }
  return "?";
}

const char* BodyName(BodyLimit body) {
  switch (body) {
    case BodyLimit::kNone:
      return "none";
    case BodyLimit::kEvent:
      return "event";
    case BodyLimit::kBulk:
      return "bulk";
  }
  return "?";
}

TEST(RouteRulesTest, EveryRouteDeclaresTheRulesOfTheTableItReplaced) {
  App app{Backends{}};
  const std::vector<std::string> names = app.api().RouteNames();
  std::map<std::string, const Expected*> expected;
  for (const Expected& e : kExpected) expected[e.route] = &e;
  EXPECT_EQ(names.size(), expected.size());
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    auto it = expected.find(names[i]);
    ASSERT_NE(it, expected.end()) << "a route without expected rules";
    const Rules& rules = app.api().RouteRules(i);
    EXPECT_STREQ(NeedName(rules.need), it->second->need);
    EXPECT_EQ(rules.writes, it->second->writes);
    EXPECT_STREQ(BodyName(rules.body), it->second->body);
  }
}

// ---- The router on rows of its own ----

// Dialects of the test's own, built like the real ones from CommonHttpStatus and PublicMessage.
ApiResponse FakeError(const absl::Status& status) {
  return Json(CommonHttpStatus(status), "fake:" + PublicMessage(status));
}
ApiResponse FallbackError(const absl::Status& status) {
  return Json(CommonHttpStatus(status), "fallback:" + PublicMessage(status));
}
const Dialect kFake{"fake", FakeError};
const Dialect kFallback{"", FallbackError};

// A handler that answers `status` with its captures, joined by '|'.
Handler Answer(int status) {
  return [status](const Call& c) {
    std::string body = "captures:";
    for (const std::string& s : c.captures) body += s + "|";
    return Json(status, body);
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : api_(
            {
                {"GET", "/fake/:x", Answer(200), &kFake, kRead},
                {"GET", "/fake/b", Answer(200), &kFake, kRead},
                {"POST", "/fake/b", Answer(201), &kFake, kWrite},
                {"POST", "/fake/refused", Answer(400), &kFake, kWrite},
                {"POST", "/fake/query", Answer(200), &kFake, kQuery},
                {"POST", "/fake/bulk", Answer(201), &kFake, kBulkWrite},
                {"GET", "/fake/throws",
                 [](const Call&) -> ApiResponse { throw std::runtime_error("boom"); }, &kFake,
                 kRead},
                {"GET", "/fake/null", Bind<int>(nullptr, nullptr), &kFake, kRead},
                {"GET", "/open", Answer(200), &kFake, kOpenRead},
            },
            AccessPolicy{nullptr, /*open=*/true}, &kFallback) {}

  ApiResponse Send(std::string_view method, std::string_view target) {
    ApiRequest r;
    r.method = method;
    r.target = target;
    return api_.Handle(r);
  }

  Api api_;
};

TEST_F(RouterTest, TheMostSpecificRouteWinsAndCapturesArePassed) {
  EXPECT_EQ(Send("GET", "/fake/b").body, "captures:");
  EXPECT_EQ(Send("GET", "/fake/c").body, "captures:c|");
  EXPECT_EQ(Send("GET", "/fake/b").route, 1);
}

TEST_F(RouterTest, AKnownPathWithAnotherMethodIs405WithAllow) {
  ApiResponse r = Send("DELETE", "/fake/b");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET, POST");
  EXPECT_EQ(r.body, "fake:method DELETE is not allowed here; allowed: GET, POST");
}

TEST_F(RouterTest, UnknownPathsTakeTheirPrefixsDialectElseTheFallback) {
  ApiResponse fake = Send("GET", "/fake/b/c");
  EXPECT_EQ(fake.status, 404);
  EXPECT_EQ(fake.body, "fake:no such resource");
  ApiResponse other = Send("GET", "/elsewhere");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, "fallback:no such resource");
  EXPECT_EQ(api_.TransportError(-1, "/fake/b", 413, "too big").body, "fake:too big");
  EXPECT_EQ(api_.TransportError(-1, "/fake/b", 413, "too big").status, 413);
  EXPECT_EQ(api_.TransportError(-1, "", 400, "bad").body, "fallback:bad");
  // After Handle, the route that served the request decides (a write not made durable).
  EXPECT_EQ(api_.TransportError(1, "", 503, "not durable").body,
            "fake:service unavailable, try again");
}

TEST_F(RouterTest, OnlyASuccessfulWriteWaitsForTheSync) {
  EXPECT_TRUE(Send("POST", "/fake/b").wrote);
  EXPECT_FALSE(Send("POST", "/fake/refused").wrote);  // a 400 of a writing route
  EXPECT_FALSE(Send("POST", "/fake/query").wrote);    // a POST that only reads
  EXPECT_FALSE(Send("GET", "/fake/b").wrote);
}

TEST_F(RouterTest, BodyLimitsComeFromTheRow) {
  constexpr size_t kMax = 1 << 20;
  EXPECT_EQ(api_.MaxBodyBytes("GET", "/fake/b", kMax), size_t{8} << 10);
  EXPECT_EQ(api_.MaxBodyBytes("POST", "/fake/b", kMax), size_t{256} << 10);
  EXPECT_EQ(api_.MaxBodyBytes("POST", "/fake/bulk", kMax), kMax);
  EXPECT_EQ(api_.MaxBodyBytes("POST", "/elsewhere", kMax), size_t{8} << 10);
  EXPECT_EQ(api_.MaxBodyBytes("POST", "/fake/b", 1000), 1000u);  // never above the server's
}

TEST_F(RouterTest, FailuresOfHandlersAreAnsweredInTheirDialect) {
  ApiResponse thrown = Send("GET", "/fake/throws");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body, "fake:internal error");
  ApiResponse unset = Send("GET", "/fake/null");  // a backend the server was built without
  EXPECT_EQ(unset.status, 503);
  EXPECT_EQ(unset.body, "fake:service unavailable, try again");
}

TEST(RouterKeysTest, WithoutKeysOnlyOpenRoutesAnswer) {
  Api api({{"GET", "/fake/b", Answer(200), &kFake, kRead},
           {"GET", "/open", Answer(200), &kFake, kOpenRead}},
          AccessPolicy{nullptr, /*open=*/false}, &kFallback);
  ApiRequest r;
  r.method = "GET";
  r.target = "/fake/b";
  ApiResponse refused = api.Handle(r);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body, "fake:no API keys are set up");
  r.target = "/open";
  EXPECT_EQ(api.Handle(r).status, 200);
}

}  // namespace
}  // namespace contextd::server
