#include "server/history/routes.h"

#include <algorithm>
#include <optional>

#include "query/history_fields.h"
#include "query/timestamp.h"
#include "server/api/json.h"
#include "server/api/request.h"
#include "server/history/lcm.h"
#include "server/history/native.h"
#include "server/history/pega.h"
#include "storage/status_macros.h"

namespace contextd::server {

namespace {

// NotFound is 400 in the Pega and LCM dialects (their clients know no 404); the rest as
// CommonHttpStatus.
int HistoryHttpStatus(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kNotFound && !ProtocolHttpStatus(status)) return 400;
  return CommonHttpStatus(status);
}

// {"Status":"ERROR","Message":...}
ApiResponse PegaError(const absl::Status& status) {
  return Json(HistoryHttpStatus(status), RenderPegaStatus("ERROR", PublicMessage(status)));
}

// The CustomerJourney envelope with a WS_Error, echoing the request's callid.
ApiResponse LcmError(const absl::Status& status, std::string_view callid) {
  return Json(HistoryHttpStatus(status), RenderLcmError(callid, PublicMessage(status)));
}

ApiResponse LcmErrorWithoutCall(const absl::Status& status) { return LcmError(status, ""); }

// POST /contextd/v1/interactions: one JSON record, or NDJSON (one record per line; blank
// lines only at the end). All records are stored or none.
ApiResponse IngestInteractions(query::History& history, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    std::vector<storage::Interaction> records;
    std::string_view body = c.request.body;
    absl::StatusOr<storage::Value> whole = ParseJson(body);
    if (whole.ok()) {
      ASSIGN_OR_RETURN(storage::Interaction x, ParseNativeInteraction(*whole, c.request.now_ms));
      records.push_back(std::move(x));
    } else {
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
      if (body.find('\n') == std::string_view::npos) return whole.status();
      size_t line = 0;
      while (!body.empty() || line == 0) {
        ++line;
        const size_t end = std::min(body.find('\n'), body.size());
        std::string_view text = body.substr(0, end);
        body.remove_prefix(std::min(end + 1, body.size()));
        auto fail = [line](const absl::Status& s) {
          return absl::InvalidArgumentError("line " + std::to_string(line) + ": " +
                                            std::string(s.message()));
        };
        absl::StatusOr<storage::Value> json = ParseJson(text);
        if (!json.ok()) return fail(json.status());
        absl::StatusOr<storage::Interaction> x = ParseNativeInteraction(*json, c.request.now_ms);
        if (!x.ok()) return fail(x.status());
        records.push_back(std::move(*x));
      }
    }
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> stored,
                     history.Record(c.request.tenant, std::move(records)));
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("stored");
    w.Uint(stored.size());
    w.Key("interaction_ids");
    w.BeginArray();
    for (const storage::Interaction& x : stored) w.Uint(x.interaction_id);
    w.EndArray();
    w.EndObject();
    return Json(201, std::move(out));
  });
}

// GET /contextd/v1/interactions?customer_id=|account_number=|contact_number=
//     [&from=][&to=][&channel=a,b][&campaign=][&limit=]
ApiResponse QueryInteractions(query::History& history, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    static constexpr std::string_view kKnown[] = {
        "customer_id", "account_number", "contact_number", "from",
        "to",          "channel",        "campaign",       "limit"};
    for (const auto& [k, v] : c.params) {
      if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) {
        return absl::InvalidArgumentError("parameter '" + k + "': unknown parameter");
      }
    }
    query::HistoryQuery q;
    q.tenant = c.request.tenant;
    int keys = 0;
    for (auto [name, by] : {std::pair{"customer_id", storage::InteractionKey::kCustomer},
                            std::pair{"account_number", storage::InteractionKey::kAccount},
                            std::pair{"contact_number", storage::InteractionKey::kContact}}) {
      ASSIGN_OR_RETURN(std::string key, OneParam(c, name));
      if (key.empty()) continue;
      ++keys;
      q.by = by;
      q.key = std::move(key);
    }
    if (keys != 1) {
      return absl::InvalidArgumentError(
          "exactly one of customer_id, account_number, contact_number is required");
    }
    for (auto [name, bound] :
         {std::pair{"from", &q.range.from_ms}, std::pair{"to", &q.range.to_ms}}) {
      ASSIGN_OR_RETURN(std::string text, OneParam(c, name));
      if (text.empty()) continue;
      absl::StatusOr<storage::TimeMs> t = query::ParseQueryTimestamp(text);
      if (!t.ok()) {
        return absl::InvalidArgumentError("parameter '" + std::string(name) +
                                          "': " + std::string(t.status().message()));
      }
      *bound = *t;
    }
    ASSIGN_OR_RETURN(std::string channels, OneParam(c, "channel"));
    for (size_t pos = 0; !channels.empty() && pos <= channels.size();) {
      const size_t comma = std::min(channels.find(',', pos), channels.size());
      if (comma > pos) {
        q.channels.push_back(query::CanonicalChannel(channels.substr(pos, comma - pos)));
      }
      pos = comma + 1;
    }
    ASSIGN_OR_RETURN(q.campaign, OneParam(c, "campaign"));
    ASSIGN_OR_RETURN(std::string limit, OneParam(c, "limit"));
    if (!limit.empty()) {
      std::optional<size_t> n = ParseId<size_t>(limit, query::kMaxHistoryRecords);
      if (!n || *n == 0) {
        return absl::InvalidArgumentError("parameter 'limit': expected 1 to " +
                                          std::to_string(query::kMaxHistoryRecords));
      }
      q.limit = *n;
    }
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> found, history.Query(q));
    return Json(200, RenderNativeInteractions(found));
  });
}

std::string RenderCustomerKeys(std::string_view customer_id, const storage::CustomerKeys& keys) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("customer_id");
  w.String(customer_id);
  w.Key("account_number");
  w.String(keys.account_number);
  w.Key("contact_number");
  w.String(keys.contact_number);
  w.EndObject();
  return out;
}

// PUT /contextd/v1/customers/{id}: {"account_number":...,"contact_number":...}, both
// optional strings; replaces the customer's directory entry.
ApiResponse PutCustomerKeys(query::History& history, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(const storage::Fields* members, ObjectMembers(body));
    storage::CustomerKeys keys;
    for (const auto& [name, v] : *members) {
      std::string* target = name == "account_number"   ? &keys.account_number
                            : name == "contact_number" ? &keys.contact_number
                                                       : nullptr;
      if (target == nullptr) return MemberError(Naming::kQuoted, name, "unknown field");
      ASSIGN_OR_RETURN(*target,
                       Text(v, name, TextRule{Naming::kQuoted, query::kMaxHistoryTextBytes}));
    }
    RETURN_IF_ERROR(history.SetCustomerKeys(c.request.tenant, c.captures[0], keys));
    return Json(200, RenderCustomerKeys(c.captures[0], keys));
  });
}

ApiResponse GetCustomerKeys(query::History& history, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::CustomerKeys keys,
                     history.GetCustomerKeys(c.request.tenant, c.captures[0]));
    return Json(200, RenderCustomerKeys(c.captures[0], keys));
  });
}

template <CaptureVersion kVersion>
ApiResponse CaptureResponse(query::History& history, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> records,
                     ParseCaptureResponse(body, kVersion, c.request.now_ms));
    RETURN_IF_ERROR(history.Record(c.request.tenant, std::move(records)).status());
    return Json(200, RenderPegaStatus("OK", "Response captured successfully"));
  });
}

ApiResponse OfferHistory(query::History& history, const Call& c, std::string customer_id) {
  query::HistoryQuery q;
  q.tenant = c.request.tenant;
  q.by = storage::InteractionKey::kCustomer;
  q.key = std::move(customer_id);
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> found, history.Query(q));
    return Json(200, RenderOfferHistory(found));
  });
}

ApiResponse OfferHistoryPost(query::History& history, const Call& c) {
  absl::StatusOr<storage::Value> body = Body(c, true);
  absl::StatusOr<std::string> customer =
      body.ok() ? ParseOfferHistoryRequest(*body) : absl::StatusOr<std::string>(body.status());
  if (!customer.ok()) return ErrorReply(c.dialect, customer.status());
  return OfferHistory(history, c, std::move(*customer));
}

ApiResponse OfferHistoryGet(query::History& history, const Call& c) {
  absl::StatusOr<std::string> customer = OneParam(c, "CustomerID");
  if (customer.ok() && customer->empty()) {
    customer = absl::InvalidArgumentError("CustomerID is required");
  }
  if (!customer.ok()) return ErrorReply(c.dialect, customer.status());
  return OfferHistory(history, c, std::move(*customer));
}

// POST /lcm/messages: GetCustomerJourney. Errors carry the request's callid.
ApiResponse CustomerJourney(query::History& history, const Call& c) {
  std::string callid;
  auto error = [&callid](const absl::Status& s) { return LcmError(s, callid); };
  absl::StatusOr<storage::Value> body = Body(c, true);
  if (!body.ok()) return error(body.status());
  absl::StatusOr<JourneyRequest> request =
      ParseJourneyRequest(*body, c.request.tenant, c.request.now_ms, &callid);
  if (!request.ok()) return error(request.status());
  absl::StatusOr<std::vector<storage::Interaction>> found = history.Query(request->query);
  if (!found.ok()) return error(found.status());
  return Json(200, RenderJourney(request->callid, *found));
}

}  // namespace

const Dialect kPegaDialect{"prweb", PegaError};
const Dialect kLcmDialect{"lcm", LcmErrorWithoutCall};

std::vector<Route> HistoryRoutes(query::History* history) {
  const std::string native = "/contextd/v1";
  auto h = [history](ApiResponse (*fn)(query::History&, const Call&)) { return Bind(history, fn); };
  const Dialect* n = &kNativeDialect;
  const Dialect* p = &kPegaDialect;
  std::vector<Route> routes = {
      {"POST", native + "/interactions", h(IngestInteractions), n, kBulkWrite},
      {"GET", native + "/interactions", h(QueryInteractions), n, kRead},
      {"PUT", native + "/customers/:cid", h(PutCustomerKeys), n, kWrite},
      {"GET", native + "/customers/:cid", h(GetCustomerKeys), n, kRead},
  };
  // Pega Marketing serves the same services under its REST and its API container paths.
  for (const std::string pega :
       {"/prweb/PRRestService/PegaMKTContainer", "/prweb/api/PegaMKTContainer"}) {
    routes.insert(routes.end(),
                  {
                      {"POST", pega + "/V2/CaptureResponse",
                       h(CaptureResponse<CaptureVersion::kV2>), p, kWrite},
                      {"POST", pega + "/V2/CaptureResponse/Initiate",
                       h(CaptureResponse<CaptureVersion::kV2>), p, kWrite},
                      {"POST", pega + "/V3/CaptureResponse",
                       h(CaptureResponse<CaptureVersion::kV3>), p, kWrite},
                      {"POST", pega + "/V3/CaptureResponse/Initiate",
                       h(CaptureResponse<CaptureVersion::kV3>), p, kWrite},
                      {"POST", pega + "/V2/CustomerOfferHistory", h(OfferHistoryPost), p, kQuery},
                      {"GET", pega + "/V2/CustomerOfferHistory", h(OfferHistoryGet), p, kRead},
                  });
  }
  routes.push_back({"POST", "/lcm/messages", h(CustomerJourney), &kLcmDialect, kQuery});
  return routes;
}

}  // namespace contextd::server
