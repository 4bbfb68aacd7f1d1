#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/model.h"

namespace contextd::query {

// Parses `YYYY-MM-DDTHH:MM:SS`, optionally followed by a fraction of 1 to 3 digits and by `Z`
// or `+HH:MM` / `-HH:MM` (no zone means UTC). Returns milliseconds since the epoch, or
// InvalidArgument describing the expected form. Out-of-range fields (month 13, Feb 30,
// 24:00) are rejected.
absl::StatusOr<storage::TimeMs> ParseTimestamp(std::string_view text);

// Formats as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string FormatTimestamp(storage::TimeMs time_ms);

}  // namespace contextd::query
