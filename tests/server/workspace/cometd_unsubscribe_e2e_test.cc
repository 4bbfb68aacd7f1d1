// End to end: CometD /meta/unsubscribe (Bayeux 1.0; dialects-api.md section 2): the reply
// mirrors subscribe, and the channel gets no more deliveries.

#include <algorithm>

#include "tests/server/server_fixture.h"
#include "tests/support/basic_auth.h"

namespace contextd::testing {
namespace {

using storage::Value;

Value Parse(const std::string& body) {
  auto v = server::ParseJson(body);
  EXPECT_TRUE(v.ok()) << body;
  return v.ok() ? *v : Value();
}

std::string Text(const Value& v, std::string_view name) {
  const Value* f = storage::FindField(v.object, name);
  return f ? f->string_value : "";
}

TEST(CometdUnsubscribeTest, AnUnsubscribedChannelGetsNoMoreDeliveries) {
  TempDir dir;
  ServerProcess server(CONTEXTD_BINARY, dir.path(),
                       {"--sync", "none", "--admin", "root:secret", "--cometd-hold-ms", "300"});
  HttpClient http(server.port());
  const std::string admin = SignIn(http, "root", "secret");
  ASSERT_FALSE(admin.empty());
  ASSERT_EQ(http.Request("POST", "/api/v2/users",
                         R"({"userName":"ann","password":"pw","roles":["ROLE_AGENT"]})", {admin})
                .status,
            200);
  const std::string ann = SignIn(http, "ann", "pw");
  ASSERT_FALSE(ann.empty());
  ASSERT_EQ(http.Request("POST", "/api/v2/me",
                         R"({"operationName":"StartContactCenterSession","channels":["email"]})",
                         {ann})
                .status,
            200);
  ASSERT_EQ(http.Request("POST", "/api/v2/me/channels/email", R"({"operationName":"Ready"})",
                         {ann})
                .status,
            200);
  auto offer = [&] {  // a queued email: offered to ann, notified on her channels
    ASSERT_EQ(http.Request("POST", "/api/v2/interactions", R"({"mediatype":"email","queue":"q"})",
                           {admin})
                  .status,
              200);
  };
  const std::string path = "/api/v2/notifications";
  HttpReply hs = http.Request("POST", path + "/handshake",
                              R"([{"id":"1","channel":"/meta/handshake","version":"1.0"}])", {ann});
  const Value handshake = Parse(hs.body);
  ASSERT_EQ(handshake.array.size(), 1u) << hs.body;
  const std::string cid = Text(handshake.array[0], "clientId");
  auto send = [&](const std::string& id, const std::string& channel, const std::string& more) {
    return http.Request("POST", path,
                        R"([{"id":")" + id + R"(","channel":")" + channel +
                            R"(","clientId":")" + cid + "\"" + more + "}]",
                        {ann});
  };
  // The channels a connect reply delivered on (every message but the connect reply).
  auto delivered_on = [&](const std::string& id) {
    HttpReply r = send(id, "/meta/connect", "");
    EXPECT_EQ(r.status, 200);
    std::vector<std::string> channels;
    for (const Value& m : Parse(r.body).array) {
      const std::string channel = Text(m, "channel");
      if (channel != "/meta/connect") channels.push_back(channel);
    }
    std::sort(channels.begin(), channels.end());
    return channels;
  };
  using V = std::vector<std::string>;
  for (const char* channel : {"/v2/me/interactions", "/me/interactions"}) {
    HttpReply sub = send("s", "/meta/subscribe", std::string(R"(,"subscription":")") + channel +
                                                    "\"");
    ASSERT_NE(sub.body.find(R"("successful":true)"), std::string::npos) << sub.body;
  }
  EXPECT_EQ(delivered_on("2"), V{});  // the first connect: at once
  offer();
  EXPECT_EQ(delivered_on("3"), (V{"/me/interactions", "/v2/me/interactions"}));

  HttpReply unsub = send("4", "/meta/unsubscribe", R"(,"subscription":"/v2/me/interactions")");
  EXPECT_EQ(unsub.status, 200);
  EXPECT_EQ(unsub.body, R"([{"id":"4","channel":"/meta/unsubscribe","successful":true,)"
                        R"("clientId":")" + cid + R"(","subscription":"/v2/me/interactions"}])");
  offer();
  EXPECT_EQ(delivered_on("5"), V{"/me/interactions"});  // the other channel still delivers

  send("6", "/meta/unsubscribe", R"(,"subscription":"/me/interactions")");
  offer();
  EXPECT_EQ(delivered_on("7"), V{});  // held for the hold time, then answered empty

  // A channel that may not be subscribed is refused the same way subscribe refuses it.
  HttpReply denied = send("8", "/meta/unsubscribe", R"(,"subscription":"/v2/ucs/x")");
  EXPECT_NE(denied.body.find(R"("successful":false)"), std::string::npos) << denied.body;
  EXPECT_NE(denied.body.find(R"("error":"403::subscription_denied")"), std::string::npos);
  EXPECT_NE(denied.body.find(R"("subscription":"/v2/ucs/x")"), std::string::npos);
}

}  // namespace
}  // namespace contextd::testing
