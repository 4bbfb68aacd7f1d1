#include "server/cs/routes.h"

#include <limits>
#include <optional>

#include "server/api/json.h"
#include "server/api/request.h"
#include "server/cs/cs_json.h"
#include "storage/errors.h"
#include "storage/status_macros.h"

namespace contextd::server {

namespace {

constexpr char kNotFoundException[] =
    "com.genesyslab.gsg.services.contextservices.exceptions.NotFoundException";
constexpr char kResourceException[] =
    "com.genesyslab.gsg.services.contextservices.exceptions.ContextServicesExceptionResource";

// {"message","exception"}. An unknown id is 400 NotFoundException worded "There are no
// <kind> found for : <id>" (Context Services reference); the rest as CommonHttpStatus.
ApiResponse GenesysError(const absl::Status& status) {
  ApiResponse r;
  r.status = CommonHttpStatus(status);
  std::string message = PublicMessage(status);
  const char* exception = kResourceException;
  if (status.code() == absl::StatusCode::kNotFound && !ProtocolHttpStatus(status)) {
    r.status = 400;
    exception = kNotFoundException;
    if (std::optional<storage::Missing> missing = storage::MissingOf(status)) {
      message = "There are no " + missing->kind + " found for : " + missing->id;
    }
  }
  JsonWriter w(&r.body);
  w.BeginObject();
  w.Key("message");
  w.String(message);
  w.Key("exception");
  w.String(exception);
  w.EndObject();
  return r;
}

using query::View;

// Writes return the whole resource, every attached key included.
query::ReadOptions FullResource() {
  query::ReadOptions read;
  read.extensions.service.all = read.extensions.state.all = read.extensions.task.all = true;
  return read;
}

absl::StatusOr<uint64_t> ServiceId(std::string_view text) {
  std::optional<uint64_t> id = ParseId<uint64_t>(text, storage::kMaxId);
  if (!id || *id == 0) {
    return storage::NotFound("service", text);
  }
  return *id;
}

// A state or task id from a path: decimal digits within int32, else the documented NotFound.
absl::StatusOr<int32_t> ChildId(std::string_view text, std::string_view what) {
  std::optional<int32_t> id = ParseId<int32_t>(text, std::numeric_limits<int32_t>::max());
  if (!id) {
    return storage::NotFound(what, text);
  }
  return *id;
}

absl::StatusOr<int32_t> StateId(std::string_view text) { return ChildId(text, "state"); }

absl::StatusOr<int32_t> TaskId(std::string_view text) { return ChildId(text, "task"); }

ApiResponse StartService(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(query::ServiceStart start, ParseServiceStart(body));
    ASSIGN_OR_RETURN(storage::Service s,
                     e.StartService(c.request.tenant, std::move(start), c.request.now_ms));
    return Json(201, RenderService(s, FullResource()));
  });
}

ApiResponse CompleteService(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, false));
    ASSIGN_OR_RETURN(query::EventInput end, ParseEndEvent(body, query::kServiceEnd));
    RETURN_IF_ERROR(e.CompleteService(c.request.tenant, id, std::move(end), c.request.now_ms));
    return Empty(204);
  });
}

ApiResponse GetService(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(query::ReadOptions read, query::ParseServiceReadParams(c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    return Json(200, RenderService(s, read));
  });
}

ApiResponse DeleteService(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    RETURN_IF_ERROR(NoParams(c));
    RETURN_IF_ERROR(e.DeleteService(c.request.tenant, id));
    return Empty(200);
  });
}

ApiResponse AssociateService(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(
        query::ServiceQuery q,
        query::ParseServiceQuery(c.request.tenant, kOwner, c.captures[0], kView, c.params));
    ASSIGN_OR_RETURN(std::vector<storage::Service> found, e.QueryServices(q));
    return Json(200, RenderServices(found, q.read));
  });
}

ApiResponse StartState(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(query::StateQuery q, query::ParseStateQuery(kView, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    return Json(200, RenderStates(s, query::SelectStates(s, kView, q), q.read));
  });
}

ApiResponse GetState(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(int32_t state_id, StateId(c.captures[1]));
    ASSIGN_OR_RETURN(query::StateQuery q, query::ParseStateQuery(std::nullopt, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    if (static_cast<size_t>(state_id) >= s.states.size()) return query::StateNotFound(state_id);
    return Json(200, RenderState(s, s.states[static_cast<size_t>(state_id)], q.read));
  });
}

ApiResponse StartTask(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(uint64_t id, ServiceId(c.captures[0]));
    ASSIGN_OR_RETURN(query::TaskQuery q, query::ParseTaskQuery(kView, c.params));
    ASSIGN_OR_RETURN(storage::Service s, e.GetService(c.request.tenant, id));
    return Json(200, RenderTasks(s, query::SelectTasks(s, kView, q), q.read));
  });
}

ApiResponse GetTask(query::Engine& e, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
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

}  // namespace

const Dialect kGenesysDialect{"genesys", GenesysError};

std::vector<Route> ContextServicesRoutes(query::Engine* engine) {
  using query::ExtensionWrite;
  using storage::OwnerKind;
  const std::string cs = "/genesys/1/cs";
  const Dialect* d = &kGenesysDialect;
  auto h = [engine](ApiResponse (*fn)(query::Engine&, const Call&)) { return Bind(engine, fn); };
  return {
      {"POST", cs + "/services/start", h(StartService), d, kWrite},
      {"GET", cs + "/services/:sid", h(GetService), d, kRead},
      {"DELETE", cs + "/services/:sid", h(DeleteService), d, kRemove},
      {"POST", cs + "/services/:sid/end", h(CompleteService), d, kWrite},
      {"POST", cs + "/customers/:cid/services/:sid", h(AssociateService), d, kWrite},
      {"GET", cs + "/customers/:cid/services", h(QueryServices<OwnerKind::kCustomer, View::kAll>),
       d, kRead},
      {"GET", cs + "/customers/:cid/services/active",
       h(QueryServices<OwnerKind::kCustomer, View::kActive>), d, kRead},
      {"GET", cs + "/customers/:cid/services/completed",
       h(QueryServices<OwnerKind::kCustomer, View::kCompleted>), d, kRead},
      {"GET", cs + "/services/anonymous/:key", h(QueryServices<OwnerKind::kAnonymous, View::kAll>),
       d, kRead},
      {"GET", cs + "/services/anonymous/:key/active",
       h(QueryServices<OwnerKind::kAnonymous, View::kActive>), d, kRead},
      {"GET", cs + "/services/anonymous/:key/completed",
       h(QueryServices<OwnerKind::kAnonymous, View::kCompleted>), d, kRead},
      {"PUT", cs + "/services/:sid/extensions/:name",
       h(WriteExtension<Target::kService, ExtensionWrite::kReplace>), d, kWrite},
      {"PUT", cs + "/services/:sid/extensions/:name/merge",
       h(WriteExtension<Target::kService, ExtensionWrite::kMerge>), d, kWrite},
      {"POST", cs + "/services/:sid/states/start", h(StartState), d, kWrite},
      {"POST", cs + "/services/:sid/states/transition", h(Transition), d, kWrite},
      {"POST", cs + "/services/:sid/states/:stid/end", h(CompleteState), d, kWrite},
      {"GET", cs + "/services/:sid/states", h(QueryStates<View::kAll>), d, kRead},
      {"GET", cs + "/services/:sid/states/active", h(QueryStates<View::kActive>), d, kRead},
      {"GET", cs + "/services/:sid/states/completed", h(QueryStates<View::kCompleted>), d, kRead},
      {"GET", cs + "/services/:sid/states/:stid", h(GetState), d, kRead},
      {"PUT", cs + "/services/:sid/states/:stid/extensions/:name",
       h(WriteExtension<Target::kState, ExtensionWrite::kReplace>), d, kWrite},
      {"PUT", cs + "/services/:sid/states/:stid/extensions/:name/merge",
       h(WriteExtension<Target::kState, ExtensionWrite::kMerge>), d, kWrite},
      {"POST", cs + "/services/:sid/tasks/start", h(StartTask), d, kWrite},
      {"POST", cs + "/services/:sid/tasks/:tid/end", h(CompleteTask), d, kWrite},
      {"GET", cs + "/services/:sid/tasks", h(QueryTasks<View::kAll>), d, kRead},
      {"GET", cs + "/services/:sid/tasks/active", h(QueryTasks<View::kActive>), d, kRead},
      {"GET", cs + "/services/:sid/tasks/completed", h(QueryTasks<View::kCompleted>), d, kRead},
      {"GET", cs + "/services/:sid/tasks/:tid", h(GetTask), d, kRead},
      // The 8.5.1 task page's heading says POST, its table PUT: both are routed.
      {"PUT", cs + "/services/:sid/tasks/:tid/extensions/:name",
       h(WriteExtension<Target::kTask, ExtensionWrite::kReplace>), d, kWrite},
      {"POST", cs + "/services/:sid/tasks/:tid/extensions/:name",
       h(WriteExtension<Target::kTask, ExtensionWrite::kReplace>), d, kWrite},
      {"PUT", cs + "/services/:sid/tasks/:tid/extensions/:name/merge",
       h(WriteExtension<Target::kTask, ExtensionWrite::kMerge>), d, kWrite},
  };
}

}  // namespace contextd::server
