#include "query/engine.h"

#include <utility>

#include "query/fields.h"
#include "storage/errors.h"
#include "storage/status_macros.h"

namespace contextd::query {
namespace {

using storage::Event;
using storage::Service;
using storage::TimeMs;

Event StartEvent(EventInput& in, TimeMs now_ms) {
  return Event{in.timestamp_ms.value_or(now_ms), std::move(in.fields)};
}

// Builds the end event of something started at `started_ms`.
absl::StatusOr<Event> EndEvent(EventInput& in, TimeMs started_ms, TimeMs now_ms) {
  Event e{in.timestamp_ms.value_or(now_ms), std::move(in.fields)};
  if (e.timestamp_ms < started_ms) {
    return absl::InvalidArgumentError("timestamp: the end event is earlier than the start event");
  }
  return e;
}

absl::Status CheckStateExists(const Service& s, int32_t state_id, std::string_view field) {
  if (state_id < 0 || static_cast<size_t>(state_id) >= s.states.size()) {
    return absl::InvalidArgumentError("field '" + std::string(field) + "': service " +
                                      std::to_string(s.service_id) + " has no state " +
                                      std::to_string(state_id));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T*> Child(std::vector<T>& items, int64_t id, absl::Status (*not_found)(int64_t)) {
  if (id < 0 || static_cast<size_t>(id) >= items.size()) return not_found(id);
  return &items[static_cast<size_t>(id)];
}

absl::Status AlreadyCompleted(std::string_view what, int64_t id) {
  return absl::FailedPreconditionError(std::string(what) + " " + std::to_string(id) +
                                       " is already completed");
}

// Completes `item` (a Service, State or Task) with `end`.
template <typename T>
absl::Status Complete(T& item, std::string_view what, int64_t id, EventInput& end, TimeMs now_ms) {
  if (item.completed) return AlreadyCompleted(what, id);
  ASSIGN_OR_RETURN(Event e, EndEvent(end, item.started.timestamp_ms, now_ms));
  item.completed = std::move(e);
  storage::MergeFields(item.attached, end.attached);
  return absl::OkStatus();
}

absl::Status ApplyExtension(storage::Fields& attached, const std::string& name,
                            storage::Value value, ExtensionWrite mode) {
  using Kind = storage::Value::Kind;
  if (mode == ExtensionWrite::kReplace) {
    if (value.kind != Kind::kObject && value.kind != Kind::kArray) {
      return absl::InvalidArgumentError("extension value must be a JSON object or array");
    }
    storage::SetField(attached, name, std::move(value));
    return absl::OkStatus();
  }
  if (value.kind != Kind::kObject) {
    return absl::InvalidArgumentError("merge body must be a JSON object");
  }
  for (auto& [key, old] : attached) {
    if (key != name) continue;
    if (old.kind != Kind::kObject) {
      return absl::InvalidArgumentError("extension '" + name +
                                        "' is not an object; merge is defined for objects");
    }
    storage::MergeFields(old.object, value.object);
    return absl::OkStatus();
  }
  attached.emplace_back(name, std::move(value));
  return absl::OkStatus();
}

// InvalidArgument if `s` is past kMaxAttachedKeys, kMaxStates or kMaxTasks.
absl::Status CheckBounds(const Service& s) {
  auto attached = [](const storage::Fields& f, std::string what) -> absl::Status {
    if (f.size() <= kMaxAttachedKeys) return absl::OkStatus();
    return absl::InvalidArgumentError(what + " would have more than " +
                                      std::to_string(kMaxAttachedKeys) + " attached data keys");
  };
  RETURN_IF_ERROR(attached(s.attached, "the service"));
  if (s.states.size() > kMaxStates) {
    return absl::InvalidArgumentError("a service has at most " + std::to_string(kMaxStates) +
                                      " states");
  }
  if (s.tasks.size() > kMaxTasks) {
    return absl::InvalidArgumentError("a service has at most " + std::to_string(kMaxTasks) +
                                      " tasks");
  }
  for (const storage::State& st : s.states) {
    RETURN_IF_ERROR(attached(st.attached, "state " + std::to_string(st.state_id)));
  }
  for (const storage::Task& t : s.tasks) {
    RETURN_IF_ERROR(attached(t.attached, "task " + std::to_string(t.task_id)));
  }
  return absl::OkStatus();
}

// Fills the lifecycle fields shared by new states and tasks.
template <typename T>
void Begin(T& item, std::optional<int64_t> est_duration_s, const EventInput& in, TimeMs now_ms) {
  item.est_duration_s = est_duration_s;
  item.attached = in.attached;
  item.started = Event{in.timestamp_ms.value_or(now_ms), in.fields};
}

// In one read-modify-write of the service, builds a new state or task with `make` and
// appends it to `list` (states or tasks). Returns the appended item.
template <typename T, typename Make>
absl::StatusOr<T> AppendChild(storage::ServiceStore* store, std::string_view tenant,
                              uint64_t service_id, std::vector<T> Service::*list, Make make) {
  T created;
  absl::StatusOr<Service> updated =
      store->Update(tenant, service_id, [&](Service& s) -> absl::Status {
        ASSIGN_OR_RETURN(created, make(s));
        (s.*list).push_back(created);
        return CheckBounds(s);
      });
  if (!updated.ok()) return updated.status();
  return created;
}

}  // namespace

absl::Status StateNotFound(int64_t state_id) {
  return storage::NotFound("state", std::to_string(state_id));
}

absl::Status TaskNotFound(int64_t task_id) {
  return storage::NotFound("task", std::to_string(task_id));
}

absl::StatusOr<Service> Engine::StartService(std::string_view tenant, ServiceStart start,
                                             TimeMs now_ms) {
  if (!start.customer_id && !start.contact_key) {
    return absl::InvalidArgumentError("a service needs 'customer_id' or 'contact_key'");
  }
  Service s;
  s.customer_id = std::move(start.customer_id);
  s.contact_key = std::move(start.contact_key);
  s.service_type = std::move(start.service_type);
  s.est_duration_s = start.est_duration_s;
  s.attached = std::move(start.event.attached);
  s.started = StartEvent(start.event, now_ms);
  RETURN_IF_ERROR(CheckBounds(s));
  return store_->Create(tenant, std::move(s));
}

absl::Status Engine::CompleteService(std::string_view tenant, uint64_t service_id, EventInput end,
                                     TimeMs now_ms) {
  return Update(tenant, service_id,
                [&](Service& s) {
                  return Complete(s, "service", static_cast<int64_t>(service_id), end, now_ms);
                })
      .status();
}

absl::StatusOr<Service> Engine::AssociateService(std::string_view tenant, uint64_t service_id,
                                                 std::string customer_id, ServiceUpdate update) {
  if (customer_id.empty()) return absl::InvalidArgumentError("customer_id must not be empty");
  return Update(tenant, service_id, [&](Service& s) {
    s.customer_id = customer_id;
    if (update.service_type) s.service_type = update.service_type;
    storage::MergeFields(s.started.fields, update.event.fields);
    storage::MergeFields(s.attached, update.event.attached);
    return absl::OkStatus();
  });
}

absl::Status Engine::DeleteService(std::string_view tenant, uint64_t service_id) {
  return store_->Delete(tenant, service_id);
}

absl::StatusOr<storage::State> Engine::StartState(std::string_view tenant, uint64_t service_id,
                                                  StateStart start, TimeMs now_ms) {
  return AppendChild(
      store_, tenant, service_id, &Service::states,
      [&](const Service& s) -> absl::StatusOr<storage::State> {
        if (start.previous_state_id) {
          RETURN_IF_ERROR(CheckStateExists(s, *start.previous_state_id, "previous_state_id"));
        }
        storage::State st;
        st.state_id = static_cast<int32_t>(s.states.size());
        st.state_type = start.state_type;
        st.previous_state_id = start.previous_state_id;
        Begin(st, start.est_duration_s, start.event, now_ms);
        return st;
      });
}

absl::Status Engine::CompleteState(std::string_view tenant, uint64_t service_id, int32_t state_id,
                                   EventInput end, TimeMs now_ms) {
  return Update(tenant, service_id,
                [&](Service& s) -> absl::Status {
                  ASSIGN_OR_RETURN(storage::State * st, Child(s.states, state_id, StateNotFound));
                  return Complete(*st, "state", state_id, end, now_ms);
                })
      .status();
}

absl::StatusOr<storage::State> Engine::TransitionState(std::string_view tenant, uint64_t service_id,
                                                       Transition t, TimeMs now_ms) {
  return AppendChild(
      store_, tenant, service_id, &Service::states,
      [&](Service& s) -> absl::StatusOr<storage::State> {
        ASSIGN_OR_RETURN(storage::State * from, Child(s.states, t.from_state_id, StateNotFound));
        EventInput end{t.shared.timestamp_ms, t.shared.fields, {}};
        storage::MergeFields(end.fields, t.from_fields);
        RETURN_IF_ERROR(Complete(*from, "state", t.from_state_id, end, now_ms));
        storage::State st;
        st.state_id = static_cast<int32_t>(s.states.size());
        st.state_type = t.to_state_type;
        st.previous_state_id = t.from_state_id;
        // The new state starts when the old one ends.
        EventInput start{from->completed->timestamp_ms, t.shared.fields, t.shared.attached};
        Begin(st, t.to_est_duration_s, start, now_ms);
        return st;
      });
}

absl::StatusOr<storage::Task> Engine::StartTask(std::string_view tenant, uint64_t service_id,
                                                TaskStart start, TimeMs now_ms) {
  return AppendChild(store_, tenant, service_id, &Service::tasks,
                     [&](const Service& s) -> absl::StatusOr<storage::Task> {
                       if (start.state_id) {
                         RETURN_IF_ERROR(CheckStateExists(s, *start.state_id, "state_id"));
                       }
                       storage::Task t;
                       t.task_id = static_cast<int32_t>(s.tasks.size());
                       t.task_type = start.task_type;
                       t.state_id = start.state_id;
                       Begin(t, start.est_duration_s, start.event, now_ms);
                       return t;
                     });
}

absl::Status Engine::CompleteTask(std::string_view tenant, uint64_t service_id, int32_t task_id,
                                  EventInput end, TimeMs now_ms) {
  return Update(tenant, service_id,
                [&](Service& s) -> absl::Status {
                  ASSIGN_OR_RETURN(storage::Task * t, Child(s.tasks, task_id, TaskNotFound));
                  return Complete(*t, "task", task_id, end, now_ms);
                })
      .status();
}

absl::StatusOr<Service> Engine::WriteExtension(std::string_view tenant, const ResourceRef& ref,
                                               const std::string& name, storage::Value value,
                                               ExtensionWrite mode) {
  if (name.empty() || FindEventField(name) != nullptr || IsRepresentationName(name)) {
    return absl::InvalidArgumentError("extension name '" + name +
                                      "' is empty or a documented field name");
  }
  return Update(tenant, ref.service_id, [&](Service& s) -> absl::Status {
    storage::Fields* attached = &s.attached;
    if (ref.state_id) {
      ASSIGN_OR_RETURN(storage::State * st, Child(s.states, *ref.state_id, StateNotFound));
      attached = &st->attached;
    } else if (ref.task_id) {
      ASSIGN_OR_RETURN(storage::Task * t, Child(s.tasks, *ref.task_id, TaskNotFound));
      attached = &t->attached;
    }
    return ApplyExtension(*attached, name, value, mode);
  });
}

absl::StatusOr<Service> Engine::Update(std::string_view tenant, uint64_t service_id,
                                       const storage::ServiceStore::Mutation& mutate) {
  return store_->Update(tenant, service_id, [&](Service& s) -> absl::Status {
    RETURN_IF_ERROR(mutate(s));
    return CheckBounds(s);
  });
}

absl::StatusOr<Service> Engine::GetService(std::string_view tenant, uint64_t service_id) {
  return store_->Get(tenant, service_id);
}

absl::StatusOr<std::vector<Service>> Engine::QueryServices(const ServiceQuery& query) {
  ASSIGN_OR_RETURN(std::vector<Service> candidates, store_->Scan(PlanServiceQuery(query)));
  std::vector<Service> out;
  out.reserve(candidates.size());
  for (Service& s : candidates) {
    if (MatchesServiceQuery(query, s)) out.push_back(std::move(s));
  }
  SortNewestFirst(out);
  return out;
}

}  // namespace contextd::query
