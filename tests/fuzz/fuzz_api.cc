// libFuzzer target: the whole API, every route and body parser behind it (the Workspace's
// included), on a real RocksDB store in a temporary directory. An input is
// "METHOD TARGET\nBODY"; it is sent once as an admin (API key checks off) and once by a
// signed-in Workspace admin and agent (JSESSIONID). Any input gets a reply, never a crash,
// and never an internal error: a reply (a held one's too) with status 500, a JSON reply that
// is not JSON, an error reply without its dialect's error shape, or a 405 without its allowed
// methods aborts.
//
// The store starts with resources the seeds (corpus/api) address: in a target or body, $S is
// a service with an active state $T and an active task $K, $T2 another active state of it
// (to transition from), $T3 and $K3 a state and task to end, $D a service to delete, $E one
// to end, $A an anonymous service (contact key 408) to associate, $Y an API key to revoke, $I
// a Workspace interaction offered to the signed-in agent, who is Ready on email, $W a draft
// (Composing) of that agent, whose userData it may update; customer C1 has stored keys. So
// every route reaches its handler's work, whatever order the seeds run in.
// With FUZZ_API_ROUTES=1 in the environment it lists, at exit, the routes no input got a 2xx
// reply from (with the best status an input got) and then fails: run.sh runs the seeds so
// first. A route that refuses by design is named in kRefusingRoutes.

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "query/access.h"
#include "query/engine.h"
#include "query/history.h"
#include "query/workspace.h"
#include "server/app.h"
#include "server/workspace/cometd.h"
#include "simdjson.h"
#include "storage/rocksdb_store.h"

namespace {

using namespace contextd;

struct World {
  World() {
    char dir[] = "/tmp/contextd-fuzz-XXXXXX";
    storage::RocksDbOptions options;
    options.path = mkdtemp(dir);
    options.sync = false;
    options.row_cache_bytes = 1 << 20;
    options.block_cache_bytes = 8 << 20;
    store = std::move(*storage::OpenRocksDbStore(options));
    engine = std::make_unique<query::Engine>(store.get());
    history = std::make_unique<query::History>(store.get());
    query::WorkspaceOptions ws;
    ws.hash_iterations = 1;
    workspace = std::make_unique<query::Workspace>(store.get(), history.get(), ws);
    (void)workspace->EnsureUser(
        "", {"fuzz", "pw", "", "", "", {query::kRoleAdmin, query::kRoleAgent}});
    cookie = "JSESSIONID=" + workspace->SignIn("", "fuzz", "pw", 1700000000000)->id;
    server::CometdOptions co;
    co.hold = std::chrono::milliseconds(1);
    cometd = std::make_unique<server::Cometd>(co);
    workspace->SetListener(cometd.get());
    access = std::move(*query::Access::Open(store.get(), ""));
    app = std::make_unique<server::App>(server::Backends{
        engine.get(), history.get(), server::AccessPolicy{access.get(), /*open=*/true},
        server::WorkspaceBackend{workspace.get(), cometd.get(), false}, store.get()});
    Setup();
  }

  // Creates the resources the seeds name ($S, $T, ...); aborts if one cannot be made.
  void Setup() {
    const std::string cs = "/genesys/1/cs/services/";
    auto id = [&](std::string_view method, const std::string& target, std::string_view body,
                  const char* field, bool session = false) {
      server::ApiResponse r = Send(method, target, body, session);
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (r.status >= 300 || parser.parse(r.body).get(doc) != simdjson::SUCCESS) {
        fprintf(stderr, "fuzz_api set-up: %.*s %s: %d %s\n", static_cast<int>(method.size()),
                method.data(), target.c_str(), r.status, r.body.c_str());
        abort();
      }
      for (std::string_view key : {std::string_view("interaction"), std::string_view(field)}) {
        if (simdjson::dom::element inner; doc[key].get(inner) == simdjson::SUCCESS) doc = inner;
      }
      if (int64_t n; doc.get_int64().get(n) == simdjson::SUCCESS) return std::to_string(n);
      if (std::string_view v; doc.get_string().get(v) == simdjson::SUCCESS) return std::string(v);
      fprintf(stderr, "fuzz_api set-up: no %s in %s\n", field, r.body.c_str());
      abort();
    };
    const std::string start = cs + "start";
    ids["$S"] = id("POST", start, R"({"customer_id":"C1","contact_key":"408","Offer":{"a":1}})",
                   "service_id");
    const std::string s = cs + ids["$S"];
    ids["$T"] = id("POST", s + "/states/start", R"({"state_type":"InQueue"})", "state_id");
    ids["$T2"] = id("POST", s + "/states/start", R"({"state_type":"Wait"})", "state_id");
    ids["$T3"] = id("POST", s + "/states/start", R"({"state_type":"Gone"})", "state_id");
    ids["$K"] = id("POST", s + "/tasks/start", R"({"task_type":"Callback"})", "task_id");
    ids["$K3"] = id("POST", s + "/tasks/start", R"({"task_type":"Gone"})", "task_id");
    ids["$D"] = id("POST", start, R"({"customer_id":"C1"})", "service_id");
    ids["$E"] = id("POST", start, R"({"customer_id":"C1"})", "service_id");
    ids["$A"] = id("POST", start, R"({"contact_key":"408"})", "service_id");
    ids["$Y"] = id("POST", "/contextd/v1/keys", R"({"role":"reader","tenant":""})", "id");
    auto ok = [&](std::string_view method, const std::string& target, std::string_view body,
                  bool session) {
      server::ApiResponse r = Send(method, target, body, session);
      if (r.status >= 300) {
        fprintf(stderr, "fuzz_api set-up: %s: %d %s\n", target.c_str(), r.status, r.body.c_str());
        abort();
      }
    };
    ok("PUT", "/contextd/v1/customers/C1", R"({"account_number":"1|2|3|0|0|4|1"})", false);
    ok("POST", "/api/v2/me",
       R"({"operationName":"StartContactCenterSession","channels":["email"]})", true);
    ok("POST", "/api/v2/me/channels/email", R"({"operationName":"Ready"})", true);
    ids["$I"] = id("POST", "/api/v2/interactions",
                   R"({"mediatype":"email","queue":"q","userData":{"CustomerID":"C1"}})", "id",
                   true);
    ids["$W"] = id("POST", "/api/v2/interactions",
                   R"({"mediatype":"email","state":"Composing","userId":"fuzz"})", "id", true);
    // A CometD client ($C) of the signed-in user: a connect of it is held.
    server::ApiResponse hs = Send("POST", "/api/v2/notifications/handshake",
                                  R"([{"id":"1","channel":"/meta/handshake"}])", true);
    simdjson::dom::parser parser;
    std::string_view client;
    if (parser.parse(hs.body).at(0)["clientId"].get_string().get(client) != simdjson::SUCCESS) {
      fprintf(stderr, "fuzz_api set-up: handshake: %s\n", hs.body.c_str());
      abort();
    }
    ids["$C"] = std::string(client);
  }

  server::ApiResponse Send(std::string_view method, std::string_view target, std::string_view body,
                           bool session) {
    server::ApiRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.now_ms = 1700000000000;
    const std::vector<std::pair<std::string, std::string>> headers = {{"cookie", cookie}};
    request.headers = session ? &headers : nullptr;
    return app->api().Handle(request);
  }

  // `in` with every $X the set-up defined replaced by its id.
  std::string Expand(std::string_view in) const {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '$') {
        // The longest name first ($T2 before $T).
        const std::map<std::string, std::string>::const_reverse_iterator end = ids.rend();
        auto it = ids.rbegin();
        for (; it != end; ++it) {
          if (in.substr(i, it->first.size()) == it->first) break;
        }
        if (it != end) {
          out += it->second;
          i += it->first.size() - 1;
          continue;
        }
      }
      out += in[i];
    }
    return out;
  }

  std::unique_ptr<storage::Store> store;
  std::unique_ptr<query::Engine> engine;
  std::unique_ptr<query::History> history;
  std::unique_ptr<query::Workspace> workspace;
  std::unique_ptr<server::Cometd> cometd;
  std::unique_ptr<query::Access> access;
  std::unique_ptr<server::App> app;
  std::string cookie;
  std::map<std::string, std::string> ids;  // "$S" -> "1", ...
};

// The error shapes of the dialects, written down here again from the reference, not taken
// from the server's code.
enum class Shape { kGenesys, kNative, kPega, kLcm, kWorkspace };

// Which error shape a reply to `target` must have: the served route's dialect, else the
// dialect of the path's first segment (as the router picks it).
Shape DialectOf(std::string_view target, int route) {
  std::string first;
  if (route >= 0) {
    static const std::vector<std::string> names = server::App::RouteNames();
    const std::string& name = names[static_cast<size_t>(route)];
    const std::string_view pattern = std::string_view(name).substr(name.find(' ') + 2);
    first = std::string(pattern.substr(0, pattern.find('/')));
    if (first == "health" || first == "ready" || first == "metrics" || first == "ui") {
      return Shape::kNative;
    }
  } else {  // the raw first segment, even where the target does not decode
    std::string_view path = target.substr(target.starts_with('/') ? 1 : 0);
    first = std::string(path.substr(0, path.find_first_of("/?")));
  }
  if (first == "contextd") return Shape::kNative;
  if (first == "prweb") return Shape::kPega;
  if (first == "lcm") return Shape::kLcm;
  if (first == "api") return Shape::kWorkspace;
  return Shape::kGenesys;
}

// Aborts unless `reply` (to `method target`) is a valid reply of its dialect.
void Check(const server::ApiResponse& reply, std::string_view method, std::string_view target) {
  auto fail = [&](const char* why) {
    fprintf(stderr, "fuzz_api: %s: %.*s %.*s -> %d %s\n", why, static_cast<int>(method.size()),
            method.data(), static_cast<int>(target.size()), target.data(), reply.status,
            reply.body.c_str());
    abort();
  };
  if (reply.status == 500) fail("internal error");
  if (reply.status < 100 || reply.status > 599) fail("no HTTP status");
  if (reply.status == 405 && reply.allow.empty()) fail("405 without the allowed methods");
  if (!reply.content_type.empty() || reply.body.empty()) return;
  thread_local simdjson::dom::parser parser;  // a held reply may complete on another thread
  simdjson::dom::element doc;
  if (parser.parse(reply.body).get(doc) != simdjson::SUCCESS) fail("a JSON reply is not JSON");
  if (reply.status < 400) return;
  auto text = [&](simdjson::dom::element e, const char* key) {
    std::string_view v;
    return e[key].get_string().get(v) == simdjson::SUCCESS;
  };
  bool shaped = false;
  switch (DialectOf(target, reply.route)) {
    case Shape::kGenesys:
      shaped = text(doc, "message") && text(doc, "exception");
      break;
    case Shape::kNative:
      shaped = text(doc, "message");
      break;
    case Shape::kPega: {
      std::string_view status;
      shaped = doc["Status"].get_string().get(status) == simdjson::SUCCESS && status == "ERROR" &&
               text(doc, "Message");
      break;
    }
    case Shape::kLcm: {
      simdjson::dom::element error;
      std::string_view type;
      shaped = doc["message"]["error"].get(error) == simdjson::SUCCESS &&
               error["errorType"].get_string().get(type) == simdjson::SUCCESS && type == "WS_Error";
      break;
    }
    case Shape::kWorkspace: {  // {"statusCode":N,...}, or an operation's error
      int64_t code;
      std::string_view status;
      shaped = (doc["statusCode"].get_int64().get(code) == simdjson::SUCCESS && code != 0) ||
               (doc["status"].get_string().get(status) == simdjson::SUCCESS && status == "error" &&
                text(doc, "errorDescription"));
      break;
    }
  }
  if (!shaped) fail("an error reply without its dialect's error shape");
}

// Routes no input can get a 2xx from, by design: the coverage check accepts any reply of them.
constexpr std::string_view kRefusingRoutes[] = {
    "GET /api/v2/notifications",  // a WebSocket upgrade: always 404, use long-polling
};

// The best (lowest) status an input got from each route (index of Api::RouteNames(); 0: none).
// Held replies complete on the CometD sweeper's thread too, hence the lock.
class Coverage {
 public:
  static Coverage& Get() {
    static Coverage* coverage = new Coverage();  // never destroyed: the exit handler reads it
    return *coverage;
  }

  void Record(int route, int status) {
    if (route < 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    int& best = best_[static_cast<size_t>(route)];
    if (best == 0 || status < best) best = status;
  }

 private:
  Coverage() : best_(server::App::RouteNames().size()) {
    if (const char* env = getenv("FUZZ_API_ROUTES"); env == nullptr || env[0] != '1') return;
    atexit([] { Get().Report(); });
  }

  // Lists the routes without a 2xx reply that are not refusing by design; fails if any.
  void Report() {
    std::lock_guard<std::mutex> lock(mu_);
    const std::vector<std::string> names = server::App::RouteNames();
    size_t missed = 0, refusing = 0, stale = 0;
    for (std::string_view name : kRefusingRoutes) {
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      fprintf(stderr, "fuzz_api: kRefusingRoutes names no route: %.*s\n",
              static_cast<int>(name.size()), name.data());
      ++stale;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      if (best_[i] >= 200 && best_[i] < 300) continue;
      const bool by_design = std::find(std::begin(kRefusingRoutes), std::end(kRefusingRoutes),
                                       names[i]) != std::end(kRefusingRoutes);
      if (best_[i] == 0) {
        fprintf(stderr, "fuzz_api: no input reached %s\n", names[i].c_str());
        ++missed;
      } else if (by_design) {
        ++refusing;
      } else {
        fprintf(stderr, "fuzz_api: no 2xx from %s (best status %d)\n", names[i].c_str(),
                best_[i]);
        ++missed;
      }
    }
    fprintf(stderr, "fuzz_api: inputs got a 2xx from %zu of %zu routes (%zu refuse by design)\n",
            names.size() - missed - refusing, names.size(), refusing);
    if (missed + stale > 0) _Exit(1);
  }

  std::mutex mu_;
  std::vector<int> best_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  const std::string in = world->Expand(std::string_view(reinterpret_cast<const char*>(data), size));
  const size_t eol = in.find('\n');
  const std::string_view line = std::string_view(in).substr(0, eol);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  const std::string_view method = line.substr(0, space);
  const std::string_view target = line.substr(space + 1);
  if (target.empty() || target.front() != '/') return 0;
  const std::string_view body =
      eol == std::string::npos ? std::string_view() : std::string_view(in).substr(eol + 1);
  for (bool session : {false, true}) {
    server::ApiResponse reply = world->Send(method, target, body, session);
    if (reply.hold) {
      // Copies: a held reply may be completed on the CometD sweeper's thread.
      auto check = [method = std::string(method), target = std::string(target),
                    route = reply.route](server::ApiResponse r) {
        Coverage::Get().Record(route, r.status);
        Check(r, method, target);
        return true;
      };
      reply.hold(check, /*now=*/false);
      reply.hold(check, /*now=*/true);
    } else {
      Coverage::Get().Record(reply.route, reply.status);
      Check(reply, method, target);
    }
  }
  return 0;
}
