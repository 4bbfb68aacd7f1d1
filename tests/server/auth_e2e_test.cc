// Authentication under attack, on the real binary: a flood of Basic sign-ins with unknown
// users and wrong passwords does not slow the IVR's hot path (hashes run on their own pool),
// failed sign-ins and API key checks are throttled per address and per name while valid
// credentials keep working, per-session state is capped, and a write whose reply comes from
// the hashing pool is still acknowledged only once durable.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/server/server_fixture.h"
#include "tests/support/basic_auth.h"
#include "tests/support/eventually.h"

namespace contextd::testing {
namespace {

using Clock = std::chrono::steady_clock;
using storage::Value;

constexpr char kAdminKey[] = "test-admin-key-0123456789abcdefghijkl";
const std::string kKeyHeader = std::string("X-Api-Key: ") + kAdminKey;

class AuthTest : public ServerTest {
 protected:
  void SetUp() override {}

  void Start(std::vector<std::string> extra, std::vector<std::string> env = {}) {
    std::vector<std::string> args = {"--sync",  "none",        "--admin-key", kAdminKey,
                                     "--admin", "boss:secret", "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    client_.reset();
    server_ = std::make_unique<ServerProcess>(CONTEXTD_BINARY, dir_.path(), args, env);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpReply Me(HttpClient& c, const std::string& user, const std::string& password) {
    return c.Request("GET", "/api/v2/me", "", {BasicAuth(user, password)});
  }

  // The hot path's target: one service read by an API key.
  std::string HotTarget() {
    HttpReply r = client_->Request("POST", std::string(kCs) + "/services/start",
                                   R"({"customer_id":"C1","contact_key":"hot"})", {kKeyHeader});
    EXPECT_EQ(r.status, 201) << r.body;
    const Value v = Json(r);
    const Value* id = Field(v, "service_id");
    return std::string(kCs) + "/services/" + (id ? std::to_string(id->int_value) : "0");
  }

  // The value of metric `name` in /metrics, or -1.
  double Metric(const std::string& name) {
    HttpReply r = client_->Request("GET", "/metrics", "", {kKeyHeader});
    const size_t at = r.body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::atof(r.body.c_str() + at + name.size() + 2);
  }
};

TEST_F(AuthTest, BasicFloodLeavesTheHotPathFast) {
  // No throttling: what protects the hot path here is that hashes leave the HTTP workers.
  Start({"--auth-failures-per-address=0", "--auth-failures-per-name=0"});
  const std::string hot = HotTarget();
  std::atomic<bool> stop{false};
  std::atomic<int> denied{0}, busy{0}, other{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < 16; ++i) {
    flood.emplace_back([&, i] {
      auto c = std::make_unique<HttpClient>(server_->port());
      for (int n = 0; !stop.load(); ++n) {
        // Unknown users and wrong passwords of a real one: both cost a hash.
        const std::string user = n % 2 == 0 ? "boss" : "nobody" + std::to_string(i * 1000000 + n);
        const int status = Me(*c, user, "wrong" + std::to_string(n)).status;
        if (status == 401) {
          ++denied;
        } else if (status == 503) {
          ++busy;
        } else {
          ++other;
          c = std::make_unique<HttpClient>(server_->port());
        }
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return denied.load() >= 20; }));
  HttpClient ivr(server_->port());
  std::vector<double> ms;
  const auto until = Clock::now() + std::chrono::milliseconds(2500);
  while (Clock::now() < until) {
    const auto t0 = Clock::now();
    const int status = ivr.Request("GET", hot, "", {kKeyHeader}).status;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (status != 200) {
      ADD_FAILURE() << "hot path answered " << status;
      break;
    }
  }
  const int denied_during = denied.load();
  stop = true;
  for (std::thread& t : flood) t.join();
  std::sort(ms.begin(), ms.end());
  ASSERT_FALSE(ms.empty());
  const double p50 = ms[ms.size() / 2], p99 = ms[ms.size() * 99 / 100];
  EXPECT_LT(p99, 50.0) << "p50 " << p50 << " ms over " << ms.size() << " reads";
  // The flood was real: the hashing thread kept busy while the hot path was measured (~100
  // hashes in a release build, half that under ASan, which slows PBKDF2).
  EXPECT_GE(denied_during, 50) << "busy " << busy.load();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(client_->Get("/health").status, 200);
}

TEST_F(AuthTest, FailuresAreThrottledPerAddressAndNameValidCredentialsStillWork) {
  Start({"--auth-failures-per-address=6", "--auth-failures-per-name=3"});
  const std::string hot = HotTarget();
  HttpClient c(server_->port());
  const std::string cookie = SignIn(c, "boss", "secret");
  ASSERT_FALSE(cookie.empty());

  // Sign-ins: three wrong passwords for boss, then boss's name is throttled...
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Me(c, "boss", "guess" + std::to_string(i)).status, 401);
  HttpReply throttled = Me(c, "boss", "guess3");
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  const int retry = std::atoi(throttled.headers["retry-after"].c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_NE(throttled.body.find(R"("statusCode":10)"), std::string::npos) << throttled.body;
  EXPECT_NE(throttled.body.find("too many failed sign-ins"), std::string::npos);
  // ... while the credentials boss signed in with, and its cookie, still work (no hash).
  EXPECT_EQ(Me(c, "boss", "secret").status, 200);
  EXPECT_EQ(c.Request("GET", "/api/v2/me", "", {cookie}).status, 200);
  // Three more failures under other names: the address is at its budget of 6.
  EXPECT_EQ(Me(c, "carol", "x").status, 401);
  EXPECT_EQ(Me(c, "dave", "x").status, 401);
  EXPECT_EQ(Me(c, "erin", "x").status, 401);
  EXPECT_EQ(Me(c, "frank", "x").status, 429);

  // API keys: three wrong secrets for one key id, then that id is throttled...
  const std::string fake = "cxd_AAAAAAAAAAAA_" + std::string(32, 'x');
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.Request("GET", hot, "", {"X-Api-Key: " + fake}).status, 401);
  }
  HttpReply key_throttled = c.Request("GET", hot, "", {"X-Api-Key: " + fake});
  EXPECT_EQ(key_throttled.status, 429) << key_throttled.body;
  EXPECT_GE(std::atoi(key_throttled.headers["retry-after"].c_str()), 1);
  EXPECT_NE(key_throttled.body.find("too many failed API key checks"), std::string::npos);
  // ... and a valid key from the same address is checked first and works.
  EXPECT_EQ(c.Request("GET", hot, "", {kKeyHeader}).status, 200);
  // Other ids until the address's budget of 6; then every wrong key is throttled.
  for (const char* id : {"BBBBBBBBBBBB", "CCCCCCCCCCCC", "DDDDDDDDDDDD"}) {
    EXPECT_EQ(c.Request("GET", hot, "",
                        {"X-Api-Key: cxd_" + std::string(id) + "_" + std::string(32, 'x')})
                  .status,
              401);
  }
  EXPECT_EQ(c.Request("GET", hot, "", {"X-Api-Key: not-even-shaped-like-a-key"}).status, 429);
  EXPECT_EQ(c.Request("GET", hot, "", {kKeyHeader}).status, 200);
  // A request without any key guesses nothing: 401, not counted.
  EXPECT_EQ(c.Get(hot).status, 401);

  EXPECT_EQ(Metric("contextd_sign_in_failures_total"), 6);
  EXPECT_EQ(Metric("contextd_sign_in_throttled_total"), 2);
  EXPECT_EQ(Metric("contextd_api_key_failures_total"), 6);
  EXPECT_EQ(Metric("contextd_api_key_throttled_total"), 2);
}

TEST_F(AuthTest, BasicReusesItsSessionAndCometdClientsPerSessionAreCapped) {
  Start({});
  HttpClient c(server_->port());
  // Basic requests without a cookie keep one session (and pay one hash).
  HttpReply first = Me(c, "boss", "secret");
  HttpReply second = Me(c, "boss", "secret");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  const std::string set = first.headers["set-cookie"];
  EXPECT_EQ(second.headers["set-cookie"], set);
  EXPECT_EQ(Metric("contextd_workspace_sessions"), 1);
  const std::string cookie = "Cookie: " + set.substr(0, set.find(';'));

  auto handshake = [&] {
    return Json(c.Request("POST", "/api/v2/notifications",
                          R"([{"id":"1","channel":"/meta/handshake","version":"1.0",)"
                          R"("supportedConnectionTypes":["long-polling"]}])",
                          {cookie}));
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 32; ++i) {
    Value v = handshake();
    ASSERT_EQ(v.array.size(), 1u);
    const Value* ok = Field(v.array[0], "successful");
    ASSERT_TRUE(ok != nullptr && ok->bool_value) << i;
    ids.push_back(Field(v.array[0], "clientId")->string_value);
  }
  Value over = handshake();
  ASSERT_EQ(over.array.size(), 1u);
  const Value* refused = Field(over.array[0], "successful");
  ASSERT_TRUE(refused != nullptr && !refused->bool_value) << "the 33rd handshake succeeded";
  const Value* error = Field(over.array[0], "error");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->string_value.rfind("409::too_many_clients", 0), 0u) << error->string_value;
  EXPECT_EQ(Metric("contextd_cometd_clients"), 32);
  // A disconnect frees a place.
  HttpReply bye =
      c.Request("POST", "/api/v2/notifications",
                R"([{"channel":"/meta/disconnect","clientId":")" + ids[0] + "\"}]", {cookie});
  ASSERT_EQ(bye.status, 200);
  Value again = handshake();
  ASSERT_EQ(again.array.size(), 1u);
  const Value* ok = Field(again.array[0], "successful");
  EXPECT_TRUE(ok != nullptr && ok->bool_value);
}

TEST_F(AuthTest, AWriteAnsweredFromTheHashingPoolWaitsForItsSync) {
  // Syncs stall while the trigger file exists (tests/support/fault_fs.cc).
  TempDir faults;
  const std::string stall = faults.path() + "/stall";
  const char* asan = std::getenv("ASAN_OPTIONS");
  Start({"--sync", "always"},
        {std::string("LD_PRELOAD=") + CONTEXTD_FAULT_FS, "FAULT_FS_STALL=" + stall,
         std::string("ASAN_OPTIONS=") + (asan ? asan : "") + ":verify_asan_link_order=0"});
  std::ofstream(stall).put('x');
  // A new user, signed in by Basic: both hashes run on the pool, and the reply comes from it.
  const std::string body = R"({"userName":"newbie","password":"pw","roles":["ROLE_AGENT"]})";
  HttpClient c(server_->port());
  ASSERT_TRUE(c.Write("POST /api/v2/users HTTP/1.1\r\nHost: t\r\n" + BasicAuth("boss", "secret") +
                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body));
  EXPECT_TRUE(c.QuietFor(std::chrono::milliseconds(500)));  // not acknowledged before durable
  std::filesystem::remove(stall);
  HttpReply r = c.ReadReply();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Me(c, "newbie", "pw").status, 200);
}

}  // namespace
}  // namespace contextd::testing
