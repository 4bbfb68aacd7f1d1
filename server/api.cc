#include "server/api.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>

#include "query/timestamp.h"
#include "server/api_internal.h"
#include "server/cometd.h"
#include "server/cs_json.h"
#include "server/history_fields.h"
#include "server/json.h"
#include "server/lcm.h"
#include "server/pega.h"
#include "server/ui_assets.h"
#include "storage/errors.h"
#include "storage/status_macros.h"

namespace contextd::server {

namespace {

constexpr char kNotFoundException[] =
    "com.genesyslab.gsg.services.contextservices.exceptions.NotFoundException";
constexpr char kResourceException[] =
    "com.genesyslab.gsg.services.contextservices.exceptions.ContextServicesExceptionResource";

ApiResponse ErrorBody(int http_status, std::string_view message, Dialect dialect,
                      const char* exception = kResourceException) {
  ApiResponse r;
  r.status = http_status;
  switch (dialect) {
    case Dialect::kPega:
      r.body = RenderPegaStatus("ERROR", message);
      return r;
    case Dialect::kLcm:
      r.body = RenderLcmError("", message);
      return r;
    case Dialect::kWorkspace: {
      const int code = http_status == 404   ? 6
                       : http_status == 401 ? 20
                       : http_status == 403 ? 3
                       : http_status == 409 ? 18
                       : http_status >= 500 ? 4
                       : http_status == 413 ? 10
                       : http_status == 405 ? 2
                                            : 1;
      JsonWriter w(&r.body);
      w.BeginObject();
      w.Key("statusCode");
      w.Int(code);
      w.Key("statusMessage");
      w.String(message);
      w.EndObject();
      return r;
    }
    case Dialect::kGenesys:
    case Dialect::kNative:
      break;
  }
  JsonWriter w(&r.body);
  w.BeginObject();
  w.Key("message");
  w.String(message);
  if (dialect == Dialect::kGenesys) {
    w.Key("exception");
    w.String(exception);
  }
  w.EndObject();
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

ApiResponse HttpError(int http_status, std::string_view message, Dialect dialect) {
  return ErrorBody(http_status, message, dialect);
}

ApiResponse ErrorResponse(const absl::Status& status, Dialect dialect) {
  std::string message(status.message());
  if (std::optional<storage::Missing> missing = storage::MissingOf(status);
      missing && dialect == Dialect::kGenesys) {
    message = "There are no " + missing->kind + " found for : " + missing->id;
  }
  if (dialect == Dialect::kWorkspace && status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kInternal && status.code() != absl::StatusCode::kUnknown &&
      status.code() != absl::StatusCode::kDataLoss) {
    return ErrorBody(HttpStatusOfWorkspaceCode(WorkspaceCode(status)), message, dialect);
  }
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ErrorBody(dialect == Dialect::kNative ? 404 : 400, message, dialect,
                       kNotFoundException);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return ErrorBody(400, message, dialect);
    case absl::StatusCode::kResourceExhausted:
      return ErrorBody(413, message, dialect);
    case absl::StatusCode::kUnauthenticated: {
      ApiResponse r = ErrorBody(401, message, dialect);
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"contextd\"");
      return r;
    }
    case absl::StatusCode::kPermissionDenied:
      return ErrorBody(403, message, dialect);
    case absl::StatusCode::kUnavailable:
      std::fprintf(stderr, "contextd: unavailable: %s\n", status.ToString().c_str());
      return ErrorBody(503, "service unavailable, try again", dialect);
    default:
      std::fprintf(stderr, "contextd: internal error: %s\n", status.ToString().c_str());
      return ErrorBody(500, "internal error", dialect);
  }
}

ApiResponse Json(int http_status, std::string body) {
  ApiResponse r;
  r.status = http_status;
  r.body = std::move(body);
  return r;
}

absl::StatusOr<storage::Value> Body(const Api::Call& c, bool required) {
  if (c.request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (required) return absl::InvalidArgumentError("a JSON request body is required");
    return storage::Value::Object({});
  }
  return ParseJson(c.request.body);
}

absl::Status NoParams(const Api::Call& c) {
  if (!c.params.empty()) {
    return absl::InvalidArgumentError("parameter '" + c.params.front().first +
                                      "': unknown parameter");
  }
  return absl::OkStatus();
}

namespace {

using Call = Api::Call;
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
  std::optional<uint64_t> id = PathId<uint64_t>(text, storage::kMaxId);
  if (!id || *id == 0) {
    return storage::NotFound("service", text);
  }
  return *id;
}

// A state or task id from a path: decimal digits within int32, else the documented NotFound.
absl::StatusOr<int32_t> ChildId(std::string_view text, std::string_view what) {
  std::optional<int32_t> id = PathId<int32_t>(text, std::numeric_limits<int32_t>::max());
  if (!id) {
    return storage::NotFound(what, text);
  }
  return *id;
}

absl::StatusOr<int32_t> StateId(std::string_view text) { return ChildId(text, "state"); }

absl::StatusOr<int32_t> TaskId(std::string_view text) { return ChildId(text, "task"); }

ApiResponse Health(query::Engine&, const Call&) { return Json(200, R"({"status":"ok"})"); }

ApiResponse Latency(query::Engine&, const Call& c) { return Json(200, c.latencies.RenderJson()); }

// GET /ui/ and its files: the agent timeline page.
ApiResponse UiFile(std::string_view name) {
  for (const UiAsset& asset : UiAssets()) {
    if (asset.name == name) {
      ApiResponse r;
      r.body = std::string(asset.body);
      r.content_type = asset.content_type;
      return r;
    }
  }
  return HttpError(404, "no such resource", Dialect::kNative);
}

ApiResponse UiIndex(query::Engine&, const Call&) { return UiFile("index.html"); }

ApiResponse UiAssetFile(query::Engine&, const Call& c) { return UiFile(c.captures[0]); }

// GET /ready: 200 while the store answers and the server is not stopping, else 503.
ApiResponse Ready(query::Engine&, const Call& c) {
  if (c.shutting_down) return ErrorResponse(absl::UnavailableError("shutting down"), c.dialect);
  if (c.store != nullptr) {
    absl::StatusOr<storage::StoreStats> stats = c.store->Stats();
    if (!stats.ok()) return ErrorResponse(absl::UnavailableError("store not ready"), c.dialect);
  }
  return Json(200, R"({"status":"ready"})");
}

// GET /metrics: Prometheus text format (README lists every metric).
ApiResponse Metrics(query::Engine&, const Call& c) {
  ApiResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4";
  r.body = c.latencies.RenderPrometheus();
  auto gauge = [&r](const char* name, const char* type, const char* help, double value) {
    char line[64];
    std::snprintf(line, sizeof line, "%.17g", value);
    r.body += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
              name + " " + line + "\n";
  };
  if (c.workspace.cometd != nullptr) {
    gauge("contextd_cometd_clients", "gauge", "CometD clients known (handshaken, not expired).",
          static_cast<double>(c.workspace.cometd->clients()));
    gauge("contextd_cometd_held_connects", "gauge",
          "CometD connects held open until a message or the hold time.",
          static_cast<double>(c.workspace.cometd->held_connects()));
  }
  if (c.store != nullptr) {
    if (absl::StatusOr<storage::StoreStats> s = c.store->Stats(); s.ok()) {
      const double lookups = static_cast<double>(s->block_cache_hits + s->block_cache_misses);
      gauge("contextd_rocksdb_block_cache_hit_ratio", "gauge",
            "Block cache hits over lookups since start (1 before any lookup).",
            lookups > 0 ? static_cast<double>(s->block_cache_hits) / lookups : 1.0);
      gauge("contextd_rocksdb_block_cache_hits_total", "counter", "Block cache hits.",
            static_cast<double>(s->block_cache_hits));
      gauge("contextd_rocksdb_block_cache_misses_total", "counter", "Block cache misses.",
            static_cast<double>(s->block_cache_misses));
      gauge("contextd_rocksdb_pending_compaction_bytes", "gauge",
            "Estimated bytes compaction still has to rewrite.",
            static_cast<double>(s->pending_compaction_bytes));
      gauge("contextd_rocksdb_write_stall_seconds_total", "counter",
            "Time writes were delayed or stopped by RocksDB.",
            static_cast<double>(s->write_stall_micros) / 1e6);
      gauge("contextd_rocksdb_writes_stopped", "gauge", "1 while RocksDB stops writes.",
            s->writes_stopped ? 1 : 0);
      gauge("contextd_rocksdb_live_sst_bytes", "gauge", "Size of the live SST files.",
            static_cast<double>(s->live_sst_bytes));
    }
  }
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
        static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  gauge("process_open_fds", "gauge", "Number of open file descriptors.", static_cast<double>(fds));
  return r;
}

ApiResponse ResetLatency(query::Engine&, const Call& c) {
  c.latencies.Reset();
  return Empty(204);
}

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

// ---- Interaction history: native, Pega, LCM ----

// The single parameter value of `name`, or "" when absent.
absl::StatusOr<std::string> OneParam(const Call& c, std::string_view name) {
  std::string value;
  int seen = 0;
  for (const auto& [k, v] : c.params) {
    if (k == name) value = v, ++seen;
  }
  if (seen > 1) {
    return absl::InvalidArgumentError("parameter '" + std::string(name) + "': given twice");
  }
  return value;
}

// POST /contextd/v1/interactions: one JSON record, or NDJSON (one record per line; blank
// lines only at the end). All records are stored or none.
ApiResponse IngestInteractions(query::Engine&, const Call& c) {
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
                     c.history.Record(c.request.tenant, std::move(records)));
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
ApiResponse QueryInteractions(query::Engine&, const Call& c) {
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
      if (comma > pos) q.channels.push_back(CanonicalChannel(channels.substr(pos, comma - pos)));
      pos = comma + 1;
    }
    ASSIGN_OR_RETURN(q.campaign, OneParam(c, "campaign"));
    ASSIGN_OR_RETURN(std::string limit, OneParam(c, "limit"));
    if (!limit.empty()) {
      std::optional<size_t> n = PathId<size_t>(limit, query::kMaxHistoryRecords);
      if (!n || *n == 0) {
        return absl::InvalidArgumentError("parameter 'limit': expected 1 to " +
                                          std::to_string(query::kMaxHistoryRecords));
      }
      q.limit = *n;
    }
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> found, c.history.Query(q));
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
ApiResponse PutCustomerKeys(query::Engine&, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    if (body.kind != storage::Value::Kind::kObject) {
      return absl::InvalidArgumentError("request body must be a JSON object");
    }
    storage::CustomerKeys keys;
    for (const auto& [name, v] : body.object) {
      std::string* target = name == "account_number"   ? &keys.account_number
                            : name == "contact_number" ? &keys.contact_number
                                                       : nullptr;
      if (target == nullptr) {
        return absl::InvalidArgumentError("field '" + name + "': unknown field");
      }
      if (v.kind != storage::Value::Kind::kString || v.string_value.size() > kMaxHistoryTextBytes) {
        return absl::InvalidArgumentError("field '" + name + "': expected a string");
      }
      *target = v.string_value;
    }
    RETURN_IF_ERROR(c.history.SetCustomerKeys(c.request.tenant, c.captures[0], keys));
    return Json(200, RenderCustomerKeys(c.captures[0], keys));
  });
}

ApiResponse GetCustomerKeys(query::Engine&, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::CustomerKeys keys,
                     c.history.GetCustomerKeys(c.request.tenant, c.captures[0]));
    return Json(200, RenderCustomerKeys(c.captures[0], keys));
  });
}

template <CaptureVersion kVersion>
ApiResponse CaptureResponse(query::Engine&, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(storage::Value body, Body(c, true));
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> records,
                     ParseCaptureResponse(body, kVersion, c.request.now_ms));
    RETURN_IF_ERROR(c.history.Record(c.request.tenant, std::move(records)).status());
    return Json(200, RenderPegaStatus("OK", "Response captured successfully"));
  });
}

ApiResponse OfferHistory(const Call& c, std::string customer_id) {
  query::HistoryQuery q;
  q.tenant = c.request.tenant;
  q.by = storage::InteractionKey::kCustomer;
  q.key = std::move(customer_id);
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    ASSIGN_OR_RETURN(std::vector<storage::Interaction> found, c.history.Query(q));
    return Json(200, RenderOfferHistory(found));
  });
}

ApiResponse OfferHistoryPost(query::Engine&, const Call& c) {
  absl::StatusOr<storage::Value> body = Body(c, true);
  absl::StatusOr<std::string> customer =
      body.ok() ? ParseOfferHistoryRequest(*body) : absl::StatusOr<std::string>(body.status());
  if (!customer.ok()) return ErrorResponse(customer.status(), c.dialect);
  return OfferHistory(c, std::move(*customer));
}

ApiResponse OfferHistoryGet(query::Engine&, const Call& c) {
  absl::StatusOr<std::string> customer = OneParam(c, "CustomerID");
  if (customer.ok() && customer->empty()) {
    customer = absl::InvalidArgumentError("CustomerID is required");
  }
  if (!customer.ok()) return ErrorResponse(customer.status(), c.dialect);
  return OfferHistory(c, std::move(*customer));
}

// POST /lcm/messages: GetCustomerJourney. Errors carry the request's callid.
ApiResponse CustomerJourney(query::Engine&, const Call& c) {
  std::string callid;
  auto error = [&callid](const absl::Status& s) {
    if (s.code() != absl::StatusCode::kInvalidArgument) return ErrorResponse(s, Dialect::kLcm);
    ApiResponse r;
    r.status = 400;
    r.body = RenderLcmError(callid, std::string(s.message()));
    return r;
  };
  absl::StatusOr<storage::Value> body = Body(c, true);
  if (!body.ok()) return error(body.status());
  absl::StatusOr<JourneyRequest> request =
      ParseJourneyRequest(*body, c.request.tenant, c.request.now_ms, &callid);
  if (!request.ok()) return error(request.status());
  absl::StatusOr<std::vector<storage::Interaction>> found = c.history.Query(request->query);
  if (!found.ok()) return error(found.status());
  return Json(200, RenderJourney(request->callid, *found));
}

// Who may call a route.
enum class Need : uint8_t {
  kByMethod,  // an API key: GET and read-only POSTs need reader, other methods writer
  kAdmin,     // an API key with the admin role
  kOpen,      // anyone (probes, the /ui/ page's files): no data behind them
  kSession,   // the Workspace API signs its users in itself
};

struct Route {
  const char* method;
  const char* pattern;  // '/'-separated; ':x' segments capture
  Handler handler;
  Dialect dialect = Dialect::kGenesys;
  bool read_only = false;  // a POST that only reads: its reply waits for no sync
  Need need = Need::kByMethod;
};

using query::ExtensionWrite;
using storage::OwnerKind;

#define CS "/genesys/1/cs"
#define NATIVE "/contextd/v1"
#define PEGA_REST "/prweb/PRRestService/PegaMKTContainer"
#define PEGA_API "/prweb/api/PegaMKTContainer"
constexpr Dialect kNative = Dialect::kNative;
constexpr Dialect kPega = Dialect::kPega;
constexpr Dialect kWs = Dialect::kWorkspace;
constexpr Need kAdmin = Need::kAdmin;
constexpr Need kOpen = Need::kOpen;
constexpr Need kSession = Need::kSession;
constexpr Route kRoutes[] = {
    {"GET", "/health", Health, kNative, false, kOpen},
    {"GET", "/ready", Ready, kNative, false, kOpen},
    {"GET", "/metrics", Metrics, kNative, false, kAdmin},
    {"GET", "/ui", UiIndex, kNative, false, kOpen},
    {"GET", "/ui/:file", UiAssetFile, kNative, false, kOpen},
    {"GET", NATIVE "/latency", Latency, kNative, false, kAdmin},
    {"POST", NATIVE "/latency/reset", ResetLatency, kNative, true, kAdmin},
    {"POST", NATIVE "/keys", CreateKey, kNative, false, kAdmin},
    {"GET", NATIVE "/keys", ListKeys, kNative, false, kAdmin},
    {"DELETE", NATIVE "/keys/:id", RevokeKey, kNative, false, kAdmin},
    {"POST", NATIVE "/tenants", CreateTenant, kNative, false, kAdmin},
    {"GET", NATIVE "/tenants", ListTenants, kNative, false, kAdmin},
    {"POST", NATIVE "/interactions", IngestInteractions, kNative},
    {"GET", NATIVE "/interactions", QueryInteractions, kNative},
    {"PUT", NATIVE "/customers/:cid", PutCustomerKeys, kNative},
    {"GET", NATIVE "/customers/:cid", GetCustomerKeys, kNative},
    {"POST", PEGA_REST "/V2/CaptureResponse", CaptureResponse<CaptureVersion::kV2>, kPega},
    {"POST", PEGA_REST "/V2/CaptureResponse/Initiate", CaptureResponse<CaptureVersion::kV2>, kPega},
    {"POST", PEGA_REST "/V3/CaptureResponse", CaptureResponse<CaptureVersion::kV3>, kPega},
    {"POST", PEGA_REST "/V3/CaptureResponse/Initiate", CaptureResponse<CaptureVersion::kV3>, kPega},
    {"POST", PEGA_REST "/V2/CustomerOfferHistory", OfferHistoryPost, kPega, true},
    {"GET", PEGA_REST "/V2/CustomerOfferHistory", OfferHistoryGet, kPega},
    {"POST", PEGA_API "/V2/CaptureResponse", CaptureResponse<CaptureVersion::kV2>, kPega},
    {"POST", PEGA_API "/V2/CaptureResponse/Initiate", CaptureResponse<CaptureVersion::kV2>, kPega},
    {"POST", PEGA_API "/V3/CaptureResponse", CaptureResponse<CaptureVersion::kV3>, kPega},
    {"POST", PEGA_API "/V3/CaptureResponse/Initiate", CaptureResponse<CaptureVersion::kV3>, kPega},
    {"POST", PEGA_API "/V2/CustomerOfferHistory", OfferHistoryPost, kPega, true},
    {"GET", PEGA_API "/V2/CustomerOfferHistory", OfferHistoryGet, kPega},
    {"POST", "/lcm/messages", CustomerJourney, Dialect::kLcm, true},
    {"GET", "/api/v2/me", GetMe, kWs, false, kSession},
    {"POST", "/api/v2/me", PostMe, kWs, false, kSession},
    {"POST", "/api/v2/me/channels/:channel", SetChannel, kWs, false, kSession},
    {"GET", "/api/v2/me/interactions", ListMyInteractions, kWs, false, kSession},
    {"POST", "/api/v2/me/interactions/:id", OperateInteraction, kWs, false, kSession},
    {"GET", "/api/v2/interactions", ListInteractions, kWs, false, kSession},
    {"POST", "/api/v2/interactions", CreateWorkInteraction, kWs, false, kSession},
    {"GET", "/api/v2/interactions/:id", GetWorkInteraction, kWs, false, kSession},
    {"GET", "/api/v2/users", ListUsers, kWs, false, kSession},
    {"POST", "/api/v2/users", CreateUser, kWs, false, kSession},
    {"GET", "/api/v2/notifications", NotificationsUpgrade, kWs, false, kSession},
    {"POST", "/api/v2/notifications", Notifications, kWs, true, kSession},
    {"POST", "/api/v2/notifications/:type", Notifications, kWs, true, kSession},
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
#undef NATIVE
#undef PEGA_REST
#undef PEGA_API

// The dialect of a path no route matches, by its prefix.
Dialect DialectOfPath(const std::vector<std::string>& segments) {
  if (segments.empty()) return Dialect::kGenesys;
  if (segments[0] == "contextd") return Dialect::kNative;
  if (segments[0] == "prweb") return Dialect::kPega;
  if (segments[0] == "lcm") return Dialect::kLcm;
  if (segments[0] == "api") return Dialect::kWorkspace;
  return Dialect::kGenesys;
}

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

// The API key a request presents: `X-Api-Key: KEY` or `Authorization: Bearer KEY`.
std::string_view PresentedKey(const ApiRequest& r) {
  if (std::string_view key = r.Header("x-api-key"); !key.empty()) return key;
  std::string_view auth = r.Header("authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (auth.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) != kBearer[i]) return {};
  }
  auth.remove_prefix(kBearer.size());
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  return auth;
}

// The tenant a request to `route` acts in, after checking its caller may call it:
// Unauthenticated (no valid key), PermissionDenied (role or tenant not the key's), or
// InvalidArgument (a tenant that is not configured).
absl::StatusOr<std::string> Authorize(const Route& route, const ApiRequest& r,
                                      const AccessPolicy& policy) {
  std::optional<std::string_view> header;
  if (r.tenant_header) header = *r.tenant_header;
  // Without a key: the open (development) policy acts as an admin of every tenant.
  query::Principal who{query::Role::kAdmin, true, "", ""};
  if (route.need == Need::kOpen) return std::string(header.value_or(""));
  if (route.need != Need::kSession) {
    const std::string_view key = PresentedKey(r);
    if (!key.empty() || !policy.open) {
      if (policy.access == nullptr) return absl::UnauthenticatedError("no API keys are set up");
      ASSIGN_OR_RETURN(who, policy.access->Authenticate(key));
    }
    const query::Role need = route.need == Need::kAdmin ? query::Role::kAdmin
                             : std::string_view(route.method) == "GET" || route.read_only
                                 ? query::Role::kReader
                                 : query::Role::kWriter;
    if (who.role < need) {
      return absl::PermissionDeniedError("an API key with role '" +
                                         std::string(query::RoleName(who.role)) +
                                         "' may not call " + route.method + " " + route.pattern +
                                         " (it needs '" + std::string(query::RoleName(need)) +
                                         "')");
    }
  }
  // The Workspace API's users belong to the tenant of the header, which must be configured.
  if (policy.access == nullptr) return std::string(header.value_or(""));
  return policy.access->TenantFor(who, header);
}

}  // namespace

size_t Api::MaxBodyBytes(std::string_view method, std::string_view target, size_t server_max) {
  constexpr size_t kNoBody = 8 << 10;      // GET, DELETE, the probes: a body is not read
  constexpr size_t kEvent = 256 << 10;     // one event, capture, query or Workspace request
  absl::StatusOr<server::Target> parsed = ParseTarget(target);
  if (!parsed.ok()) return std::min(kNoBody, server_max);
  const Route* route = nullptr;
  int64_t top = -1;
  for (const CompiledRoute& r : CompiledRoutes()) {
    const int64_t score = MatchScore(r, parsed->segments);
    if (score > top || (score == top && score >= 0 && method == r.route->method)) {
      top = score;
      route = score >= 0 && method == r.route->method ? r.route : nullptr;
    }
  }
  if (route == nullptr || method == "GET" || method == "DELETE" || route->need == Need::kOpen) {
    return std::min(kNoBody, server_max);
  }
  if (route->handler == IngestInteractions) return server_max;
  return std::min(kEvent, server_max);
}

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
    if (top_score < 0) return HttpError(404, "no such resource", DialectOfPath(target->segments));
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
          405, "method " + std::string(request.method) + " is not allowed here; allowed: " + allow,
          DialectOfPath(target->segments));
      r.allow = std::move(allow);
      return r;
    }
    const Route& route = *best->route;
    absl::StatusOr<std::string> tenant = Authorize(route, request, access_);
    if (!tenant.ok()) {
      ApiResponse r = ErrorResponse(tenant.status(), route.dialect);
      r.route = static_cast<int>(&route - kRoutes);
      return r;
    }
    ApiRequest scoped = request;
    scoped.tenant = std::move(*tenant);
    Call call{scoped,  {},          target->params, route.dialect, *history_, workspace_,
              access_, *latencies_, store_,         shutting_down_.load()};
    for (size_t i = 0; i < best->parts.size(); ++i) {
      if (best->parts[i].front() == ':') call.captures.push_back(std::move(target->segments[i]));
    }
    ApiResponse reply = route.handler(*engine_, call);
    reply.route = static_cast<int>(&route - kRoutes);
    reply.wrote = request.method != "GET" && !route.read_only && reply.status < 300;
    return reply;
  } catch (const std::exception& e) {
    return ErrorResponse(absl::InternalError(e.what()));
  }
}

}  // namespace contextd::server
