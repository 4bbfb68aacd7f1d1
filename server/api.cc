#include "server/api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>

#include "server/cs_json.h"
#include "server/json.h"
#include "storage/status_macros.h"

namespace contextd::server {

namespace {

constexpr char kNotFoundException[] =
    "com.genesyslab.gsg.services.contextservices.exceptions.NotFoundException";
constexpr char kResourceException[] =
    "com.genesyslab.gsg.services.contextservices.exceptions.ContextServicesExceptionResource";

// The largest service id: ids stay below 2^53 so JavaScript clients read them exactly.
constexpr uint64_t kMaxServiceId = (uint64_t{1} << 53) - 1;

ApiResponse ErrorBody(int http_status, std::string_view message, const char* exception) {
  ApiResponse r;
  r.status = http_status;
  JsonWriter w(&r.body);
  w.BeginObject();
  w.Key("message");
  w.String(message);
  w.Key("exception");
  w.String(exception);
  w.EndObject();
  return r;
}

ApiResponse Json(int http_status, std::string body) {
  ApiResponse r;
  r.status = http_status;
  r.body = std::move(body);
  return r;
}

ApiResponse Empty(int http_status) {
  ApiResponse r;
  r.status = http_status;
  return r;
}

// Writes return the whole resource, every attached key included.
query::ReadOptions FullResource() {
  query::ReadOptions read;
  read.extensions.service.all = read.extensions.state.all = read.extensions.task.all = true;
  return read;
}

}  // namespace

ApiResponse HttpError(int http_status, std::string_view message) {
  return ErrorBody(http_status, message, kResourceException);
}

ApiResponse ErrorResponse(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ErrorBody(400, std::string(status.message()), kNotFoundException);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return ErrorBody(400, std::string(status.message()), kResourceException);
    case absl::StatusCode::kResourceExhausted:
      return ErrorBody(413, std::string(status.message()), kResourceException);
    case absl::StatusCode::kUnavailable:
      std::fprintf(stderr, "contextd: unavailable: %s\n", status.ToString().c_str());
      return ErrorBody(503, "service unavailable, try again", kResourceException);
    default:
      std::fprintf(stderr, "contextd: internal error: %s\n", status.ToString().c_str());
      return ErrorBody(500, "internal error", kResourceException);
  }
}

struct Api::Call {
  const ApiRequest& request;
  std::vector<std::string> captures;  // path parameters, left to right
  const query::Params& params;
  RouteLatencies& latencies;
};

namespace {

using Call = Api::Call;
using Handler = ApiResponse (*)(query::Engine&, const Call&);
using query::View;

// A path id: decimal digits only, at most `max`; nullopt otherwise.
template <typename T>
std::optional<T> PathId(std::string_view text, T max) {
  T id{};
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id > max) return std::nullopt;
  return id;
}

absl::StatusOr<uint64_t> ServiceId(std::string_view text) {
  std::optional<uint64_t> id = PathId<uint64_t>(text, kMaxServiceId);
  if (!id || *id == 0) {
    return absl::NotFoundError("There are no service found for : " + std::string(text));
  }
  return *id;
}

// A state or task id from a path: decimal digits within int32, else the documented NotFound.
absl::StatusOr<int32_t> ChildId(std::string_view text, std::string_view what) {
  std::optional<int32_t> id = PathId<int32_t>(text, std::numeric_limits<int32_t>::max());
  if (!id) {
    return absl::NotFoundError("There are no " + std::string(what) +
                               " found for : " + std::string(text));
  }
  return *id;
}

absl::StatusOr<int32_t> StateId(std::string_view text) { return ChildId(text, "state"); }

absl::StatusOr<int32_t> TaskId(std::string_view text) { return ChildId(text, "task"); }

// Parses the body; an empty body counts as `{}` where the body is optional.
absl::StatusOr<storage::Value> Body(const Call& c, bool required) {
  if (c.request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (required) return absl::InvalidArgumentError("a JSON request body is required");
    return storage::Value::Object({});
  }
  return ParseJson(c.request.body);
}

absl::Status NoParams(const Call& c) {
  if (!c.params.empty()) {
    return absl::InvalidArgumentError("parameter '" + c.params.front().first +
                                      "': unknown parameter");
  }
  return absl::OkStatus();
}

// Runs `fn`, turning an error status into its reply.
template <typename Fn>
ApiResponse Reply(Fn&& fn) {
  absl::StatusOr<ApiResponse> r = fn();
  if (!r.ok()) return ErrorResponse(r.status());
  return std::move(*r);
}

ApiResponse Health(query::Engine&, const Call&) { return Json(200, R"({"status":"ok"})"); }

ApiResponse Latency(query::Engine&, const Call& c) { return Json(200, c.latencies.RenderJson()); }

ApiResponse ResetLatency(query::Engine&, const Call& c) {
  c.latencies.Reset();
  return Empty(204);
}

ApiResponse StartService(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(query::ServiceStart start, ParseServiceStart(body));
    ASSIGN_OR_RETURN(storage::Service s,
                     e.StartService(c.request.tenant, std::move(start), c.request.now_ms));
    return Json(201, RenderService(s, FullResource()));
  });
}

ApiResponse CompleteService(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, false));
    ASSIGN_OR_RETURN(query::EventInput end, ParseEndEvent(body, query::kServiceEnd));
    RETURN_IF_ERROR(e.CompleteService(c.request.tenant, id, std::move(end), c.request.now_ms));
    return Empty(204);
  });
}

ApiResponse GetService(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(query::ReadOptions read, query::ParseServiceReadParams(c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    return Json(200, RenderService(s, read));
  });
}

ApiResponse DeleteService(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    RETURN_IF_ERROR(e.DeleteService(c.request.tenant, id));
    return Empty(200);
  });
}

ApiResponse AssociateService(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[1]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, false));
    ASSIGN_OR_RETURN(query::ServiceUpdate update, ParseAssociate(body));
    ASSIGN_OR_RETURN(storage::Service s,
                     e.AssociateService(c.request.tenant, id, c.captures[0], std::move(update)));
    return Json(200, RenderService(s, FullResource()));
  });
}

template <storage::OwnerKind kOwner, View kView>
ApiResponse QueryServices(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(
        query::ServiceQuery q,
        query::ParseServiceQuery(c.request.tenant, kOwner, c.captures[0], kView, c.params));
    ASSIGN_OR_RETURN(std::vector<storage::Service> found, e.QueryServices(q));
    return Json(200, RenderServices(found, q.read));
  });
}

ApiResponse StartState(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(query::StateStart start, ParseStateStart(body));
    ASSIGN_OR_RETURN(storage::State st,
                     e.StartState(c.request.tenant, id, std::move(start), c.request.now_ms));
    storage::Service owner;
    owner.service_id = id;
    return Json(201, RenderState(owner, st, FullResource()));
  });
}

ApiResponse Transition(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(query::Transition t, ParseTransition(body));
    ASSIGN_OR_RETURN(storage::State st,
                     e.TransitionState(c.request.tenant, id, std::move(t), c.request.now_ms));
    storage::Service owner;
    owner.service_id = id;
    return Json(201, RenderState(owner, st, FullResource()));
  });
}

ApiResponse CompleteState(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(int32_t state_id, StateId(c.captures[1]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, false));
    ASSIGN_OR_RETURN(query::EventInput end, ParseEndEvent(body, query::kChildEnd));
    RETURN_IF_ERROR(
        e.CompleteState(c.request.tenant, id, state_id, std::move(end), c.request.now_ms));
    return Empty(204);
  });
}

template <View kView>
ApiResponse QueryStates(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(query::StateQuery q, query::ParseStateQuery(kView, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    return Json(200, RenderStates(s, query::SelectStates(s, kView, q), q.read));
  });
}

ApiResponse GetState(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(int32_t state_id, StateId(c.captures[1]));
    ASSIGN_OR_RETURN(query::StateQuery q, query::ParseStateQuery(std::nullopt, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    if (static_cast<size_t>(state_id) >= s.states.size()) return query::StateNotFound(state_id);
    return Json(200, RenderState(s, s.states[static_cast<size_t>(state_id)], q.read));
  });
}

ApiResponse StartTask(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(query::TaskStart start, ParseTaskStart(body));
    ASSIGN_OR_RETURN(storage::Task t,
                     e.StartTask(c.request.tenant, id, std::move(start), c.request.now_ms));
    storage::Service owner;
    owner.service_id = id;
    return Json(201, RenderTask(owner, t, FullResource()));
  });
}

ApiResponse CompleteTask(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(int32_t task_id, TaskId(c.captures[1]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, false));
    ASSIGN_OR_RETURN(query::EventInput end, ParseEndEvent(body, query::kChildEnd));
    RETURN_IF_ERROR(
        e.CompleteTask(c.request.tenant, id, task_id, std::move(end), c.request.now_ms));
    return Empty(204);
  });
}

template <View kView>
ApiResponse QueryTasks(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(query::TaskQuery q, query::ParseTaskQuery(kView, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    return Json(200, RenderTasks(s, query::SelectTasks(s, kView, q), q.read));
  });
}

ApiResponse GetTask(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(int32_t task_id, TaskId(c.captures[1]));
    ASSIGN_OR_RETURN(query::TaskQuery q, query::ParseTaskQuery(std::nullopt, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    if (static_cast<size_t>(task_id) >= s.tasks.size()) return query::TaskNotFound(task_id);
    return Json(200, RenderTask(s, s.tasks[static_cast<size_t>(task_id)], q.read));
  });
}

enum class Target { kService, kState, kTask };

// PUT .../extensions/{name}[/merge] on a service, state or task.
template <Target kTarget, query::ExtensionWrite kMode>
ApiResponse WriteExtension(query::Engine& e, const Call& c) {
  return Reply([&]() -> absl::StatusOr<ApiResponse> {
    query::ResourceRef ref;
    ASSIGN_OR_RETURN(ref.service_id, ServiceId(c.captures[0]));
    if (kTarget == Target::kState) {
      ASSIGN_OR_RETURN(ref.state_id, StateId(c.captures[1]));
    }
    if (kTarget == Target::kTask) {
      ASSIGN_OR_RETURN(ref.task_id, TaskId(c.captures[1]));
    }
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(storage::Service s, e.WriteExtension(c.request.tenant, ref, c.captures.back(),
                                                          std::move(body), kMode));
    if (kTarget == Target::kState) {
      return Json(200,
                  RenderState(s, s.states[static_cast<size_t>(*ref.state_id)], FullResource()));
    }
    if (kTarget == Target::kTask) {
      return Json(200, RenderTask(s, s.tasks[static_cast<size_t>(*ref.task_id)], FullResource()));
    }
    return Json(200, RenderService(s, FullResource()));
  });
}

struct Route {
  const char* method;
  const char* pattern;  // '/'-separated; ':x' segments capture
  Handler handler;
};

using query::ExtensionWrite;
using storage::OwnerKind;

#define CS "/genesys/1/cs"
constexpr Route kRoutes[] = {
    {"GET", "/health", Health},
    {"GET", "/contextd/v1/latency", Latency},
    {"POST", "/contextd/v1/latency/reset", ResetLatency},
    {"POST", CS "/services/start", StartService},
    {"GET", CS "/services/:sid", GetService},
    {"DELETE", CS "/services/:sid", DeleteService},
    {"POST", CS "/services/:sid/end", CompleteService},
    {"POST", CS "/customers/:cid/services/:sid", AssociateService},
    {"GET", CS "/customers/:cid/services", QueryServices<OwnerKind::kCustomer, View::kAll>},
    {"GET", CS "/customers/:cid/services/active",
     QueryServices<OwnerKind::kCustomer, View::kActive>},
    {"GET", CS "/customers/:cid/services/completed",
     QueryServices<OwnerKind::kCustomer, View::kCompleted>},
    {"GET", CS "/services/anonymous/:key", QueryServices<OwnerKind::kAnonymous, View::kAll>},
    {"GET", CS "/services/anonymous/:key/active",
     QueryServices<OwnerKind::kAnonymous, View::kActive>},
    {"GET", CS "/services/anonymous/:key/completed",
     QueryServices<OwnerKind::kAnonymous, View::kCompleted>},
    {"PUT", CS "/services/:sid/extensions/:name",
     WriteExtension<Target::kService, ExtensionWrite::kReplace>},
    {"PUT", CS "/services/:sid/extensions/:name/merge",
     WriteExtension<Target::kService, ExtensionWrite::kMerge>},
    {"POST", CS "/services/:sid/states/start", StartState},
    {"POST", CS "/services/:sid/states/transition", Transition},
    {"POST", CS "/services/:sid/states/:stid/end", CompleteState},
    {"GET", CS "/services/:sid/states", QueryStates<View::kAll>},
    {"GET", CS "/services/:sid/states/active", QueryStates<View::kActive>},
    {"GET", CS "/services/:sid/states/completed", QueryStates<View::kCompleted>},
    {"GET", CS "/services/:sid/states/:stid", GetState},
    {"PUT", CS "/services/:sid/states/:stid/extensions/:name",
     WriteExtension<Target::kState, ExtensionWrite::kReplace>},
    {"PUT", CS "/services/:sid/states/:stid/extensions/:name/merge",
     WriteExtension<Target::kState, ExtensionWrite::kMerge>},
    {"POST", CS "/services/:sid/tasks/start", StartTask},
    {"POST", CS "/services/:sid/tasks/:tid/end", CompleteTask},
    {"GET", CS "/services/:sid/tasks", QueryTasks<View::kAll>},
    {"GET", CS "/services/:sid/tasks/active", QueryTasks<View::kActive>},
    {"GET", CS "/services/:sid/tasks/completed", QueryTasks<View::kCompleted>},
    {"GET", CS "/services/:sid/tasks/:tid", GetTask},
    // The 8.5.1 task page's heading says POST, its table PUT: both are routed.
    {"PUT", CS "/services/:sid/tasks/:tid/extensions/:name",
     WriteExtension<Target::kTask, ExtensionWrite::kReplace>},
    {"POST", CS "/services/:sid/tasks/:tid/extensions/:name",
     WriteExtension<Target::kTask, ExtensionWrite::kReplace>},
    {"PUT", CS "/services/:sid/tasks/:tid/extensions/:name/merge",
     WriteExtension<Target::kTask, ExtensionWrite::kMerge>},
};
#undef CS

// A route with its pattern split into segments once.
struct CompiledRoute {
  const Route* route;
  std::vector<std::string_view> parts;
};

const std::vector<CompiledRoute>& CompiledRoutes() {
  static const std::vector<CompiledRoute> compiled = [] {
    std::vector<CompiledRoute> out;
    for (const Route& route : kRoutes) {
      CompiledRoute c{&route, {}};
      std::string_view pattern = route.pattern;
      for (size_t pos = 1; pos <= pattern.size();) {
        size_t slash = std::min(pattern.find('/', pos), pattern.size());
        c.parts.push_back(pattern.substr(pos, slash - pos));
        pos = slash + 1;
      }
      out.push_back(std::move(c));
    }
    return out;
  }();
  return compiled;
}

// Matches `segments` against a route. On a match returns the literal positions as a bit
// string, leftmost segment highest, so that the higher score is the more specific route
// (literals beat captures, earlier positions first); -1 otherwise.
int64_t MatchScore(const CompiledRoute& route, const std::vector<std::string>& segments) {
  if (route.parts.size() != segments.size()) return -1;
  int64_t score = 0;
  for (size_t i = 0; i < route.parts.size(); ++i) {
    score <<= 1;
    if (route.parts[i].front() == ':') continue;
    if (route.parts[i] != segments[i]) return -1;
    score |= 1;
  }
  return score;
}

}  // namespace

std::vector<std::string> Api::RouteNames() {
  std::vector<std::string> names;
  for (const Route& route : kRoutes)
    names.push_back(std::string(route.method) + " " + route.pattern);
  return names;
}

ApiResponse Api::Handle(const ApiRequest& request) {
  try {
    absl::StatusOr<server::Target> target = ParseTarget(request.target);
    if (!target.ok()) return ErrorResponse(target.status());

    // The most specific matching routes decide: if none of them takes this method, the
    // path is known and the method wrong (GET /services/start is 405, not "service start").
    int64_t top_score = -1;
    for (const CompiledRoute& route : CompiledRoutes()) {
      top_score = std::max(top_score, MatchScore(route, target->segments));
    }
    if (top_score < 0) return HttpError(404, "no such resource");
    const CompiledRoute* best = nullptr;
    std::string allow;
    for (const CompiledRoute& route : CompiledRoutes()) {
      if (MatchScore(route, target->segments) != top_score) continue;
      if (request.method == route.route->method) {
        best = &route;
        break;
      }
      allow += allow.empty() ? "" : ", ";
      allow += route.route->method;
    }
    if (best == nullptr) {
      ApiResponse r = HttpError(
          405, "method " + std::string(request.method) + " is not allowed here; allowed: " + allow);
      r.allow = std::move(allow);
      return r;
    }
    Call call{request, {}, target->params, *latencies_};
    for (size_t i = 0; i < best->parts.size(); ++i) {
      if (best->parts[i].front() == ':') call.captures.push_back(std::move(target->segments[i]));
    }
    ApiResponse reply = best->route->handler(*engine_, call);
    reply.route = static_cast<int>(best->route - kRoutes);
    return reply;
  } catch (const std::exception& e) {
    return ErrorResponse(absl::InternalError(e.what()));
  }
}

}  // namespace contextd::server
