#pragma once

// Shared by the files that implement Api's handlers (api.cc, workspace_api.cc); not for use
// outside the Api.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/api.h"
#include "storage/value.h"

namespace contextd::server {

// One matched request: path captures, parameters, body, and what handlers may use.
struct Api::Call {
  const ApiRequest& request;
  std::vector<std::string> captures;  // path parameters, left to right
  const query::Params& params;
  Dialect dialect;
  query::History& history;
  const WorkspaceBackend& workspace;
  const AccessPolicy& access;
  RouteLatencies& latencies;
  storage::Store* store;  // may be null
  bool shutting_down;
};

using Handler = ApiResponse (*)(query::Engine&, const Api::Call&);

ApiResponse Json(int http_status, std::string body);

// Parses the body; an empty body counts as `{}` where the body is optional.
absl::StatusOr<storage::Value> Body(const Api::Call& c, bool required);

// InvalidArgument naming the first parameter, if there is any.
absl::Status NoParams(const Api::Call& c);

// Runs `fn`, turning an error status into its reply in the route's dialect.
template <typename Fn>
ApiResponse Reply(const Api::Call& c, Fn&& fn) {
  absl::StatusOr<ApiResponse> r = fn();
  if (!r.ok()) return ErrorResponse(r.status(), c.dialect);
  return std::move(*r);
}

// Workspace API handlers (workspace_api.cc).
ApiResponse GetMe(query::Engine&, const Api::Call& c);
ApiResponse PostMe(query::Engine&, const Api::Call& c);
ApiResponse SetChannel(query::Engine&, const Api::Call& c);
ApiResponse ListMyInteractions(query::Engine&, const Api::Call& c);
ApiResponse OperateInteraction(query::Engine&, const Api::Call& c);
ApiResponse ListInteractions(query::Engine&, const Api::Call& c);
ApiResponse GetWorkInteraction(query::Engine&, const Api::Call& c);
ApiResponse CreateWorkInteraction(query::Engine&, const Api::Call& c);
ApiResponse CreateUser(query::Engine&, const Api::Call& c);
ApiResponse ListUsers(query::Engine&, const Api::Call& c);
ApiResponse Notifications(query::Engine&, const Api::Call& c);
ApiResponse NotificationsUpgrade(query::Engine&, const Api::Call& c);

// Access control's admin handlers (access_api.cc).
ApiResponse CreateKey(query::Engine&, const Api::Call& c);
ApiResponse ListKeys(query::Engine&, const Api::Call& c);
ApiResponse RevokeKey(query::Engine&, const Api::Call& c);
ApiResponse CreateTenant(query::Engine&, const Api::Call& c);
ApiResponse ListTenants(query::Engine&, const Api::Call& c);

// The Workspace API's status code for an error, and the HTTP status for that code
// (dialects reference 1.4 [decision]).
int WorkspaceCode(const absl::Status& status);
int HttpStatusOfWorkspaceCode(int code);

}  // namespace contextd::server
