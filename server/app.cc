#include "server/app.h"

#include "server/admin/routes.h"
#include "server/cs/routes.h"
#include "server/history/routes.h"
#include "server/workspace/cometd.h"

namespace contextd::server {

App::App(Backends backends) : backends_(backends), probes_(backends.store) {
  if (Cometd* cometd = backends_.workspace.cometd) {
    probes_.AddGauge("contextd_cometd_clients", "CometD clients known (handshaken, not expired).",
                     [cometd] { return static_cast<double>(cometd->clients()); });
    probes_.AddGauge("contextd_cometd_held_connects",
                     "CometD connects held open until a message or the hold time.",
                     [cometd] { return static_cast<double>(cometd->held_connects()); });
  }
  std::vector<Route> routes;
  for (std::vector<Route> part :
       {probes_.Routes(), AdminRoutes(backends_.access.access), HistoryRoutes(backends_.history),
        WorkspaceRoutes(&backends_.workspace), ContextServicesRoutes(backends_.engine)}) {
    for (Route& r : part) routes.push_back(std::move(r));
  }
  api_ = std::make_unique<Api>(std::move(routes), backends_.access, &kGenesysDialect,
                               [this] { probes_.SetShuttingDown(); });
  latencies_ = std::make_unique<RouteLatencies>(api_->RouteNames());
  probes_.SetLatencies(latencies_.get());
}

std::vector<std::string> App::RouteNames() { return App(Backends{}).api().RouteNames(); }

}  // namespace contextd::server
