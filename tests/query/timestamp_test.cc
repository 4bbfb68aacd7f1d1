#include "query/timestamp.h"

#include "gtest/gtest.h"

namespace contextd::query {
namespace {

struct Case {
  const char* text;
  bool ok;
  storage::TimeMs want_ms;
};

TEST(TimestampTest, ParsesTheDocumentedFormsAndRejectsTheRest) {
  const Case cases[] = {
      {"1970-01-01T00:00:00", true, 0},
      {"1970-01-01T00:00:00Z", true, 0},
      {"1970-01-01T00:00:00.5Z", true, 500},
      {"1970-01-01T00:00:00.05Z", true, 50},
      {"1970-01-01T00:00:00.123Z", true, 123},
      {"2014-09-02T08:00:00.000Z", true, 1409644800000},
      {"2014-09-02T10:00:00+02:00", true, 1409644800000},
      {"2014-09-02T03:30:00-04:30", true, 1409644800000},
      {"2024-02-29T00:00:00Z", true, 1709164800000},
      {"1969-12-31T23:59:59.999Z", true, -1},
      {"2023-02-29T00:00:00Z", false, 0},  // not a leap year
      {"2024-02-30T00:00:00Z", false, 0},
      {"2024-13-01T00:00:00Z", false, 0},
      {"2024-00-01T00:00:00Z", false, 0},
      {"2024-01-01T24:00:00Z", false, 0},
      {"2024-01-01T00:60:00Z", false, 0},
      {"2024-01-01", false, 0},
      {"2024-01-01 00:00:00", false, 0},
      {"2024-01-01T00:00:00.1234567890Z", false, 0},  // 10 fraction digits
      {"2024-01-01T00:00:00.Z", false, 0},
      {"2024-01-01T00:00:00ZZ", false, 0},
      {"2024-01-01T00:00:00+0200", false, 0},
      {" 2024-01-01T00:00:00Z", false, 0},
      {"", false, 0},
      {"tomorrow", false, 0},
      {"9999-12-31T23:59:59-23:59", false, 0},  // past year 9999 in UTC
      {"0000-01-01T00:00:00+01:00", false, 0},  // before year 0000 in UTC
      {"0000-01-01T00:00:00Z", true, -62167219200000},
      {"9999-12-31T23:59:59.999Z", true, 253402300799999},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<storage::TimeMs> got = ParseTimestamp(c.text);
    EXPECT_EQ(got.ok(), c.ok) << got.status();
    if (c.ok && got.ok()) {
      EXPECT_EQ(*got, c.want_ms);
    }
    if (!c.ok) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

// Java's Instant.toString() writes 0, 3, 6 or 9 fraction digits; any of 1 to 9 is accepted and
// what is finer than a millisecond is cut off, never rounded up.
TEST(TimestampTest, AcceptsOneToNineFractionDigitsTruncatedToMilliseconds) {
  const Case cases[] = {
      {"2024-05-01T10:00:00.1Z", true, 1714557600100},
      {"2024-05-01T10:00:00.12Z", true, 1714557600120},
      {"2024-05-01T10:00:00.123Z", true, 1714557600123},
      {"2024-05-01T10:00:00.1239Z", true, 1714557600123},
      {"2024-05-01T10:00:00.12399Z", true, 1714557600123},
      {"2024-05-01T10:00:00.123456Z", true, 1714557600123},
      {"2024-05-01T10:00:00.1234567Z", true, 1714557600123},
      {"2024-05-01T10:00:00.12345678Z", true, 1714557600123},
      {"2024-05-01T10:00:00.123456789Z", true, 1714557600123},
      {"2024-05-01T10:00:00.999999999Z", true, 1714557600999},
      {"2024-05-01T10:00:00.000000001Z", true, 1714557600000},
      {"1969-12-31T23:59:59.999999999Z", true, -1},  // truncated toward the earlier instant
      {"2024-05-01T12:00:00.123456789+02:00", true, 1714557600123},
      {"2024-05-01T10:00:00.123456789", true, 1714557600123},
      {"2024-05-01T10:00:00.1234567890Z", false, 0},
      {"2024-05-01T10:00:00.12345678901234567890Z", false, 0},
      {"2024-05-01T10:00:00.123456789 02:00", false, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<storage::TimeMs> got = ParseTimestamp(c.text);
    ASSERT_EQ(got.ok(), c.ok) << got.status();
    if (c.ok) {
      EXPECT_EQ(*got, c.want_ms);
    } else {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

// An unencoded `+02:00` in a query string arrives as ` 02:00`: a query parameter reads the
// space as `+`; a body (ParseTimestamp) does not. Nothing else about the form loosens.
TEST(TimestampTest, QueryParameterReadsASpaceBeforeTheOffsetAsPlus) {
  struct QueryCase {
    const char* text;
    bool query_ok;
    bool body_ok;
    storage::TimeMs want_ms;
  };
  const QueryCase cases[] = {
      {"2024-05-01T12:00:00 02:00", true, false, 1714557600000},
      {"2024-05-01T12:00:00.5 02:00", true, false, 1714557600500},
      {"2024-05-01T12:00:00.123456 02:00", true, false, 1714557600123},
      {"2024-05-01T10:00:00 00:00", true, false, 1714557600000},
      {"2024-05-01T06:30:00 -03:30", false, false, 0},  // a sign after the space
      {"2024-05-01T12:00:00+02:00", true, true, 1714557600000},
      {"2024-05-01T06:30:00-03:30", true, true, 1714557600000},
      {"2024-05-01T06:30:00.999999-03:30", true, true, 1714557600999},
      {"2024-05-01T10:00:00Z", true, true, 1714557600000},
      {"2024-05-01T10:00:00", true, true, 1714557600000},
      {"2024-05-01T10:00:00 ", false, false, 0},
      {"2024-05-01T10:00:00 Z", false, false, 0},
      {"2024-05-01T12:00:00 0200", false, false, 0},
      {"2024-05-01T12:00:00 2:00", false, false, 0},
      {"2024-05-01T12:00:00  02:00", false, false, 0},
      {"2024-05-01T12:00:00 24:00", false, false, 0},
      {"2024-05-01 12:00:00 02:00", false, false, 0},  // the space stands only for the sign
      {"2024-05-01T12:00:00 02:00 ", false, false, 0},
  };
  for (const QueryCase& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<storage::TimeMs> query = ParseQueryTimestamp(c.text);
    absl::StatusOr<storage::TimeMs> body = ParseTimestamp(c.text);
    ASSERT_EQ(query.ok(), c.query_ok) << query.status();
    ASSERT_EQ(body.ok(), c.body_ok) << body.status();
    EXPECT_EQ(c.query_ok ? *query : c.want_ms, c.want_ms);
    EXPECT_EQ(c.body_ok ? *body : c.want_ms, c.want_ms);
    if (!c.query_ok) {
      EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
    }
    if (!c.body_ok) {
      EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(TimestampTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1409644800007), "2014-09-02T08:00:00.007Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  for (storage::TimeMs t : {storage::TimeMs{0}, storage::TimeMs{-86400001},
                            storage::TimeMs{253402300799999}, storage::TimeMs{951782400123}}) {
    EXPECT_EQ(*ParseTimestamp(FormatTimestamp(t)), t);
  }
}

TEST(TimestampTest, MonthsBeforeKeepsDayAndTimeAndClampsToMonthEnd) {
  struct Case {
    const char* now;
    int months;
    const char* want;
  };
  const Case cases[] = {
      {"2024-05-31T10:11:12.345Z", 3, "2024-02-29T10:11:12.345Z"},  // leap year clamp
      {"2023-05-31T10:11:12.345Z", 3, "2023-02-28T10:11:12.345Z"},
      {"2024-03-15T00:00:00.000Z", 0, "2024-03-15T00:00:00.000Z"},
      {"2024-03-15T00:00:00.000Z", 3, "2023-12-15T00:00:00.000Z"},  // across a year
      {"2024-03-15T00:00:00.000Z", 15, "2022-12-15T00:00:00.000Z"},
      {"2024-01-31T23:59:59.999Z", 1, "2023-12-31T23:59:59.999Z"},
      {"2024-07-31T08:00:00.000Z", 120, "2014-07-31T08:00:00.000Z"},
      {"0001-02-01T00:00:00.000Z", 2, "0000-12-01T00:00:00.000Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.now) + " - " + std::to_string(c.months));
    EXPECT_EQ(FormatTimestamp(MonthsBefore(*ParseTimestamp(c.now), c.months)), c.want);
  }
}

TEST(TimestampTest, ToCivilSplitsUtcFields) {
  CivilTime c = ToCivil(*ParseTimestamp("2020-05-12T09:22:23.456Z"));
  EXPECT_EQ(c.year, 2020);
  EXPECT_EQ(c.month, 5u);
  EXPECT_EQ(c.day, 12u);
  EXPECT_EQ(c.hour, 9u);
  EXPECT_EQ(c.minute, 22u);
  EXPECT_EQ(c.second, 23u);
  EXPECT_EQ(c.millis, 456u);
}

}  // namespace
}  // namespace contextd::query
