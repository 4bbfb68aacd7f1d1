// End to end: the Workspace API (/api/v2) and its CometD endpoint on the real binary.

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/server/server_fixture.h"
#include "tests/support/basic_auth.h"
#include "tests/support/eventually.h"

namespace contextd::testing {
namespace {

using storage::Value;

class WorkspaceFixture : public ServerTest {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--sync",           "none", "--admin", "root:secret",
                                     "--cometd-hold-ms", "1500"};
    args.insert(args.end(), extra.begin(), extra.end());
    StartServer(args);
    admin_ = SignIn("root", "secret");
  }

  // Signs in with Basic auth; returns the "Cookie: JSESSIONID=..." header.
  std::string SignIn(const std::string& user, const std::string& password) {
    std::string cookie = testing::SignIn(*client_, user, password);
    EXPECT_FALSE(cookie.empty()) << user << " could not sign in";
    return cookie;
  }

  std::string Agent(const std::string& name) {
    HttpReply r = client_->Request(
        "POST", "/api/v2/users",
        R"({"userName":")" + name + R"(","password":"pw","roles":["ROLE_AGENT"]})", {admin_});
    EXPECT_EQ(r.status, 200) << r.body;
    std::string cookie = SignIn(name, "pw");
    EXPECT_EQ(Post("/api/v2/me",
                   R"({"operationName":"StartContactCenterSession","channels":["email"]})", cookie)
                  .body,
              R"({"statusCode":0})");
    EXPECT_EQ(Post("/api/v2/me/channels/email", R"({"operationName":"Ready"})", cookie).body,
              R"({"status":"ok"})");
    return cookie;
  }

  HttpReply Post(const std::string& path, const std::string& body, const std::string& cookie,
                 HttpClient* via = nullptr) {
    return (via ? via : client_.get())->Request("POST", path, body, {cookie});
  }

  std::string Create(const std::string& user_data = "{}") {
    HttpReply r = Post("/api/v2/interactions",
                       R"({"mediatype":"email","queue":"q","userData":)" + user_data + "}", admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    const Value json = Json(r);
    const Value* interaction = Field(json, "interaction");
    return interaction ? Field(*interaction, "id")->string_value : "";
  }

  HttpReply Op(const std::string& id, const std::string& body, const std::string& cookie,
               HttpClient* via = nullptr) {
    return Post("/api/v2/me/interactions/" + id, body, cookie, via);
  }

  // Waits (5 s at most) until the server holds `n` CometD connects, as its
  // contextd_cometd_held_connects gauge says; false if it never does.
  bool AwaitHeldConnects(int n) {
    const std::string line = "\ncontextd_cometd_held_connects " + std::to_string(n) + "\n";
    HttpClient metrics(server_->port());
    return Eventually([&] { return metrics.Get("/metrics").body.find(line) != std::string::npos; });
  }

  std::string admin_;
};

// On both backends: on Redis two nodes, each REST request to the other node, CometD on the first.
using WorkspaceTest = OnEveryBackend<WorkspaceFixture>;
INSTANTIATE_TEST_SUITE_P(Backends, WorkspaceTest, ::testing::ValuesIn(kBackends), BackendTestName);

TEST_P(WorkspaceTest, SignInSessionsAndRoles) {
  HttpReply none = client_->Get("/api/v2/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, R"({"statusCode":20,"statusMessage":"access denied"})");
  EXPECT_EQ(client_->Request("GET", "/api/v2/me", "", {BasicAuth("root", "nope")}).status, 401);
  EXPECT_EQ(client_->Request("GET", "/api/v2/me", "", {"Cookie: JSESSIONID=forged"}).status, 401);
  for (const char* bad : {"Basic ====", "Basic =", "Basic !!!!", "Basic cm9vdA==", "Bearer x"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(
        client_->Request("GET", "/api/v2/me", "", {std::string("Authorization: ") + bad}).status,
        401);
  }
  HttpReply me = client_->Request("GET", "/api/v2/me", "", {admin_});
  ASSERT_EQ(me.status, 200);
  EXPECT_TRUE(me.headers["set-cookie"].empty());  // the session goes on
  const Value me_json = Json(me);
  const Value* user = Field(me_json, "user");
  ASSERT_TRUE(user);
  EXPECT_EQ(Field(*user, "roles")->array.at(0).string_value, "ROLE_ADMIN");

  const std::string agent = Agent("ann");
  // Roles: agents cannot administer, admins do not operate interactions.
  HttpReply r =
      Post("/api/v2/users", R"({"userName":"x","password":"p","roles":["ROLE_AGENT"]})", agent);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Field(Json(r), "statusCode")->int_value, 3);
  EXPECT_EQ(client_->Request("GET", "/api/v2/users", "", {agent}).status, 403);
  EXPECT_EQ(Post("/api/v2/interactions", R"({"mediatype":"email"})", agent).status, 403);
  EXPECT_EQ(Op("x", R"({"operationName":"Accept"})", admin_).status, 403);
  EXPECT_EQ(Post("/api/v2/me/channels/email", R"({"operationName":"Ready"})", admin_).status, 403);
  // Provisioning errors.
  r = Post("/api/v2/users", R"({"userName":"ann","password":"p","roles":["ROLE_AGENT"]})", admin_);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Field(Json(r), "statusCode")->int_value, 18);
  r = Post("/api/v2/users", R"({"userName":"bo","roles":["ROLE_AGENT"]})", admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Field(Json(r), "statusCode")->int_value, 1);
  EXPECT_EQ(
      Post("/api/v2/users", R"({"userName":"bo","password":"p","roles":["ROLE_KING"]})", admin_)
          .status,
      400);
  // Passwords and their hashes never leave the server.
  HttpReply users = client_->Request("GET", "/api/v2/users", "", {admin_});
  EXPECT_EQ(users.status, 200);
  EXPECT_EQ(users.body.find("pass"), std::string::npos) << users.body;
  EXPECT_EQ(users.body.find("secret"), std::string::npos) << users.body;
}

TEST_P(WorkspaceTest, CsrfTokenGuardsCookieWrites) {
  Start({"--csrf"});
  HttpReply me = client_->Request("GET", "/api/v2/me", "", {admin_});
  EXPECT_EQ(me.headers["x-csrf-header"], "X-CSRF-TOKEN");
  const std::string token = me.headers["x-csrf-token"];
  ASSERT_FALSE(token.empty());
  const std::string body = R"({"userName":"cy","password":"p","roles":["ROLE_AGENT"]})";
  HttpReply refused = Post("/api/v2/users", body, admin_);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Csrf"), std::string::npos);
  EXPECT_EQ(client_->Request("POST", "/api/v2/users", body, {admin_, "X-CSRF-TOKEN: wrong"}).status,
            403);
  EXPECT_EQ(
      client_->Request("POST", "/api/v2/users", body, {admin_, "X-CSRF-TOKEN: " + token}).status,
      200);
  // Basic credentials on the request itself need no token.
  EXPECT_EQ(client_
                ->Request("POST", "/api/v2/users",
                          R"({"userName":"dee","password":"p","roles":["ROLE_AGENT"]})",
                          {BasicAuth("root", "secret")})
                .status,
            200);
}

TEST_P(WorkspaceTest, OperationRepliesUseTheirDocumentedBodies) {
  const std::string ann = Agent("ann");
  const std::string id = Create();
  struct Case {
    std::string body;
    int status;
    std::string reply;  // exact, or a prefix when it ends in '*'
  };
  const Case cases[] = {
      {R"({"operationName":"Complete"})", 400,
       R"({"statusCode":2,"statusMessage":"Complete is not allowed in state Invited"})"},
      {R"({"operationName":"Cancel"})", 400, R"({"statusCode":2,*)"},
      {R"({"operationName":"PlaceInWorkbin","workbin":"w"})", 400,
       R"({"status":"error","errorDescription":"PlaceInWorkbin is not allowed in state Invited"})"},
      {R"({"operationName":"Transfer","userId":"root"})", 400, R"({"statusCode":2,*)"},
      {R"({"operationName":"Dance"})", 400, R"({"status":"error",*)"},
      {R"({})", 400, R"({"statusCode":1,"statusMessage":"operationName is required"})"},
      {R"({"operationName":"Accept"})", 200, R"({"status":"ok"})"},
      {R"({"operationName":"Accept"})", 400, R"({"status":"error",*)"},
      {R"({"operationName":"PlaceInQueue"})", 400,
       R"({"status":"error","errorDescription":"queueName is required"})"},
      {R"({"operationName":"UpdateUserData","userData":{"a":{"b":[1,2]}}})", 200,
       R"({"status":"ok"})"},
      {R"({"operationName":"AttachUserData","userData":{"c":"d"}})", 200, R"({"status":"ok"})"},
      {R"({"operationName":"DeleteUserData","keys":["c"]})", 200, R"({"status":"ok"})"},
      {R"({"operationName":"DeleteUserData","userData":"c"})", 400, R"({"status":"error",*)"},
      {R"({"operationName":"PlaceInWorkbin","workbin":"later"})", 200, R"({"status":"ok"})"},
      {R"({"operationName":"GetWorkbinContent","workbin":"later"})", 200, R"({"status":"ok"})"},
      {R"({"operationName":"Accept"})", 200, R"({"status":"ok"})"},
      {R"({"operationName":"Transfer","userId":"nobody"})", 404, R"({"statusCode":6,*)"},
      {R"({"operationName":"Complete"})", 200, R"({"statusCode":0})"},
      {R"({"operationName":"Complete"})", 404, R"({"statusCode":6,*)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    HttpReply r = Op(id, c.body, ann);
    EXPECT_EQ(r.status, c.status) << r.body;
    if (c.reply.back() == '*') {
      EXPECT_EQ(r.body.rfind(c.reply.substr(0, c.reply.size() - 1), 0), 0u) << r.body;
    } else {
      EXPECT_EQ(r.body, c.reply);
    }
  }
  // A draft: Cancel's own success body.
  HttpReply draft = Post("/api/v2/interactions",
                         R"({"mediatype":"email","state":"Composing","userId":"ann"})", admin_);
  ASSERT_EQ(draft.status, 200) << draft.body;
  const std::string draft_id = Field(*Field(Json(draft), "interaction"), "id")->string_value;
  EXPECT_EQ(Op(draft_id, R"({"operationName":"Cancel"})", ann).body, R"({"status":0})");
  HttpReply gone = client_->Request("GET", "/api/v2/interactions/" + draft_id, "", {ann});
  EXPECT_EQ(gone.status, 404);
}

// PUT /api/v2/interactions/{id}: the agent's UpdateUserData as a resource update, in the
// statusCode family, notified to the agent as PropertiesUpdated.
TEST_P(WorkspaceTest, PutUpdatesTheUserDataOfTheAgentsInteraction) {
  const std::string ann = Agent("ann");
  const std::string id = Create(R"({"Subject":"Refund","Keep":1})");
  auto put = [&](const std::string& target, const std::string& body,
                 const std::vector<std::string>& headers) {
    return client_->Request("PUT", "/api/v2/interactions/" + target, body, headers);
  };
  const std::string update = R"({"userData":{"Subject":"Chargeback","Segment":{"tier":"gold"}}})";
  HttpReply invited = put(id, update, {ann});
  EXPECT_EQ(invited.status, 400);
  EXPECT_EQ(invited.body,
            R"({"statusCode":2,"statusMessage":"UpdateUserData is not allowed in state Invited"})");
  ASSERT_EQ(Op(id, R"({"operationName":"Accept"})", ann).status, 200);

  // ann's CometD client, subscribed, its first connect answered.
  const std::string path = "/api/v2/notifications";
  HttpReply hs = Post(path + "/handshake", R"([{"id":"1","channel":"/meta/handshake"}])", ann);
  const std::string cid = Field(Json(hs).array.at(0), "clientId")->string_value;
  auto msg = [&](const std::string& n, const std::string& channel, const std::string& more = "") {
    return R"([{"id":")" + n + R"(","channel":")" + channel + R"(","clientId":")" + cid + "\"" +
           more + "}]";
  };
  ASSERT_NE(Post(path, msg("2", "/meta/subscribe", R"(,"subscription":"/v2/me/interactions")"),
                 ann)
                .body.find(R"("successful":true)"),
            std::string::npos);
  ASSERT_EQ(Post(path + "/connect", msg("3", "/meta/connect"), ann).status, 200);

  HttpReply ok = put(id, update, {ann});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"statusCode":0})");
  HttpReply one = client_->Request("GET", "/api/v2/interactions/" + id, "", {ann});
  ASSERT_EQ(one.status, 200) << one.body;
  const Value one_json = Json(one);
  const Value* data = Field(*Field(one_json, "interaction"), "userData");
  ASSERT_TRUE(data && Field(*data, "Subject") && Field(*data, "Segment") && Field(*data, "Keep"))
      << one.body;
  EXPECT_EQ(Field(*data, "Subject")->string_value, "Chargeback");  // replaced
  EXPECT_EQ(Value::Object({{"tier", Value::String("gold")}}), *Field(*data, "Segment"));  // added
  EXPECT_EQ(Field(*data, "Keep")->int_value, 1);  // untouched

  // The notification is queued: the next connect returns it at once, before the connect reply.
  HttpReply delivered = Post(path + "/connect", msg("4", "/meta/connect"), ann);
  const Value batch = Json(delivered);
  ASSERT_EQ(batch.array.size(), 2u) << delivered.body;
  EXPECT_EQ(Field(batch.array[0], "channel")->string_value, "/v2/me/interactions");
  const Value* note = Field(batch.array[0], "data");
  ASSERT_TRUE(note && Field(*note, "interaction")) << delivered.body;
  EXPECT_EQ(Field(*note, "messageType")->string_value, "InteractionStateChanged");
  EXPECT_EQ(Field(*note, "notificationType")->string_value, "PropertiesUpdated");
  const Value& item = *Field(*note, "interaction");
  EXPECT_EQ(Field(item, "id")->string_value, id);
  EXPECT_EQ(Field(item, "state")->string_value, "Processing");
  EXPECT_EQ(*Field(item, "userData"), *data);  // the whole updated interaction

  // Failures, each in the statusCode family with the HTTP status of its code; none changes
  // anything.
  const std::string bob = Agent("bob");
  struct Case {
    std::string target;
    std::string body;
    std::vector<std::string> headers;
    int status;
    std::string reply;
  };
  const Case cases[] = {
      {"nope", update, {ann}, 404, R"({"statusCode":6,"statusMessage":"interaction nope not found"})"},
      {id, R"({"userData":{"Subject":"stolen"}})", {bob}, 404,
       R"({"statusCode":6,"statusMessage":"interaction )" + id + R"( not found"})"},
      {id, R"({"userData":"Subject"})", {ann}, 400,
       R"({"statusCode":1,"statusMessage":"userData: expected an object"})"},
      {id, R"({"userData":{}})", {ann}, 400,
       R"({"statusCode":1,"statusMessage":"userData is required"})"},
      {id, R"(["userData"])", {ann}, 400,
       R"({"statusCode":1,"statusMessage":"request body must be a JSON object"})"},
      {id, R"({"userData":{"Subject":"x"}})", {}, 401,
       R"({"statusCode":20,"statusMessage":"access denied"})"},
      {id, R"({"userData":{"Subject":"x"}})", {admin_}, 403,
       R"({"statusCode":3,"statusMessage":"this operation is for agents"})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target + " " + c.body);
    HttpReply r = put(c.target, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.body, c.reply);
  }
  HttpReply after = client_->Request("GET", "/api/v2/interactions/" + id, "", {ann});
  EXPECT_EQ(after.body, one.body);
}

TEST_P(WorkspaceTest, ListingsAndSingleInteraction) {
  const std::string ann = Agent("ann");
  const std::string id = Create(R"({"Subject":"Refund"})");
  HttpReply uris = client_->Request("GET", "/api/v2/me/interactions", "", {ann});
  EXPECT_EQ(uris.body,
            R"({"statusCode":0,"uris":["http://127.0.0.1/api/v2/interactions/)" + id + R"("]})");
  HttpReply all = client_->Request("GET", "/api/v2/me/interactions?fields=*", "", {ann});
  Value v = Json(all);
  const Value& item = Field(v, "interactions")->array.at(0);
  EXPECT_EQ(Field(item, "state")->string_value, "Invited");
  EXPECT_EQ(Field(item, "mediatype")->string_value, "email");
  EXPECT_EQ(Field(*Field(item, "userData"), "Subject")->string_value, "Refund");
  EXPECT_EQ(client_->Request("GET", "/api/v2/me/interactions?fields=id", "", {ann}).status, 400);
  HttpReply one = client_->Request("GET", "/api/v2/interactions/" + id, "", {ann});
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(Field(*Field(Json(one), "interaction"), "id")->string_value, id);
  EXPECT_EQ(client_->Request("GET", "/api/v2/interactions/nope", "", {ann}).status, 404);
  HttpReply admin_all = client_->Request("GET", "/api/v2/interactions?fields=*", "", {admin_});
  EXPECT_EQ(Field(Json(admin_all), "interactions")->array.size(), 1u);
}

TEST_P(WorkspaceTest, ConcurrentAcceptHasExactlyOneWinner) {
  const std::string ann = Agent("ann");
  const std::string bob = Agent("bob");
  for (int round = 0; round < 5; ++round) {
    const std::string id = Create();
    // Whoever was offered it, both agents (ann from two connections) race to accept.
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    int n = 0;
    for (const std::string* cookie : {&ann, &ann, &bob}) {
      // On two nodes the racers are spread over both.
      const uint16_t port = second_ && n++ % 2 ? second_->port() : server_->port();
      threads.emplace_back([&, cookie, port] {
        HttpClient mine(port);
        wins += Op(id, R"({"operationName":"Accept"})", *cookie, &mine).status == 200;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1);
  }
}

TEST_P(WorkspaceTest, CometdLongPollingProtocol) {
  const std::string ann = Agent("ann");
  const std::string path = "/api/v2/notifications";
  // WebSocket is refused at once, so stock clients fall back to long-polling.
  HttpReply ws =
      client_->Request("GET", path, "", {ann, "Upgrade: websocket", "Connection: Upgrade"});
  EXPECT_EQ(ws.status, 404);
  EXPECT_EQ(
      client_->Request("POST", path + "/handshake", R"([{"id":"1","channel":"/meta/handshake"}])")
          .status,
      401);

  HttpReply hs = Post(path + "/handshake",
                      R"([{"id":"1","channel":"/meta/handshake","version":"1.0",)"
                      R"("supportedConnectionTypes":["long-polling"]}])",
                      ann);
  ASSERT_EQ(hs.status, 200) << hs.body;
  Value reply = Json(hs).array.at(0);
  EXPECT_TRUE(Field(reply, "successful")->bool_value);
  EXPECT_EQ(Field(reply, "id")->string_value, "1");
  EXPECT_EQ(Field(reply, "supportedConnectionTypes")->array.at(0).string_value, "long-polling");
  const std::string cid = Field(reply, "clientId")->string_value;
  EXPECT_GE(cid.size(), 22u);
  auto msg = [&](const std::string& id, const std::string& channel, const std::string& more = "") {
    return R"({"id":")" + id + R"(","channel":")" + channel + R"(","clientId":")" + cid + "\"" +
           more + "}";
  };
  HttpReply sub = Post(
      path, "[" + msg("2", "/meta/subscribe", R"(,"subscription":"/v2/me/interactions")") + "]",
      ann);
  EXPECT_NE(sub.body.find(R"("successful":true)"), std::string::npos) << sub.body;
  HttpReply denied =
      Post(path, "[" + msg("3", "/meta/subscribe", R"(,"subscription":"/v2/ucs/x")") + "]", ann);
  EXPECT_NE(denied.body.find("403::subscription_denied"), std::string::npos) << denied.body;
  HttpReply publish = Post(path, "[" + msg("4", "/v2/me/interactions", R"(,"data":{})") + "]", ann);
  EXPECT_NE(publish.body.find("403::publish_denied"), std::string::npos) << publish.body;
  HttpReply unknown =
      Post(path + "/connect", R"([{"id":"5","channel":"/meta/connect","clientId":"nope"}])", ann);
  EXPECT_NE(unknown.body.find("402::unknown_client"), std::string::npos) << unknown.body;
  EXPECT_NE(unknown.body.find(R"("reconnect":"handshake")"), std::string::npos);

  // The first connect is answered at once; the next is held until the hold time (1.5 s).
  HttpReply first = Post(path + "/connect",
                         "[" + msg("6", "/meta/connect", R"(,"advice":{"timeout":0})") + "]", ann);
  EXPECT_NE(first.body.find(R"("id":"6")"), std::string::npos) << first.body;
  auto start = std::chrono::steady_clock::now();
  HttpReply idle = Post(path + "/connect", "[" + msg("7", "/meta/connect") + "]", ann);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1200));
  EXPECT_EQ(Json(idle).array.size(), 1u) << idle.body;

  // A held connect is released by a notification, which comes before the connect reply.
  HttpClient poller(server_->port());
  ASSERT_TRUE(poller.Write("POST " + path + "/connect HTTP/1.1\r\nHost: x\r\n" + ann +
                           "\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(msg("8", "/meta/connect").size() + 2) + "\r\n\r\n[" +
                           msg("8", "/meta/connect") + "]"));
  ASSERT_TRUE(AwaitHeldConnects(1)) << "the connect is not held";
  const std::string id = Create();
  HttpReply delivered = poller.ReadReply();
  ASSERT_EQ(delivered.status, 200);
  Value batch = Json(delivered);
  ASSERT_EQ(batch.array.size(), 2u) << delivered.body;
  EXPECT_EQ(Field(batch.array[0], "channel")->string_value, "/v2/me/interactions");
  const Value& data = *Field(batch.array[0], "data");
  EXPECT_EQ(Field(data, "messageType")->string_value, "InteractionStateChanged");
  EXPECT_EQ(Field(data, "notificationType")->string_value, "StatusChange");
  EXPECT_EQ(Field(*Field(data, "interaction"), "id")->string_value, id);
  EXPECT_EQ(Field(batch.array[1], "id")->string_value, "8");

  // A request behind a held connect on the same connection completes it first.
  ASSERT_TRUE(poller.Write("POST " + path + "/connect HTTP/1.1\r\nHost: x\r\n" + ann +
                           "\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(msg("9", "/meta/connect").size() + 2) + "\r\n\r\n[" +
                           msg("9", "/meta/connect") + "]" + "GET /health HTTP/1.1\r\n\r\n"));
  start = std::chrono::steady_clock::now();
  EXPECT_NE(poller.ReadReply().body.find(R"("id":"9")"), std::string::npos);
  EXPECT_EQ(poller.ReadReply().status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));

  HttpReply bye = Post(path + "/disconnect", "[" + msg("10", "/meta/disconnect") + "]", ann);
  EXPECT_NE(bye.body.find(R"("successful":true)"), std::string::npos) << bye.body;
  HttpReply after = Post(path + "/connect", "[" + msg("11", "/meta/connect") + "]", ann);
  EXPECT_NE(after.body.find("402::unknown_client"), std::string::npos) << after.body;
}

TEST_P(WorkspaceTest, AHeldConnectIsAnsweredWhenTheServerStops) {
  Start({"--cometd-hold-ms", "20000"});
  const std::string ann = Agent("ann");
  const std::string path = "/api/v2/notifications";
  HttpReply hs = Post(path + "/handshake", R"([{"id":"1","channel":"/meta/handshake"}])", ann);
  const std::string cid = Field(Json(hs).array.at(0), "clientId")->string_value;
  const std::string connect = R"([{"id":"2","channel":"/meta/connect","clientId":")" + cid + "\"}]";
  ASSERT_EQ(Post(path + "/connect", connect, ann).status, 200);  // the first: at once
  HttpClient poller(server_->port());
  ASSERT_TRUE(poller.Write("POST " + path + "/connect HTTP/1.1\r\nHost: x\r\n" + ann +
                           "\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(connect.size()) + "\r\n\r\n" + connect));
  ASSERT_TRUE(AwaitHeldConnects(1)) << "the connect is not held";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(), 0);
  HttpReply held = poller.ReadReply();
  EXPECT_EQ(held.status, 200);
  EXPECT_NE(held.body.find(R"("successful":true)"), std::string::npos) << held.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_P(WorkspaceTest, UsersAndInteractionsSurviveARestart) {
  const std::string ann = Agent("ann");
  const std::string id = Create(R"({"Subject":"kept"})");
  ASSERT_EQ(Op(id, R"({"operationName":"Accept"})", ann).status, 200);
  ASSERT_EQ(server_->Stop(), 0);
  Start({});
  const std::string again = SignIn("ann", "pw");  // the user survived
  HttpReply one = client_->Request("GET", "/api/v2/interactions/" + id, "", {again});
  ASSERT_EQ(one.status, 200) << one.body;
  const Value one_json = Json(one);
  const Value* item = Field(one_json, "interaction");
  EXPECT_EQ(Field(*item, "state")->string_value, "Processing");
  EXPECT_EQ(Field(*Field(*item, "userData"), "Subject")->string_value, "kept");
  EXPECT_EQ(Op(id, R"({"operationName":"Complete"})", again).body, R"({"statusCode":0})");
}

}  // namespace
}  // namespace contextd::testing
