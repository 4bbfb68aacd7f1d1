#include "query/timestamp.h"

#include <algorithm>
#include <cstdio>

namespace contextd::query {
namespace {

constexpr char kExpected[] = "expected a timestamp YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]";

// Java's Instant.toString() writes up to nanoseconds.
constexpr size_t kMaxFractionDigits = 9;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// The one parser. `space_is_plus`: a space where the offset's sign belongs reads as `+`
// (query parameters only, see ParseQueryTimestamp).
absl::StatusOr<storage::TimeMs> Parse(std::string_view s, bool space_is_plus) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return absl::InvalidArgumentError(kExpected);
  }
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month)) || hour > 23 ||
      minute > 59 || second > 59) {
    return absl::InvalidArgumentError(std::string(kExpected) + "; a field is out of range");
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++digits > kMaxFractionDigits) {
        return absl::InvalidArgumentError(std::string(kExpected) + "; at most " +
                                          std::to_string(kMaxFractionDigits) + " fraction digits");
      }
      if (digits <= 3) millis = millis * 10 + (s[pos] - '0');  // finer digits are truncated
      ++pos;
    }
    if (digits == 0) return absl::InvalidArgumentError(kExpected);
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-' || (space_is_plus && s[pos] == ' ')) {
      int oh, om;
      if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
          !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
        return absl::InvalidArgumentError(kExpected);
      }
      offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
      pos += 6;
    }
  }
  if (pos != s.size()) return absl::InvalidArgumentError(kExpected);

  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  const storage::TimeMs ms = seconds * 1000 + millis;
  // Every accepted time must be printable as YYYY in UTC again.
  static const storage::TimeMs kMin = DaysFromCivil(0, 1, 1) * 86400000;
  static const storage::TimeMs kMax = DaysFromCivil(10000, 1, 1) * 86400000 - 1;
  if (ms < kMin || ms > kMax) {
    return absl::InvalidArgumentError(std::string(kExpected) +
                                      "; outside years 0000 to 9999 in UTC");
  }
  return ms;
}

}  // namespace

absl::StatusOr<storage::TimeMs> ParseTimestamp(std::string_view text) {
  return Parse(text, /*space_is_plus=*/false);
}

absl::StatusOr<storage::TimeMs> ParseQueryTimestamp(std::string_view text) {
  return Parse(text, /*space_is_plus=*/true);
}

CivilTime ToCivil(storage::TimeMs time_ms) {
  int64_t seconds = time_ms / 1000;
  int64_t millis = time_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  CivilTime c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<unsigned>(rem / 3600);
  c.minute = static_cast<unsigned>(rem / 60 % 60);
  c.second = static_cast<unsigned>(rem % 60);
  c.millis = static_cast<unsigned>(millis);
  return c;
}

storage::TimeMs MonthsBefore(storage::TimeMs time_ms, int months) {
  CivilTime c = ToCivil(time_ms);
  const int64_t month_index = c.year * 12 + (c.month - 1) - months;
  const int64_t year = month_index >= 0 ? month_index / 12 : (month_index - 11) / 12;
  const unsigned month = static_cast<unsigned>(month_index - year * 12) + 1;
  const unsigned day = std::min(c.day, DaysInMonth(year, month));
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
  return seconds * 1000 + c.millis;
}

std::string FormatTimestamp(storage::TimeMs time_ms) {
  const CivilTime c = ToCivil(time_ms);
  const int64_t y = c.year;
  const unsigned m = c.month, d = c.day;
  const int64_t rem = c.hour * 3600 + c.minute * 60 + c.second, millis = c.millis;
  if (y < 0 || y > 9999) {  // never produced from parsed input; kept printable anyway
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(millis));
    return buf;
  }
  // Hand-written digits: this runs for every timestamp of every rendered resource.
  char out[] = "0000-00-00T00:00:00.000Z";
  auto put = [&out](int pos, int digits, int64_t v) {
    for (int i = pos + digits - 1; i >= pos; --i, v /= 10) out[i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, y);
  put(5, 2, m);
  put(8, 2, d);
  put(11, 2, rem / 3600);
  put(14, 2, rem / 60 % 60);
  put(17, 2, rem % 60);
  put(20, 3, millis);
  return std::string(out, 24);
}

}  // namespace contextd::query
