#include "server/api/probes.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "server/api/request.h"
#include "server/api/ui_assets.h"

namespace contextd::server {

namespace {

ApiResponse Health(Probes&, const Call&) { return Json(200, R"({"status":"ok"})"); }

ApiResponse Latency(Probes& p, const Call&) { return Json(200, p.latencies().RenderJson()); }

// GET /ui/ and its files: the agent timeline page.
ApiResponse UiFile(std::string_view name) {
  for (const UiAsset& asset : UiAssets()) {
    if (asset.name == name) {
      ApiResponse r;
      r.body = std::string(asset.body);
      r.content_type = asset.content_type;
      return r;
    }
  }
  return ErrorReply(kNativeDialect, ProtocolError(404, "no such resource"));
}

ApiResponse UiIndex(Probes&, const Call&) { return UiFile("index.html"); }

ApiResponse UiAssetFile(Probes&, const Call& c) { return UiFile(c.captures[0]); }

// GET /ready: 200 while the store answers and can make writes durable and the server is not
// stopping, else 503.
ApiResponse Ready(Probes& p, const Call& c) {
  if (p.shutting_down()) return ErrorReply(c.dialect, absl::UnavailableError("shutting down"));
  if (p.store() != nullptr) {
    absl::StatusOr<storage::StoreStats> stats = p.store()->Stats();
    if (!stats.ok()) return ErrorReply(c.dialect, absl::UnavailableError("store not ready"));
    if (stats->write_error) {
      return ErrorReply(c.dialect, absl::UnavailableError("writes cannot be made durable"));
    }
  }
  return Json(200, R"({"status":"ready"})");
}

// GET /metrics: Prometheus text format (README lists every metric).
ApiResponse Metrics(Probes& p, const Call&) {
  ApiResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4";
  r.body = p.latencies().RenderPrometheus();
  auto gauge = [&r](const char* name, const char* type, const char* help, double value) {
    char line[64];
    std::snprintf(line, sizeof line, "%.17g", value);
    r.body += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
              name + " " + line + "\n";
  };
  for (const Probes::Gauge& g : p.gauges())
    gauge(g.name.c_str(), g.type.c_str(), g.help.c_str(), g.value());
  if (p.store() != nullptr) {
    if (absl::StatusOr<storage::StoreStats> s = p.store()->Stats(); s.ok()) {
      const double lookups = static_cast<double>(s->block_cache_hits + s->block_cache_misses);
      gauge("contextd_rocksdb_block_cache_hit_ratio", "gauge",
            "Block cache hits over lookups since start (1 before any lookup).",
            lookups > 0 ? static_cast<double>(s->block_cache_hits) / lookups : 1.0);
      gauge("contextd_rocksdb_block_cache_hits_total", "counter", "Block cache hits.",
            static_cast<double>(s->block_cache_hits));
      gauge("contextd_rocksdb_block_cache_misses_total", "counter", "Block cache misses.",
            static_cast<double>(s->block_cache_misses));
      gauge("contextd_rocksdb_pending_compaction_bytes", "gauge",
            "Estimated bytes compaction still has to rewrite.",
            static_cast<double>(s->pending_compaction_bytes));
      gauge("contextd_rocksdb_write_stall_seconds_total", "counter",
            "Time writes were delayed or stopped by RocksDB.",
            static_cast<double>(s->write_stall_micros) / 1e6);
      gauge("contextd_rocksdb_writes_stopped", "gauge", "1 while RocksDB stops writes.",
            s->writes_stopped ? 1 : 0);
      gauge("contextd_rocksdb_live_sst_bytes", "gauge", "Size of the live SST files.",
            static_cast<double>(s->live_sst_bytes));
    }
  }
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  gauge("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
        static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  std::error_code ec;
  size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  gauge("process_open_fds", "gauge", "Number of open file descriptors.", static_cast<double>(fds));
  return r;
}

ApiResponse ResetLatency(Probes& p, const Call&) {
  p.latencies().Reset();
  return Empty(204);
}

}  // namespace

void Probes::AddGauge(std::string name, std::string help, std::function<double()> value) {
  gauges_.push_back({std::move(name), std::move(help), std::move(value)});
}

void Probes::AddCounter(std::string name, std::string help, std::function<double()> value) {
  gauges_.push_back({std::move(name), std::move(help), std::move(value), "counter"});
}

std::vector<Route> Probes::Routes() {
  auto h = [this](ApiResponse (*fn)(Probes&, const Call&)) { return Bind(this, fn); };
  const Dialect* n = &kNativeDialect;
  return {
      {"GET", "/health", h(Health), n, kOpenRead},
      {"GET", "/ready", h(Ready), n, kOpenRead},
      {"GET", "/metrics", h(Metrics), n, kAdminRead},
      {"GET", "/ui", h(UiIndex), n, kOpenRead},
      {"GET", "/ui/:file", h(UiAssetFile), n, kOpenRead},
      {"GET", "/contextd/v1/latency", h(Latency), n, kAdminRead},
      {"POST", "/contextd/v1/latency/reset", h(ResetLatency), n, kAdminAction},
  };
}

}  // namespace contextd::server
