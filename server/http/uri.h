#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace contextd::server {

// A request target split into decoded path segments and query parameters.
struct Target {
  std::vector<std::string> segments;  // percent-decoded; empty segments dropped
  // Percent-decoded, `+` as space, in order (the same type as query::Params).
  std::vector<std::pair<std::string, std::string>> params;
};

// Decodes `%XX` escapes; `plus_is_space` also turns `+` into a space (query strings).
// Returns InvalidArgument for a `%` not followed by two hex digits, or a result that is not
// valid UTF-8.
absl::StatusOr<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Splits an origin-form request target (`/a/b?x=1&y=2`). Trailing and repeated slashes are
// ignored; a fragment is dropped. A parameter without `=` has an empty value.
absl::StatusOr<Target> ParseTarget(std::string_view raw);

}  // namespace contextd::server
