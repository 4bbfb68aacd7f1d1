#include "server/http/latency.h"

#include "gtest/gtest.h"

namespace contextd::server {
namespace {

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithin3Percent) {
  int last = -1;
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{63}, uint64_t{64}, uint64_t{65},
                     uint64_t{100}, uint64_t{1000}, uint64_t{123456}, uint64_t{1} << 35}) {
    SCOPED_TRACE(v);
    int b = LatencyHistogram::BucketOf(v);
    EXPECT_GE(b, last);
    last = b;
    uint64_t upper = LatencyHistogram::UpperBoundOf(b);
    EXPECT_GE(upper, v);
    EXPECT_LE(static_cast<double>(upper), static_cast<double>(v) * 1.032 + 1);
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::UpperBoundOf(b - 1), v);
    }
  }
}

TEST(LatencyHistogramTest, Percentiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  EXPECT_EQ(h.Count(), 1000u);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 500, 16);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.99)), 990, 32);
  h.Reset();
  EXPECT_EQ(h.Count(), 0u);
}

}  // namespace
}  // namespace contextd::server
