// End to end: Workspace API tenants. A user signs in to the tenant its ContactCenterId header
// names and its session stays there: users, interactions and the history Complete writes in
// one tenant are invisible and inoperable from another.

#include <tuple>

#include "query/history.h"
#include "query/workspace.h"
#include "tests/server/server_fixture.h"
#include "tests/support/basic_auth.h"
#include "tests/support/test_store.h"

namespace contextd::testing {
namespace {

using storage::Value;

class WorkspaceTenantsFixture : public ServerTest {
 protected:
  void SetUp() override {}

  // GET /api/v2/me with Basic credentials (and the tenant's header unless it is "").
  HttpReply Me(const std::string& user, const std::string& password, const std::string& tenant) {
    std::vector<std::string> headers = {BasicAuth(user, password)};
    if (!tenant.empty()) headers.push_back("ContactCenterId: " + tenant);
    return client_->Request("GET", "/api/v2/me", "", headers);
  }
  // Signs in; the cookie header, or "" when refused.
  std::string SignIn(const std::string& user, const std::string& password,
                     const std::string& tenant = "") {
    return testing::SignIn(*client_, user, password, tenant);
  }
  HttpReply Post(const std::string& path, const std::string& body, const std::string& cookie) {
    return client_->Request("POST", path, body, {cookie});
  }
  HttpReply Get(const std::string& path, const std::string& cookie) {
    return client_->Request("GET", path, "", {cookie});
  }
  void Ready(const std::string& agent) {
    ASSERT_EQ(Post("/api/v2/me",
                   R"({"operationName":"StartContactCenterSession","channels":["email"]})", agent)
                  .status,
              200);
    ASSERT_EQ(Post("/api/v2/me/channels/email", R"({"operationName":"Ready"})", agent).status, 200);
  }
};

using WorkspaceTenantsTest = OnEveryBackend<WorkspaceTenantsFixture>;
INSTANTIATE_TEST_SUITE_P(Backends, WorkspaceTenantsTest, ::testing::ValuesIn(kBackends),
                         BackendTestName);

TEST_P(WorkspaceTenantsTest, UsersAndInteractionsStayInTheirTenant) {
  const std::vector<std::string> args = {"--sync", "none", "--admin", "root:secret"};
  StartServer(args);
  ASSERT_EQ(client_->Post("/contextd/v1/tenants", R"({"name":"acme"})").status, 201);
  ASSERT_EQ(server_->Stop(), 0);
  {  // acme's own users (the API provisions users in the admin's tenant only).
    std::unique_ptr<storage::Store> store = OpenTestStore(backend(), dir_.path());
    query::History history(store.get());
    query::Workspace ws(store.get(), &history);
    ASSERT_TRUE(ws.Load().ok());
    ASSERT_TRUE(ws.CreateUser("acme", {"boss", "boss-pw", "", "", "", {"ROLE_ADMIN"}}).ok());
    ASSERT_TRUE(ws.CreateUser("acme", {"ann", "acme-pw", "", "", "", {"ROLE_AGENT"}}).ok());
  }
  StartServer(args);

  const std::string root = SignIn("root", "secret");
  ASSERT_FALSE(root.empty());
  ASSERT_EQ(Post("/api/v2/users", R"({"userName":"ann","password":"pw","roles":["ROLE_AGENT"]})",
                 root)
                .status,
            200);
  const std::string ann = SignIn("ann", "pw");
  const std::string boss = SignIn("boss", "boss-pw", "acme");
  const std::string acme_ann = SignIn("ann", "acme-pw", "acme");
  ASSERT_FALSE(ann.empty() || boss.empty() || acme_ann.empty());
  Ready(ann);
  Ready(acme_ann);

  // Credentials belong to one tenant: elsewhere they are unknown (401, no session).
  for (const auto& [user, password, tenant] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"root", "secret", "acme"}, {"boss", "boss-pw", ""}, {"ann", "pw", "acme"},
           {"ann", "acme-pw", ""}}) {
    HttpReply r = Me(user, password, tenant);
    EXPECT_EQ(r.status, 401) << user << " in '" << tenant << "': " << r.body;
    EXPECT_EQ(r.headers.count("set-cookie"), 0u);
  }
  HttpReply users = Get("/api/v2/users", boss);
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(users.body.find("root"), std::string::npos) << users.body;
  EXPECT_NE(users.body.find("boss"), std::string::npos) << users.body;

  // An interaction of the default tenant, offered to the default tenant's ann.
  HttpReply created = Post("/api/v2/interactions",
                           R"({"mediatype":"email","queue":"q","userData":{"CustomerID":"C-1"}})",
                           root);
  ASSERT_EQ(created.status, 200) << created.body;
  const Value created_json = Json(created);
  const std::string id = Field(*Field(created_json, "interaction"), "id")->string_value;
  HttpReply ann_list = Get("/api/v2/me/interactions", ann);
  ASSERT_EQ(ann_list.status, 200) << ann_list.body;
  EXPECT_NE(ann_list.body.find(id), std::string::npos) << ann_list.body;
  HttpReply acme_list = Get("/api/v2/me/interactions", acme_ann);
  ASSERT_EQ(acme_list.status, 200) << acme_list.body;
  EXPECT_EQ(acme_list.body.find(id), std::string::npos) << acme_list.body;
  HttpReply boss_list = Get("/api/v2/interactions", boss);
  ASSERT_EQ(boss_list.status, 200) << boss_list.body;
  EXPECT_EQ(boss_list.body.find(id), std::string::npos) << boss_list.body;
  // To another tenant it does not exist: 404, as an unknown id.
  const std::string unknown = "interaction " + id + " not found";
  HttpReply foreign = Get("/api/v2/interactions/" + id, boss);
  EXPECT_EQ(foreign.status, 404);
  EXPECT_EQ(foreign.body, R"({"statusCode":6,"statusMessage":")" + unknown + R"("})");
  // acme cannot operate it, even with the header of the default tenant on its session.
  for (const char* op : {R"({"operationName":"Accept"})", R"({"operationName":"Reject"})"}) {
    SCOPED_TRACE(op);
    HttpReply own = Post("/api/v2/me/interactions/" + id, op, acme_ann);
    EXPECT_EQ(own.status, 404);
    EXPECT_EQ(own.body, R"({"status":"error","errorDescription":")" + unknown + R"("})");
    HttpReply other = client_->Request("POST", "/api/v2/me/interactions/" + id, op,
                                       {acme_ann, "ContactCenterId: "});
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(other.body, R"({"status":"error","errorDescription":")" + unknown + R"("})");
  }
  // Still the default tenant's: ann accepts and completes it; the history it writes stays there.
  ASSERT_EQ(Post("/api/v2/me/interactions/" + id, R"({"operationName":"Accept"})", ann).status,
            200);
  ASSERT_EQ(Post("/api/v2/me/interactions/" + id, R"({"operationName":"Complete"})", ann).body,
            R"({"statusCode":0})");
  HttpReply mine = client_->Get("/contextd/v1/interactions?customer_id=C-1");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Field(Json(mine), "interactions")->array.size(), 1u) << mine.body;
  HttpReply theirs = client_->Request("GET", "/contextd/v1/interactions?customer_id=C-1", "",
                                      {"ContactCenterId: acme"});
  EXPECT_EQ(theirs.status, 200);
  EXPECT_EQ(theirs.body, R"({"interactions":[]})");
}

}  // namespace
}  // namespace contextd::testing
