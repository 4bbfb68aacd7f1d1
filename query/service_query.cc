#include "query/service_query.h"

#include <algorithm>
#include <charconv>

#include "query/text.h"
#include "query/timestamp.h"
#include "storage/status_macros.h"

namespace contextd::query {
namespace {

using storage::IndexKind;
using storage::IndexScan;
using storage::Service;
using storage::TimeRange;

enum class ResourceKind { kService, kState, kTask };

absl::Status BadParam(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError("parameter '" + std::string(name) + "': " + std::string(why));
}

absl::Status RejectRepeats(const Params& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].first.empty()) {
      return absl::InvalidArgumentError("a query parameter has an empty name");
    }
    for (size_t j = 0; j < i; ++j) {
      if (params[j].first == params[i].first) {
        return BadParam(params[i].first, "given more than once");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseBool(std::string_view name, std::string_view text) {
  if (EqualsIgnoreCase(text, "true")) return true;
  if (EqualsIgnoreCase(text, "false")) return false;
  return BadParam(name, "expected true or false, got '" + std::string(text) + "'");
}

absl::StatusOr<storage::TimeMs> ParseTime(std::string_view name, std::string_view text) {
  absl::StatusOr<storage::TimeMs> t = ParseQueryTimestamp(text);
  if (!t.ok()) return BadParam(name, std::string(t.status().message()));
  return t;
}

absl::StatusOr<std::vector<std::string>> ParseList(std::string_view name, std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return BadParam(name, "empty element in comma-separated list");
    out.emplace_back(item);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

absl::Status ParseExtensions(std::string_view text, ResourceKind top, ExtensionSelection* out) {
  ASSIGN_OR_RETURN(std::vector<std::string> items, ParseList("extensions", text));
  for (const std::string& item : items) {
    KeySelection* target = top == ResourceKind::kService ? &out->service
                           : top == ResourceKind::kState ? &out->state
                                                         : &out->task;
    std::string_view key = item;
    if (key.starts_with("State.")) {
      target = &out->state;
      key.remove_prefix(6);
    } else if (key.starts_with("Task.")) {
      target = &out->task;
      key.remove_prefix(5);
    }
    if (key.empty()) return BadParam("extensions", "empty name in '" + item + "'");
    if (key == "*") {
      target->all = true;
    } else {
      target->keys.emplace_back(key);
    }
  }
  return absl::OkStatus();
}

// Handles the parameters every read shares. Returns true if `name` was one of them.
absl::StatusOr<bool> ParseReadParam(const std::string& name, const std::string& value,
                                    ResourceKind top, bool allow_state_flags, ReadOptions* read) {
  if (name == "extensions") {
    RETURN_IF_ERROR(ParseExtensions(value, top, &read->extensions));
    return true;
  }
  bool* flag = nullptr;
  if (name == "active_tasks") flag = &read->expand.active_tasks;
  if (name == "completed_tasks") flag = &read->expand.completed_tasks;
  if (allow_state_flags && name == "active_states") flag = &read->expand.active_states;
  if (allow_state_flags && name == "completed_states") flag = &read->expand.completed_states;
  if (flag == nullptr) return false;
  ASSIGN_OR_RETURN(*flag, ParseBool(name, value));
  return true;
}

absl::Status CheckWindow(std::string_view from_name, const std::optional<TimeRange>& range) {
  if (range && range->from_ms > range->to_ms) {
    return BadParam(from_name, "is later than its _to bound");
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t> ParseInt32(std::string_view name, std::string_view text) {
  int32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return BadParam(name, "expected an integer, got '" + std::string(text) + "'");
  }
  return v;
}

bool ViewAdmits(View view, bool active) {
  return view == View::kAll || (view == View::kActive) == active;
}

}  // namespace

bool KeySelection::Includes(std::string_view key) const {
  if (all) return true;
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

absl::StatusOr<ServiceQuery> ParseServiceQuery(std::string tenant, storage::OwnerKind owner_kind,
                                               std::string owner, View view, const Params& params) {
  RETURN_IF_ERROR(RejectRepeats(params));
  ServiceQuery q;
  q.tenant = std::move(tenant);
  q.owner_kind = owner_kind;
  q.owner = std::move(owner);
  q.view = view;
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(bool handled,
                     ParseReadParam(name, value, ResourceKind::kService, true, &q.read));
    if (handled) continue;
    if (name == "started_from" || name == "started_to") {
      ASSIGN_OR_RETURN(storage::TimeMs t, ParseTime(name, value));
      if (!q.started) q.started.emplace();
      (name == "started_from" ? q.started->from_ms : q.started->to_ms) = t;
    } else if (name == "completed_from" || name == "completed_to") {
      if (view == View::kActive) {
        return BadParam(name, "not allowed when querying active services");
      }
      ASSIGN_OR_RETURN(storage::TimeMs t, ParseTime(name, value));
      if (!q.completed) q.completed.emplace();
      (name == "completed_from" ? q.completed->from_ms : q.completed->to_ms) = t;
    } else if (name == "service_types") {
      ASSIGN_OR_RETURN(q.service_types, ParseList(name, value));
    } else {
      q.extension_filters.emplace_back(name, value);
    }
  }
  RETURN_IF_ERROR(CheckWindow("started_from", q.started));
  RETURN_IF_ERROR(CheckWindow("completed_from", q.completed));
  return q;
}

IndexScan PlanServiceQuery(const ServiceQuery& q) {
  IndexScan scan;
  scan.tenant = q.tenant;
  scan.owner_kind = q.owner_kind;
  scan.owner = q.owner;
  if (q.completed) {
    scan.index = IndexKind::kCompleted;
    scan.range = *q.completed;
  } else if (q.view == View::kActive) {
    scan.index = IndexKind::kActive;
    scan.range = q.started.value_or(TimeRange());
  } else {
    scan.index = IndexKind::kStarted;
    scan.range = q.started.value_or(TimeRange());
    if (q.view == View::kCompleted) scan.status = IndexScan::Status::kCompleted;
  }
  return scan;
}

bool TypeMatches(const std::optional<storage::Value>& type, const std::vector<std::string>& types) {
  if (types.empty()) return true;
  if (!type || !type->is_scalar()) return false;
  const std::string text = type->ScalarText();
  return std::find(types.begin(), types.end(), text) != types.end();
}

bool MatchesServiceQuery(const ServiceQuery& q, const Service& s) {
  if (q.owner_kind == storage::OwnerKind::kCustomer) {
    if (s.customer_id != q.owner) return false;
  } else if (!s.anonymous() || s.contact_key != q.owner) {
    return false;
  }
  if (!ViewAdmits(q.view, s.active())) return false;
  if (q.started && !q.started->Contains(s.started.timestamp_ms)) return false;
  if (q.completed && (!s.completed || !q.completed->Contains(s.completed->timestamp_ms))) {
    return false;
  }
  if (!TypeMatches(s.service_type, q.service_types)) return false;
  for (const auto& [key, text] : q.extension_filters) {
    const storage::Value* v = storage::FindField(s.attached, key);
    if (v == nullptr || !v->is_scalar() || v->ScalarText() != text) return false;
  }
  return true;
}

void SortNewestFirst(std::vector<Service>& services) {
  std::sort(services.begin(), services.end(), [](const Service& a, const Service& b) {
    if (a.started.timestamp_ms != b.started.timestamp_ms) {
      return a.started.timestamp_ms > b.started.timestamp_ms;
    }
    return a.service_id > b.service_id;
  });
}

absl::StatusOr<ReadOptions> ParseServiceReadParams(const Params& params) {
  RETURN_IF_ERROR(RejectRepeats(params));
  ReadOptions read;
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(bool handled,
                     ParseReadParam(name, value, ResourceKind::kService, true, &read));
    if (!handled) return BadParam(name, "unknown parameter");
  }
  return read;
}

absl::StatusOr<StateQuery> ParseStateQuery(std::optional<View> view, const Params& params) {
  RETURN_IF_ERROR(RejectRepeats(params));
  StateQuery q;
  for (const auto& [name, value] : params) {
    ASSIGN_OR_RETURN(bool handled,
                     ParseReadParam(name, value, ResourceKind::kState, false, &q.read));
    if (handled) continue;
    if (view && name == "state_types") {
      ASSIGN_OR_RETURN(q.state_types, ParseList(name, value));
    } else {
      return BadParam(name, "unknown parameter");
    }
  }
  return q;
}

absl::StatusOr<TaskQuery> ParseTaskQuery(std::optional<View> view, const Params& params) {
  RETURN_IF_ERROR(RejectRepeats(params));
  TaskQuery q;
  for (const auto& [name, value] : params) {
    if (name == "extensions") {
      RETURN_IF_ERROR(ParseExtensions(value, ResourceKind::kTask, &q.read.extensions));
    } else if (view && name == "task_types") {
      ASSIGN_OR_RETURN(q.task_types, ParseList(name, value));
    } else if (view && name == "state_id") {
      ASSIGN_OR_RETURN(q.state_id, ParseInt32(name, value));
    } else {
      return BadParam(name, "unknown parameter");
    }
  }
  return q;
}

std::vector<const storage::State*> SelectStates(const Service& service, View view,
                                                const StateQuery& q) {
  std::vector<const storage::State*> out;
  for (const storage::State& st : service.states) {
    if (ViewAdmits(view, st.active()) && TypeMatches(st.state_type, q.state_types)) {
      out.push_back(&st);
    }
  }
  return out;
}

std::vector<const storage::Task*> SelectTasks(const Service& service, View view,
                                              const TaskQuery& q) {
  std::vector<const storage::Task*> out;
  for (const storage::Task& t : service.tasks) {
    if (!ViewAdmits(view, t.active()) || !TypeMatches(t.task_type, q.task_types)) continue;
    if (q.state_id && t.state_id != q.state_id) continue;
    out.push_back(&t);
  }
  return out;
}

}  // namespace contextd::query
