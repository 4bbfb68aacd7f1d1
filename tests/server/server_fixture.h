#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/api/json.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace contextd::testing {

inline constexpr char kCs[] = "/genesys/1/cs";

// The real contextd binary on a real port with its own RocksDB directory.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer(std::vector<std::string> args = {"--sync", "none"}) {
    client_.reset();
    server_.reset();  // one process per data directory
    server_ = std::make_unique<ServerProcess>(CONTEXTD_BINARY, dir_.path(), args);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

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
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace contextd::testing
