// `contextd import` against the real binary: what it loads reads back through the API.

#include <algorithm>
#include <fstream>

#include "tests/server/server_fixture.h"
#include "tests/support/command.h"

namespace contextd::testing {
namespace {

// On both backends: into a data directory, or into the shared Redis cluster under a key prefix
// of the test's own.
class ImportTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::string Write(const std::string& text) {
    std::string path = files_.path() + "/in.ndjson";
    std::ofstream(path) << text;
    return path;
  }
  std::vector<std::string> StoreArgs() const {
    if (GetParam() == Backend::kRocksDb) return {};
    return {"--redis-cluster", SharedClusterSeeds(), "--redis-key-prefix", data_.path() + "/"};
  }
  std::string Import(const std::string& path) {
    std::string command = std::string(CONTEXTD_BINARY) + " import --data-dir " + data_.path();
    for (const std::string& arg : StoreArgs()) command += " " + arg;
    return command + " " + path;
  }
  // A server on the imported records.
  std::unique_ptr<ServerProcess> Serve() {
    std::vector<std::string> args = {"--sync", "none"};
    for (const std::string& arg : StoreArgs()) args.push_back(arg);
    return std::make_unique<ServerProcess>(CONTEXTD_BINARY, data_.path(), args);
  }
  TempDir files_, data_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ImportTest, ::testing::ValuesIn(kBackends), BackendTestName);

constexpr char kGood[] =
    R"({"service_id":7,"customer_id":"C1","contact_key":"408","service_type":"Billing","est_duration":60,)"
    R"("started":{"timestamp":"2025-01-01T10:00:00.000Z","media_type":"voice"},)"
    R"("active_states":[{"state_id":1,"state_type":2,"previous_state_id":0,"started":{"timestamp":"2025-01-01T10:01:00.000Z"}}],)"
    R"("completed_states":[{"state_id":0,"state_type":1,"started":{"timestamp":"2025-01-01T10:00:00.000Z"},"completed":{"timestamp":"2025-01-01T10:01:00.000Z","disposition":"ok"}}],)"
    R"("active_tasks":[{"task_id":0,"task_type":"call","state_id":1,"started":{"timestamp":"2025-01-01T10:01:00.000Z"}}],)"
    R"("Offer":{"name":"gold"}})"
    "\n\n"
    R"({"contact_key":"+1 555","started":{"timestamp":"2025-01-02T00:00:00.000Z"},"completed":{"timestamp":"2025-01-02T00:05:00.000Z"}})"
    "\n";

TEST_P(ImportTest, LoadedServicesReadBackExactly) {
  CommandResult r = RunCommand(Import(Write(kGood)));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("imported 2 services (2 states, 1 tasks)"), std::string::npos)
      << r.output;

  auto server = Serve();
  HttpClient client(server->port());
  HttpReply got = client.Get(
      "/genesys/1/cs/services/7?active_states=true&completed_states=true&active_tasks=true"
      "&extensions=*");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, std::string(kGood).substr(0, std::string(kGood).find('\n')));
  EXPECT_EQ(client.Get("/genesys/1/cs/customers/C1/services/active").status, 200);
  EXPECT_NE(client.Get("/genesys/1/cs/customers/C1/services/active").body, "[]");
  EXPECT_NE(client.Get("/genesys/1/cs/services/anonymous/%2B1%20555/completed").body, "[]");
  // New ids continue above every imported one.
  HttpReply created = client.Post("/genesys/1/cs/services/start", R"({"contact_key":"n"})");
  ASSERT_EQ(created.status, 201);
  auto v = server::ParseJson(created.body);
  EXPECT_GT(storage::FindField(v->object, "service_id")->int_value, 7);
}

TEST_P(ImportTest, ABadLineIsNamedAndNothingIsWritten) {
  std::string text = std::string(kGood) +
                     R"({"customer_id":"C2","started":{"timestamp":"2025-02-30T00:00:00Z"}})"
                     "\n";
  CommandResult r = RunCommand(Import(Write(text)));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("line 4:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nothing was imported"), std::string::npos) << r.output;

  CommandResult dup = RunCommand(Import(Write(std::string(kGood) + kGood)));
  EXPECT_EQ(dup.code, 1);
  EXPECT_NE(dup.output.find("service_id 7"), std::string::npos) << dup.output;

  auto server = Serve();
  HttpClient client(server->port());
  EXPECT_EQ(client.Get("/genesys/1/cs/customers/C1/services").body, "[]");
  EXPECT_EQ(client.Get("/genesys/1/cs/services/7").status, 400);
}

TEST_P(ImportTest, AnIdAlreadyStoredIsRefused) {
  ASSERT_EQ(RunCommand(Import(Write(kGood))).code, 0);
  CommandResult again = RunCommand(Import(Write(kGood)));
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.output.find("service_id 7"), std::string::npos) << again.output;
}

TEST_P(ImportTest, AssignedIdsNeverCollideWithExplicitOnes) {
  const std::string text =
      R"({"contact_key":"auto","started":{"timestamp":"2025-01-01T00:00:00.000Z"}})" "\n"
      R"({"service_id":1,"contact_key":"explicit","started":{"timestamp":"2025-01-01T00:00:00.000Z"}})" "\n"
      R"({"service_id":2000,"contact_key":"far","started":{"timestamp":"2025-01-01T00:00:00.000Z"}})" "\n";
  CommandResult r = RunCommand(Import(Write(text)));
  ASSERT_EQ(r.code, 0) << r.output;
  auto server = Serve();
  HttpClient client(server->port());
  auto id_of = [&](const std::string& key) -> int64_t {
    auto v = server::ParseJson(client.Get("/genesys/1/cs/services/anonymous/" + key).body);
    if (!v.ok() || v->array.size() != 1) return -1;
    return storage::FindField(v->array[0].object, "service_id")->int_value;
  };
  EXPECT_EQ(id_of("explicit"), 1);
  EXPECT_EQ(id_of("far"), 2000);
  EXPECT_GT(id_of("auto"), 2000);
  // The server's own ids start above all of them.
  auto created = server::ParseJson(
      client.Post("/genesys/1/cs/services/start", R"({"contact_key":"new"})").body);
  EXPECT_GT(storage::FindField(created->object, "service_id")->int_value, id_of("auto"));
}

// An import into a store in use: owners' active services already stored stay listed with
// the imported ones, also beyond one active record's capacity (128), and stay writable.
TEST_P(ImportTest, ImportedActiveServicesJoinTheStoredOnes) {
  int64_t stored = 0;
  {
    auto server = Serve();
    HttpClient client(server->port());
    auto v = server::ParseJson(
        client.Post("/genesys/1/cs/services/start", R"({"customer_id":"C1","contact_key":"busy"})")
            .body);
    ASSERT_TRUE(v.ok());
    stored = storage::FindField(v->object, "service_id")->int_value;
  }
  std::string text = kGood;
  for (int i = 0; i < 140; ++i) {
    text += R"({"contact_key":"busy","started":{"timestamp":"2025-03-01T00:00:)" +
            std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + R"(.000Z"}})" "\n";
  }
  CommandResult r = RunCommand(Import(Write(text)));
  ASSERT_EQ(r.code, 0) << r.output;

  auto server = Serve();
  HttpClient client(server->port());
  auto ids = [&](const std::string& path) {
    std::vector<int64_t> out;
    auto v = server::ParseJson(client.Get(path).body);
    if (v.ok()) {
      for (const auto& s : v->array) out.push_back(storage::FindField(s.object, "service_id")->int_value);
    }
    return out;
  };
  std::vector<int64_t> c1 = ids("/genesys/1/cs/customers/C1/services/active");
  EXPECT_EQ(c1.size(), 2u);
  EXPECT_NE(std::find(c1.begin(), c1.end(), stored), c1.end());
  EXPECT_NE(std::find(c1.begin(), c1.end(), 7), c1.end());
  // The stored one is listed under the customer; the 140 imported anonymous ones under the key.
  EXPECT_EQ(ids("/genesys/1/cs/services/anonymous/busy/active").size(), 140u);
  ASSERT_EQ(client.Post("/genesys/1/cs/services/" + std::to_string(stored) + "/end", "{}").status,
            204);
  EXPECT_EQ(ids("/genesys/1/cs/customers/C1/services/active"), std::vector<int64_t>{7});
}

// A data directory belongs to one process; a cluster's nodes keep serving while it is loaded,
// and answer with what was loaded at once.
TEST_P(ImportTest, ARunningServerBlocksImportIntoItsDirectoryNotIntoACluster) {
  auto server = Serve();
  CommandResult r = RunCommand(Import(Write(kGood)));
  if (GetParam() == Backend::kRedis) {
    ASSERT_EQ(r.code, 0) << r.output;
    HttpClient client(server->port());
    EXPECT_EQ(client.Get("/genesys/1/cs/services/7").status, 200);
    return;
  }
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("stop the server first"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace contextd::testing
