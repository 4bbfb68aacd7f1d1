#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/http/json_writer.h"
#include "storage/value.h"

namespace contextd::server {

// Parses one JSON document strictly: valid UTF-8, no trailing content, no duplicate keys in
// any object, nesting at most kMaxJsonDepth. Returns InvalidArgument with a message a client
// can act on.
inline constexpr int kMaxJsonDepth = 64;
absl::StatusOr<storage::Value> ParseJson(std::string_view text);

}  // namespace contextd::server
