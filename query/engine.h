#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/service_query.h"
#include "storage/model.h"
#include "storage/service_store.h"

namespace contextd::query {

// An incoming start or end event, its fields already type-checked by the caller.
struct EventInput {
  std::optional<storage::TimeMs> timestamp_ms;  // absent: the request's `now`
  storage::Fields fields;                       // documented descriptive fields
  storage::Fields attached;                     // every other key
};

struct ServiceStart {
  std::optional<std::string> customer_id;
  std::optional<std::string> contact_key;
  std::optional<storage::Value> service_type;
  std::optional<int64_t> est_duration_s;
  EventInput event;
};

struct StateStart {
  std::optional<storage::Value> state_type;
  std::optional<int32_t> previous_state_id;
  std::optional<int64_t> est_duration_s;
  EventInput event;
};

struct TaskStart {
  std::optional<storage::Value> task_type;
  std::optional<int32_t> state_id;
  std::optional<int64_t> est_duration_s;
  EventInput event;
};

// Associate Service: start-event fields to update and attached data to merge.
struct ServiceUpdate {
  std::optional<storage::Value> service_type;
  EventInput event;
};

// Perform State Transition: ends `from_state_id`, starts a new state.
struct Transition {
  int32_t from_state_id = 0;
  storage::Fields from_fields;  // disposition, disposition_desc of the ended state
  std::optional<storage::Value> to_state_type;
  std::optional<int64_t> to_est_duration_s;
  EventInput shared;  // fields for both events; attached data goes to the new state
};

// A service, or one of its states or tasks.
struct ResourceRef {
  uint64_t service_id = 0;
  std::optional<int32_t> state_id;
  std::optional<int32_t> task_id;
};

enum class ExtensionWrite { kReplace, kMerge };

// The Context Services lifecycle rules and queries over a ServiceStore.
// Errors: NotFound for unknown services, states and tasks (messages as the API documents);
// FailedPrecondition for lifecycle conflicts (completing twice); InvalidArgument for bad
// input; store errors pass through.
// Thread-safety: thread-safe; concurrent operations on one service are serialized by the
// store.
// Bounds on one service record, so that no client can grow a record (rewritten whole on every
// event) without limit: attached data keys per service, state or task; states and tasks per
// service. A write past them is refused (InvalidArgument) and changes nothing.
inline constexpr size_t kMaxAttachedKeys = 100;
inline constexpr size_t kMaxStates = 1000;
inline constexpr size_t kMaxTasks = 1000;

class Engine {
 public:
  // `store` is not owned and must outlive the engine.
  explicit Engine(storage::ServiceStore* store) : store_(store) {}

  absl::StatusOr<storage::Service> StartService(std::string_view tenant, ServiceStart start,
                                                storage::TimeMs now_ms);
  absl::Status CompleteService(std::string_view tenant, uint64_t service_id, EventInput end,
                               storage::TimeMs now_ms);
  absl::StatusOr<storage::Service> AssociateService(std::string_view tenant, uint64_t service_id,
                                                    std::string customer_id, ServiceUpdate update);
  absl::Status DeleteService(std::string_view tenant, uint64_t service_id);

  // Returns the new state.
  absl::StatusOr<storage::State> StartState(std::string_view tenant, uint64_t service_id,
                                            StateStart start, storage::TimeMs now_ms);
  absl::Status CompleteState(std::string_view tenant, uint64_t service_id, int32_t state_id,
                             EventInput end, storage::TimeMs now_ms);
  // Returns the new state; both changes are one atomic write.
  absl::StatusOr<storage::State> TransitionState(std::string_view tenant, uint64_t service_id,
                                                 Transition transition, storage::TimeMs now_ms);

  // Returns the new task.
  absl::StatusOr<storage::Task> StartTask(std::string_view tenant, uint64_t service_id,
                                          TaskStart start, storage::TimeMs now_ms);
  absl::Status CompleteTask(std::string_view tenant, uint64_t service_id, int32_t task_id,
                            EventInput end, storage::TimeMs now_ms);

  // Replaces the attached-data key `name` of a resource (value: object or array), or merges
  // an object into it (kMerge: the stored value must be absent or an object). Returns the
  // whole service after the write.
  absl::StatusOr<storage::Service> WriteExtension(std::string_view tenant, const ResourceRef& ref,
                                                  const std::string& name, storage::Value value,
                                                  ExtensionWrite mode);

  absl::StatusOr<storage::Service> GetService(std::string_view tenant, uint64_t service_id);

  // Runs a services query; results newest first.
  absl::StatusOr<std::vector<storage::Service>> QueryServices(const ServiceQuery& query);

 private:
  // store_->Update, refusing a result past the bounds above.
  absl::StatusOr<storage::Service> Update(std::string_view tenant, uint64_t service_id,
                                          const storage::ServiceStore::Mutation& mutate);

  storage::ServiceStore* store_;  // not owned
};

// NotFound errors for states and tasks, in the documented message pattern.
absl::Status StateNotFound(int64_t state_id);
absl::Status TaskNotFound(int64_t task_id);

}  // namespace contextd::query
