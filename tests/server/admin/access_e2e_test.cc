// End to end: API keys, roles and tenants on the real binary (auth on: --admin-key).

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "server/app.h"
#include "tests/support/eventually.h"
#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

using storage::Value;

constexpr char kAdminKey[] = "test-admin-key-0123456789abcdefghijkl";

std::string Header(const std::string& key) { return "X-Api-Key: " + key; }

class AccessFixture : public ServerTest {
 protected:
  void SetUp() override { StartServer({"--sync", "none", "--admin-key", kAdminKey}); }

  HttpReply As(const std::string& key, const std::string& method, const std::string& target,
               const std::string& body = "", std::vector<std::string> headers = {}) {
    if (!key.empty()) headers.push_back(Header(key));
    return client_->Request(method, target, body, headers);
  }
  HttpReply Admin(const std::string& method, const std::string& target,
                  const std::string& body = "") {
    return As(kAdminKey, method, target, body);
  }

  // A new key; `tenant` absent for an admin key.
  std::string NewKey(const std::string& role, const std::string& tenant = "", bool bound = true) {
    std::string body = R"({"role":")" + role + R"(")";
    if (bound) body += R"(,"tenant":")" + tenant + R"(")";
    body += "}";
    HttpReply r = Admin("POST", "/contextd/v1/keys", body);
    EXPECT_EQ(r.status, 201) << r.body;
    const Value v = Json(r);
    const Value* key = Field(v, "key");
    return key ? key->string_value : "";
  }

  void NewTenant(const std::string& name) {
    HttpReply r = Admin("POST", "/contextd/v1/tenants", R"({"name":")" + name + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
};

// On both backends: on Redis each request goes to the other node, so a key or tenant made on
// one is used on the other.
using AccessTest = OnEveryBackend<AccessFixture>;
INSTANTIATE_TEST_SUITE_P(Backends, AccessTest, ::testing::ValuesIn(kBackends), BackendTestName);

// A key revoked on one node is refused by every node within a second (README, "Running a
// cluster"): the nodes' caches of verified keys do not outlive that.
TEST_P(AccessTest, ARevokedKeyIsRefusedEverywhereWithinASecond) {
  const std::string reader = NewKey("reader");
  const std::string target = std::string(kCs) + "/services/anonymous/k/active";
  std::vector<std::unique_ptr<HttpClient>> nodes;
  nodes.push_back(std::make_unique<HttpClient>(server_->port()));
  if (second_) nodes.push_back(std::make_unique<HttpClient>(second_->port()));
  for (auto& node : nodes) {  // each node has verified (and cached) the key
    ASSERT_EQ(node->Request("GET", target, "", {Header(reader)}).status, 200);
  }
  const std::string id = reader.substr(4, 12);  // cxd_<id>_<secret>
  ASSERT_EQ(As(kAdminKey, "DELETE", "/contextd/v1/keys/" + id).status, 200);
  const auto revoked = std::chrono::steady_clock::now();
  for (auto& node : nodes) {
    while (node->Request("GET", target, "", {Header(reader)}).status == 200) {
      ASSERT_LT(std::chrono::steady_clock::now() - revoked, std::chrono::seconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(node->Request("GET", target, "", {Header(reader)}).status, 401);
  }
}

TEST_P(AccessTest, MissingOrBadKeysAre401InEachDialectsShape) {
  const std::string start = std::string(kCs) + "/services/start";
  for (const std::string& key : {std::string(), std::string("cxd_nope"),
                                 std::string("cxd_000000000000_00000000000000000000000000000000")}) {
    SCOPED_TRACE(key);
    HttpReply cs = As(key, "GET", std::string(kCs) + "/services/anonymous/k/active");
    EXPECT_EQ(cs.status, 401);
    EXPECT_EQ(cs.headers["www-authenticate"], "Bearer realm=\"contextd\"");
    const Value e = Json(cs);
    ASSERT_NE(Field(e, "exception"), nullptr);
    EXPECT_NE(Field(e, "message"), nullptr);
    HttpReply native = As(key, "GET", "/contextd/v1/interactions?customer_id=C1");
    EXPECT_EQ(native.status, 401);
    EXPECT_NE(Field(Json(native), "message"), nullptr);
    HttpReply pega =
        As(key, "GET", "/prweb/PRRestService/PegaMKTContainer/V2/CustomerOfferHistory?CustomerID=C1");
    EXPECT_EQ(pega.status, 401);
    const Value pega_body = Json(pega);
    ASSERT_NE(Field(pega_body, "Status"), nullptr);
    EXPECT_EQ(Field(pega_body, "Status")->string_value, "ERROR");
    HttpReply lcm = As(key, "POST", "/lcm/messages", "{}");
    EXPECT_EQ(lcm.status, 401);
    EXPECT_NE(Field(Json(lcm), "message"), nullptr);
    EXPECT_EQ(As(key, "POST", start, R"({"contact_key":"k"})").status, 401);
  }
  // Bearer works as well as X-Api-Key; a key never shows up in a listing.
  const std::string reader = NewKey("reader");
  EXPECT_EQ(client_->Request("GET", std::string(kCs) + "/services/anonymous/k/active", "",
                             {"Authorization: Bearer " + reader})
                .status,
            200);
  HttpReply listed = Admin("GET", "/contextd/v1/keys");
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(reader.substr(17)), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find("digest"), std::string::npos);
}

TEST_P(AccessTest, RolesAndRevocationSurviveARestart) {
  const std::string reader = NewKey("reader");
  const std::string writer = NewKey("writer");
  const std::string start = std::string(kCs) + "/services/start";
  EXPECT_EQ(As(reader, "POST", start, R"({"contact_key":"k"})").status, 403);
  EXPECT_EQ(As(writer, "POST", start, R"({"contact_key":"k"})").status, 201);
  EXPECT_EQ(Ids(As(reader, "GET", std::string(kCs) + "/services/anonymous/k/active")).size(), 1u);
  EXPECT_EQ(As(writer, "GET", "/metrics").status, 403);
  EXPECT_EQ(As(writer, "POST", "/contextd/v1/keys", R"({"role":"admin"})").status, 403);
  // Revoke the reader, restart: the writer still works, the reader does not, the bootstrap
  // admin key still does.
  const std::string reader_id = reader.substr(4, 12);
  HttpReply revoked = Admin("DELETE", "/contextd/v1/keys/" + reader_id);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_NE(Field(Json(revoked), "revoked"), nullptr);
  // Every node refuses it within a second (the next request goes to the other node).
  EXPECT_TRUE(Eventually(
      [&] { return As(reader, "GET", std::string(kCs) + "/services/anonymous/k/active").status == 401; },
      std::chrono::seconds(1)));
  EXPECT_EQ(Admin("DELETE", "/contextd/v1/keys/nosuchkey").status, 404);
  SetUp();
  EXPECT_EQ(As(reader, "GET", std::string(kCs) + "/services/anonymous/k/active").status, 401);
  EXPECT_EQ(As(writer, "POST", start, R"({"contact_key":"k"})").status, 201);
  EXPECT_EQ(Admin("GET", "/contextd/v1/keys").status, 200);
  // Bad requests to the admin routes.
  EXPECT_EQ(Admin("POST", "/contextd/v1/keys", R"({"role":"root","tenant":""})").status, 400);
  EXPECT_EQ(Admin("POST", "/contextd/v1/keys", R"({"role":"reader"})").status, 400);
  EXPECT_EQ(Admin("POST", "/contextd/v1/keys", R"({"role":"admin","tenant":""})").status, 400);
  EXPECT_EQ(Admin("POST", "/contextd/v1/keys", R"({"role":"reader","tenant":"nope"})").status, 400);
  EXPECT_EQ(Admin("POST", "/contextd/v1/tenants", R"({"name":"a b"})").status, 400);
  NewTenant("acme");
  EXPECT_EQ(Admin("POST", "/contextd/v1/tenants", R"({"name":"acme"})").status, 400);
}

// What no key may see or touch of another tenant.
TEST_P(AccessTest, NoReadWriteOrIdCrossesTenants) {
  NewTenant("acme");
  NewTenant("globex");
  const std::string acme = NewKey("writer", "acme");
  const std::string globex = NewKey("writer", "globex");
  HttpReply started = As(acme, "POST", std::string(kCs) + "/services/start",
                         R"({"customer_id":"C1","contact_key":"408"})");
  ASSERT_EQ(started.status, 201);
  const std::string id = std::to_string(Field(Json(started), "service_id")->int_value);
  ASSERT_EQ(As(acme, "POST", "/contextd/v1/interactions",
               R"({"customer_id":"C1","channel":"voice","outcome":"Sold"})")
                .status,
            201);
  // globex: the id is unknown, the customer and contact key have nothing.
  const std::string svc = std::string(kCs) + "/services/" + id;
  for (const auto& [method, target, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", svc, ""},
           {"POST", svc + "/end", "{}"},
           {"DELETE", svc, ""},
           {"POST", svc + "/states/start", "{}"},
           {"PUT", svc + "/extensions/x", "{}"},
           {"POST", std::string(kCs) + "/customers/C9/services/" + id, "{}"}}) {
    SCOPED_TRACE(method + " " + target);
    HttpReply r = As(globex, method, target, body);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("NotFoundException"), std::string::npos) << r.body;
  }
  EXPECT_EQ(As(globex, "GET", std::string(kCs) + "/customers/C1/services").body, "[]");
  EXPECT_EQ(As(globex, "GET", std::string(kCs) + "/services/anonymous/408").body, "[]");
  auto interactions = [&](const std::string& key) {
    const Value v = Json(As(key, "GET", "/contextd/v1/interactions?customer_id=C1"));
    const Value* list = Field(v, "interactions");
    return list ? list->array.size() : size_t{99};
  };
  EXPECT_EQ(interactions(globex), 0u);
  // Ids are counted per tenant: globex's first service has acme's first id, whatever acme
  // wrote meanwhile.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(As(acme, "POST", std::string(kCs) + "/services/start", R"({"contact_key":"x"})").status,
              201);
  }
  HttpReply theirs = As(globex, "POST", std::string(kCs) + "/services/start", R"({"contact_key":"y"})");
  ASSERT_EQ(theirs.status, 201);
  EXPECT_EQ(SequenceOf(Field(Json(theirs), "service_id")->int_value), SequenceOf(std::stoull(id)));
  // acme still has all of it, unchanged.
  EXPECT_EQ(As(acme, "GET", svc).status, 200);
  EXPECT_EQ(Ids(As(acme, "GET", std::string(kCs) + "/customers/C1/services/active")).size(), 1u);
  EXPECT_EQ(interactions(acme), 1u);
  // A bound key naming another tenant is refused; the admin key reaches both, an unknown
  // tenant is the Genesys tenant error.
  EXPECT_EQ(As(globex, "GET", svc, "", {"ContactCenterId: acme"}).status, 403);
  EXPECT_EQ(As(acme, "GET", svc, "", {"ContactCenterId: acme"}).status, 200);
  EXPECT_EQ(As(kAdminKey, "GET", svc, "", {"ContactCenterId: acme"}).status, 200);
  EXPECT_EQ(As(kAdminKey, "GET", svc).status, 400);  // the default tenant has no such service
  HttpReply unknown = As(kAdminKey, "GET", svc, "", {"ContactCenterId: initech"});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("Invalid tenant specified : specified tenant in HTTP header "
                              "'ContactCenterId'='initech' not configured. Verify configuration."),
            std::string::npos)
      << unknown.body;
}

// Every key-checked route x every role x the key's own tenant or another: the expected code.
TEST_P(AccessTest, IsolationMatrix) {
  NewTenant("acme");
  NewTenant("globex");
  const std::map<std::string, std::string> keys = {
      {"none", ""},
      {"reader", NewKey("reader", "acme")},
      {"writer", NewKey("writer", "acme")},
      {"admin", NewKey("admin", "", /*bound=*/false)},
  };
  // Sample values for each capture of a route pattern.
  const std::map<std::string, std::string> samples = {
      {":sid", "1"}, {":cid", "C1"}, {":key", "k1"}, {":stid", "0"},
      {":tid", "0"}, {":name", "x"}, {":id", "nokey"}};
  auto target_of = [&](const std::string& pattern) {
    std::string out;
    for (size_t pos = 1; pos <= pattern.size();) {
      const size_t slash = std::min(pattern.find('/', pos), pattern.size());
      const std::string segment = pattern.substr(pos, slash - pos);
      out += "/" + (segment.front() == ':' ? samples.at(segment) : segment);
      pos = slash + 1;
    }
    return out;
  };
  const std::set<std::string> open = {"GET /health", "GET /ready", "GET /ui", "GET /ui/:file"};
  const std::set<std::string> admin_only = {
      "GET /metrics",          "GET /contextd/v1/latency", "POST /contextd/v1/latency/reset",
      "POST /contextd/v1/keys", "GET /contextd/v1/keys",   "DELETE /contextd/v1/keys/:id",
      "POST /contextd/v1/tenants", "GET /contextd/v1/tenants"};
  const std::set<std::string> read_only_posts = {
      "POST /prweb/PRRestService/PegaMKTContainer/V2/CustomerOfferHistory",
      "POST /prweb/api/PegaMKTContainer/V2/CustomerOfferHistory", "POST /lcm/messages"};
  int checked = 0;
  for (const std::string& name : server::App::RouteNames()) {
    const std::string method = name.substr(0, name.find(' '));
    const std::string pattern = name.substr(name.find(' ') + 1);
    if (open.count(name) || pattern.rfind("/api/v2", 0) == 0) continue;  // no key checked
    const std::string need = admin_only.count(name)                           ? "admin"
                             : method == "GET" || read_only_posts.count(name) ? "reader"
                                                                              : "writer";
    const std::string target = target_of(pattern);
    const std::string body = method == "GET" || method == "DELETE" ? "" : "{}";
    for (const auto& [role, key] : keys) {
      for (const std::string tenant : {"acme", "globex"}) {
        SCOPED_TRACE(name + " as " + role + " in " + tenant);
        HttpReply r = As(key, method, target, body, {"ContactCenterId: " + tenant});
        const bool role_ok = role == "admin" || (role == "writer" && need != "admin") ||
                             (role == "reader" && need == "reader");
        if (role == "none") {
          EXPECT_EQ(r.status, 401) << r.body;
        } else if (!role_ok || (role != "admin" && tenant != "acme")) {
          EXPECT_EQ(r.status, 403) << r.body;
        } else {
          EXPECT_NE(r.status, 401) << r.body;
          EXPECT_NE(r.status, 403) << r.body;
          EXPECT_EQ(r.body.find("no such resource"), std::string::npos) << r.body;  // routed
          EXPECT_NE(r.status, 405) << r.body;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 400);
}

}  // namespace
}  // namespace contextd::testing
