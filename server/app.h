#pragma once

// The service put together: every dialect's route rows behind one router, with the probes
// and the per-route latencies. main.cc and the API fuzzer build it; tests list its routes.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "query/access.h"
#include "query/engine.h"
#include "query/history.h"
#include "query/workspace.h"
#include "server/api/probes.h"
#include "server/api/router.h"
#include "server/http/latency.h"
#include "server/workspace/routes.h"
#include "storage/store.h"

namespace contextd::server {

// What the dialects serve; none is owned, all must outlive the App. A null one makes the
// routes that need it answer 503 (or fail if they are called: tests that only list routes
// pass none).
struct Backends {
  query::Engine* engine = nullptr;
  query::History* history = nullptr;
  AccessPolicy access;
  WorkspaceBackend workspace;
  storage::Store* store = nullptr;
};

class App {
 public:
  explicit App(Backends backends);
  App(const App&) = delete;  // the routes hold pointers into it
  App& operator=(const App&) = delete;

  Api& api() { return *api_; }
  RouteLatencies& latencies() { return *latencies_; }
  // One more gauge or counter of /metrics (Probes::AddGauge, AddCounter); before serving.
  void AddGauge(std::string name, std::string help, std::function<double()> value) {
    probes_.AddGauge(std::move(name), std::move(help), std::move(value));
  }
  void AddCounter(std::string name, std::string help, std::function<double()> value) {
    probes_.AddCounter(std::move(name), std::move(help), std::move(value));
  }

  // "METHOD pattern" of every route, as ApiResponse::route indexes them.
  static std::vector<std::string> RouteNames();

 private:
  Backends backends_;
  Probes probes_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<RouteLatencies> latencies_;
};

}  // namespace contextd::server
