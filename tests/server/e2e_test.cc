// End to end: the contextd binary on a real port, over real sockets, on a temp RocksDB.

#include <chrono>
#include <map>
#include <set>
#include <string_view>
#include <thread>

#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

// `id` is 16 lowercase hex digits, '-', and one or more lowercase hex digits. (Not std::regex:
// GCC 12's <regex> trips -Wmaybe-uninitialized inside libstdc++ in the sanitizer build.)
bool IsGeneratedRequestId(std::string_view id) {
  auto hex = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  };
  return id.size() > 17 && id[16] == '-' && hex(id.substr(0, 16)) && hex(id.substr(17));
}

using IdList = std::vector<int64_t>;

std::string Cs(const std::string& path) { return std::string(kCs) + path; }

// The Context Services suite on both backends (two nodes on Redis).
using E2eTest = OnEveryBackend<ServerTest>;
INSTANTIATE_TEST_SUITE_P(Backends, E2eTest, ::testing::ValuesIn(kBackends), BackendTestName);

TEST_P(E2eTest, HealthOverKeepAlive) {
  for (int i = 0; i < 3; ++i) {
    HttpReply r = client_->Get("/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"ok"})");
    EXPECT_EQ(r.headers["connection"], "Keep-Alive");
    EXPECT_EQ(r.headers["content-type"], "application/json");
  }
}

TEST_P(E2eTest, RequestsWithoutAnIdGetADistinctOne) {
  // A valid client id is echoed (below); without one, the server makes one up:
  // 16 hex digits of a per-process prefix, '-', a hex counter.
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    HttpReply r = client_->Get("/health");
    const std::string id = r.headers["x-request-id"];
    EXPECT_TRUE(IsGeneratedRequestId(id)) << id;
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(
      client_->Request("GET", "/health", "", {"X-Request-Id: ivr-7.a_B"}).headers["x-request-id"],
      "ivr-7.a_B");
}

TEST_P(E2eTest, IvrCallbackStory) {
  // The caller rings from 408-832-7799 and is not identified; the IVR starts a service.
  uint64_t id = StartService(
      R"({"contact_key":"408-832-7799","service_type":"NewWireless","media_type":"voice"})");
  HttpReply st = client_->Post(Cs("/services/" + std::to_string(id) + "/states/start"),
                               R"({"state_type":"InQueue"})");
  ASSERT_EQ(st.status, 201) << st.body;
  // ... the call drops after 10 minutes in queue. The caller rings back.
  HttpReply back = client_->Get(Cs("/services/anonymous/408-832-7799/active?active_states=true"));
  ASSERT_EQ(back.status, 200);
  storage::Value found = Json(back);
  ASSERT_EQ(found.array.size(), 1u);
  EXPECT_EQ(Field(found.array[0], "service_id")->int_value, static_cast<int64_t>(id));
  EXPECT_EQ(Field(found.array[0], "service_type")->string_value, "NewWireless");
  EXPECT_EQ(Field(*Field(found.array[0], "started"), "media_type")->string_value, "voice");
  const storage::Value* states = Field(found.array[0], "active_states");
  ASSERT_NE(states, nullptr);
  ASSERT_EQ(states->array.size(), 1u);
  EXPECT_EQ(Field(states->array[0], "state_type")->string_value, "InQueue");
  EXPECT_EQ(Field(states->array[0], "service_id"), nullptr);  // nested states omit it
  // Without expansion flags, no state arrays at all.
  EXPECT_EQ(Field(Json(client_->Get(Cs("/services/anonymous/408-832-7799/active"))).array[0],
                  "active_states"),
            nullptr);

  // The agent identifies the caller: the service moves to the customer at once.
  HttpReply assoc = client_->Post(Cs("/customers/ABC1234/services/" + std::to_string(id)), "");
  ASSERT_EQ(assoc.status, 200) << assoc.body;
  EXPECT_EQ(Field(Json(assoc), "customer_id")->string_value, "ABC1234");
  EXPECT_EQ(Field(Json(assoc), "contact_key")->string_value, "408-832-7799");
  for (const char* view : {"", "/active", "/completed"}) {
    EXPECT_EQ(Ids(client_->Get(Cs(std::string("/services/anonymous/408-832-7799") + view))),
              IdList{});
  }
  EXPECT_EQ(Ids(client_->Get(Cs("/customers/ABC1234/services/active?active_states=true"))),
            IdList{static_cast<int64_t>(id)});

  // Reassociation moves it again, out of the first customer's views.
  ASSERT_EQ(client_->Post(Cs("/customers/XYZ/services/" + std::to_string(id)), "{}").status, 200);
  EXPECT_EQ(Ids(client_->Get(Cs("/customers/ABC1234/services"))), IdList{});
  EXPECT_EQ(Ids(client_->Get(Cs("/customers/XYZ/services"))), IdList{static_cast<int64_t>(id)});

  // Completing moves it from active to completed history.
  HttpReply end =
      client_->Post(Cs("/services/" + std::to_string(id) + "/end"), R"({"disposition":"Sold"})");
  EXPECT_EQ(end.status, 204);
  EXPECT_EQ(end.body, "");
  EXPECT_EQ(Ids(client_->Get(Cs("/customers/XYZ/services/active"))), IdList{});
  storage::Value done = Json(client_->Get(Cs("/customers/XYZ/services/completed")));
  ASSERT_EQ(done.array.size(), 1u);
  EXPECT_EQ(Field(*Field(done.array[0], "completed"), "disposition")->string_value, "Sold");
}

TEST_P(E2eTest, ReadYourWritesAcrossConnections) {
  HttpClient reader(server_->port());
  for (int i = 0; i < 100; ++i) {
    std::string key = "rw-" + std::to_string(i);
    uint64_t id = StartService(R"({"contact_key":")" + key + R"("})");
    EXPECT_EQ(Ids(reader.Get(Cs("/services/anonymous/" + key + "/active"))),
              IdList{static_cast<int64_t>(id)});
    ASSERT_EQ(client_->Post(Cs("/services/" + std::to_string(id) + "/end"), "").status, 204);
    EXPECT_EQ(Ids(reader.Get(Cs("/services/anonymous/" + key + "/active"))), IdList{});
    EXPECT_EQ(Ids(reader.Get(Cs("/services/anonymous/" + key + "/completed"))),
              IdList{static_cast<int64_t>(id)});
  }
}

TEST_P(E2eTest, StatesTasksExtensionsAndDelete) {
  uint64_t id = StartService(R"({"customer_id":"C9","Feedback":{"rating":5}})");
  std::string base = Cs("/services/" + std::to_string(id));
  ASSERT_EQ(client_->Post(base + "/states/start", R"({"state_type":1,"note":"s0"})").status, 201);
  HttpReply tr = client_->Post(
      base + "/states/transition",
      R"({"from":{"state_id":0,"disposition":"Identified"},"to":{"state_type":4,"est_duration":120},"interaction_id":"IX1"})");
  ASSERT_EQ(tr.status, 201) << tr.body;
  storage::Value next = Json(tr);
  EXPECT_EQ(Field(next, "service_id")->int_value, static_cast<int64_t>(id));
  EXPECT_EQ(Field(next, "state_id")->int_value, 1);
  EXPECT_EQ(Field(next, "previous_state_id")->int_value, 0);
  EXPECT_EQ(Field(next, "state_type")->int_value, 4);
  EXPECT_EQ(Field(next, "est_duration")->int_value, 120);
  EXPECT_EQ(Field(*Field(next, "started"), "interaction_id")->string_value, "IX1");
  HttpReply task = client_->Post(base + "/tasks/start", R"({"task_type":"callback","state_id":1})");
  ASSERT_EQ(task.status, 201) << task.body;
  EXPECT_EQ(Field(Json(task), "task_id")->int_value, 0);
  ASSERT_EQ(client_->Post(base + "/tasks/start", R"({"task_type":"email"})").status, 201);
  ASSERT_EQ(client_->Post(base + "/tasks/1/end", R"({"disposition":"sent"})").status, 204);

  EXPECT_EQ(Json(client_->Get(base + "/states/active")).array.size(), 1u);
  EXPECT_EQ(Json(client_->Get(base + "/states/completed")).array.size(), 1u);
  storage::Value s1 = Json(client_->Get(base + "/states/1?active_tasks=true"));
  ASSERT_NE(Field(s1, "active_tasks"), nullptr);
  EXPECT_EQ(Field(s1, "active_tasks")->array.size(), 1u);
  EXPECT_EQ(Field(s1, "service_id")->int_value, static_cast<int64_t>(id));
  EXPECT_EQ(Json(client_->Get(base + "/tasks?state_id=1")).array.size(), 1u);
  EXPECT_EQ(Json(client_->Get(base + "/tasks/completed")).array.size(), 1u);
  EXPECT_EQ(Field(Json(client_->Get(base + "/tasks/1")), "completed") != nullptr, true);

  // Attached data appears only when named.
  EXPECT_EQ(Field(Json(client_->Get(base)), "Feedback"), nullptr);
  EXPECT_NE(Field(Json(client_->Get(base + "?extensions=Feedback")), "Feedback"), nullptr);
  storage::Value all = Json(client_->Get(base + "?extensions=*,State.note&completed_states=true"));
  EXPECT_EQ(Field(Field(all, "completed_states")->array[0], "note")->string_value, "s0");

  HttpReply ext =
      client_->Request("PUT", base + "/extensions/Feedback/merge", R"({"comment":"ok"})");
  ASSERT_EQ(ext.status, 200) << ext.body;
  EXPECT_EQ(Field(*Field(Json(ext), "Feedback"), "comment")->string_value, "ok");
  EXPECT_EQ(Field(*Field(Json(ext), "Feedback"), "rating")->int_value, 5);
  ASSERT_EQ(client_->Request("PUT", base + "/states/0/extensions/Audit", "[1,2]").status, 200);
  ASSERT_EQ(client_->Request("POST", base + "/tasks/0/extensions/Audit", R"({"a":1})").status, 200);
  EXPECT_EQ(Field(Json(client_->Get(base + "/tasks/0?extensions=Audit")), "Audit")->object.size(),
            1u);

  HttpReply del = client_->Request("DELETE", base);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, "");
  HttpReply gone = client_->Get(base);
  EXPECT_EQ(gone.status, 400);
  EXPECT_EQ(Field(Json(gone), "message")->string_value,
            "There are no service found for : " + std::to_string(id));
  EXPECT_EQ(Ids(client_->Get(Cs("/customers/C9/services"))), IdList{});
}

TEST_P(E2eTest, PercentEncodedKeysAndTenants) {
  uint64_t id = StartService(R"({"contact_key":"+1 408/555"})");
  EXPECT_EQ(Ids(client_->Get(Cs("/services/anonymous/%2B1%20408%2F555/active"))),
            IdList{static_cast<int64_t>(id)});
  // A literal + in a path stays a + (it is a space only in query strings).
  EXPECT_EQ(Ids(client_->Get(Cs("/services/anonymous/+1%20408%2F555"))),
            IdList{static_cast<int64_t>(id)});
  EXPECT_EQ(Ids(client_->Get(Cs("/services/anonymous/%2B1+408%2F555"))), IdList{});
  // Trailing and repeated slashes are ignored.
  EXPECT_EQ(Ids(client_->Get("/genesys//1/cs/services/anonymous/%2B1%20408%2F555/active/")),
            IdList{static_cast<int64_t>(id)});
  // Another tenant sees nothing of it.
  HttpReply other = client_->Request("GET", Cs("/services/" + std::to_string(id)), "",
                                     {"ContactCenterId: tenant-2"});
  EXPECT_EQ(other.status, 400);
  HttpReply other_list = client_->Request("GET", Cs("/services/anonymous/%2B1%20408%2F555"), "",
                                          {"ContactCenterId: tenant-2"});
  EXPECT_EQ(Ids(other_list), IdList{});
}

TEST_P(E2eTest, ConcurrentStateStartsOnOneServiceLoseNothing) {
  uint64_t id = StartService(R"({"customer_id":"C"})");
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient c(server_->port());
      for (int i = 0; i < kEach; ++i) {
        EXPECT_EQ(c.Post(Cs("/services/" + std::to_string(id) + "/states/start"), "{}").status,
                  201);
      }
    });
  }
  for (auto& t : threads) t.join();
  storage::Value states = Json(client_->Get(Cs("/services/" + std::to_string(id) + "/states")));
  ASSERT_EQ(states.array.size(), size_t{kThreads * kEach});
  for (size_t i = 0; i < states.array.size(); ++i) {
    EXPECT_EQ(Field(states.array[i], "state_id")->int_value, static_cast<int64_t>(i));
  }
}

TEST_P(E2eTest, RestartKeepsEverythingAndShutsDownCleanly) {
  StartServer({});  // default durability: fsync before acknowledging
  uint64_t a = StartService(R"({"customer_id":"R1","Offer":{"x":1}})");
  uint64_t b = StartService(R"({"contact_key":"rk"})");
  ASSERT_EQ(client_->Post(Cs("/services/" + std::to_string(a) + "/states/start"), "{}").status,
            201);
  ASSERT_EQ(client_->Post(Cs("/services/" + std::to_string(a) + "/end"), "{}").status, 204);
  const std::vector<std::string> reads = {
      Cs("/customers/R1/services?extensions=*&active_states=true&completed_states=true"),
      Cs("/services/anonymous/rk/active"), Cs("/services/" + std::to_string(b))};
  std::vector<std::string> before;
  for (const std::string& r : reads) before.push_back(client_->Get(r).body);

  client_.reset();
  EXPECT_EQ(server_->Stop(), 0);
  StartServer({});
  for (size_t i = 0; i < reads.size(); ++i) EXPECT_EQ(client_->Get(reads[i]).body, before[i]);
  uint64_t c = StartService(R"({"contact_key":"rk"})");
  EXPECT_GT(c, b);
}

struct BadCase {
  const char* name;
  std::string raw;  // a whole HTTP request
  int status;
  const char* message_part;
};

std::string Req(const std::string& method, const std::string& target, const std::string& body) {
  return method + " " + target +
         " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

TEST_P(E2eTest, BadInputGetsAJsonErrorAndChangesNothing) {
  uint64_t id = StartService(R"({"customer_id":"B1","contact_key":"bk","Offer":{"x":1}})");
  std::string sid = std::to_string(id);
  ASSERT_EQ(client_->Post(Cs("/services/" + sid + "/states/start"), "{}").status, 201);
  const std::vector<std::string> reads = {
      Cs("/customers/B1/services?extensions=*&active_states=true&completed_states=true"
         "&active_tasks=true&completed_tasks=true"),
      Cs("/services/" + sid + "?extensions=*"), Cs("/services/anonymous/bk")};
  std::vector<std::string> before;
  for (const std::string& r : reads) before.push_back(client_->Get(r).body);

  const std::string start = Cs("/services/start");
  const std::string end = Cs("/services/" + sid + "/end");
  const BadCase cases[] = {
      {"truncated JSON", Req("POST", start, R"({"customer_id":"B1")"), 400, "malformed JSON"},
      {"trailing garbage", Req("POST", start, R"({"customer_id":"B1"} x)"), 400, "trailing"},
      {"duplicate key", Req("POST", start, R"({"customer_id":"B1","customer_id":"B2"})"), 400,
       "duplicate key"},
      {"wrong type", Req("POST", start, R"({"customer_id":7})"), 400, "field 'customer_id'"},
      {"no owner", Req("POST", start, R"({"service_type":1})"), 400, "contact_key"},
      {"array body", Req("POST", start, "[1]"), 400, "JSON object"},
      {"empty start body", Req("POST", start, ""), 400, "body is required"},
      {"bad body timestamp",
       Req("POST", start, R"({"customer_id":"B1","timestamp":"2024-02-30T00:00:00Z"})"), 400,
       "field 'timestamp'"},
      {"server field", Req("POST", start, R"({"customer_id":"B1","service_id":5})"), 400,
       "field 'service_id'"},
      {"session_id too long",
       Req("POST", start, R"({"customer_id":"B1","session_id":")" + std::string(33, 's') + "\"}"),
       400, "field 'session_id'"},
      {"end before start", Req("POST", end, R"({"timestamp":"2000-01-01T00:00:00Z"})"), 400,
       "earlier than the start"},
      {"disposition_desc too long",
       Req("POST", end, R"({"disposition_desc":")" + std::string(65, 'd') + "\"}"), 400,
       "disposition_desc"},
      {"field not allowed", Req("POST", end, R"({"customer_id":"B2"})"), 400, "not allowed"},
      {"unknown service", Req("POST", Cs("/services/999999/end"), "{}"), 400,
       "There are no service found for : 999999"},
      {"non-numeric id", Req("GET", Cs("/services/abc"), ""), 400,
       "There are no service found for : abc"},
      {"huge id", Req("GET", Cs("/services/99999999999999999999"), ""), 400,
       "There are no service found"},
      {"unknown state", Req("GET", Cs("/services/" + sid + "/states/9"), ""), 400,
       "There are no state found for : 9"},
      {"unknown task", Req("POST", Cs("/services/" + sid + "/tasks/3/end"), "{}"), 400,
       "There are no task found for : 3"},
      {"task on missing state",
       Req("POST", Cs("/services/" + sid + "/tasks/start"), R"({"state_id":4})"), 400, "state_id"},
      {"bad boolean", Req("GET", Cs("/customers/B1/services?active_states=maybe"), ""), 400,
       "active_states"},
      {"repeated parameter",
       Req("GET", Cs("/customers/B1/services?service_types=1&service_types=2"), ""), 400,
       "more than once"},
      {"bad query timestamp", Req("GET", Cs("/customers/B1/services?started_from=yesterday"), ""),
       400, "started_from"},
      {"bad percent in path", Req("GET", Cs("/customers/B%1/services"), ""), 400,
       "percent-encoding"},
      {"bad percent in query", Req("GET", Cs("/customers/B1/services?x=%zz"), ""), 400,
       "percent-encoding"},
      {"unknown parameter", Req("GET", Cs("/services/" + sid + "?bogus=1"), ""), 400, "bogus"},
      {"extension not object", Req("PUT", Cs("/services/" + sid + "/extensions/Offer"), R"("x")"),
       400, "object or array"},
      {"merge into array", Req("PUT", Cs("/services/" + sid + "/extensions/Offer/merge"), "[1]"),
       400, "merge"},
      {"unknown path", Req("GET", "/nope", ""), 404, "no such resource"},
      {"wrong method", Req("PATCH", Cs("/services/" + sid), ""), 405, "not allowed"},
      {"deep JSON", Req("POST", start, std::string(200, '[') + std::string(200, ']')), 400,
       "nested"},
      {"invalid UTF-8", Req("POST", start, "{\"customer_id\":\"\xff\"}"), 400, "malformed JSON"},
      {"body over the limit", "POST " + start + " HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413,
       "larger than"},
      {"hostile Content-Length",
       "POST " + start + " HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n{}", 413,
       "larger than"},
      {"negative Content-Length", "POST " + start + " HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400,
       "Content-Length"},
      {"bad chunk size", "POST " + start + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       400, "chunk size"},
      {"chunk without CRLF",
       "POST " + start + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n",
       400, "CRLF"},
      {"chunked over the limit",
       "POST " + start + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n", 413,
       "larger than"},
      {"gzip transfer coding", "POST " + start + " HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
       501, "chunked"},
      {"garbage request line", "GARBAGE\r\n\r\n", 400, "request line"},
      {"bad header line", "GET /health HTTP/1.1\r\nno colon here\r\n\r\n", 400, "header"},
      {"bad version", "GET /health HTTP/2.0\r\n\r\n", 505, "HTTP/1.1"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    HttpClient fresh(server_->port());
    HttpReply r = fresh.SendRaw(c.raw);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json");
    storage::Value body = Json(r);
    ASSERT_NE(Field(body, "message"), nullptr) << r.body;
    EXPECT_NE(Field(body, "message")->string_value.find(c.message_part), std::string::npos)
        << r.body;
    ASSERT_NE(Field(body, "exception"), nullptr);
  }
  // A body really sent over the limit is refused too, and the server keeps serving.
  {
    HttpClient fresh(server_->port());
    std::string big = R"({"customer_id":"B1","pad":")" + std::string(1100000, 'p') + "\"}";
    HttpReply r = fresh.SendRaw(Req("POST", start, big));
    EXPECT_EQ(r.status, 413);
  }
  EXPECT_EQ(client_->Get("/health").status, 200);
  for (size_t i = 0; i < reads.size(); ++i) EXPECT_EQ(client_->Get(reads[i]).body, before[i]);
  // The wrong-method reply names what is allowed.
  HttpReply wrong = client_->Request("PATCH", Cs("/services/" + sid));
  EXPECT_EQ(wrong.headers["allow"], "GET, DELETE");
}

TEST_P(E2eTest, DecodesChunkedBodiesSplitAnywhere) {
  // As Node's HTTP client sends them (CometD): chunked, with extensions and trailers allowed.
  const std::string head = "POST " + Cs("/services/start") +
                           " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "e;ext=1\r\n{\"contact_key\"\r\n9\r\n:\"chunk\"}\r\n0\r\nX-T: 1\r\n\r\n";
  const std::string all = head + body + "GET /health HTTP/1.1\r\n\r\n";
  for (size_t split : {size_t{1}, head.size() + 3, head.size() + 16, all.size() - 30}) {
    SCOPED_TRACE(split);
    HttpClient c(server_->port());
    ASSERT_TRUE(c.Write(all.substr(0, split)));
    // No reply within 20 ms to the incomplete request (a negative check only: it cannot see a
    // reply sent later; the replies read after the rest is written check what was served).
    EXPECT_TRUE(c.QuietFor(std::chrono::milliseconds(20)))
        << "answered before the request was whole";
    ASSERT_TRUE(c.Write(all.substr(split)));
    HttpReply r = c.ReadReply();
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_NE(r.body.find("\"contact_key\":\"chunk\""), std::string::npos) << r.body;
    EXPECT_EQ(c.ReadReply().status, 200);
  }
}

TEST_P(E2eTest, ChunkedWinsOverContentLengthAndTheConnectionCloses) {
  HttpClient c(server_->port());
  HttpReply r = c.SendRaw("POST " + Cs("/services/start") +
                          " HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
                          "14\r\n{\"contact_key\":\"te\"}\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers["connection"], "Close");
  EXPECT_TRUE(c.ReadEof());
}

TEST_P(E2eTest, FramesPipelinedAndSplitRequests) {
  const std::string get = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string post = Req("POST", Cs("/services/start"), R"({"contact_key":"pipe"})");
  ASSERT_TRUE(client_->Write(get + post + get));
  EXPECT_EQ(client_->ReadReply().status, 200);
  EXPECT_EQ(client_->ReadReply().status, 201);
  EXPECT_EQ(client_->ReadReply().status, 200);
  // A request split anywhere, its tail arriving with the head of the next one.
  const std::string two = post + get;
  for (size_t cut : {size_t{1}, size_t{20}, post.size() - 5, post.size() + 3}) {
    SCOPED_TRACE(cut);
    HttpClient c(server_->port());
    const bool post_whole = cut >= post.size();
    ASSERT_TRUE(c.Write(two.substr(0, cut)));
    if (post_whole) {
      EXPECT_EQ(c.ReadReply().status, 201);
    }
    // No reply within 20 ms to the incomplete request (a negative check only: it cannot see a
    // reply sent later; the replies read after the rest is written check what was served).
    EXPECT_TRUE(c.QuietFor(std::chrono::milliseconds(20)))
        << "answered before the request was whole";
    ASSERT_TRUE(c.Write(two.substr(cut)));
    if (!post_whole) {
      EXPECT_EQ(c.ReadReply().status, 201);
    }
    EXPECT_EQ(c.ReadReply().status, 200);
  }
  // Empty lines before a request line are ignored.
  EXPECT_EQ(client_->SendRaw("\r\n\r\n" + get).status, 200);
}

// Replies larger than the socket takes at once, to a client that reads late: what the
// socket refuses is queued, and later replies wait behind it.
TEST_P(E2eTest, LargeRepliesToASlowReaderArriveWholeAndInOrder) {
  // About 800 KB of attached data, written in pieces under the 256 KiB body limit of events.
  const std::string blob(200 * 1000, 'x');
  const uint64_t id = StartService(R"({"contact_key":"big"})");
  for (const char* name : {"A", "B", "C", "D"}) {
    ASSERT_EQ(client_
                  ->Request("PUT", Cs("/services/" + std::to_string(id) + "/extensions/") + name,
                            R"({"text":")" + blob + R"("})")
                  .status,
              200);
  }
  std::string burst;
  for (int i = 0; i < 12; ++i) {
    burst += "GET " + Cs("/services/" + std::to_string(id)) +
             "?extensions=* HTTP/1.1\r\nX-Request-Id: r" + std::to_string(i) + "\r\n\r\n";
    burst += "GET /health HTTP/1.1\r\nX-Request-Id: h" + std::to_string(i) + "\r\n\r\n";
  }
  ASSERT_TRUE(client_->Write(burst));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the socket fills meanwhile
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE(i);
    HttpReply big = client_->ReadReply();
    EXPECT_EQ(big.status, 200);
    EXPECT_EQ(big.headers["x-request-id"], "r" + std::to_string(i));
    EXPECT_NE(big.body.find(blob), std::string::npos);
    HttpReply small = client_->ReadReply();
    EXPECT_EQ(small.headers["x-request-id"], "h" + std::to_string(i));
    EXPECT_EQ(small.body, R"({"status":"ok"})");
  }
}

TEST_P(E2eTest, DurableWritesKeepPipelinedRepliesInOrder) {
  StartServer({});  // --sync=always: write replies wait for the group commit
  std::string burst;
  for (int i = 0; i < 20; ++i) {
    burst += Req("POST", Cs("/services/start"), R"({"contact_key":"order"})");
    burst += "GET /services/anonymous/order HTTP/1.1\r\n\r\n";  // unknown path: 404
  }
  ASSERT_TRUE(client_->Write(burst));
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE(i);
    HttpReply w = client_->ReadReply();
    EXPECT_EQ(w.status, 201);
    EXPECT_EQ(client_->ReadReply().status, 404);
  }
  EXPECT_EQ(Json(client_->Get(Cs("/services/anonymous/order"))).array.size(), 20u);
}

// Latencies are each node's own: one node is asked throughout.
TEST_P(E2eTest, ServerSideLatencyPerRoute) {
  HttpClient node(server_->port());
  ASSERT_EQ(node.Request("POST", "/contextd/v1/latency/reset").status, 204);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(node.Get("/health").status, 200);
  ASSERT_EQ(node.Post(Cs("/services/start"), R"({"contact_key":"lat"})").status, 201);
  storage::Value v = Json(node.Get("/contextd/v1/latency"));
  std::map<std::string, int64_t> counts;
  for (const storage::Value& r : Field(v, "routes")->array) {
    counts[Field(r, "route")->string_value] = Field(r, "count")->int_value;
    EXPECT_LE(Field(r, "p50_us")->int_value, Field(r, "p99_us")->int_value);
  }
  EXPECT_EQ(counts["GET /health"], 10);
  EXPECT_EQ(counts["POST /genesys/1/cs/services/start"], 1);
}

TEST_P(E2eTest, OrdinaryClientHeadersAreAccepted) {
  HttpReply r =
      client_->Request("GET", "/health", "",
                       {"Accept: text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", "Cookie: a",
                        "Date: garbage", "Cache-Control: max-age=abc", "User-Agent: Java/17"});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_P(E2eTest, ConnectionCloseAndHttp10CloseTheSocket) {
  HttpClient c(server_->port());
  EXPECT_EQ(c.SendRaw("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").status, 200);
  EXPECT_TRUE(c.ReadEof());
  HttpClient old(server_->port());
  HttpReply r = old.SendRaw("GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "Close");
  EXPECT_TRUE(old.ReadEof());
  HttpClient bad(server_->port());
  EXPECT_EQ(bad.SendRaw("GET /health HTTP/1.1\r\nno colon\r\n\r\n").status, 400);
  EXPECT_TRUE(bad.ReadEof());
}

TEST_P(E2eTest, HeadAnswersWithoutABody) {
  ASSERT_TRUE(client_->Write("HEAD /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n"));
  HttpReply head = client_->ReadReply(/*head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.headers["content-type"], "application/json");
  HttpReply get = client_->ReadReply();
  EXPECT_EQ(get.body, R"({"status":"ok"})");
  EXPECT_EQ(head.headers["content-length"], std::to_string(get.body.size()));
}

TEST_P(E2eTest, BareLineFeedsAreRefusedAtOnce) {
  HttpClient c(server_->port());
  HttpReply r = c.SendRaw("GET /health HTTP/1.1\n\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bare LF"), std::string::npos);
}

TEST_P(E2eTest, ExpectContinueIsAnswered) {
  const std::string body = R"({"contact_key":"expect"})";
  ASSERT_TRUE(client_->Write("POST " + Cs("/services/start") +
                             " HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n"));
  EXPECT_EQ(client_->ReadReply().status, 100);
  ASSERT_TRUE(client_->Write(body));
  EXPECT_EQ(client_->ReadReply().status, 201);
}

TEST_P(E2eTest, KnownPathWithWrongMethodIs405EvenWhereACaptureWouldMatch) {
  HttpReply r = client_->Get(Cs("/services/start"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "POST");
  HttpReply t = client_->Get(Cs("/services/1/states/transition"));
  EXPECT_EQ(t.status, 405);
  EXPECT_EQ(t.headers["allow"], "POST");
}

// Failures the router and the transport meet themselves (no route, a wrong method, a body over
// the route's limit, a framing error) take the shape of the dialect the path belongs to.
TEST_P(E2eTest, ProtocolErrorsTakeThePathsDialect) {
  struct Case {
    const char* name;
    std::string raw;
    int status;
    std::string body;
  };
  const std::string pega = "/prweb/PRRestService/PegaMKTContainer/V2/CaptureResponse";
  const std::string big(300 << 10, ' ');
  auto post = [](const std::string& path, size_t length) {
    return "POST " + path + " HTTP/1.1\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
  };
  const std::vector<Case> cases = {
      {"pega, no route", "GET /prweb/nothing HTTP/1.1\r\n\r\n", 404,
       R"j({"Status":"ERROR","Message":"no such resource"})j"},
      {"pega, body over the route's limit", post(pega, big.size()), 413,
       R"j({"Status":"ERROR","Message":"request body larger than 262144 bytes (this route's limit)"})j"},
      {"native, no route", "GET /contextd/v1/nothing HTTP/1.1\r\n\r\n", 404,
       R"j({"message":"no such resource"})j"},
      {"native, framing", "POST /contextd/v1/interactions HTTP/1.1\r\nContent-Length: x\r\n\r\n",
       400, R"j({"message":"invalid Content-Length"})j"},
      {"lcm, body over the route's limit", post("/lcm/messages", big.size()), 413,
       R"j({"channel":"LCM","topic":"WebService","subtopic":"CustomerJourney","message":)j"
       R"j({"callid":"","error":{"errorType":"WS_Error","errorMessage":)j"
       R"j("request body larger than 262144 bytes (this route's limit)","msg":"Invalid request."}}})j"},
      {"workspace, body over the route's limit: code 10, HTTP 400",
       post("/api/v2/users", big.size()), 400,
       R"j({"statusCode":10,"statusMessage":"request body larger than 262144 bytes (this route's limit)"})j"},
      {"any other path: Context Services", "GET /nothing HTTP/1.1\r\n\r\n", 404,
       R"j({"message":"no such resource","exception":)j"
       R"j("com.genesyslab.gsg.services.contextservices.exceptions.ContextServicesExceptionResource"})j"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpClient fresh(server_->port());
    HttpReply r = fresh.SendRaw(c.raw);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.body, c.body);
  }
}

// The Workspace API answers a method the path does not take by its own code mapping
// (dialects reference 1.4): code 2 is HTTP 400, with the Allow header.
TEST_P(E2eTest, WorkspaceWrongMethodFollowsItsCodeMapping) {
  HttpReply r = client_->Request("DELETE", "/api/v2/me", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["allow"], "GET, POST");
  EXPECT_EQ(
      r.body,
      R"({"statusCode":2,"statusMessage":"method DELETE is not allowed here; allowed: GET, POST"})");
}

TEST_P(E2eTest, NumbersRoundTripAndFilterInPlainDecimal) {
  uint64_t id = StartService(
      R"({"customer_id":"N1","g":100000.0,"big":10000000000000000000000,"from":1,"to":{"x":2}})");
  std::string base = Cs("/services/" + std::to_string(id));
  EXPECT_EQ(Ids(client_->Get(Cs("/customers/N1/services?g=100000"))),
            IdList{static_cast<int64_t>(id)});
  storage::Value s = Json(client_->Get(base + "?extensions=g,big,from,to"));
  EXPECT_EQ(Field(s, "g")->ScalarText(), "100000");
  EXPECT_EQ(Field(s, "big")->ScalarText(), "1e+22");
  EXPECT_EQ(Field(s, "from")->int_value, 1);
  ASSERT_NE(Field(s, "to"), nullptr);
}

}  // namespace
}  // namespace contextd::testing
