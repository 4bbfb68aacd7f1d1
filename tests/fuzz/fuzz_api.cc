// libFuzzer target: the whole API, every route and body parser behind it (the Workspace's
// included), on a real RocksDB store in a temporary directory. An input is
// "METHOD TARGET\nBODY"; it is sent once as an admin (API key checks off) and once by a
// signed-in Workspace admin and agent (JSESSIONID). Any input gets a reply, never a crash.

#include <stdlib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "query/access.h"
#include "query/engine.h"
#include "query/history.h"
#include "query/workspace.h"
#include "server/api.h"
#include "server/cometd.h"
#include "server/latency.h"
#include "storage/rocksdb_store.h"

namespace {

using namespace contextd;

struct World {
  World() {
    char dir[] = "/tmp/contextd-fuzz-XXXXXX";
    storage::RocksDbOptions options;
    options.path = mkdtemp(dir);
    options.sync = false;
    options.row_cache_bytes = 1 << 20;
    options.block_cache_bytes = 8 << 20;
    store = std::move(*storage::OpenRocksDbStore(options));
    engine = std::make_unique<query::Engine>(store.get());
    history = std::make_unique<query::History>(store.get());
    query::WorkspaceOptions ws;
    ws.hash_iterations = 1;
    workspace = std::make_unique<query::Workspace>(store.get(), history.get(), ws);
    (void)workspace->EnsureUser("", {"fuzz", "pw", "", "", "", {query::kRoleAdmin, query::kRoleAgent}});
    cookie = "JSESSIONID=" + workspace->SignIn("", "fuzz", "pw", 1700000000000)->id;
    server::CometdOptions co;
    co.hold = std::chrono::milliseconds(1);
    cometd = std::make_unique<server::Cometd>(co);
    workspace->SetListener(cometd.get());
    access = std::move(*query::Access::Open(store.get(), ""));
    latencies = std::make_unique<server::RouteLatencies>(server::Api::RouteNames());
    api = std::make_unique<server::Api>(engine.get(), history.get(), latencies.get(),
                                        server::AccessPolicy{access.get(), /*open=*/true},
                                        server::WorkspaceBackend{workspace.get(), cometd.get(), false},
                                        store.get());
  }
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<query::Engine> engine;
  std::unique_ptr<query::History> history;
  std::unique_ptr<query::Workspace> workspace;
  std::unique_ptr<server::Cometd> cometd;
  std::unique_ptr<query::Access> access;
  std::unique_ptr<server::RouteLatencies> latencies;
  std::unique_ptr<server::Api> api;
  std::string cookie;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t eol = in.find('\n');
  const std::string_view line = in.substr(0, eol);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  server::ApiRequest request;
  request.method = line.substr(0, space);
  request.target = line.substr(space + 1);
  if (request.target.empty() || request.target.front() != '/') return 0;
  request.body = eol == std::string_view::npos ? std::string_view() : in.substr(eol + 1);
  request.now_ms = 1700000000000;
  const std::vector<std::pair<std::string, std::string>> headers = {{"cookie", world->cookie}};
  for (bool session : {false, true}) {
    request.headers = session ? &headers : nullptr;
    server::ApiResponse reply = world->api->Handle(request);
    if (reply.hold) {
      reply.hold([](server::ApiResponse) { return true; }, /*now=*/false);
      reply.hold([](server::ApiResponse) { return true; }, /*now=*/true);
    }
  }
  return 0;
}
