#include "server/workspace/routes.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "server/api/json.h"
#include "server/api/offload.h"
#include "server/api/request.h"
#include "server/workspace/cometd.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using storage::Value;

struct Auth {
  query::Session session;
  bool fresh = false;  // signed in by this request (Basic): set the cookie
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos <= header.size()) {
    const size_t end = std::min(header.find(';', pos), header.size());
    std::string_view pair = Trim(header.substr(pos, end - pos));
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    pos = end + 1;
  }
  return "";
}

struct Credentials {
  std::string user_name;
  std::string password;
};

// The credentials of an `Authorization: Basic` value (without the scheme); nullopt when
// malformed.
std::optional<Credentials> DecodeBasic(std::string_view encoded) {
  encoded = Trim(encoded);
  if (encoded.size() > 1024 || encoded.size() % 4 != 0) return std::nullopt;
  std::string decoded(encoded.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()),
                                static_cast<int>(encoded.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes: drop one per '=' (at most two).
  for (size_t i = encoded.size();
       i > 0 && encoded[i - 1] == '=' && len > 0 && encoded.size() - i < 2; --i) {
    --len;
  }
  decoded.resize(len);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

// A Workspace handler, called once its request is signed in.
using SignedHandler = ApiResponse (*)(WorkspaceBackend&, const Call&, const Auth&);

// Runs `fn` for a signed-in request; on a pool thread when the route hashes a password.
ApiResponse RunSigned(WorkspaceBackend& b, const Call& c, SignedHandler fn, const Auth& auth,
                      bool hashes) {
  if (!hashes || b.hashing == nullptr || OffloadPool::OnPoolThread()) return fn(b, c, auth);
  WorkspaceBackend* backend = &b;
  return b.hashing->Defer(
      c, [backend, fn, auth](const Call& on_pool) { return fn(*backend, on_pool, auth); });
}

// Signs a request in, then runs `fn`: by its JSESSIONID cookie, else by Basic credentials,
// first those a session was started for (no hash), else with a password hash on the hashing
// pool (a new session), unless the address or the user name failed too often lately (429).
// Unauthenticated otherwise; PermissionDenied for a cookie-authenticated write without the
// session's CSRF token when CSRF protection is on.
ApiResponse SignedIn(WorkspaceBackend& b, const Call& c, SignedHandler fn, bool csrf_exempt,
                     bool hashes) {
  query::Workspace* ws = b.workspace;
  if (ws == nullptr) {
    return ErrorReply(c.dialect, absl::UnavailableError("the Workspace API is not enabled"));
  }
  const ApiRequest& r = c.request;
  const std::string cookie = CookieValue(r.Header("cookie"), "JSESSIONID");
  if (!cookie.empty()) {
    absl::StatusOr<query::Session> s = ws->Resume(cookie, r.now_ms);
    if (s.ok()) {
      if (b.csrf && !csrf_exempt && r.method != "GET" &&
          r.Header("x-csrf-token") != s->csrf_token) {
        return ErrorReply(c.dialect, absl::PermissionDeniedError("Missing or invalid Csrf token"));
      }
      return RunSigned(b, c, fn, Auth{std::move(*s), false}, hashes);
    }
  }
  const std::string_view authorization = r.Header("authorization");
  if (authorization.size() <= 6 || authorization.substr(0, 6) != "Basic ") {
    return ErrorReply(c.dialect, absl::UnauthenticatedError(
                                     cookie.empty() ? "access denied"
                                                    : "session expired or unknown: sign in again"));
  }
  std::optional<Credentials> creds = DecodeBasic(authorization.substr(6));
  if (!creds) return ErrorReply(c.dialect, absl::UnauthenticatedError("access denied"));
  absl::StatusOr<query::Session> remembered =
      ws->SignInRemembered(r.tenant, creds->user_name, creds->password, r.now_ms);
  if (remembered.ok()) return RunSigned(b, c, fn, Auth{std::move(*remembered), true}, hashes);
  if (b.throttle != nullptr) {
    if (int64_t wait = b.throttle->RetryAfterMs(r.peer, creds->user_name, r.now_ms); wait > 0) {
      return RetryLater(c.dialect, 429,
                        "too many failed sign-ins from this address or for this user: try "
                        "again later",
                        wait);
    }
  }
  WorkspaceBackend* backend = &b;
  auto sign_in = [backend, fn, creds = std::move(*creds)](const Call& call) {
    const ApiRequest& r = call.request;
    absl::StatusOr<query::Session> s =
        backend->workspace->SignIn(r.tenant, creds.user_name, creds.password, r.now_ms);
    if (!s.ok()) {
      if (backend->throttle != nullptr) {
        backend->throttle->RecordFailure(r.peer, creds.user_name, r.now_ms);
      }
      return ErrorReply(call.dialect, s.status());
    }
    return fn(*backend, call, Auth{std::move(*s), true});
  };
  if (b.hashing == nullptr || OffloadPool::OnPoolThread()) return sign_in(c);
  return b.hashing->Defer(c, std::move(sign_in));
}

// A Workspace reply: the session cookie when the request signed in, the CSRF token on GETs.
ApiResponse WsReply(const WorkspaceBackend& ws, const Call& c, const Auth& auth, int status,
                    std::string body) {
  ApiResponse r = Json(status, std::move(body));
  if (auth.fresh) {
    r.headers.emplace_back("Set-Cookie", "JSESSIONID=" + auth.session.id + "; Path=/; HttpOnly");
  }
  if (ws.csrf && c.request.method == "GET") {
    r.headers.emplace_back("X-CSRF-HEADER", "X-CSRF-TOKEN");
    r.headers.emplace_back("X-CSRF-TOKEN", auth.session.csrf_token);
  }
  return r;
}

std::string StatusCodeBody(int code, std::string_view message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("statusCode");
  w.Int(code);
  if (code != 0) {
    w.Key("statusMessage");
    w.String(message);
  }
  w.EndObject();
  return out;
}

// The "status" family's failure body: {"status":"error","errorDescription":...}.
std::string StatusErrorBody(std::string_view message) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("status");
  w.String("error");
  w.Key("errorDescription");
  w.String(message);
  w.EndObject();
  return out;
}

int WorkspaceCode(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
      return 1;
    case absl::StatusCode::kFailedPrecondition:
      return 2;
    case absl::StatusCode::kPermissionDenied:
      return 3;
    case absl::StatusCode::kNotFound:
      return 6;
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted:
      return 10;
    case absl::StatusCode::kAlreadyExists:
      return 18;
    case absl::StatusCode::kUnauthenticated:
      return 20;
    default:
      return 4;
  }
}

int HttpStatusOfWorkspaceCode(int code) {
  switch (code) {
    case 0:
      return 200;
    case 1:
    case 2:
    case 10:
      return 400;
    case 3:
    case 5:
      return 403;
    case 6:
      return 404;
    case 18:
    case 19:
      return 409;
    case 20:
      return 401;
    default:
      return 500;
  }
}

// The two body families of failures (dialects reference 1.4).
enum class Family { kStatusCode, kStatus };

// The Workspace dialect's one mapping (dialects reference 1.2, and 1.4 [decision]): the
// status's statusCode (WorkspaceCode), and the HTTP status that code maps to: 1, 2, 10 -> 400;
// 3, 5 -> 403; 6 -> 404; 18, 19 -> 409; 20 -> 401; 4 -> 500, except that Unavailable is 503
// (try again) and a protocol error of 500 or above keeps its own (501, 505), as does 429 (too
// many failed sign-ins). A method the path
// does not take is code 2 and so 400, with the Allow header.
ApiResponse WorkspaceFailure(const absl::Status& status, Family family) {
  const int code = WorkspaceCode(status);
  int http = HttpStatusOfWorkspaceCode(code);
  if (status.code() == absl::StatusCode::kUnavailable) http = 503;
  if (std::optional<int> fixed = ProtocolHttpStatus(status);
      fixed && (*fixed >= 500 || *fixed == 429)) {
    http = *fixed;
  }
  const std::string message = PublicMessage(status);
  return Json(http,
              family == Family::kStatus ? StatusErrorBody(message) : StatusCodeBody(code, message));
}

ApiResponse WorkspaceError(const absl::Status& status) {
  return WorkspaceFailure(status, Family::kStatusCode);
}

absl::Status RequireAgent(const Auth& a) {
  if (!a.session.agent) return absl::PermissionDeniedError("this operation is for agents");
  return absl::OkStatus();
}

absl::Status RequireAdmin(const Auth& a) {
  if (!a.session.admin) {
    return absl::PermissionDeniedError("this operation is for Contact Center Admins");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OptionalString(const Value& body, std::string_view field) {
  return TextMember(body.object, field, TextRule{Naming::kBare, 4096});
}

absl::StatusOr<std::vector<std::string>> StringArray(const Value& body, std::string_view field) {
  std::vector<std::string> out;
  const Value* v = storage::FindField(body.object, field);
  if (v == nullptr) return out;
  if (v->kind != Value::Kind::kArray) {
    return absl::InvalidArgumentError(std::string(field) + ": expected an array of strings");
  }
  for (const Value& item : v->array) {
    if (item.kind != Value::Kind::kString) {
      return absl::InvalidArgumentError(std::string(field) + ": expected an array of strings");
    }
    out.push_back(item.string_value);
  }
  return out;
}

absl::StatusOr<Value> ObjectBody(const Call& c) {
  ASSIGN_OR_RETURN(Value body, Body(c, true));
  RETURN_IF_ERROR(ObjectMembers(body).status());
  return body;
}

std::string_view Host(const Call& c) { return c.request.Header("host"); }

// {"statusCode":0,"interaction":{...}}
std::string InteractionBody(const query::ItemView& v, std::string_view host) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("statusCode");
  w.Int(0);
  w.Key("interaction");
  WriteWorkItem(w, v, host);
  w.EndObject();
  return out;
}

// The optional "userData" object of a body into `out`.
absl::Status ReadUserData(const Value& body, storage::Fields* out) {
  const Value* data = storage::FindField(body.object, "userData");
  if (data == nullptr) return absl::OkStatus();
  if (data->kind != Value::Kind::kObject) {
    return MemberError(Naming::kBare, "userData", "expected an object");
  }
  *out = data->object;
  return absl::OkStatus();
}

std::string ItemsBody(const Call& c, const std::vector<query::ItemView>& items) {
  bool all_fields = false;
  for (const auto& [k, v] : c.params) all_fields = all_fields || (k == "fields" && v == "*");
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("statusCode");
  w.Int(0);
  if (all_fields) {
    w.Key("interactions");
    w.BeginArray();
    for (const query::ItemView& v : items) WriteWorkItem(w, v, Host(c));
    w.EndArray();
  } else {
    w.Key("uris");
    w.BeginArray();
    const std::string base = (Host(c).empty() ? std::string() : "http://" + std::string(Host(c))) +
                             "/api/v2/interactions/";
    for (const query::ItemView& v : items) w.String(base + v.item.id);
    w.EndArray();
  }
  w.EndObject();
  return out;
}

absl::Status OnlyFieldsParam(const Call& c) {
  for (const auto& [k, v] : c.params) {
    if (k != "fields" || v != "*") {
      return absl::InvalidArgumentError("parameter '" + k + "': only fields=* is supported");
    }
  }
  return absl::OkStatus();
}

void WriteUser(JsonWriter& w, const storage::User& u, std::string_view tenant) {
  w.BeginObject();
  w.Key("id");
  w.String(u.user_name);
  w.Key("userName");
  w.String(u.user_name);
  w.Key("firstName");
  w.String(u.first_name);
  w.Key("lastName");
  w.String(u.last_name);
  w.Key("emailAddress");
  w.String(u.email);
  w.Key("roles");
  w.BeginArray();
  for (const std::string& r : u.roles) w.String(r);
  w.EndArray();
  w.Key("enabled");
  w.Value(Value::Bool(u.enabled));
  w.Key("changePasswordOnFirstLogin");
  w.Value(Value::Bool(false));
  w.Key("contactCenterId");
  w.String(tenant);
  w.Key("uri");
  w.String("/api/v2/users/" + u.user_name);
  w.Key("path");
  w.String("/users/" + u.user_name);
  w.EndObject();
}

// {"statusCode":0,"user":{...}}
std::string UserBody(const storage::User& u, std::string_view tenant) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("statusCode");
  w.Int(0);
  w.Key("user");
  WriteUser(w, u, tenant);
  w.EndObject();
  return out;
}

ApiResponse GetMe(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::User u, ws.workspace->GetUser(a.session.tenant, a.session.user_name));
    return WsReply(ws, c, a, 200, UserBody(u, a.session.tenant));
  });
}

ApiResponse PostMe(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, ObjectBody(c));
    ASSIGN_OR_RETURN(std::string op, OptionalString(body, "operationName"));
    absl::Status s = RequireAgent(a);
    if (s.ok() && op == "StartContactCenterSession") {
      absl::StatusOr<std::vector<std::string>> channels = StringArray(body, "channels");
      s = channels.status();
      if (s.ok()) {
        s = ws.workspace
                ->StartContactCenterSession(a.session, std::move(*channels), c.request.now_ms)
                .status();
      }
    } else if (s.ok() && op == "EndContactCenterSession") {
      s = ws.workspace->EndContactCenterSession(a.session, c.request.now_ms);
    } else if (s.ok()) {
      s = absl::InvalidArgumentError(op.empty() ? "operationName is required"
                                                : "unknown operationName '" + op + "'");
    }
    if (!s.ok()) return WorkspaceFailure(s, Family::kStatusCode);
    return WsReply(ws, c, a, 200, StatusCodeBody(0, ""));
  });
}

ApiResponse SetChannel(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, ObjectBody(c));
    ASSIGN_OR_RETURN(std::string op, OptionalString(body, "operationName"));
    absl::Status s = RequireAgent(a);
    if (s.ok() && (op == "Ready" || op == "NotReady")) {
      s = ws.workspace->SetChannelReady(a.session, c.captures[0], op == "Ready", c.request.now_ms);
    } else if (s.ok()) {
      s = absl::InvalidArgumentError("operationName must be Ready or NotReady");
    }
    if (!s.ok()) return WorkspaceFailure(s, Family::kStatus);
    return WsReply(ws, c, a, 200, R"({"status":"ok"})");
  });
}

ApiResponse ListMyInteractions(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(RequireAgent(a));
    RETURN_IF_ERROR(OnlyFieldsParam(c));
    ASSIGN_OR_RETURN(std::vector<query::ItemView> mine, ws.workspace->MyInteractions(a.session));
    return WsReply(ws, c, a, 200, ItemsBody(c, mine));
  });
}

ApiResponse ListInteractions(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(OnlyFieldsParam(c));
    ASSIGN_OR_RETURN(std::vector<query::ItemView> all,
                     ws.workspace->ActiveInteractions(a.session.tenant));
    return WsReply(ws, c, a, 200, ItemsBody(c, all));
  });
}

ApiResponse GetWorkInteraction(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(query::ItemView v, ws.workspace->GetInteraction(a.session, c.captures[0]));
    return WsReply(ws, c, a, 200, InteractionBody(v, Host(c)));
  });
}

// POST /api/v2/interactions (Contact Center Admin): {"mediatype", "queue", "userData",
// "customerId", "contact", "interactionType"}; with "state":"Composing" and "userId" a
// draft owned by that agent.
ApiResponse CreateWorkInteraction(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(RequireAdmin(a));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, ObjectBody(c));
    query::NewInteraction n;
    ASSIGN_OR_RETURN(n.mediatype, OptionalString(body, "mediatype"));
    ASSIGN_OR_RETURN(n.queue, OptionalString(body, "queue"));
    ASSIGN_OR_RETURN(n.customer_id, OptionalString(body, "customerId"));
    ASSIGN_OR_RETURN(n.contact, OptionalString(body, "contact"));
    ASSIGN_OR_RETURN(std::string type, OptionalString(body, "interactionType"));
    if (!type.empty()) {
      if (type != "Inbound" && type != "Outbound" && type != "Internal") {
        return absl::InvalidArgumentError("interactionType: Inbound, Outbound or Internal");
      }
      n.interaction_type = type;
    }
    ASSIGN_OR_RETURN(std::string state, OptionalString(body, "state"));
    if (state == "Composing") {
      ASSIGN_OR_RETURN(n.composing_agent, OptionalString(body, "userId"));
      if (n.composing_agent.empty()) return absl::InvalidArgumentError("userId is required");
    } else if (!state.empty()) {
      return absl::InvalidArgumentError("state: only Composing may be given");
    }
    RETURN_IF_ERROR(ReadUserData(body, &n.user_data));
    ASSIGN_OR_RETURN(query::ItemView v, ws.workspace->CreateInteraction(
                                            a.session.tenant, std::move(n), c.request.now_ms));
    return WsReply(ws, c, a, 200, InteractionBody(v, Host(c)));
  });
}

ApiResponse OperateInteraction(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, ObjectBody(c));
    query::Operation op;
    ASSIGN_OR_RETURN(op.name, OptionalString(body, "operationName"));
    const bool code_family = op.name == "Complete" || op.name == "SingleStepTransfer" ||
                             op.name == "Transfer" || op.name == "Cancel" || op.name.empty();
    auto parse = [&]() -> absl::Status {
      RETURN_IF_ERROR(RequireAgent(a));
      if (op.name.empty()) return absl::InvalidArgumentError("operationName is required");
      ASSIGN_OR_RETURN(op.queue_name, OptionalString(body, "queueName"));
      ASSIGN_OR_RETURN(op.workbin, OptionalString(body, "workbin"));
      ASSIGN_OR_RETURN(op.target_user, OptionalString(body, "userId"));
      RETURN_IF_ERROR(ReadUserData(body, &op.user_data));
      ASSIGN_OR_RETURN(op.keys, StringArray(body, "keys"));
      return ws.workspace->Operate(a.session, c.captures[0], op, c.request.now_ms);
    };
    absl::Status s = parse();
    if (!s.ok()) return WorkspaceFailure(s, code_family ? Family::kStatusCode : Family::kStatus);
    std::string success = R"({"status":"ok"})";
    if (op.name == "Complete" || op.name == "SingleStepTransfer" || op.name == "Transfer") {
      success = R"({"statusCode":0})";
    } else if (op.name == "Cancel") {
      success = R"({"status":0})";
    }
    return WsReply(ws, c, a, 200, std::move(success));
  });
}

// PUT /api/v2/interactions/{id} (Agent): {"userData":{...}} sets each top-level key of an
// interaction the agent owns, replacing existing values: the UpdateUserData operation, with
// its states, errors and PropertiesUpdated notification. Other members are ignored. Replies
// {"statusCode":0}; failures in the statusCode family (WorkspaceError), as every /api/v2
// resource request outside the agent operations of POST /api/v2/me/interactions/{id}.
ApiResponse UpdateWorkInteraction(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(RequireAgent(a));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, ObjectBody(c));
    query::Operation op;
    op.name = "UpdateUserData";
    RETURN_IF_ERROR(ReadUserData(body, &op.user_data));
    RETURN_IF_ERROR(ws.workspace->Operate(a.session, c.captures[0], op, c.request.now_ms));
    return WsReply(ws, c, a, 200, StatusCodeBody(0, ""));
  });
}

// POST /api/v2/users (Contact Center Admin): {"userName","password","firstName",
// "lastName","emailAddress","roles":["ROLE_AGENT"|"ROLE_ADMIN"]}.
ApiResponse CreateUser(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(RequireAdmin(a));
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, ObjectBody(c));
    query::NewUser u;
    ASSIGN_OR_RETURN(u.user_name, OptionalString(body, "userName"));
    ASSIGN_OR_RETURN(u.password, OptionalString(body, "password"));
    ASSIGN_OR_RETURN(u.first_name, OptionalString(body, "firstName"));
    ASSIGN_OR_RETURN(u.last_name, OptionalString(body, "lastName"));
    ASSIGN_OR_RETURN(u.email, OptionalString(body, "emailAddress"));
    ASSIGN_OR_RETURN(u.roles, StringArray(body, "roles"));
    ASSIGN_OR_RETURN(storage::User created, ws.workspace->CreateUser(a.session.tenant, u));
    return WsReply(ws, c, a, 200, UserBody(created, a.session.tenant));
  });
}

ApiResponse ListUsers(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(RequireAdmin(a));
    RETURN_IF_ERROR(NoParams(c));
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("statusCode");
    w.Int(0);
    w.Key("users");
    w.BeginArray();
    ASSIGN_OR_RETURN(std::vector<storage::User> users, ws.workspace->Users(a.session.tenant));
    for (const storage::User& u : users) {
      WriteUser(w, u, a.session.tenant);
    }
    w.EndArray();
    w.EndObject();
    return WsReply(ws, c, a, 200, std::move(out));
  });
}

ApiResponse Notifications(WorkspaceBackend& ws, const Call& c, const Auth& a) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    if (ws.cometd == nullptr) {
      return absl::UnavailableError("the Workspace API is not enabled");
    }
    ASSIGN_OR_RETURN(Value messages, Body(c, true));
    ApiResponse r = ws.cometd->Handle(messages, a.session, Host(c));
    if (a.fresh) {
      r.headers.emplace_back("Set-Cookie", "JSESSIONID=" + a.session.id + "; Path=/; HttpOnly");
    }
    return r;
  });
}

// GWS has no WebSocket transport: the upgrade GET gets 404 at once, so a stock client falls
// back to long-polling.
ApiResponse NotificationsUpgrade(WorkspaceBackend&, const Call& c) {
  return ErrorReply(c.dialect, absl::NotFoundError("no WebSocket transport; use long-polling"));
}

}  // namespace

const Dialect kWorkspaceDialect{"api", WorkspaceError, /*key_auth=*/false};

std::vector<Route> WorkspaceRoutes(WorkspaceBackend* backend) {
  const std::string api = "/api/v2";
  // `hashes`: the handler hashes a password itself (a new user's).
  auto h = [backend](SignedHandler fn, bool csrf_exempt = false, bool hashes = false) -> Handler {
    return [backend, fn, csrf_exempt, hashes](const Call& c) {
      return SignedIn(*backend, c, fn, csrf_exempt, hashes);
    };
  };
  const Dialect* d = &kWorkspaceDialect;
  return {
      {"GET", api + "/me", h(GetMe), d, kSessionRead},
      {"POST", api + "/me", h(PostMe), d, kSessionWrite},
      {"POST", api + "/me/channels/:channel", h(SetChannel), d, kSessionWrite},
      {"GET", api + "/me/interactions", h(ListMyInteractions), d, kSessionRead},
      {"POST", api + "/me/interactions/:id", h(OperateInteraction), d, kSessionWrite},
      {"GET", api + "/interactions", h(ListInteractions), d, kSessionRead},
      {"POST", api + "/interactions", h(CreateWorkInteraction), d, kSessionWrite},
      {"GET", api + "/interactions/:id", h(GetWorkInteraction), d, kSessionRead},
      {"PUT", api + "/interactions/:id", h(UpdateWorkInteraction), d, kSessionWrite},
      {"GET", api + "/users", h(ListUsers), d, kSessionRead},
      {"POST", api + "/users", h(CreateUser, false, /*hashes=*/true), d, kSessionWrite},
      {"GET", api + "/notifications", Bind(backend, NotificationsUpgrade), d, kSessionRead},
      {"POST", api + "/notifications", h(Notifications, /*csrf_exempt=*/true), d, kSessionPoll},
      {"POST", api + "/notifications/:type", h(Notifications, /*csrf_exempt=*/true), d,
       kSessionPoll},
  };
}

}  // namespace contextd::server
