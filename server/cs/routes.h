#pragma once

// Genesys Context Services (/genesys/1/cs): services, states, tasks and their extensions,
// served by the engine. Handlers parse (cs_json.h), call the engine, render; they hold no
// business logic.

#include <vector>

#include "query/engine.h"
#include "server/api/route.h"

namespace contextd::server {

// {"message","exception"}; unknown ids are 400 NotFoundException ("There are no service
// found for : 5"). The fallback dialect of paths no route knows.
extern const Dialect kGenesysDialect;

// Every Context Services route. `engine` is not owned and must outlive the routes.
std::vector<Route> ContextServicesRoutes(query::Engine* engine);

}  // namespace contextd::server
