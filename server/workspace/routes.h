#pragma once

// The Workspace API (/api/v2, dialects reference section 1) and its CometD endpoint: agents
// sign in, take and work interactions, and hear of them over CometD long-polling.

#include <vector>

#include "query/throttle.h"
#include "query/workspace.h"
#include "server/api/route.h"

namespace contextd::server {

class Cometd;
class OffloadPool;

// The Workspace API's collaborators; absent (null) ones make its routes answer 503.
struct WorkspaceBackend {
  query::Workspace* workspace = nullptr;  // not owned
  Cometd* cometd = nullptr;               // not owned
  bool csrf = false;  // cookie-authenticated writes must carry the session's X-CSRF-TOKEN
  // Where password hashes run (sign-ins, new users), off the HTTP workers; not owned. Null:
  // on the calling thread (tests and fuzzers that build no pool).
  OffloadPool* hashing = nullptr;
  // Failed sign-ins per source address and user name; not owned; null: no throttling.
  query::AuthThrottle* throttle = nullptr;
};

// {"statusCode":N,"statusMessage"}, the HTTP status following from the code.
extern const Dialect kWorkspaceDialect;

// Every Workspace route. `backend` is not owned and must outlive the routes.
std::vector<Route> WorkspaceRoutes(WorkspaceBackend* backend);

}  // namespace contextd::server
