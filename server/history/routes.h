#pragma once

// The interaction history in its three dialects: contextd's own (/contextd/v1/interactions,
// /contextd/v1/customers), Pega Marketing's CaptureResponse and CustomerOfferHistory
// (/prweb/...), and LCM's GetCustomerJourney (/lcm/messages), all over query::History.

#include <vector>

#include "query/history.h"
#include "server/api/route.h"

namespace contextd::server {

extern const Dialect kPegaDialect;  // {"Status":"ERROR","Message"}; unknown ids 400
extern const Dialect kLcmDialect;   // the CustomerJourney envelope with a WS_Error

// Every history route. `history` is not owned and must outlive the routes.
std::vector<Route> HistoryRoutes(query::History* history);

}  // namespace contextd::server
