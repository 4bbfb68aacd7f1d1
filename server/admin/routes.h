#pragma once

// Access control's admin routes: API keys and tenants (/contextd/v1/keys, /contextd/v1/tenants),
// in the native dialect, for admin keys only.

#include <vector>

#include "query/access.h"
#include "server/api/route.h"

namespace contextd::server {

// `access` is not owned and may be null (the routes then answer 503).
std::vector<Route> AdminRoutes(query::Access* access);

}  // namespace contextd::server
