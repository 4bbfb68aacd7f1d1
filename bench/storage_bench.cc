// Query cost against history size: a customer with 10, 10^3 or 10^5 services, queried for a
// 1-day window (10 services in it whatever the history) and for its active services (1).
// The cost must not grow with history: each query reads only its index range.
//
//   make bench     (or build/bench/storage_bench)

#include <map>
#include <memory>

#include "benchmark/benchmark.h"
#include "query/engine.h"
#include "query/service_query.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd {
namespace {

constexpr storage::TimeMs kBaseMs = 1262304000000;  // 2010-01-01T00:00:00Z
constexpr storage::TimeMs kDayMs = 86400000;
constexpr storage::TimeMs kSpacingMs = kDayMs / 10;  // 10 services a day

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<query::Engine> engine;
  storage::TimeMs last_start_ms = 0;
};

// One customer "C" with `n` services, the newest one active, all others completed; plus
// services of other customers interleaved. Reopened so the data is read from SST files.
// Built once per size; cleared in main, before static destruction (RocksDB's own statics
// may be gone by then).
std::map<int64_t, std::unique_ptr<Fixture>>& Fixtures() {
  static auto* fixtures = new std::map<int64_t, std::unique_ptr<Fixture>>();
  return *fixtures;
}

Fixture* Build(int64_t n) {
  auto& f = Fixtures()[n];
  if (f) return f.get();
  f = std::make_unique<Fixture>();
  f->store = testing::OpenTestStore(f->dir.path());
  query::Engine engine(f->store.get());
  for (int64_t i = 0; i < n; ++i) {
    for (const char* customer : {"C", "other"}) {
      query::ServiceStart start;
      start.customer_id = customer;
      start.service_type = storage::Value::Int(i % 3);
      start.event.timestamp_ms = kBaseMs + i * kSpacingMs;
      start.event.fields = {{"media_type", storage::Value::String("voice")}};
      start.event.attached = {
          {"Offer", storage::Value::Object({{"name", storage::Value::String("gold")}})}};
      auto s = engine.StartService("", std::move(start), 0);
      if (!s.ok()) return nullptr;
      if (i + 1 < n) {
        query::EventInput end;
        end.timestamp_ms = kBaseMs + i * kSpacingMs + 60000;
        if (!engine.CompleteService("", s->service_id, end, 0).ok()) return nullptr;
      }
    }
  }
  f->last_start_ms = kBaseMs + (n - 1) * kSpacingMs;
  f->store.reset();
  f->store = testing::OpenTestStore(f->dir.path());
  f->engine = std::make_unique<query::Engine>(f->store.get());
  return f.get();
}

// The query's result size is the same at every history size (`expected_rows`); a run that
// finds another count measures something else and fails instead of reporting a figure.
void RunQuery(benchmark::State& state, query::View view, bool window, size_t expected_rows) {
  Fixture* f = Build(state.range(0));
  if (f == nullptr || !f->engine) return state.SkipWithError("fixture failed");
  query::ServiceQuery q;
  q.owner = "C";
  q.view = view;
  if (window) q.started = storage::TimeRange{f->last_start_ms + 1 - kDayMs, f->last_start_ms + 1};
  size_t rows = 0;
  for (auto _ : state) {
    auto found = f->engine->QueryServices(q);
    if (!found.ok()) return state.SkipWithError("query failed");
    rows = found->size();
    benchmark::DoNotOptimize(found);
  }
  if (rows != expected_rows) return state.SkipWithError("unexpected row count");
  state.counters["rows"] = static_cast<double>(rows);
  state.SetItemsProcessed(state.iterations());
}

void BM_StorageQueryOneDayWindow(benchmark::State& state) {
  RunQuery(state, query::View::kAll, true, 10);
}
void BM_StorageQueryActive(benchmark::State& state) {
  RunQuery(state, query::View::kActive, false, 1);
}

BENCHMARK(BM_StorageQueryOneDayWindow)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StorageQueryActive)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace contextd

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  contextd::Fixtures().clear();
  benchmark::Shutdown();
  return 0;
}
