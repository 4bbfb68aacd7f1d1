#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/model.h"

namespace contextd::query {

// Parses `YYYY-MM-DDTHH:MM:SS`, optionally followed by a fraction of 1 to 9 digits and by `Z`
// or `+HH:MM` / `-HH:MM` (no zone means UTC). A fraction finer than milliseconds is truncated,
// not rounded (`.999999999` is 999 ms), so Java's `Instant.toString()` is accepted. Returns
// milliseconds since the epoch, or InvalidArgument describing the expected form. Out-of-range
// fields (month 13, Feb 30, 24:00) are rejected. The form of body fields and flags.
absl::StatusOr<storage::TimeMs> ParseTimestamp(std::string_view text);

// ParseTimestamp for a URL-decoded query parameter of any dialect: also reads a space where
// the offset's sign belongs (`T12:00:00 02:00`) as `+`, since an unencoded `+02:00` in a
// query string decodes to a space. Bodies keep the strict form.
absl::StatusOr<storage::TimeMs> ParseQueryTimestamp(std::string_view text);

// Formats as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string FormatTimestamp(storage::TimeMs time_ms);

// A UTC calendar date and time of day.
struct CivilTime {
  int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  unsigned hour = 0, minute = 0, second = 0, millis = 0;
};

// The calendar fields of an instant, in UTC.
CivilTime ToCivil(storage::TimeMs time_ms);

// The instant `months` calendar months before `time_ms`, in UTC: the same time of day and
// day of month, the day clamped to the earlier month's length (May 31 - 3 months = Feb 28 or
// 29). REQUIRES: months >= 0.
storage::TimeMs MonthsBefore(storage::TimeMs time_ms, int months);

}  // namespace contextd::query
