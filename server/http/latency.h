#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace contextd::server {

// A log-linear histogram of durations in microseconds: exact below 64 us, then 32 buckets per
// power of two (about 3% resolution) up to 2^36 us.
// Thread-safety: Record and the readers may run concurrently (relaxed atomics).
class LatencyHistogram {
 public:
  static constexpr int kLinear = 64;
  static constexpr int kSubBuckets = 32;
  static constexpr int kBuckets = kLinear + (36 - 6) * kSubBuckets;

  void Record(uint64_t micros);
  uint64_t Count() const;
  uint64_t BucketCount(int bucket) const {
    return counts_[static_cast<size_t>(bucket)].load(std::memory_order_relaxed);
  }
  // The smallest recorded bucket bound at or above quantile q (0 < q <= 1); 0 when empty.
  uint64_t Percentile(double q) const;
  void Reset();

  static int BucketOf(uint64_t micros);
  static uint64_t UpperBoundOf(int bucket);  // the largest value that falls in `bucket`

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

// Server-side latency per route, from the request being framed to its reply being handed
// to the transport (for durable writes: after their sync), and request counts by route and
// status since start.
// Thread-safety: thread-safe.
class RouteLatencies {
 public:
  explicit RouteLatencies(std::vector<std::string> route_names);

  // A request started (framed); Record ends it.
  void Begin() { begun_.fetch_add(1, std::memory_order_relaxed); }
  // `route` indexes route_names; -1 (no route matched) is counted as "other".
  void Record(int route, int status, uint64_t micros);
  // {"routes":[{"route":"GET /health","count":N,"p50_us":..,"p99_us":..,"p999_us":..},...]}
  // for routes with at least one request since the last Reset.
  std::string RenderJson() const;
  void Reset();  // the percentiles of RenderJson only

  // Prometheus text for the counters since start: contextd_http_requests_total{route,status},
  // contextd_http_request_duration_seconds (histogram by route),
  // contextd_http_requests_in_flight.
  std::string RenderPrometheus() const;

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;
  struct Totals {
    LatencyHistogram histogram;
    std::atomic<uint64_t> sum_us{0};
    std::array<std::atomic<uint64_t>, kMaxStatus - kMinStatus + 1> statuses{};
  };

  std::vector<std::string> names_;            // last entry: "other"
  std::vector<LatencyHistogram> histograms_;  // since Reset
  std::vector<Totals> totals_;                // since start
  std::atomic<uint64_t> begun_{0};
  std::atomic<uint64_t> ended_{0};
};

}  // namespace contextd::server
