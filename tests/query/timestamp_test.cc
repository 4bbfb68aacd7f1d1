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
      {"2024-01-01T00:00:00.1234Z", false, 0},
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
