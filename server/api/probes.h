#pragma once

// The routes about the server itself, in the native dialect: GET /health (alive), GET /ready
// (the store answers and can make writes durable, and the server is not stopping),
// GET /metrics (Prometheus text), GET/POST /contextd/v1/latency (per-route server-side
// latency), and the /ui/ page's files.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "server/api/route.h"
#include "server/http/latency.h"
#include "storage/store.h"

namespace contextd::server {

// Thread-safety: set up (SetLatencies, AddGauge) before serving; then thread-safe.
class Probes {
 public:
  // `store` (not owned, may be null) answers /ready and the storage figures of /metrics.
  explicit Probes(storage::Store* store) : store_(store) {}

  // The latencies served and reset by the latency routes and /metrics; not owned; set before
  // the first request.
  void SetLatencies(RouteLatencies* latencies) { latencies_ = latencies; }

  // One more gauge (or counter) of /metrics, read at each scrape.
  struct Gauge {
    std::string name;
    std::string help;
    std::function<double()> value;
    std::string type = "gauge";  // or "counter"
  };
  void AddGauge(std::string name, std::string help, std::function<double()> value);
  void AddCounter(std::string name, std::string help, std::function<double()> value);

  // From now on GET /ready answers 503.
  void SetShuttingDown() { shutting_down_.store(true); }

  std::vector<Route> Routes();

  RouteLatencies& latencies() { return *latencies_; }
  storage::Store* store() { return store_; }
  const std::vector<Gauge>& gauges() const { return gauges_; }
  bool shutting_down() const { return shutting_down_.load(); }

 private:
  storage::Store* store_;
  RouteLatencies* latencies_ = nullptr;
  std::vector<Gauge> gauges_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace contextd::server
