#pragma once

// Reading a request's parts the same way on every route: its JSON body, its query parameters,
// its path ids. Errors are InvalidArgument naming the part at fault.

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/api/route.h"
#include "storage/value.h"

namespace contextd::server {

// Parses the body; an empty body counts as `{}` where the body is optional.
absl::StatusOr<storage::Value> Body(const Call& c, bool required);

// InvalidArgument naming the first parameter, if there is any.
absl::Status NoParams(const Call& c);

// The single value of parameter `name`, or "" when absent; InvalidArgument when given twice.
absl::StatusOr<std::string> OneParam(const Call& c, std::string_view name);

// A decimal id of at most `max` (digits only); nullopt otherwise.
template <typename T>
std::optional<T> ParseId(std::string_view text, T max) {
  T id{};
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id > max) return std::nullopt;
  return id;
}

}  // namespace contextd::server
