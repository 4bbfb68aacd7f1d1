#include "server/app.h"

#include "server/admin/routes.h"
#include "server/api/offload.h"
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
  if (query::Workspace* workspace = backends_.workspace.workspace) {
    probes_.AddGauge("contextd_workspace_sessions", "Workspace API sessions in the table.",
                     [workspace] { return static_cast<double>(workspace->session_stats().live); });
  }
  if (query::AuthThrottle* t = backends_.workspace.throttle) {
    probes_.AddCounter("contextd_sign_in_failures_total",
                       "Workspace sign-ins refused for a wrong user name or password.",
                       [t] { return static_cast<double>(t->failures()); });
    probes_.AddCounter("contextd_sign_in_throttled_total",
                       "Workspace sign-ins answered 429: too many failures from the address or "
                       "for the user name.",
                       [t] { return static_cast<double>(t->throttled()); });
  }
  if (query::AuthThrottle* t = backends_.access.throttle) {
    probes_.AddCounter("contextd_api_key_failures_total", "API key checks that failed.",
                       [t] { return static_cast<double>(t->failures()); });
    probes_.AddCounter("contextd_api_key_throttled_total",
                       "Failed API key checks answered 429: too many failures from the address "
                       "or for the key id.",
                       [t] { return static_cast<double>(t->throttled()); });
  }
  if (OffloadPool* pool = backends_.workspace.hashing) {
    probes_.AddGauge("contextd_password_hash_queue", "Requests waiting for a password hash.",
                     [pool] { return static_cast<double>(pool->queued()); });
    probes_.AddCounter("contextd_password_hash_refused_total",
                       "Requests answered 503 because the password hash queue was full.",
                       [pool] { return static_cast<double>(pool->refused()); });
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
