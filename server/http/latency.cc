#include "server/http/latency.h"

#include <bit>
#include <cstdio>

#include "server/http/json_writer.h"

namespace contextd::server {

int LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < kLinear) return static_cast<int>(micros);
  const int exponent = std::bit_width(micros) - 1;  // >= 6
  if (exponent >= 36) return kBuckets - 1;
  const int sub = static_cast<int>((micros >> (exponent - 5)) & (kSubBuckets - 1));
  return kLinear + (exponent - 6) * kSubBuckets + sub;
}

uint64_t LatencyHistogram::UpperBoundOf(int bucket) {
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int exponent = 6 + (bucket - kLinear) / kSubBuckets;
  const uint64_t sub = static_cast<uint64_t>((bucket - kLinear) % kSubBuckets);
  const uint64_t base = (uint64_t{kSubBuckets} + sub) << (exponent - 5);
  return base + (uint64_t{1} << (exponent - 5)) - 1;
}

void LatencyHistogram::Record(uint64_t micros) {
  counts_[static_cast<size_t>(BucketOf(micros))].fetch_add(1, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Count() const {
  uint64_t n = 0;
  for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
  return n;
}

uint64_t LatencyHistogram::Percentile(double q) const {
  const uint64_t total = Count();
  if (total == 0) return 0;
  const double target = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[static_cast<size_t>(b)].load(std::memory_order_relaxed);
    if (static_cast<double>(seen) >= target) return UpperBoundOf(b);
  }
  return UpperBoundOf(kBuckets - 1);
}

void LatencyHistogram::Reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
}

RouteLatencies::RouteLatencies(std::vector<std::string> route_names)
    : names_(std::move(route_names)), histograms_(names_.size() + 1), totals_(names_.size() + 1) {
  names_.push_back("other");
}

void RouteLatencies::Record(int route, int status, uint64_t micros) {
  const size_t i = route >= 0 && static_cast<size_t>(route) + 1 < names_.size()
                       ? static_cast<size_t>(route)
                       : names_.size() - 1;
  histograms_[i].Record(micros);
  Totals& t = totals_[i];
  t.histogram.Record(micros);
  t.sum_us.fetch_add(micros, std::memory_order_relaxed);
  if (status >= kMinStatus && status <= kMaxStatus) {
    t.statuses[static_cast<size_t>(status - kMinStatus)].fetch_add(1, std::memory_order_relaxed);
  }
  ended_.fetch_add(1, std::memory_order_relaxed);
}

std::string RouteLatencies::RenderPrometheus() const {
  // Prometheus label values escape backslash, quote and newline; route patterns have none.
  static constexpr uint64_t kBoundsUs[] = {50,     100,    250,    500,     1000,
                                           2500,   5000,   10000,  25000,   50000,
                                           100000, 250000, 500000, 1000000, 2500000};
  std::string out;
  out += "# HELP contextd_http_requests_total Requests served, by route and HTTP status.\n";
  out += "# TYPE contextd_http_requests_total counter\n";
  for (size_t i = 0; i < names_.size(); ++i) {
    for (int s = kMinStatus; s <= kMaxStatus; ++s) {
      const uint64_t n =
          totals_[i].statuses[static_cast<size_t>(s - kMinStatus)].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "contextd_http_requests_total{route=\"" + names_[i] + "\",status=\"" +
             std::to_string(s) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP contextd_http_request_duration_seconds Server-side request latency, by route.\n";
  out += "# TYPE contextd_http_request_duration_seconds histogram\n";
  for (size_t i = 0; i < names_.size(); ++i) {
    const LatencyHistogram& h = totals_[i].histogram;
    const uint64_t count = h.Count();
    if (count == 0) continue;
    const std::string label = "route=\"" + names_[i] + "\"";
    for (uint64_t bound : kBoundsUs) {
      uint64_t n = 0;
      for (int b = 0; b < LatencyHistogram::kBuckets && LatencyHistogram::UpperBoundOf(b) <= bound;
           ++b) {
        n += h.BucketCount(b);
      }
      char le[32];
      std::snprintf(le, sizeof le, "%g", static_cast<double>(bound) / 1e6);
      out += "contextd_http_request_duration_seconds_bucket{" + label + ",le=\"" + le + "\"} " +
             std::to_string(n) + "\n";
    }
    out += "contextd_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(count) + "\n";
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.6f",
                  static_cast<double>(totals_[i].sum_us.load(std::memory_order_relaxed)) / 1e6);
    out += "contextd_http_request_duration_seconds_sum{" + label + "} " + sum + "\n";
    out += "contextd_http_request_duration_seconds_count{" + label + "} " + std::to_string(count) +
           "\n";
  }
  const uint64_t begun = begun_.load(std::memory_order_relaxed);
  const uint64_t ended = ended_.load(std::memory_order_relaxed);
  out +=
      "# HELP contextd_http_requests_in_flight Requests framed and not yet answered "
      "(held CometD connects included).\n";
  out += "# TYPE contextd_http_requests_in_flight gauge\n";
  out += "contextd_http_requests_in_flight " + std::to_string(begun > ended ? begun - ended : 0) +
         "\n";
  return out;
}

std::string RouteLatencies::RenderJson() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("routes");
  w.BeginArray();
  for (size_t i = 0; i < names_.size(); ++i) {
    const LatencyHistogram& h = histograms_[i];
    const uint64_t n = h.Count();
    if (n == 0) continue;
    w.BeginObject();
    w.Key("route");
    w.String(names_[i]);
    w.Key("count");
    w.Uint(n);
    w.Key("p50_us");
    w.Uint(h.Percentile(0.5));
    w.Key("p99_us");
    w.Uint(h.Percentile(0.99));
    w.Key("p999_us");
    w.Uint(h.Percentile(0.999));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

void RouteLatencies::Reset() {
  for (auto& h : histograms_) h.Reset();
}

}  // namespace contextd::server
