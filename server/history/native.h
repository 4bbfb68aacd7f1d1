#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/interaction.h"
#include "storage/value.h"

namespace contextd::server {

// The native history representation (POST/GET /contextd/v1/interactions): the `native`
// names of the history field table (query/history_fields.h).

// A native interaction record (JSON object with the `native` names) -> the model.
// `time` absent: `now_ms`. `interaction_id` is set by the server and refused. Unknown fields
// are refused so that a typo is not silently dropped. InvalidArgument naming the field.
absl::StatusOr<storage::Interaction> ParseNativeInteraction(const storage::Value& json,
                                                            storage::TimeMs now_ms);

// Records in the native representation: {"interactions":[...]}, each record's fields in the
// table's order, empty ones left out.
std::string RenderNativeInteractions(const std::vector<storage::Interaction>& records);

}  // namespace contextd::server
