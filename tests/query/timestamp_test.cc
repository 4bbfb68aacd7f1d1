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
    if (c.ok && got.ok()) EXPECT_EQ(*got, c.want_ms);
    if (!c.ok) EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
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

}  // namespace
}  // namespace contextd::query
