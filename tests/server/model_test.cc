// Model-based test: random lifecycle operations go to the real server (--sync always, the
// default durability) and to a plain in-memory model of the documented semantics (README
// "Access control", reference/context-services-api.md sections 0, 4.3, 6 and 7). The model
// renders every service, state and task the way the reference describes them, and whole
// objects are compared (canonical JSON: object members sorted by name) for the customer and
// anonymous queries, GET /services/{id}, and the state and task listings and by-id reads.
//
// Times have millisecond precision and cluster on a few "edge" instants, and window bounds are
// drawn from the times in use, so half-open windows [from, to) are hit exactly and often.
// Steps include restarts (clean or SIGKILL) on the same data directory, a second tenant
// (configured mid-run with POST /contextd/v1/tenants), and bursts of concurrent writes.
//
// Each run draws a fresh seed; CONTEXTD_MODEL_SEED=<seed> replays one (printed on any
// failure: the same operations in the same order; only the ids the concurrent bursts hand
// out may be dealt differently), CONTEXTD_MODEL_STEPS=<n> changes the number of steps.

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "tests/server/server_fixture.h"

namespace contextd::testing {
namespace {

using storage::Value;
using Members = std::vector<Value::Member>;

constexpr int64_t kBaseMs = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr int64_t kMinute = 60000;
constexpr char kOtherTenant[] = "acme";

// ---- JSON helpers, independent of the product's writer ----

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Canonical text: object members sorted by name, so member order never matters.
std::string Canon(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return v.bool_value ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(v.int_value);
    case Value::Kind::kUint:
      return std::to_string(v.uint_value);
    case Value::Kind::kDouble:
      return "double:" + std::to_string(v.double_value);  // the model never makes one
    case Value::Kind::kString:
      return Quote(v.string_value);
    case Value::Kind::kArray: {
      std::string out = "[";
      for (const Value& item : v.array) {
        if (out.size() > 1) out += ',';
        out += Canon(item);
      }
      return out + "]";
    }
    case Value::Kind::kObject: {
      std::vector<std::pair<std::string, std::string>> members;
      for (const auto& [k, item] : v.object) members.emplace_back(k, Canon(item));
      std::sort(members.begin(), members.end());
      std::string out = "{";
      for (const auto& [k, text] : members) {
        if (out.size() > 1) out += ',';
        out += Quote(k) + ":" + text;
      }
      return out + "}";
    }
  }
  return "?";
}

// The request body text of a JSON object (insertion order kept: the server must not care).
std::string Body(const Members& members) {
  std::string out = "{";
  for (const auto& [k, v] : members) {
    if (out.size() > 1) out += ',';
    out += Quote(k) + ":" + Canon(v);
  }
  return out + "}";
}

void Set(Members& fields, const std::string& name, Value v) {
  for (auto& [k, old] : fields) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  fields.emplace_back(name, std::move(v));
}

const Value* Find(const Members& fields, const std::string& name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

// A scalar's text as filters compare it (reference section 0): strings as they are, integers
// in decimal. The model only makes these two kinds.
std::optional<std::string> ScalarText(const Value& v) {
  if (v.kind == Value::Kind::kString) return v.string_value;
  if (v.kind == Value::Kind::kInt) return std::to_string(v.int_value);
  return std::nullopt;
}

// ---- timestamps, formatted here rather than by query/timestamp ----

// The emitted form: UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string Iso(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// One of the accepted input forms of the instant `ms` (`form` 0..3): the emitted form; no
// zone (UTC); a +02:00 offset; the fewest fraction digits that keep the instant.
std::string InputIso(int64_t ms, int form) {
  std::string canonical = Iso(ms);
  switch (form) {
    case 1:
      return canonical.substr(0, canonical.size() - 1);
    case 2: {
      std::string local = Iso(ms + 2 * 60 * kMinute);
      return local.substr(0, local.size() - 1) + "+02:00";
    }
    case 3: {
      std::string head = canonical.substr(0, 19);
      if (ms % 1000 == 0) return head + "Z";
      if (ms % 100 == 0) return head + "." + std::to_string(ms % 1000 / 100) + "Z";
      return canonical;
    }
    default:
      return canonical;
  }
}

// A query parameter value: '+' would mean a space there (form encoding).
std::string QueryText(std::string s) {
  std::string out;
  for (char c : s) out += c == '+' ? std::string("%2B") : std::string(1, c);
  return out;
}

// ---- the model ----

struct Event {
  int64_t ms = 0;
  Members fields;  // documented event fields (media_type, interaction_id, disposition, ...)
};

// A state or a task.
struct Child {
  int id = 0;
  std::optional<Value> type;
  std::optional<int> link;  // a state's previous_state_id; a task's state_id
  std::optional<int64_t> est;
  Event started;
  std::optional<Event> completed;
  Members attached;
  bool active() const { return !completed; }
};

struct Svc {
  int64_t id = 0;
  std::optional<std::string> customer, key;
  std::optional<Value> type;
  std::optional<int64_t> est;
  Event started;
  std::optional<Event> completed;
  Members attached;
  std::vector<Child> states, tasks;
  bool active() const { return !completed; }
};

struct Tenant {
  std::string name;  // "" is the default tenant
  bool configured = false;
  std::list<Svc> services;  // in the order started: replays pick the same ones whatever their ids
  int64_t first_id = 0;     // the lowest id it handed out
  int64_t last_id = 0;      // the highest id it handed out
  std::vector<int64_t> deleted;

  const Svc* Find(int64_t id) const {
    for (const Svc& s : services) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }
};

// Which attached data keys a read includes (the `extensions` parameter, reference 2.5).
struct Keys {
  bool all = false;
  std::vector<std::string> names;
  bool Has(const std::string& k) const {
    return all || std::find(names.begin(), names.end(), k) != names.end();
  }
};

struct Read {
  bool active_states = false, completed_states = false, active_tasks = false,
       completed_tasks = false;
  std::string extensions;  // the parameter text; "" for none
  Keys service, state, task;
};

Value EventJson(const Event& e) {
  Value v = Value::Object({{"timestamp", Value::String(Iso(e.ms))}});
  for (const auto& m : e.fields) v.object.push_back(m);
  return v;
}

template <typename T>
void AddLifecycle(Value& v, const T& item) {
  if (item.est) v.object.emplace_back("est_duration", Value::Int(*item.est));
  v.object.emplace_back("started", EventJson(item.started));
  if (item.completed) v.object.emplace_back("completed", EventJson(*item.completed));
}

void AddAttached(Value& v, const Members& attached, const Keys& keys) {
  for (const auto& [k, value] : attached) {
    if (keys.Has(k)) v.object.emplace_back(k, value);
  }
}

// A task; `top`: a resource of its own (carries service_id), else nested in a service or state.
Value TaskJson(const Svc& s, const Child& t, bool top, const Read& read) {
  Value v = Value::Object({});
  if (top) v.object.emplace_back("service_id", Value::Int(s.id));
  v.object.emplace_back("task_id", Value::Int(t.id));
  if (t.type) v.object.emplace_back("task_type", *t.type);
  if (t.link) v.object.emplace_back("state_id", Value::Int(*t.link));
  AddLifecycle(v, t);
  AddAttached(v, t.attached, read.task);
  return v;
}

// The tasks of `s` that are active (or completed), optionally only those linked to `state`.
Value TaskArray(const Svc& s, bool active, std::optional<int> state, const Read& read) {
  Value out = Value::Array({});
  for (const Child& t : s.tasks) {
    if (t.active() != active || (state && t.link != state)) continue;
    out.array.push_back(TaskJson(s, t, false, read));
  }
  return out;
}

// A state; only a top-level one carries service_id and (on request) its linked tasks.
Value StateJson(const Svc& s, const Child& st, bool top, const Read& read) {
  Value v = Value::Object({});
  if (top) v.object.emplace_back("service_id", Value::Int(s.id));
  v.object.emplace_back("state_id", Value::Int(st.id));
  if (st.type) v.object.emplace_back("state_type", *st.type);
  if (st.link) v.object.emplace_back("previous_state_id", Value::Int(*st.link));
  AddLifecycle(v, st);
  if (top && read.active_tasks)
    v.object.emplace_back("active_tasks", TaskArray(s, true, st.id, read));
  if (top && read.completed_tasks) {
    v.object.emplace_back("completed_tasks", TaskArray(s, false, st.id, read));
  }
  AddAttached(v, st.attached, read.state);
  return v;
}

Value ServiceJson(const Svc& s, const Read& read) {
  Value v = Value::Object({{"service_id", Value::Int(s.id)}});
  if (s.customer) v.object.emplace_back("customer_id", Value::String(*s.customer));
  if (s.key) v.object.emplace_back("contact_key", Value::String(*s.key));
  if (s.type) v.object.emplace_back("service_type", *s.type);
  AddLifecycle(v, s);
  auto states = [&](bool active) {
    Value out = Value::Array({});
    for (const Child& st : s.states) {
      if (st.active() == active) out.array.push_back(StateJson(s, st, false, read));
    }
    return out;
  };
  if (read.active_states) v.object.emplace_back("active_states", states(true));
  if (read.completed_states) v.object.emplace_back("completed_states", states(false));
  if (read.active_tasks) v.object.emplace_back("active_tasks", TaskArray(s, true, {}, read));
  if (read.completed_tasks) v.object.emplace_back("completed_tasks", TaskArray(s, false, {}, read));
  AddAttached(v, s.attached, read.service);
  return v;
}

// What the write routes return: every attached key at every level, no expansions.
Read FullResource() {
  Read r;
  r.service.all = r.state.all = r.task.all = true;
  return r;
}

bool TypeMatches(const std::optional<Value>& type, const std::vector<std::string>& types) {
  if (types.empty()) return true;
  if (!type) return false;
  std::optional<std::string> text = ScalarText(*type);
  return text && std::find(types.begin(), types.end(), *text) != types.end();
}

struct Window {
  int64_t from, to;
  bool Contains(int64_t t) const { return t >= from && t < to; }  // [from, to)
};

enum View { kAll, kActive, kCompleted };
const char* const kViewSuffix[] = {"", "/active", "/completed"};

bool ViewAdmits(View view, bool active) { return view == kAll || (view == kActive) == active; }

struct ListQuery {
  bool customer = true;
  std::string owner;
  View view = kAll;
  std::optional<Window> started, completed;
  std::vector<std::string> types;
  Members filters;  // attached data filters, values as strings
  Read read;
};

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Appends the read parameters of `read` (expansion flags and extensions) to `params`.
void ReadParams(const Read& read, bool service_level, std::vector<std::string>& params) {
  const char* truth[] = {"true", "TRUE", "True"};
  auto flag = [&](const char* name, bool on) {
    if (on) params.push_back(std::string(name) + "=" + truth[params.size() % 3]);
  };
  if (service_level) {
    flag("active_states", read.active_states);
    flag("completed_states", read.completed_states);
  }
  flag("active_tasks", read.active_tasks);
  flag("completed_tasks", read.completed_tasks);
  if (!read.extensions.empty()) params.push_back("extensions=" + read.extensions);
}

std::string WithParams(std::string path, const std::vector<std::string>& params) {
  for (size_t i = 0; i < params.size(); ++i) path += (i == 0 ? "?" : "&") + params[i];
  return path;
}

std::string Target(const ListQuery& q, int time_form) {
  std::string path =
      std::string(kCs) +
      (q.customer ? "/customers/" + q.owner + "/services" : "/services/anonymous/" + q.owner) +
      kViewSuffix[q.view];
  std::vector<std::string> params;
  auto time = [&](int64_t ms) { return QueryText(InputIso(ms, time_form)); };
  if (q.started) {
    params.push_back("started_from=" + time(q.started->from));
    params.push_back("started_to=" + time(q.started->to));
  }
  if (q.completed) {
    params.push_back("completed_from=" + time(q.completed->from));
    params.push_back("completed_to=" + time(q.completed->to));
  }
  if (!q.types.empty()) params.push_back("service_types=" + Join(q.types));
  for (const auto& [k, v] : q.filters) params.push_back(k + "=" + v.string_value);
  ReadParams(q.read, true, params);
  return WithParams(path, params);
}

// The documented 400s of a list query: completed_* on /active; a window with from > to.
bool ListQueryIsBad(const ListQuery& q) {
  if (q.completed && q.view == kActive) return true;
  if (q.started && q.started->from > q.started->to) return true;
  if (q.completed && q.completed->from > q.completed->to) return true;
  return false;
}

// The answer the reference gives to a valid list query: matching services, newest first.
Value ExpectedList(const Tenant& t, const ListQuery& q) {
  std::vector<const Svc*> hits;
  for (const Svc& s : t.services) {
    if (q.customer ? s.customer != q.owner : (s.customer.has_value() || s.key != q.owner)) {
      continue;
    }
    if (!ViewAdmits(q.view, s.active())) continue;
    if (q.started && !q.started->Contains(s.started.ms)) continue;
    if (q.completed && (!s.completed || !q.completed->Contains(s.completed->ms))) continue;
    if (!TypeMatches(s.type, q.types)) continue;
    bool filters_match = true;
    for (const auto& [k, want] : q.filters) {
      const Value* have = Find(s.attached, k);
      std::optional<std::string> text = have ? ScalarText(*have) : std::nullopt;
      filters_match = filters_match && text && *text == want.string_value;
    }
    if (filters_match) hits.push_back(&s);
  }
  std::sort(hits.begin(), hits.end(), [](const Svc* a, const Svc* b) {
    return a->started.ms != b->started.ms ? a->started.ms > b->started.ms : a->id > b->id;
  });
  Value out = Value::Array({});
  for (const Svc* s : hits) out.array.push_back(ServiceJson(*s, q.read));
  return out;
}

// ---- the test ----

uint32_t SeedOfThisRun() {
  if (const char* env = std::getenv("CONTEXTD_MODEL_SEED")) {
    return static_cast<uint32_t>(std::strtoul(env, nullptr, 10));
  }
  return std::random_device{}();
}

int StepsOfThisRun() {
  if (const char* env = std::getenv("CONTEXTD_MODEL_STEPS")) return std::atoi(env);
  return 1000;
}

const std::vector<std::string> kCustomers = {"C1", "C2", "C3"};
const std::vector<std::string> kContactKeys = {"K1", "K2", "K3"};

class ModelFixture : public ServerTest {
 protected:
  void SetUp() override { StartServer(Flags()); }
  static std::vector<std::string> Flags() { return {"--sync", "always", "--log-level", "warn"}; }

  std::mt19937 rng_;
  Tenant tenants_[2];           // the default tenant and kOtherTenant
  std::vector<int64_t> times_;  // every start and end time the model holds, for window bounds

  int Rand(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Rand(100) < percent; }
  template <typename T>
  const T& OneOf(const std::vector<T>& items) {
    return items[static_cast<size_t>(Rand(static_cast<int>(items.size())))];
  }

  // A time on or next to one of a few edge instants, in milliseconds.
  int64_t DrawTime() {
    const int64_t edge = kBaseMs + Rand(6) * 37 * kMinute;
    switch (Rand(10)) {
      case 0:
      case 1:
      case 2:
      case 3:
        return edge;
      case 4:
        return edge + 1;
      case 5:
        return edge - 1;
      case 6:
      case 7:
        return edge + Rand(1000);
      default:
        return edge + Rand(static_cast<int>(60 * kMinute));
    }
  }

  // A window bound: mostly a time already in use (exactly, or 1 ms either side).
  int64_t DrawBound() {
    if (times_.empty() || Chance(30)) return DrawTime();
    const int64_t t = OneOf(times_);
    const int r = Rand(6);
    return r == 0 ? t + 1 : r == 1 ? t - 1 : t;
  }

  Window DrawWindow() {
    int64_t a = DrawBound(), b = DrawBound();
    if (a > b && !Chance(5)) std::swap(a, b);  // from > to now and then: a documented 400
    return {a, b};
  }

  int64_t Use(int64_t t) {
    times_.push_back(t);
    return t;
  }

  std::string TimeText(int64_t ms) { return InputIso(ms, Rand(4)); }

  Value DrawType(const std::vector<Value>& choices) { return OneOf(choices); }

  // Requests in tenant `t` (the ContactCenterId header names any but the default one).
  HttpReply Call(HttpClient& client, const Tenant& t, const std::string& method,
                 const std::string& target, const std::string& body = "") {
    std::vector<std::string> headers;
    if (!t.name.empty()) headers.push_back("ContactCenterId: " + t.name);
    return client.Request(method, target, body, headers);
  }
  HttpReply Call(const Tenant& t, const std::string& method, const std::string& target,
                 const std::string& body = "") {
    return Call(*client_, t, method, target, body);
  }

  static std::string SvcPath(int64_t id, const std::string& rest = "") {
    return std::string(kCs) + "/services/" + std::to_string(id) + rest;
  }

  // Asserts a reply: `status`, and for a 2xx with a body the whole `expected` object.
  void ExpectReply(const HttpReply& r, int status, const std::optional<Value>& expected,
                   const std::string& what) {
    ASSERT_EQ(r.status, status) << what << "\n" << r.body;
    if (expected) {
      auto parsed = server::ParseJson(r.body);
      ASSERT_TRUE(parsed.ok()) << what << " not JSON: " << r.body;
      ASSERT_EQ(Canon(*parsed), Canon(*expected)) << what;
    }
  }
  void ExpectNotFound(const HttpReply& r, const std::string& what) {
    ASSERT_EQ(r.status, 400) << what << "\n" << r.body;
    ASSERT_NE(r.body.find("NotFoundException"), std::string::npos) << what << "\n" << r.body;
  }
  void ExpectUnknownTenant(const HttpReply& r, const std::string& what) {
    ASSERT_EQ(r.status, 400) << what << "\n" << r.body;
    ASSERT_NE(r.body.find("Invalid tenant specified : specified tenant in HTTP header "
                          "'ContactCenterId'='" +
                          std::string(kOtherTenant) + "' not configured"),
              std::string::npos)
        << what << "\n"
        << r.body;
  }

  Tenant& PickTenant() { return tenants_[Chance(70) ? 0 : 1]; }
  Svc* PickService(Tenant& t) {
    if (t.services.empty()) return nullptr;
    auto it = t.services.begin();
    std::advance(it, Rand(static_cast<int>(t.services.size())));
    return &*it;
  }

  // ---- random reads ----

  Read DrawServiceRead() {
    Read r;
    r.active_states = Chance(40);
    r.completed_states = Chance(40);
    r.active_tasks = Chance(40);
    r.completed_tasks = Chance(40);
    switch (Rand(6)) {
      case 0:
        break;
      case 1:
        r.extensions = "tag";
        r.service.names = {"tag"};
        break;
      case 2:
        r.extensions = "*";
        r.service.all = true;
        break;
      case 3:
        r.extensions = "tag,ext,State.note";
        r.service.names = {"tag", "ext"};
        r.state.names = {"note"};
        break;
      case 4:
        r.extensions = "n,State.*,Task.*";
        r.service.names = {"n"};
        r.state.all = r.task.all = true;
        break;
      default:
        r.extensions = "Task.note";
        r.task.names = {"note"};
        break;
    }
    return r;
  }
  Read AllOfService() {
    Read r = FullResource();
    r.active_states = r.completed_states = r.active_tasks = r.completed_tasks = true;
    r.extensions = "*,State.*,Task.*";
    return r;
  }
  Read DrawStateRead() {
    Read r;
    r.active_tasks = Chance(50);
    r.completed_tasks = Chance(50);
    switch (Rand(4)) {
      case 0:
        break;
      case 1:
        r.extensions = "note";
        r.state.names = {"note"};
        break;
      case 2:
        r.extensions = "*";
        r.state.all = true;
        break;
      default:
        r.extensions = "note,Task.*";
        r.state.names = {"note"};
        r.task.all = true;
        break;
    }
    return r;
  }
  Read DrawTaskRead() {
    Read r;
    switch (Rand(3)) {
      case 0:
        break;
      case 1:
        r.extensions = "note";
        r.task.names = {"note"};
        break;
      default:
        r.extensions = "*";
        r.task.all = true;
        break;
    }
    return r;
  }

  ListQuery DrawListQuery() {
    ListQuery q;
    q.customer = Chance(60);
    q.owner = OneOf(q.customer ? kCustomers : kContactKeys);
    q.view = static_cast<View>(Rand(3));
    if (Chance(40)) q.started = DrawWindow();
    if (Chance(30) && (q.view != kActive || Chance(10))) q.completed = DrawWindow();
    if (Chance(30))
      q.types = Chance(50) ? std::vector<std::string>{"1"} : std::vector<std::string>{"2", "A"};
    if (Chance(20)) q.filters.emplace_back("tag", Value::String(Chance(50) ? "x" : "y"));
    if (Chance(10)) q.filters.emplace_back("n", Value::String(std::to_string(1 + Rand(3))));
    if (Chance(3)) q.filters.emplace_back("ext", Value::String("1"));  // an object: no match
    q.read = DrawServiceRead();
    return q;
  }

  void CheckList(const Tenant& t, const ListQuery& q) {
    const std::string target = Target(q, Rand(4));
    HttpReply r = Call(t, "GET", target);
    if (ListQueryIsBad(q)) {
      ASSERT_EQ(r.status, 400) << target << "\n" << r.body;
      return;
    }
    ExpectReply(r, 200, ExpectedList(t, q), "tenant '" + t.name + "' GET " + target);
  }

  // GET /services/{id} with `read`, and the same id in the other tenant.
  void CheckService(const Tenant& t, int64_t id, const Read& read) {
    std::vector<std::string> params;
    ReadParams(read, true, params);
    const std::string target = WithParams(SvcPath(id), params);
    HttpReply r = Call(t, "GET", target);
    const Svc* s = t.Find(id);
    if (s == nullptr) {
      ASSERT_NO_FATAL_FAILURE(ExpectNotFound(r, "GET " + target));
    } else {
      ASSERT_NO_FATAL_FAILURE(
          ExpectReply(r, 200, ServiceJson(*s, read), "tenant '" + t.name + "' GET " + target));
    }
  }

  // The state and task routes of one service: a listing of each (random view and filter) and
  // one state and one task by id (or one past the last: NotFound).
  void CheckChildren(const Tenant& t, const Svc& s) {
    {
      const View view = static_cast<View>(Rand(3));
      std::vector<std::string> types;
      if (Chance(25))
        types = Chance(50) ? std::vector<std::string>{"1"} : std::vector<std::string>{"2", "S"};
      const Read read = DrawStateRead();
      std::vector<std::string> params;
      if (!types.empty()) params.push_back("state_types=" + Join(types));
      ReadParams(read, false, params);
      const std::string target = WithParams(SvcPath(s.id, "/states") + kViewSuffix[view], params);
      Value expected = Value::Array({});
      for (const Child& st : s.states) {
        if (ViewAdmits(view, st.active()) && TypeMatches(st.type, types)) {
          expected.array.push_back(StateJson(s, st, true, read));
        }
      }
      ASSERT_NO_FATAL_FAILURE(ExpectReply(Call(t, "GET", target), 200, expected, "GET " + target));

      const int id = Rand(static_cast<int>(s.states.size()) + 1);
      std::vector<std::string> by_id;
      ReadParams(read, false, by_id);
      const std::string one = WithParams(SvcPath(s.id, "/states/" + std::to_string(id)), by_id);
      HttpReply r = Call(t, "GET", one);
      if (id == static_cast<int>(s.states.size())) {
        ASSERT_NO_FATAL_FAILURE(ExpectNotFound(r, "GET " + one));
      } else {
        ASSERT_NO_FATAL_FAILURE(ExpectReply(
            r, 200, StateJson(s, s.states[static_cast<size_t>(id)], true, read), "GET " + one));
      }
    }
    {
      const View view = static_cast<View>(Rand(3));
      std::vector<std::string> types;
      if (Chance(25))
        types = Chance(50) ? std::vector<std::string>{"1"} : std::vector<std::string>{"T"};
      std::optional<int> state;
      if (Chance(25)) state = Rand(static_cast<int>(s.states.size()) + 1);
      const Read read = DrawTaskRead();
      std::vector<std::string> params;
      if (!types.empty()) params.push_back("task_types=" + Join(types));
      if (state) params.push_back("state_id=" + std::to_string(*state));
      ReadParams(read, false, params);
      const std::string target = WithParams(SvcPath(s.id, "/tasks") + kViewSuffix[view], params);
      Value expected = Value::Array({});
      for (const Child& task : s.tasks) {
        if (ViewAdmits(view, task.active()) && TypeMatches(task.type, types) &&
            (!state || task.link == state)) {
          expected.array.push_back(TaskJson(s, task, true, read));
        }
      }
      ASSERT_NO_FATAL_FAILURE(ExpectReply(Call(t, "GET", target), 200, expected, "GET " + target));

      const int id = Rand(static_cast<int>(s.tasks.size()) + 1);
      std::vector<std::string> by_id;
      ReadParams(read, false, by_id);
      const std::string one = WithParams(SvcPath(s.id, "/tasks/" + std::to_string(id)), by_id);
      HttpReply r = Call(t, "GET", one);
      if (id == static_cast<int>(s.tasks.size())) {
        ASSERT_NO_FATAL_FAILURE(ExpectNotFound(r, "GET " + one));
      } else {
        ASSERT_NO_FATAL_FAILURE(ExpectReply(
            r, 200, TaskJson(s, s.tasks[static_cast<size_t>(id)], true, read), "GET " + one));
      }
    }
  }

  // Everything, in both tenants: every owner x view x a set of query variants, every
  // service whole (with and without expansions), every state and task listing, every
  // deleted id.
  void CheckEverything() {
    for (const Tenant& t : tenants_) {
      if (!t.configured) continue;
      SCOPED_TRACE("full check of tenant '" + t.name + "'");
      for (bool customer : {true, false}) {
        for (const std::string& owner : customer ? kCustomers : kContactKeys) {
          for (int view = 0; view < 3; ++view) {
            std::vector<ListQuery> variants(8);
            variants[1].read = AllOfService();
            variants[2].started = DrawWindow();
            variants[3].completed = DrawWindow();
            variants[4].started = DrawWindow();
            variants[4].completed = DrawWindow();
            variants[5].types = {"1", "A"};
            variants[6].filters.emplace_back("tag", Value::String("x"));
            variants[7].types = {"2"};
            variants[7].filters.emplace_back("n", Value::String("2"));
            variants[7].read = DrawServiceRead();
            for (ListQuery& q : variants) {
              q.customer = customer;
              q.owner = owner;
              q.view = static_cast<View>(view);
              ASSERT_NO_FATAL_FAILURE(CheckList(t, q));
            }
          }
        }
      }
      for (const Svc& s : t.services) {
        const int64_t id = s.id;
        ASSERT_NO_FATAL_FAILURE(CheckService(t, id, Read()));
        ASSERT_NO_FATAL_FAILURE(CheckService(t, id, AllOfService()));
        for (int view = 0; view < 3; ++view) {
          Read states;
          states.active_tasks = states.completed_tasks = true;
          states.extensions = "*,Task.*";
          states.state.all = states.task.all = true;
          std::vector<std::string> params;
          ReadParams(states, false, params);
          std::string target = WithParams(SvcPath(id, "/states") + kViewSuffix[view], params);
          Value expected = Value::Array({});
          for (const Child& st : s.states) {
            if (ViewAdmits(static_cast<View>(view), st.active())) {
              expected.array.push_back(StateJson(s, st, true, states));
            }
          }
          ASSERT_NO_FATAL_FAILURE(
              ExpectReply(Call(t, "GET", target), 200, expected, "GET " + target));
          Read tasks;
          tasks.extensions = "*";
          tasks.task.all = true;
          target = SvcPath(id, "/tasks") + kViewSuffix[view] + "?extensions=*";
          expected = Value::Array({});
          for (const Child& task : s.tasks) {
            if (ViewAdmits(static_cast<View>(view), task.active())) {
              expected.array.push_back(TaskJson(s, task, true, tasks));
            }
          }
          ASSERT_NO_FATAL_FAILURE(
              ExpectReply(Call(t, "GET", target), 200, expected, "GET " + target));
        }
      }
      for (int64_t id : t.deleted) ASSERT_NO_FATAL_FAILURE(CheckService(t, id, Read()));
    }
  }

  // ---- writes: each changes the server and the model the same way ----

  // The body and model of a new service in `t` (the id comes with the reply).
  std::pair<Members, Svc> DrawNewService() {
    Members body;
    Svc m;
    const int owner = Rand(3);  // customer only, contact key only, both
    if (owner != 1) m.customer = OneOf(kCustomers);
    if (owner != 0) m.key = OneOf(kContactKeys);
    if (m.customer) body.emplace_back("customer_id", Value::String(*m.customer));
    if (m.key) body.emplace_back("contact_key", Value::String(*m.key));
    if (!Chance(10)) {
      m.type = DrawType({Value::Int(1), Value::Int(2), Value::String("A")});
      body.emplace_back("service_type", *m.type);
    }
    if (Chance(20)) {
      m.est = 30 * (1 + Rand(10));
      body.emplace_back("est_duration", Value::Int(*m.est));
    }
    m.started.ms = DrawTime();
    body.emplace_back("timestamp", Value::String(TimeText(m.started.ms)));
    if (Chance(50)) {
      Value media = Chance(50) ? Value::String("voice") : Value::Int(2);
      m.started.fields.emplace_back("media_type", media);
      body.emplace_back("media_type", media);
    }
    if (Chance(30)) {
      Value ix = Value::String("IX" + std::to_string(Rand(100)));
      m.started.fields.emplace_back("interaction_id", ix);
      body.emplace_back("interaction_id", ix);
    }
    if (Chance(80)) m.attached.emplace_back("tag", Value::String(Chance(50) ? "x" : "y"));
    if (Chance(40)) m.attached.emplace_back("n", Value::Int(1 + Rand(3)));
    if (Chance(20)) {
      m.attached.emplace_back("ext", Value::Object({{"a", Value::Int(Rand(5))},
                                                    {"b", Value::Array({Value::String("z")})}}));
    }
    for (const auto& m2 : m.attached) body.push_back(m2);
    return {body, m};
  }

  // Records a started service with its id from `reply` in `t`'s model and checks the reply.
  void AdoptStarted(Tenant& t, Svc m, const HttpReply& reply, int64_t ids_above) {
    ASSERT_EQ(reply.status, 201) << reply.body;
    auto parsed = server::ParseJson(reply.body);
    ASSERT_TRUE(parsed.ok()) << reply.body;
    const Value* id = storage::FindField(parsed->object, "service_id");
    ASSERT_NE(id, nullptr) << reply.body;
    m.id = id->int_value;
    // Never reused, also not after delete or restart; counted per tenant.
    ASSERT_GT(m.id, ids_above) << "tenant '" << t.name << "' handed out an old id";
    ASSERT_EQ(t.Find(m.id), nullptr);
    // The lowest: a burst's replies are adopted in job order, not in the order ids were given.
    t.first_id = t.first_id == 0 ? m.id : std::min(t.first_id, m.id);
    t.last_id = std::max(t.last_id, m.id);
    Use(m.started.ms);
    ASSERT_EQ(Canon(*parsed), Canon(ServiceJson(m, FullResource()))) << "start reply";
    t.services.push_back(std::move(m));
  }

  // An end event body and its model (`started_ms`: when the thing ended started).
  std::pair<Members, Event> DrawEnd(int64_t started_ms, bool attached_ok) {
    Members body;
    Event e;
    switch (Rand(5)) {
      case 0:
        e.ms = started_ms;
        break;
      case 1:
      case 2:
        e.ms = DrawTime();
        break;  // may be before the start: a 400
      default:
        e.ms = started_ms + (Chance(50) ? Rand(1000) : Rand(static_cast<int>(90 * kMinute)));
        break;
    }
    body.emplace_back("timestamp", Value::String(TimeText(e.ms)));
    if (Chance(40)) {
      Value d = Chance(50) ? Value::String("Resolved") : Value::Int(7);
      e.fields.emplace_back("disposition", d);
      body.emplace_back("disposition", d);
    }
    if (Chance(20)) {
      e.fields.emplace_back("disposition_desc", Value::String("done"));
      body.emplace_back("disposition_desc", Value::String("done"));
    }
    if (attached_ok && Chance(30))
      body.emplace_back(Chance(50) ? "tag" : "note", Value::String(Chance(50) ? "x" : "z"));
    return {body, e};
  }

  // Completes `item` (service, state or task) in the model as the reference says: 400 if done
  // already or the end is earlier than the start; attached data merged key by key.
  template <typename T>
  bool ModelComplete(T& item, const Members& body, const Event& e) {
    if (item.completed || e.ms < item.started.ms) return false;
    item.completed = e;
    for (const auto& [k, v] : body) {
      if (k != "timestamp" && k != "disposition" && k != "disposition_desc")
        Set(item.attached, k, v);
    }
    Use(e.ms);
    return true;
  }

  // Completes one of `children` (the service's states or tasks; `kind` is "state" or "task")
  // drawn at random, or one past the last (NotFound), in the server and in the model.
  void CompleteChild(const Tenant& t, const Svc& s, std::vector<Child>& children,
                     const std::string& kind) {
    const int id = Rand(static_cast<int>(children.size()) + 1);
    const std::string path = SvcPath(s.id, "/" + kind + "s/" + std::to_string(id) + "/end");
    if (id == static_cast<int>(children.size())) {
      ASSERT_NO_FATAL_FAILURE(ExpectNotFound(Call(t, "POST", path, "{}"), "end " + kind));
      return;
    }
    Child& child = children[static_cast<size_t>(id)];
    auto [body, e] = DrawEnd(child.started.ms, true);
    HttpReply r = Call(t, "POST", path, Body(body));
    const bool ok = ModelComplete(child, body, e);
    ASSERT_EQ(r.status, ok ? 204 : 400) << r.body;
  }

  void Step(Tenant& t, std::optional<int64_t>* touched) {
    const int op = Rand(100);
    Svc* s = PickService(t);
    if (op < 25 || s == nullptr) {  // start a service
      auto [body, m] = DrawNewService();
      HttpReply r = Call(t, "POST", std::string(kCs) + "/services/start", Body(body));
      ASSERT_NO_FATAL_FAILURE(AdoptStarted(t, std::move(m), r, t.last_id));
      *touched = t.last_id;
      return;
    }
    *touched = s->id;
    if (op < 37) {  // complete the service
      auto [body, e] = DrawEnd(s->started.ms, true);
      HttpReply r = Call(t, "POST", SvcPath(s->id, "/end"), Body(body));
      const bool ok = ModelComplete(*s, body, e);
      ASSERT_EQ(r.status, ok ? 204 : 400) << r.body;
    } else if (op < 45) {  // associate with a customer
      Members body;
      const std::string c = OneOf(kCustomers);
      if (Chance(30)) {
        s->type = DrawType({Value::Int(1), Value::String("A")});
        body.emplace_back("service_type", *s->type);
      }
      if (Chance(30)) {
        Value media = Value::String("chat");
        Set(s->started.fields, "media_type", media);
        body.emplace_back("media_type", media);
      }
      if (Chance(30)) {
        body.emplace_back("tag", Value::String(Chance(50) ? "x" : "y"));
        Set(s->attached, "tag", body.back().second);
      }
      s->customer = c;
      const std::string target =
          std::string(kCs) + "/customers/" + c + "/services/" + std::to_string(s->id);
      ASSERT_NO_FATAL_FAILURE(
          ExpectReply(Call(t, "POST", target, Chance(20) && body.empty() ? "" : Body(body)), 200,
                      ServiceJson(*s, FullResource()), "POST " + target));
    } else if (op < 55) {  // start a state
      Members body;
      Child st;
      st.id = static_cast<int>(s->states.size());
      if (!Chance(10)) {
        st.type = DrawType({Value::Int(1), Value::Int(2), Value::String("S")});
        body.emplace_back("state_type", *st.type);
      }
      bool ok = true;
      if (Chance(30)) {
        st.link = Rand(static_cast<int>(s->states.size()) + 1);  // one past the last: a 400
        ok = *st.link < static_cast<int>(s->states.size());
        body.emplace_back("previous_state_id", Value::Int(*st.link));
      }
      if (Chance(15)) {
        st.est = 60;
        body.emplace_back("est_duration", Value::Int(60));
      }
      st.started.ms = DrawTime();
      body.emplace_back("timestamp", Value::String(TimeText(st.started.ms)));
      if (Chance(40)) {
        st.started.fields.emplace_back("session_id", Value::String("S1"));
        body.emplace_back("session_id", Value::String("S1"));
      }
      if (Chance(50)) {
        st.attached.emplace_back("note", Value::String("n" + std::to_string(Rand(3))));
        body.push_back(st.attached.back());
      }
      HttpReply r = Call(t, "POST", SvcPath(s->id, "/states/start"), Body(body));
      if (!ok) {
        ASSERT_EQ(r.status, 400) << r.body;
        return;
      }
      s->states.push_back(st);
      Use(st.started.ms);
      ASSERT_NO_FATAL_FAILURE(
          ExpectReply(r, 201, StateJson(*s, st, true, FullResource()), "start state"));
    } else if (op < 62) {  // complete a state (or one that does not exist)
      ASSERT_NO_FATAL_FAILURE(CompleteChild(t, *s, s->states, "state"));
    } else if (op < 67) {  // transition: ends one state and starts the next at the same time
      const int from = Rand(static_cast<int>(s->states.size()) + 1);
      Members body;
      Event end;
      end.ms = Chance(50) && from < static_cast<int>(s->states.size())
                   ? s->states[static_cast<size_t>(from)].started.ms + Rand(1000)
                   : DrawTime();
      Members from_obj = {{"state_id", Value::Int(from)}};
      Members shared;
      if (Chance(50)) shared.emplace_back("interaction_id", Value::String("IX9"));
      if (Chance(50)) from_obj.emplace_back("disposition", Value::String("Moved"));
      Child next;
      next.id = static_cast<int>(s->states.size());
      next.link = from;
      next.type = DrawType({Value::Int(2), Value::String("S")});
      Members to_obj = {{"state_type", *next.type}};
      if (Chance(30)) {
        next.est = 5;
        to_obj.emplace_back("est_duration", Value::Int(5));
      }
      body.emplace_back("from", Value::Object(from_obj));
      body.emplace_back("to", Value::Object(to_obj));
      body.emplace_back("timestamp", Value::String(TimeText(end.ms)));
      for (const auto& m : shared) body.push_back(m);
      HttpReply r = Call(t, "POST", SvcPath(s->id, "/states/transition"), Body(body));
      if (from == static_cast<int>(s->states.size())) {
        ASSERT_NO_FATAL_FAILURE(ExpectNotFound(r, "transition from a missing state"));
        return;
      }
      // The shared fields go to both events, the from fields to the end event.
      end.fields = shared;
      for (size_t i = 1; i < from_obj.size(); ++i) end.fields.push_back(from_obj[i]);
      if (!ModelComplete(s->states[static_cast<size_t>(from)], {}, end)) {
        ASSERT_EQ(r.status, 400) << r.body;
        return;
      }
      next.started.ms = end.ms;
      next.started.fields = shared;
      s->states.push_back(next);
      ASSERT_NO_FATAL_FAILURE(
          ExpectReply(r, 201, StateJson(*s, next, true, FullResource()), "transition"));
    } else if (op < 77) {  // start a task
      Members body;
      Child task;
      task.id = static_cast<int>(s->tasks.size());
      if (Chance(70)) {
        task.type = DrawType({Value::Int(1), Value::String("T")});
        body.emplace_back("task_type", *task.type);
      }
      bool ok = true;
      if (Chance(50)) {
        task.link = Rand(static_cast<int>(s->states.size()) + 1);
        ok = *task.link < static_cast<int>(s->states.size());
        body.emplace_back("state_id", Value::Int(*task.link));
      }
      task.started.ms = DrawTime();
      body.emplace_back("timestamp", Value::String(TimeText(task.started.ms)));
      if (Chance(30)) {
        task.started.fields.emplace_back("resource_id", Value::Int(42));
        body.emplace_back("resource_id", Value::Int(42));
      }
      if (Chance(50)) {
        task.attached.emplace_back("note", Value::String("t" + std::to_string(Rand(3))));
        body.push_back(task.attached.back());
      }
      HttpReply r = Call(t, "POST", SvcPath(s->id, "/tasks/start"), Body(body));
      if (!ok) {
        ASSERT_EQ(r.status, 400) << r.body;
        return;
      }
      s->tasks.push_back(task);
      Use(task.started.ms);
      ASSERT_NO_FATAL_FAILURE(
          ExpectReply(r, 201, TaskJson(*s, task, true, FullResource()), "start task"));
    } else if (op < 85) {  // complete a task (or one that does not exist)
      ASSERT_NO_FATAL_FAILURE(CompleteChild(t, *s, s->tasks, "task"));
    } else if (op < 90) {  // extension write: replace, or merge into an object
      const bool merge = Chance(50);
      Value v = Value::Object({{Chance(50) ? "a" : "c", Value::Int(Rand(9))}});
      const Value* old = Find(s->attached, "ext");
      if (merge && old != nullptr) {
        Value merged = *old;
        for (const auto& [k, item] : v.object) Set(merged.object, k, item);
        Set(s->attached, "ext", merged);
      } else {
        Set(s->attached, "ext", v);
      }
      const std::string target =
          SvcPath(s->id, merge ? "/extensions/ext/merge" : "/extensions/ext");
      ASSERT_NO_FATAL_FAILURE(ExpectReply(Call(t, "PUT", target, Canon(v)), 200,
                                          ServiceJson(*s, FullResource()), "PUT " + target));
    } else if (op < 94) {  // delete
      const int64_t id = s->id;
      ASSERT_EQ(Call(t, "DELETE", SvcPath(id)).status, 200);
      t.services.remove_if([id](const Svc& x) { return x.id == id; });
      t.deleted.push_back(id);
    } else {  // writes to ids this tenant does not have: deleted, never handed out, the other's
      std::vector<int64_t> unknown = {t.last_id + 1 + Rand(1000)};
      if (!t.deleted.empty()) unknown.push_back(OneOf(t.deleted));
      for (const Svc& other : tenants_[&t == &tenants_[0] ? 1 : 0].services) {
        if (t.Find(other.id) == nullptr) unknown.push_back(other.id);
      }
      const int64_t id = OneOf(unknown);
      *touched = id;
      ASSERT_NO_FATAL_FAILURE(
          ExpectNotFound(Call(t, "POST", SvcPath(id, "/end"), "{}"), "end unknown"));
      ASSERT_NO_FATAL_FAILURE(
          ExpectNotFound(Call(t, "POST", SvcPath(id, "/states/start"), "{}"), "state on unknown"));
      ASSERT_NO_FATAL_FAILURE(ExpectNotFound(Call(t, "DELETE", SvcPath(id)), "delete unknown"));
    }
  }

  // Several clients at once, each starting services and completing a service no other client
  // touches; every write is acknowledged, ids are unique and new, and the model then matches.
  void Burst() {
    constexpr int kClients = 4;
    struct Job {
      Tenant* tenant;
      Members body;
      Svc model;
      Svc* to_complete = nullptr;
      Members end_body;
      Event end;
      HttpReply start_reply, end_reply;
    };
    std::vector<Job> jobs(kClients * 2);
    std::set<Svc*> taken;
    for (Job& job : jobs) {
      job.tenant = &PickTenant();
      if (!job.tenant->configured) job.tenant = &tenants_[0];
      std::tie(job.body, job.model) = DrawNewService();
      Svc* s = PickService(*job.tenant);
      if (s != nullptr && s->active() && taken.insert(s).second) {
        job.to_complete = s;
        std::tie(job.end_body, job.end) = DrawEnd(s->started.ms, false);
        job.end.ms = std::max(job.end.ms, s->started.ms);
        job.end_body[0].second = Value::String(Iso(job.end.ms));
      }
    }
    const int64_t last_ids[2] = {tenants_[0].last_id, tenants_[1].last_id};
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([this, c, &jobs] {
        HttpClient client(server_->port());
        for (size_t j = static_cast<size_t>(c); j < jobs.size(); j += kClients) {
          Job& job = jobs[j];
          job.start_reply = Call(client, *job.tenant, "POST", std::string(kCs) + "/services/start",
                                 Body(job.body));
          if (job.to_complete) {
            job.end_reply = Call(client, *job.tenant, "POST", SvcPath(job.to_complete->id, "/end"),
                                 Body(job.end_body));
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (Job& job : jobs) {
      ASSERT_NO_FATAL_FAILURE(AdoptStarted(*job.tenant, job.model, job.start_reply,
                                           last_ids[job.tenant == &tenants_[0] ? 0 : 1]));
      if (job.to_complete) {
        ASSERT_TRUE(ModelComplete(*job.to_complete, job.end_body, job.end));
        ASSERT_EQ(job.end_reply.status, 204) << job.end_reply.body;
      }
    }
  }

  // Stops the server (SIGTERM, or SIGKILL: acknowledged writes are synced) and starts it again
  // on the same data directory.
  void Restart() {
    if (Chance(50)) {
      ASSERT_EQ(server_->Stop(), 0);
    }
    StartServer(Flags());  // SIGKILLs a server still running
  }

  void ConfigureOtherTenant() {
    HttpReply r =
        client_->Post("/contextd/v1/tenants", R"({"name":")" + std::string(kOtherTenant) + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
    tenants_[1].configured = true;
  }

  // The other tenant before it is configured: every request is the documented tenant error.
  void TouchUnconfiguredTenant() {
    const Tenant& t = tenants_[1];
    ASSERT_NO_FATAL_FAILURE(ExpectUnknownTenant(
        Call(t, "POST", std::string(kCs) + "/services/start", R"({"contact_key":"K1"})"), "start"));
    ASSERT_NO_FATAL_FAILURE(
        ExpectUnknownTenant(Call(t, "GET", std::string(kCs) + "/services/anonymous/K1"), "query"));
    ASSERT_NO_FATAL_FAILURE(ExpectUnknownTenant(Call(t, "GET", SvcPath(1)), "get"));
  }

  void Run(uint32_t seed, int steps) {
    rng_.seed(seed);
    tenants_[0].configured = true;
    tenants_[1].name = kOtherTenant;
    const int configure_at = 10 + Rand(std::max(1, steps / 5));
    for (int step = 0; step < steps; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      if (step == configure_at) {
        ASSERT_NO_FATAL_FAILURE(ConfigureOtherTenant());
      }
      const int kind = Rand(1000);
      if (kind < 8) {
        ASSERT_NO_FATAL_FAILURE(Restart());
      } else if (kind < 20) {
        ASSERT_NO_FATAL_FAILURE(Burst());
      } else if (kind < 30 && !tenants_[1].configured) {
        ASSERT_NO_FATAL_FAILURE(TouchUnconfiguredTenant());
      } else {
        Tenant& t = PickTenant();
        if (!t.configured) continue;
        std::optional<int64_t> touched;
        ASSERT_NO_FATAL_FAILURE(Step(t, &touched));
        if (touched) {
          ASSERT_NO_FATAL_FAILURE(CheckService(t, *touched, DrawServiceRead()));
          if (const Svc* s = t.Find(*touched)) {
            ASSERT_NO_FATAL_FAILURE(CheckChildren(t, *s));
          }
          // The same id in the other tenant is that tenant's business only.
          if (tenants_[1].configured) {
            const Tenant& other = tenants_[&t == &tenants_[0] ? 1 : 0];
            ASSERT_NO_FATAL_FAILURE(CheckService(other, *touched, DrawServiceRead()));
          }
        }
      }
      for (int i = 0; i < 3; ++i) {
        Tenant& t = PickTenant();
        if (t.configured) {
          ASSERT_NO_FATAL_FAILURE(CheckList(t, DrawListQuery()));
        }
      }
      if (step % 100 == 99) {
        ASSERT_NO_FATAL_FAILURE(CheckEverything());
      }
    }
    ASSERT_NO_FATAL_FAILURE(Restart());
    ASSERT_NO_FATAL_FAILURE(CheckEverything());
    // Each tenant counts its own ids: the other's first id is the default tenant's first.
    if (tenants_[1].first_id != 0) {
      EXPECT_EQ(SequenceOf(tenants_[1].first_id), SequenceOf(tenants_[0].first_id));
    }
    EXPECT_GT(tenants_[0].services.size() + tenants_[1].services.size(), 50u);
  }
};

using ModelTest = OnEveryBackend<ModelFixture>;
INSTANTIATE_TEST_SUITE_P(Backends, ModelTest, ::testing::ValuesIn(kBackends), BackendTestName);

TEST_P(ModelTest, RandomLifecycleMatchesTheModel) {
  const uint32_t seed = SeedOfThisRun();
  SCOPED_TRACE("seed " + std::to_string(seed) + "; replay with CONTEXTD_MODEL_SEED=" +
               std::to_string(seed) + " build/tests/server_tests --gtest_filter='ModelTest.*'");
  Run(seed, StepsOfThisRun());
}

}  // namespace
}  // namespace contextd::testing
