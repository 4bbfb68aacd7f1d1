#include "server/cs/cs_json.h"

#include <algorithm>
#include <limits>

#include "query/timestamp.h"
#include "server/api/json.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using query::FieldPlace;
using query::FieldSpec;
using query::FieldType;
using storage::Fields;
using storage::Value;

int32_t IdOf(const storage::State& s) { return s.state_id; }
int32_t IdOf(const storage::Task& t) { return t.task_id; }

absl::Status BadField(std::string_view name, std::string_view why) {
  return MemberError(Naming::kQuoted, name, why);
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// Type-checks one documented field; timestamps come back in canonical form.
absl::StatusOr<Value> CheckField(const FieldSpec& spec, const Value& v) {
  switch (spec.type) {
    case FieldType::kBusinessAttribute:
      if (!v.is_number() && v.kind != Value::Kind::kString) {
        return BadField(spec.name, "expected a number or a string");
      }
      return v;
    case FieldType::kString:
      if (v.kind != Value::Kind::kString) return BadField(spec.name, "expected a string");
      if (spec.max_length > 0 && CodePoints(v.string_value) > spec.max_length) {
        return BadField(spec.name,
                        "longer than " + std::to_string(spec.max_length) + " characters");
      }
      return v;
    case FieldType::kInteger:
      if (v.kind != Value::Kind::kInt) return BadField(spec.name, "expected an integer");
      return v;
    case FieldType::kTimestamp: {
      if (v.kind != Value::Kind::kString) return BadField(spec.name, "expected a timestamp string");
      absl::StatusOr<storage::TimeMs> t = query::ParseTimestamp(v.string_value);
      if (!t.ok()) return BadField(spec.name, std::string(t.status().message()));
      return Value::Int(*t);
    }
  }
  return BadField(spec.name, "unsupported type");
}

// A body split by the field vocabulary: event fields, hoisted resource fields, the rest.
struct SplitBody {
  query::EventInput event;
  Fields resource;  // FieldPlace::kResource fields, type-checked
};

absl::StatusOr<SplitBody> Split(const Value& body, uint32_t kind) {
  RETURN_IF_ERROR(ObjectMembers(body).status());
  SplitBody out;
  for (const auto& [name, value] : body.object) {
    const FieldSpec* spec = query::FindEventField(name);
    if (spec == nullptr) {
      if (query::IsRepresentationName(name)) return BadField(name, "is set by the server");
      out.event.attached.emplace_back(name, value);
      continue;
    }
    if (!(spec->kinds & kind)) return BadField(name, "not allowed in this request");
    ASSIGN_OR_RETURN(Value checked, CheckField(*spec, value));
    switch (spec->place) {
      case FieldPlace::kTimestamp:
        out.event.timestamp_ms = checked.int_value;
        break;
      case FieldPlace::kEvent:
        if (spec->type == FieldType::kTimestamp) {
          checked = Value::String(query::FormatTimestamp(checked.int_value));
        }
        out.event.fields.emplace_back(name, std::move(checked));
        break;
      case FieldPlace::kResource:
        out.resource.emplace_back(name, std::move(checked));
        break;
    }
  }
  return out;
}

std::optional<Value> Take(const Fields& fields, std::string_view name) {
  const Value* v = storage::FindField(fields, name);
  if (v == nullptr) return std::nullopt;
  return *v;
}

std::optional<std::string> TakeString(const Fields& fields, std::string_view name) {
  const Value* v = storage::FindField(fields, name);
  if (v == nullptr) return std::nullopt;
  return v->string_value;
}

std::optional<int64_t> TakeInt(const Fields& fields, std::string_view name) {
  const Value* v = storage::FindField(fields, name);
  if (v == nullptr) return std::nullopt;
  return v->int_value;
}

absl::StatusOr<std::optional<int32_t>> TakeId(const Fields& fields, std::string_view name) {
  std::optional<int64_t> v = TakeInt(fields, name);
  if (!v) return std::optional<int32_t>();
  if (*v < 0 || *v > std::numeric_limits<int32_t>::max()) {
    return BadField(name, "expected a non-negative 32-bit integer");
  }
  return std::optional<int32_t>(static_cast<int32_t>(*v));
}

// ---- rendering ----

void WriteEvent(JsonWriter& w, const storage::Event& e) {
  w.BeginObject();
  w.Key("timestamp");
  w.String(query::FormatTimestamp(e.timestamp_ms));
  for (const auto& [key, value] : e.fields) {
    w.Key(key);
    w.Value(value);
  }
  w.EndObject();
}

void WriteAttached(JsonWriter& w, const Fields& attached, const query::KeySelection& select) {
  if (select.empty()) return;
  for (const auto& [key, value] : attached) {
    if (!select.Includes(key)) continue;
    w.Key(key);
    w.Value(value);
  }
}

// Writes the members shared by services, states and tasks after their ids and types.
template <typename T>
void WriteLifecycle(JsonWriter& w, const T& item) {
  if (item.est_duration_s) {
    w.Key("est_duration");
    w.Int(*item.est_duration_s);
  }
  w.Key("started");
  WriteEvent(w, item.started);
  if (item.completed) {
    w.Key("completed");
    WriteEvent(w, *item.completed);
  }
}

void WriteTask(JsonWriter& w, const storage::Service* top_level_of, const storage::Task& t,
               const query::ReadOptions& read) {
  w.BeginObject();
  if (top_level_of != nullptr) {
    w.Key("service_id");
    w.Uint(top_level_of->service_id);
  }
  w.Key("task_id");
  w.Int(t.task_id);
  if (t.task_type) {
    w.Key("task_type");
    w.Value(*t.task_type);
  }
  if (t.state_id) {
    w.Key("state_id");
    w.Int(*t.state_id);
  }
  WriteLifecycle(w, t);
  WriteAttached(w, t.attached, read.extensions.task);
  w.EndObject();
}

void WriteTaskArray(JsonWriter& w, const char* key, const storage::Service& s, bool active,
                    std::optional<int32_t> state_id, const query::ReadOptions& read) {
  w.Key(key);
  w.BeginArray();
  for (const storage::Task& t : s.tasks) {
    if (t.active() != active) continue;
    if (state_id && t.state_id != state_id) continue;
    WriteTask(w, nullptr, t, read);
  }
  w.EndArray();
}

// A state nested in a service carries no tasks; a top-level one may (Query States).
void WriteState(JsonWriter& w, const storage::Service& s, bool top_level, const storage::State& st,
                const query::ReadOptions& read) {
  w.BeginObject();
  if (top_level) {
    w.Key("service_id");
    w.Uint(s.service_id);
  }
  w.Key("state_id");
  w.Int(st.state_id);
  if (st.state_type) {
    w.Key("state_type");
    w.Value(*st.state_type);
  }
  if (st.previous_state_id) {
    w.Key("previous_state_id");
    w.Int(*st.previous_state_id);
  }
  WriteLifecycle(w, st);
  if (top_level && read.expand.active_tasks) {
    WriteTaskArray(w, "active_tasks", s, true, st.state_id, read);
  }
  if (top_level && read.expand.completed_tasks) {
    WriteTaskArray(w, "completed_tasks", s, false, st.state_id, read);
  }
  WriteAttached(w, st.attached, read.extensions.state);
  w.EndObject();
}

void WriteStateArray(JsonWriter& w, const char* key, const storage::Service& s, bool active,
                     const query::ReadOptions& read) {
  w.Key(key);
  w.BeginArray();
  for (const storage::State& st : s.states) {
    if (st.active() == active) WriteState(w, s, false, st, read);
  }
  w.EndArray();
}

void WriteService(JsonWriter& w, const storage::Service& s, const query::ReadOptions& read) {
  w.BeginObject();
  w.Key("service_id");
  w.Uint(s.service_id);
  if (s.customer_id) {
    w.Key("customer_id");
    w.String(*s.customer_id);
  }
  if (s.contact_key) {
    w.Key("contact_key");
    w.String(*s.contact_key);
  }
  if (s.service_type) {
    w.Key("service_type");
    w.Value(*s.service_type);
  }
  WriteLifecycle(w, s);
  if (read.expand.active_states) WriteStateArray(w, "active_states", s, true, read);
  if (read.expand.completed_states) WriteStateArray(w, "completed_states", s, false, read);
  if (read.expand.active_tasks) WriteTaskArray(w, "active_tasks", s, true, std::nullopt, read);
  if (read.expand.completed_tasks) {
    WriteTaskArray(w, "completed_tasks", s, false, std::nullopt, read);
  }
  WriteAttached(w, s.attached, read.extensions.service);
  w.EndObject();
}

}  // namespace

absl::StatusOr<query::ServiceStart> ParseServiceStart(const Value& body) {
  ASSIGN_OR_RETURN(SplitBody split, Split(body, query::kServiceStart));
  query::ServiceStart out;
  out.customer_id = TakeString(split.resource, "customer_id");
  out.contact_key = TakeString(split.resource, "contact_key");
  if (out.customer_id && out.customer_id->empty()) return BadField("customer_id", "is empty");
  if (out.contact_key && out.contact_key->empty()) return BadField("contact_key", "is empty");
  out.service_type = Take(split.resource, "service_type");
  out.est_duration_s = TakeInt(split.resource, "est_duration");
  out.event = std::move(split.event);
  return out;
}

absl::StatusOr<query::StateStart> ParseStateStart(const Value& body) {
  ASSIGN_OR_RETURN(SplitBody split, Split(body, query::kStateStart));
  query::StateStart out;
  out.state_type = Take(split.resource, "state_type");
  ASSIGN_OR_RETURN(out.previous_state_id, TakeId(split.resource, "previous_state_id"));
  out.est_duration_s = TakeInt(split.resource, "est_duration");
  out.event = std::move(split.event);
  return out;
}

absl::StatusOr<query::TaskStart> ParseTaskStart(const Value& body) {
  ASSIGN_OR_RETURN(SplitBody split, Split(body, query::kTaskStart));
  query::TaskStart out;
  out.task_type = Take(split.resource, "task_type");
  ASSIGN_OR_RETURN(out.state_id, TakeId(split.resource, "state_id"));
  out.est_duration_s = TakeInt(split.resource, "est_duration");
  out.event = std::move(split.event);
  return out;
}

absl::StatusOr<query::EventInput> ParseEndEvent(const Value& body, query::EventKind kind) {
  ASSIGN_OR_RETURN(SplitBody split, Split(body, kind));
  return std::move(split.event);
}

absl::StatusOr<query::ServiceUpdate> ParseAssociate(const Value& body) {
  ASSIGN_OR_RETURN(SplitBody split, Split(body, query::kAssociate));
  query::ServiceUpdate out;
  out.service_type = Take(split.resource, "service_type");
  out.event = std::move(split.event);
  return out;
}

absl::StatusOr<query::Transition> ParseTransition(const Value& body) {
  RETURN_IF_ERROR(ObjectMembers(body).status());
  Value shared = Value::Object({});
  const Value* from = nullptr;
  const Value* to = nullptr;
  for (const auto& member : body.object) {
    if (member.first == "from") {
      from = &member.second;
    } else if (member.first == "to") {
      to = &member.second;
    } else {
      shared.object.push_back(member);
    }
  }
  if (from == nullptr || from->kind != Value::Kind::kObject) {
    return BadField("from", "required, an object with 'state_id'");
  }
  if (to == nullptr || to->kind != Value::Kind::kObject) {
    return BadField("to", "required, an object");
  }
  query::Transition out;
  ASSIGN_OR_RETURN(SplitBody split, Split(shared, query::kTransition));
  out.shared = std::move(split.event);

  bool has_from_id = false;
  for (const auto& [name, value] : from->object) {
    if (name == "state_id") {
      if (value.kind != Value::Kind::kInt || value.int_value < 0 ||
          value.int_value > std::numeric_limits<int32_t>::max()) {
        return BadField("from.state_id", "expected a non-negative 32-bit integer");
      }
      out.from_state_id = static_cast<int32_t>(value.int_value);
      has_from_id = true;
    } else if (name == "disposition" || name == "disposition_desc") {
      ASSIGN_OR_RETURN(Value checked, CheckField(*query::FindEventField(name), value));
      out.from_fields.emplace_back(name, std::move(checked));
    } else {
      return BadField("from." + name, "not allowed in a transition");
    }
  }
  if (!has_from_id) return BadField("from.state_id", "required");
  for (const auto& [name, value] : to->object) {
    if (name == "state_type" || name == "est_duration") {
      ASSIGN_OR_RETURN(Value checked, CheckField(*query::FindEventField(name), value));
      if (name == "state_type") {
        out.to_state_type = std::move(checked);
      } else {
        out.to_est_duration_s = checked.int_value;
      }
    } else {
      return BadField("to." + name, "not allowed in a transition");
    }
  }
  return out;
}

namespace {

absl::StatusOr<storage::Event> ParseStoredEvent(Value& v, const std::string& where) {
  if (v.kind != Value::Kind::kObject) return BadField(where, "expected an object");
  storage::Event e;
  bool have_time = false;
  for (auto& [name, value] : v.object) {
    if (name == "timestamp") {
      if (value.kind != Value::Kind::kString)
        return BadField(where + ".timestamp", "expected a timestamp");
      absl::StatusOr<storage::TimeMs> t = query::ParseTimestamp(value.string_value);
      if (!t.ok()) return BadField(where + ".timestamp", std::string(t.status().message()));
      e.timestamp_ms = *t;
      have_time = true;
    } else {
      e.fields.emplace_back(std::move(name), std::move(value));
    }
  }
  if (!have_time) return BadField(where + ".timestamp", "required");
  return e;
}

absl::StatusOr<int64_t> IntField(const Value& v, const std::string& where, int64_t max) {
  if (v.kind != Value::Kind::kInt || v.int_value < 0 || v.int_value > max) {
    return BadField(where, "expected an integer from 0 to " + std::to_string(max));
  }
  return v.int_value;
}

// The members every state and task representation shares; returns false for other names.
template <typename T>
absl::StatusOr<bool> ParseLifecycleMember(const std::string& name, Value& value,
                                          const std::string& where, T* item) {
  if (name == "est_duration") {
    ASSIGN_OR_RETURN(item->est_duration_s,
                     IntField(value, where + ".est_duration", std::numeric_limits<int64_t>::max()));
  } else if (name == "started") {
    ASSIGN_OR_RETURN(item->started, ParseStoredEvent(value, where + ".started"));
  } else if (name == "completed") {
    ASSIGN_OR_RETURN(item->completed, ParseStoredEvent(value, where + ".completed"));
  } else {
    return false;
  }
  return true;
}

// Collects the states or tasks of `arrays` (active and completed) into `out`, ordered by id.
template <typename T, typename ParseOne>
absl::Status ParseChildren(Value* active, Value* completed, const char* what, std::vector<T>* out,
                           ParseOne parse_one) {
  for (Value* list : {active, completed}) {
    if (list == nullptr) continue;
    if (list->kind != Value::Kind::kArray) return BadField(what, "expected an array");
    for (Value& item : list->array) {
      ASSIGN_OR_RETURN(T parsed, parse_one(item));
      if (parsed.active() != (list == active)) {
        return BadField(what, "a completed one is listed as active, or the reverse");
      }
      out->push_back(std::move(parsed));
    }
  }
  std::sort(out->begin(), out->end(), [](const T& a, const T& b) { return IdOf(a) < IdOf(b); });
  for (size_t i = 0; i < out->size(); ++i) {
    if (IdOf((*out)[i]) != static_cast<int32_t>(i)) {
      return BadField(what, "ids must number 0 to n-1 without gaps or repeats");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<storage::Service> ParseServiceRecord(Value json) {
  if (json.kind != Value::Kind::kObject)
    return absl::InvalidArgumentError("expected a JSON object");
  storage::Service s;
  Value *active_states = nullptr, *completed_states = nullptr, *active_tasks = nullptr,
        *completed_tasks = nullptr;
  bool have_started = false;
  for (auto& [name, value] : json.object) {
    if (name == "service_id") {
      ASSIGN_OR_RETURN(int64_t id, IntField(value, name, static_cast<int64_t>(storage::kMaxId)));
      s.service_id = static_cast<uint64_t>(id);
    } else if (name == "customer_id" || name == "contact_key") {
      if (value.kind != Value::Kind::kString || value.string_value.empty()) {
        return BadField(name, "expected a non-empty string");
      }
      (name == "customer_id" ? s.customer_id : s.contact_key) = value.string_value;
    } else if (name == "service_type") {
      ASSIGN_OR_RETURN(s.service_type, CheckField(*query::FindEventField(name), value));
    } else if (name == "active_states") {
      active_states = &value;
    } else if (name == "completed_states") {
      completed_states = &value;
    } else if (name == "active_tasks") {
      active_tasks = &value;
    } else if (name == "completed_tasks") {
      completed_tasks = &value;
    } else {
      ASSIGN_OR_RETURN(bool lifecycle, ParseLifecycleMember(name, value, "service", &s));
      have_started = have_started || name == "started";
      if (!lifecycle) s.attached.emplace_back(std::move(name), std::move(value));
    }
  }
  if (!s.customer_id && !s.contact_key) {
    return absl::InvalidArgumentError("a service needs 'customer_id' or 'contact_key'");
  }
  if (!have_started) return BadField("started", "required");
  RETURN_IF_ERROR(ParseChildren(
      active_states, completed_states, "states", &s.states,
      [](Value& v) -> absl::StatusOr<storage::State> {
        if (v.kind != Value::Kind::kObject) return BadField("states", "expected objects");
        storage::State st;
        st.state_id = -1;
        for (auto& [name, value] : v.object) {
          if (name == "state_id") {
            ASSIGN_OR_RETURN(int64_t id, IntField(value, "state_id", 1 << 30));
            st.state_id = static_cast<int32_t>(id);
          } else if (name == "state_type") {
            ASSIGN_OR_RETURN(st.state_type, CheckField(*query::FindEventField(name), value));
          } else if (name == "previous_state_id") {
            ASSIGN_OR_RETURN(int64_t id, IntField(value, "previous_state_id", 1 << 30));
            st.previous_state_id = static_cast<int32_t>(id);
          } else if (name != "service_id") {
            ASSIGN_OR_RETURN(bool lifecycle, ParseLifecycleMember(name, value, "state", &st));
            if (!lifecycle) st.attached.emplace_back(std::move(name), std::move(value));
          }
        }
        return st;
      }));
  RETURN_IF_ERROR(ParseChildren(
      active_tasks, completed_tasks, "tasks", &s.tasks,
      [&s](Value& v) -> absl::StatusOr<storage::Task> {
        if (v.kind != Value::Kind::kObject) return BadField("tasks", "expected objects");
        storage::Task t;
        t.task_id = -1;
        for (auto& [name, value] : v.object) {
          if (name == "task_id") {
            ASSIGN_OR_RETURN(int64_t id, IntField(value, "task_id", 1 << 30));
            t.task_id = static_cast<int32_t>(id);
          } else if (name == "task_type") {
            ASSIGN_OR_RETURN(t.task_type, CheckField(*query::FindEventField(name), value));
          } else if (name == "state_id") {
            ASSIGN_OR_RETURN(int64_t id, IntField(value, "task state_id", 1 << 30));
            if (static_cast<size_t>(id) >= s.states.size()) {
              return BadField("task state_id", "names no state of the service");
            }
            t.state_id = static_cast<int32_t>(id);
          } else if (name != "service_id") {
            ASSIGN_OR_RETURN(bool lifecycle, ParseLifecycleMember(name, value, "task", &t));
            if (!lifecycle) t.attached.emplace_back(std::move(name), std::move(value));
          }
        }
        return t;
      }));
  for (const storage::State& st : s.states) {
    if (st.previous_state_id && static_cast<size_t>(*st.previous_state_id) >= s.states.size()) {
      return BadField("previous_state_id", "names no state of the service");
    }
  }
  return s;
}

std::string RenderService(const storage::Service& service, const query::ReadOptions& read) {
  std::string out;
  JsonWriter w(&out);
  WriteService(w, service, read);
  return out;
}

std::string RenderServices(const std::vector<storage::Service>& services,
                           const query::ReadOptions& read) {
  std::string out;
  out.reserve(services.size() * 256 + 2);
  JsonWriter w(&out);
  w.BeginArray();
  for (const storage::Service& s : services) WriteService(w, s, read);
  w.EndArray();
  return out;
}

std::string RenderState(const storage::Service& service, const storage::State& state,
                        const query::ReadOptions& read) {
  std::string out;
  JsonWriter w(&out);
  WriteState(w, service, true, state, read);
  return out;
}

std::string RenderStates(const storage::Service& service,
                         const std::vector<const storage::State*>& states,
                         const query::ReadOptions& read) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const storage::State* st : states) WriteState(w, service, true, *st, read);
  w.EndArray();
  return out;
}

std::string RenderTask(const storage::Service& service, const storage::Task& task,
                       const query::ReadOptions& read) {
  std::string out;
  JsonWriter w(&out);
  WriteTask(w, &service, task, read);
  return out;
}

std::string RenderTasks(const storage::Service& service,
                        const std::vector<const storage::Task*>& tasks,
                        const query::ReadOptions& read) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const storage::Task* t : tasks) WriteTask(w, &service, *t, read);
  w.EndArray();
  return out;
}

}  // namespace contextd::server
