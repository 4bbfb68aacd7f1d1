#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "query/engine.h"
#include "query/fields.h"
#include "query/service_query.h"
#include "storage/model.h"
#include "storage/value.h"

namespace contextd::server {

// Context Services request bodies -> engine inputs. Each takes the parsed JSON body and
// returns InvalidArgument naming the field at fault: a wrong type, a string over its
// documented length, a documented field not allowed in this request, or a server-set field.
absl::StatusOr<query::ServiceStart> ParseServiceStart(const storage::Value& body);
absl::StatusOr<query::StateStart> ParseStateStart(const storage::Value& body);
absl::StatusOr<query::TaskStart> ParseTaskStart(const storage::Value& body);
// `kind` is query::kServiceEnd or query::kChildEnd.
absl::StatusOr<query::EventInput> ParseEndEvent(const storage::Value& body, query::EventKind kind);
absl::StatusOr<query::ServiceUpdate> ParseAssociate(const storage::Value& body);
absl::StatusOr<query::Transition> ParseTransition(const storage::Value& body);

// A whole service in its JSON representation (as rendered with every expansion flag and
// `extensions=*`) -> the stored record, for imports. `service_id` may be absent (0: assign
// one). State and task ids must number 0..n-1; a completed state or task is one with
// `completed`. Returns InvalidArgument naming the field at fault.
absl::StatusOr<storage::Service> ParseServiceRecord(storage::Value json);

// Resources -> JSON in the Context Services representation (timestamps as
// YYYY-MM-DDTHH:MM:SS.mmmZ; attached data only as `read.extensions` selects).
std::string RenderService(const storage::Service& service, const query::ReadOptions& read);
std::string RenderServices(const std::vector<storage::Service>& services,
                           const query::ReadOptions& read);
std::string RenderState(const storage::Service& service, const storage::State& state,
                        const query::ReadOptions& read);
std::string RenderStates(const storage::Service& service,
                         const std::vector<const storage::State*>& states,
                         const query::ReadOptions& read);
std::string RenderTask(const storage::Service& service, const storage::Task& task,
                       const query::ReadOptions& read);
std::string RenderTasks(const storage::Service& service,
                        const std::vector<const storage::Task*>& tasks,
                        const query::ReadOptions& read);

}  // namespace contextd::server
