// Hostile input against the real binary: oversized, truncated, slow, malformed, deeply nested,
// invalid UTF-8, NUL bytes, huge numbers, bounds on a record. Every case gets its error (or is
// harmless), the server never crashes, and the stored data does not change.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

std::string Cs(const std::string& path) { return std::string(kCs) + path; }

std::string Req(const std::string& method, const std::string& target, const std::string& body,
                const std::string& type = "application/json") {
  return method + " " + target + " HTTP/1.1\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class HostileTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    id_ = std::to_string(StartService(R"({"customer_id":"H1","contact_key":"hk","Offer":{"x":1}})"));
    ASSERT_EQ(client_->Post(Cs("/services/" + id_ + "/states/start"), "{}").status, 201);
    ASSERT_EQ(client_->Post("/contextd/v1/interactions",
                            R"({"customer_id":"H1","channel":"voice","outcome":"Sold"})")
                  .status,
              201);
    snapshot_ = Snapshot();
  }

  // Everything the data above shows through, in several dialects.
  std::vector<std::string> Snapshot() {
    std::vector<std::string> out;
    for (const std::string& r :
         {Cs("/customers/H1/services?extensions=*&active_states=true&completed_states=true"),
          Cs("/services/" + id_ + "?extensions=*"), Cs("/services/anonymous/hk"),
          Cs("/services/anonymous/hk/active"), std::string("/contextd/v1/interactions?customer_id=H1"),
          std::string("/prweb/api/PegaMKTContainer/V2/CustomerOfferHistory?CustomerID=H1")}) {
      out.push_back(client_->Get(r).body);
    }
    return out;
  }

  // Sends `raw` on a new connection; returns the reply's status (0: none).
  int Raw(const std::string& raw) {
    HttpClient c(server_->port());
    return c.SendRaw(raw).status;
  }

  void TearDown() override {
    // Alive, unchanged, and consistent on disk.
    EXPECT_EQ(client_->Get("/health").status, 200);
    EXPECT_EQ(Snapshot(), snapshot_);
    client_.reset();
    ASSERT_EQ(server_->Stop(), 0);
    FILE* p = popen((std::string(CONTEXTD_BINARY) + " check --data-dir " + dir_.path()).c_str(), "r");
    ASSERT_NE(p, nullptr);
    char line[512] = {};
    std::string out;
    while (fgets(line, sizeof line, p)) out += line;
    EXPECT_EQ(pclose(p), 0) << out;
  }

  std::string id_;
  std::vector<std::string> snapshot_;
};

TEST_F(HostileTest, OversizedInputIsRefusedByItsLimit) {
  const std::string start = Cs("/services/start");
  // The request target, the head, a body per route.
  EXPECT_EQ(Raw("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n"), 414);
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nX-Pad: " + std::string(70000, 'p') + "\r\n\r\n"), 431);
  EXPECT_EQ(Raw(Req("GET", "/health", std::string(9000, ' '))), 413);
  EXPECT_EQ(Raw(Req("POST", start, R"({"customer_id":"H9","pad":")" + std::string(300000, 'p') +
                                       "\"}")),
            413);
  EXPECT_EQ(Raw("POST " + start + " HTTP/1.1\r\nContent-Length: 300000\r\n\r\n"), 413);
  EXPECT_EQ(Raw(Req("POST", "/lcm/messages", std::string(300000, ' '))), 413);
  // Strings past their documented lengths.
  EXPECT_EQ(Raw(Req("POST", Cs("/services/" + id_ + "/end"),
                    R"({"interaction_id":")" + std::string(51, 'i') + "\"}")),
            400);
  EXPECT_EQ(Raw(Req("POST", Cs("/services/" + id_ + "/end"),
                    R"({"disposition_desc":")" + std::string(65, 'd') + "\"}")),
            400);
}

TEST_F(HostileTest, ARecordCannotGrowPastItsBounds) {
  // 101 attached keys in one event; 60 + 60 across two merges.
  std::string many = R"({"customer_id":"H2")";
  for (int i = 0; i < 101; ++i) many += ",\"k" + std::to_string(i) + "\":1";
  EXPECT_EQ(Raw(Req("POST", Cs("/services/start"), many + "}")), 400);
  const std::string other = std::to_string(StartService(R"({"contact_key":"bounds"})"));
  auto keys = [](int from) {
    std::string body = "{";
    for (int i = from; i < from + 60; ++i) body += (i > from ? ",\"" : "\"") + std::string("m") + std::to_string(i) + "\":1";
    return body + "}";
  };
  EXPECT_EQ(client_->Post(Cs("/services/" + other + "/end"), keys(0)).status, 204);
  HttpReply second = client_->Post(Cs("/customers/H3/services/" + other), keys(100));
  EXPECT_EQ(second.status, 400) << second.body;
  EXPECT_NE(second.body.find("attached data keys"), std::string::npos);
  // At most 1000 states: the 1001st is refused.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(client_->Post(Cs("/services/" + other + "/states/start"), "{}").status, 201) << i;
  }
  HttpReply over = client_->Post(Cs("/services/" + other + "/states/start"), "{}");
  EXPECT_EQ(over.status, 400);
  EXPECT_NE(over.body.find("at most 1000 states"), std::string::npos);
  ASSERT_EQ(client_->Request("DELETE", Cs("/services/" + other)).status, 200);
}

TEST_F(HostileTest, MalformedNestedAndOddBytesAreRefused) {
  const std::string start = Cs("/services/start");
  for (const std::string& body : {
           std::string(R"({"customer_id":"H4","a":)") + std::string(100, '[') +
               std::string(100, ']') + "}",                          // nested 100 deep
           std::string("{\"customer_id\":\"H4\0x\"}", 20),           // raw NUL in a string
           std::string("{\"customer_id\":\"\xc3\x28\"}"),            // invalid UTF-8
           std::string("{\"customer_id\":\"\xed\xa0\x80\"}"),        // a UTF-16 surrogate
           std::string(R"({"customer_id":"H4","est_duration":1e400})"),
           std::string(R"({"customer_id":"H4","est_duration":99999999999999999999999})"),
           std::string(R"({"customer_id":"H4"})") + std::string(1, '\0'),
       }) {
    SCOPED_TRACE(body);
    EXPECT_EQ(Raw(Req("POST", start, body)), 400);
  }
  // The same shapes at the other dialects' parsers.
  for (const std::string& target :
       {std::string("/lcm/messages"), std::string("/prweb/api/PegaMKTContainer/V2/CaptureResponse"),
        std::string("/contextd/v1/interactions")}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(Raw(Req("POST", target, std::string(100, '[') + std::string(100, ']'))), 400);
    EXPECT_EQ(Raw(Req("POST", target, std::string("{\"a\":\"\xff\"}"))), 400);
  }
  // Odd bytes in the target: percent-encoded NUL and invalid UTF-8 find nothing.
  for (const char* key : {"%00", "%ff", "%c3%28", "a%2F..%2F..", "%2e%2e"}) {
    HttpClient c(server_->port());
    HttpReply r = c.Get(Cs("/services/anonymous/") + key);
    EXPECT_TRUE(r.status == 200 || r.status == 400) << key << " " << r.status;
    if (r.status == 200) {
      EXPECT_EQ(r.body, "[]");
    }
  }
  // Framing: a Content-Length with a sign or spaces inside, two of them, an obsolete fold.
  EXPECT_EQ(Raw("POST " + start + " HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}"), 400);
  EXPECT_EQ(Raw("POST " + start + " HTTP/1.1\r\nContent-Length: 1 1\r\n\r\n{}"), 400);
  EXPECT_EQ(Raw("POST " + start + " HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
            400);
  EXPECT_EQ(Raw("GET /health HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n"), 400);
}

TEST_F(HostileTest, TruncatedAndSlowRequestsHarmNothing) {
  const std::string start = Cs("/services/start");
  const std::string body = R"({"customer_id":"H5"})";
  // The body never completes: the client gives up; nothing is written.
  {
    HttpClient c(server_->port());
    ASSERT_TRUE(c.Write("POST " + start + " HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + body));
  }
  // A head cut in the middle of a header, then closed.
  {
    HttpClient c(server_->port());
    ASSERT_TRUE(c.Write("POST " + start + " HTTP/1.1\r\nContent-Len"));
  }
  // A request sent a few bytes at a time is served normally.
  HttpClient slow(server_->port());
  const std::string whole = Req("GET", Cs("/customers/H1/services/active"), "");
  for (size_t i = 0; i < whole.size(); i += 7) {
    ASSERT_TRUE(slow.Write(whole.substr(i, 7)));
    // No reply within 15 ms to the pieces so far (a negative check only: it cannot see a reply
    // sent later; the reply read after the last piece checks what was served).
    if (i + 7 < whole.size()) {
      ASSERT_TRUE(slow.QuietFor(std::chrono::milliseconds(15))) << i;
    }
  }
  HttpReply r = slow.ReadReply();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Ids(r).size(), 1u);
  EXPECT_EQ(client_->Get(Cs("/customers/H5/services")).body, "[]");
}

}  // namespace
}  // namespace contextd::testing
