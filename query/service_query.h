#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/model.h"
#include "storage/service_store.h"

namespace contextd::query {

// Query parameters after percent-decoding, in request order (repeats kept, so they can be
// rejected).
using Params = std::vector<std::pair<std::string, std::string>>;

enum class View { kAll, kActive, kCompleted };

// Which nested arrays a read adds to a service (or, for tasks, to a state).
struct Expand {
  bool active_states = false;
  bool completed_states = false;
  bool active_tasks = false;
  bool completed_tasks = false;
};

// Which attached-data keys a read includes for one kind of resource.
struct KeySelection {
  bool all = false;
  std::vector<std::string> keys;

  bool Includes(std::string_view key) const;
  bool empty() const { return !all && keys.empty(); }
};

// The `extensions` parameter: bare names select keys of the resource read; `State.x` and
// `Task.x` select keys of nested states and tasks; `*` (also `State.*`, `Task.*`) selects all.
struct ExtensionSelection {
  KeySelection service;
  KeySelection state;
  KeySelection task;
};

// How to render what a read returns.
struct ReadOptions {
  Expand expand;
  ExtensionSelection extensions;
};

// A validated Query Customer Services / Query Anonymous Services request.
struct ServiceQuery {
  std::string tenant;
  storage::OwnerKind owner_kind = storage::OwnerKind::kCustomer;
  std::string owner;
  View view = View::kAll;
  std::optional<storage::TimeRange> started;
  std::optional<storage::TimeRange> completed;
  std::vector<std::string> service_types;  // any of these (as text); empty = all
  std::vector<std::pair<std::string, std::string>> extension_filters;  // all must hold
  ReadOptions read;
};

// Validates the parameters of a services query (section 0 of the API reference).
// Returns InvalidArgument naming the parameter at fault.
absl::StatusOr<ServiceQuery> ParseServiceQuery(std::string tenant, storage::OwnerKind owner_kind,
                                               std::string owner, View view, const Params& params);

// The one index range that holds every possible match of `query`.
storage::IndexScan PlanServiceQuery(const ServiceQuery& query);

// True when `service` satisfies every predicate of `query` (owner, view, windows, types,
// extension filters).
bool MatchesServiceQuery(const ServiceQuery& query, const storage::Service& service);

// Orders services newest first: start time descending, then service id descending.
void SortNewestFirst(std::vector<storage::Service>& services);

// Parameters of Query Service by ID: the four expansion flags and `extensions`.
absl::StatusOr<ReadOptions> ParseServiceReadParams(const Params& params);

// Query States (`view`) or Query State by ID (nullopt view): `state_types` (list only),
// `active_tasks`, `completed_tasks`, `extensions`.
struct StateQuery {
  std::vector<std::string> state_types;
  ReadOptions read;
};
absl::StatusOr<StateQuery> ParseStateQuery(std::optional<View> view, const Params& params);

// Query Tasks (`view`) or Query Task by ID (nullopt view): `state_id` and `task_types`
// (list only), `extensions`.
struct TaskQuery {
  std::optional<int32_t> state_id;
  std::vector<std::string> task_types;
  ReadOptions read;
};
absl::StatusOr<TaskQuery> ParseTaskQuery(std::optional<View> view, const Params& params);

// The states / tasks of `service` a list query returns, in id order.
std::vector<const storage::State*> SelectStates(const storage::Service& service, View view,
                                                const StateQuery& query);
std::vector<const storage::Task*> SelectTasks(const storage::Service& service, View view,
                                              const TaskQuery& query);

// True when a business-attribute value's text equals one of `types` (empty = any).
bool TypeMatches(const std::optional<storage::Value>& type, const std::vector<std::string>& types);

}  // namespace contextd::query
