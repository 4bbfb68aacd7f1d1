#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/api/json.h"
#include "tests/support/http_client.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::testing {

inline constexpr char kCs[] = "/genesys/1/cs";

// The real contextd binary on a real port: one node on its own RocksDB directory, or (Redis)
// two nodes sharing the cluster ctest starts, under a key prefix of the test's own, with
// client_ sending each request to the other node in turn.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  virtual Backend backend() const { return Backend::kRocksDb; }

  // Starts the nodes afresh on the same records (SIGKILL to those still running).
  void StartServer(std::vector<std::string> args = {"--sync", "none"}) {
    client_.reset();
    second_.reset();
    server_.reset();  // one process per data directory
    if (backend() == Backend::kRocksDb) {
      server_ = std::make_unique<ServerProcess>(CONTEXTD_BINARY, dir_.path(), args);
      client_ = std::make_unique<HttpClient>(server_->port());
      return;
    }
    args.insert(args.end(), {"--redis-cluster", SharedClusterSeeds(), "--redis-key-prefix",
                             dir_.path() + "/"});
    server_ = std::make_unique<ServerProcess>(CONTEXTD_BINARY, dir_.path() + "/node1", args);
    second_ = std::make_unique<ServerProcess>(CONTEXTD_BINARY, dir_.path() + "/node2", args);
    client_ = std::make_unique<HttpClient>(std::vector<uint16_t>{server_->port(), second_->port()});
  }

  // An id's number in its tenant's sequence: the id itself on RocksDB; on Redis the id
  // without its low 14 bits, which name its record's slot (storage/redis_store.cc).
  uint64_t SequenceOf(uint64_t id) const { return backend() == Backend::kRedis ? id >> 14 : id; }

  // Parses a JSON reply body; fails the test on malformed JSON.
  static storage::Value Json(const HttpReply& r) {
    auto v = server::ParseJson(r.body);
    EXPECT_TRUE(v.ok()) << "not JSON: " << r.body;
    return v.ok() ? *v : storage::Value();
  }

  static const storage::Value* Field(const storage::Value& v, std::string_view name) {
    return storage::FindField(v.object, name);
  }

  // Starts a service with `body` and returns its id.
  uint64_t StartService(const std::string& body) {
    HttpReply r = client_->Post(std::string(kCs) + "/services/start", body);
    EXPECT_EQ(r.status, 201) << r.body;
    const storage::Value v = Json(r);  // Field points into it
    const storage::Value* id = Field(v, "service_id");
    return id ? static_cast<uint64_t>(id->int_value) : 0;
  }

  // The service ids of a JSON array reply, in order.
  static std::vector<int64_t> Ids(const HttpReply& r) {
    std::vector<int64_t> ids;
    storage::Value v = Json(r);
    for (const storage::Value& s : v.array) {
      if (const storage::Value* id = Field(s, "service_id")) ids.push_back(id->int_value);
    }
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;  // the first node
  std::unique_ptr<ServerProcess> second_;  // Redis: the second node
  std::unique_ptr<HttpClient> client_;
};

// A suite on both backends: TEST_P(Suite, ...) with
//   using Suite = OnEveryBackend<Fixture>;
//   INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(kBackends), BackendTestName);
template <typename Fixture>
class OnEveryBackend : public Fixture, public ::testing::WithParamInterface<Backend> {
 protected:
  Backend backend() const override { return this->GetParam(); }
};

inline std::string BackendTestName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

}  // namespace contextd::testing
