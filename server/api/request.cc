#include "server/api/request.h"

#include "server/api/json.h"

namespace contextd::server {

absl::StatusOr<storage::Value> Body(const Call& c, bool required) {
  if (c.request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (required) return absl::InvalidArgumentError("a JSON request body is required");
    return storage::Value::Object({});
  }
  return ParseJson(c.request.body);
}

absl::Status NoParams(const Call& c) {
  if (!c.params.empty()) {
    return absl::InvalidArgumentError("parameter '" + c.params.front().first +
                                      "': unknown parameter");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OneParam(const Call& c, std::string_view name) {
  std::string value;
  int seen = 0;
  for (const auto& [k, v] : c.params) {
    if (k == name) value = v, ++seen;
  }
  if (seen > 1) {
    return absl::InvalidArgumentError("parameter '" + std::string(name) + "': given twice");
  }
  return value;
}

}  // namespace contextd::server
