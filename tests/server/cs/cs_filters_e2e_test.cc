// End to end: the `state_types` and `task_types` filters of Query States and Query Tasks
// (context-services-api.md 7.3, 7.5) on real data.

#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

class TypeFilterFixture : public ServerTest {
 protected:
  std::string Service(const std::string& rest) {
    return std::string(kCs) + "/services/" + std::to_string(id_) + rest;
  }
  // The ids named `field` of a JSON array reply, in the reply's order (the contract's: state_id
  // or task_id order, openapi.yaml).
  std::vector<int64_t> Children(const std::string& target, const char* field) {
    HttpReply r = client_->Get(target);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<int64_t> ids;
    for (const storage::Value& v : Json(r).array) ids.push_back(Field(v, field)->int_value);
    return ids;
  }
  void Post(const std::string& rest, const std::string& body, int status) {
    HttpReply r = client_->Post(Service(rest), body);
    ASSERT_EQ(r.status, status) << rest << ": " << r.body;
  }
  uint64_t id_ = 0;
};

using TypeFilterTest = OnEveryBackend<TypeFilterFixture>;
INSTANTIATE_TEST_SUITE_P(Backends, TypeFilterTest, ::testing::ValuesIn(kBackends), BackendTestName);

TEST_P(TypeFilterTest, StateAndTaskTypesSelectByType) {
  id_ = StartService(R"({"contact_key":"k"})");
  // States 0 (InQueue, completed), 1 (Talking), 2 (type 4: a number), 3 (InQueue).
  Post("/states/start", R"({"state_type":"InQueue"})", 201);
  Post("/states/start", R"({"state_type":"Talking"})", 201);
  Post("/states/start", R"({"state_type":4})", 201);
  Post("/states/start", R"({"state_type":"InQueue"})", 201);
  Post("/states/0/end", "{}", 204);
  // Tasks 0 (Callback, completed), 1 (Survey), 2 (Callback, of state 1).
  Post("/tasks/start", R"({"task_type":"Callback"})", 201);
  Post("/tasks/start", R"({"task_type":"Survey"})", 201);
  Post("/tasks/start", R"({"task_type":"Callback","state_id":1})", 201);
  Post("/tasks/0/end", "{}", 204);

  using V = std::vector<int64_t>;
  EXPECT_EQ(Children(Service("/states?state_types=InQueue"), "state_id"), (V{0, 3}));
  EXPECT_EQ(Children(Service("/states/active?state_types=InQueue"), "state_id"), (V{3}));
  EXPECT_EQ(Children(Service("/states/completed?state_types=InQueue"), "state_id"), (V{0}));
  EXPECT_EQ(Children(Service("/states?state_types=InQueue,4"), "state_id"), (V{0, 2, 3}));
  EXPECT_EQ(Children(Service("/states?state_types=4"), "state_id"), (V{2}));  // numbers as text
  EXPECT_EQ(Children(Service("/states?state_types=Ringing"), "state_id"), (V{}));
  EXPECT_EQ(Children(Service("/states?state_types=inqueue"), "state_id"), (V{}));  // exact
  EXPECT_EQ(Children(Service("/states"), "state_id"), (V{0, 1, 2, 3}));

  EXPECT_EQ(Children(Service("/tasks?task_types=Callback"), "task_id"), (V{0, 2}));
  EXPECT_EQ(Children(Service("/tasks/active?task_types=Callback"), "task_id"), (V{2}));
  EXPECT_EQ(Children(Service("/tasks/completed?task_types=Callback"), "task_id"), (V{0}));
  EXPECT_EQ(Children(Service("/tasks?task_types=Callback,Survey"), "task_id"), (V{0, 1, 2}));
  EXPECT_EQ(Children(Service("/tasks?task_types=Callback&state_id=1"), "task_id"), (V{2}));
  EXPECT_EQ(Children(Service("/tasks?task_types=Survey&state_id=1"), "task_id"), (V{}));
  EXPECT_EQ(Children(Service("/tasks?task_types=Email"), "task_id"), (V{}));

  // Not parameters of the other resource, nor of the by-id reads: 400 naming the parameter.
  for (const std::string bad : {"/states?task_types=Callback", "/tasks?state_types=InQueue",
                                "/states/1?state_types=Talking", "/tasks/1?task_types=Survey"}) {
    HttpReply r = client_->Get(Service(bad));
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(r.body.find("_types"), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace contextd::testing
