// Interaction history cost against history size: a customer with 30, 10^3 or 10^5 records
// (as CaptureResponse or native ingest store them), read for the last 3 months (30 records
// in that window whatever the history; the rest is older, so 30 = only the window) through
// query::History, as Pega's CustomerOfferHistory-by-window and LCM's GetCustomerJourney
// (MonthType=3, voice only) do. The cost must not grow with history: the read covers only the
// window's key range.
//
//   make bench     (or build/bench/history_bench)

#include <map>
#include <memory>

#include "benchmark/benchmark.h"
#include "query/history.h"
#include "query/timestamp.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd {
namespace {

constexpr storage::TimeMs kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr storage::TimeMs kHourMs = 3600000;
constexpr int64_t kInWindow = 30;
constexpr int64_t kInWindowVoice = 20;  // every third record is sms (Record below)

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<query::History> history;
};

// Cleared in main, before static destruction (RocksDB's own statics may be gone by then).
std::map<int64_t, std::unique_ptr<Fixture>>& Fixtures() {
  static auto* fixtures = new std::map<int64_t, std::unique_ptr<Fixture>>();
  return *fixtures;
}

storage::Interaction Record(std::string customer, storage::TimeMs time_ms, int64_t i) {
  storage::Interaction x;
  x.customer_id = std::move(customer);
  x.account_number = "2|3|3|0|0|" + std::to_string(i % 7) + "|1";
  x.contact_number = "65914623" + std::to_string(i % 100);
  x.time_ms = time_ms;
  x.channel = i % 3 == 0 ? "sms" : "voice";
  x.direction = "Outbound";
  x.campaign = "Renewals-Q4";
  x.action_name = "TravelCard";
  x.action_issue = "Sales";
  x.action_group = "Cards";
  x.outcome = "Accepted";
  x.behaviour = "Positive";
  x.agent = "agent7";
  x.pega_interaction_id = std::to_string(-5120394857720391122 + i);
  x.attributes = {{"Rank", storage::Value::Int(1)}};
  return x;
}

// Customer "C" with `n` records: kInWindow in the last 3 months (one every 2 days), the rest
// one an hour before that; another customer's records interleaved. Reopened so the data is
// read from SST files.
Fixture* Build(int64_t n) {
  auto& f = Fixtures()[n];
  if (f) return f.get();
  f = std::make_unique<Fixture>();
  f->store = testing::OpenTestStore(f->dir.path());
  query::History history(f->store.get());
  const storage::TimeMs window_start = query::MonthsBefore(kNowMs, 3);
  std::vector<storage::Interaction> batch;
  for (int64_t i = 0; i < n; ++i) {
    const storage::TimeMs t = i < kInWindow ? kNowMs - 1 - i * 48 * kHourMs
                                            : window_start - 1 - (i - kInWindow) * kHourMs;
    batch.push_back(Record("C", t, i));
    batch.push_back(Record("other", t, i));
    if (batch.size() >= 2000 || i + 1 == n) {
      if (!history.Record("", std::move(batch)).ok()) return nullptr;
      batch.clear();
    }
  }
  f->store.reset();
  f->store = testing::OpenTestStore(f->dir.path());
  f->history = std::make_unique<query::History>(f->store.get());
  return f.get();
}

// The window holds the same records at every history size (`expected_rows`); a run that finds
// another count measures something else and fails instead of reporting a figure.
void Run(benchmark::State& state, bool voice_only, size_t expected_rows) {
  Fixture* f = Build(state.range(0));
  if (f == nullptr) return state.SkipWithError("fixture failed");
  query::HistoryQuery q;
  q.by = storage::InteractionKey::kCustomer;
  q.key = "C";
  q.range = {query::MonthsBefore(kNowMs, 3), kNowMs + 1};
  if (voice_only) q.channels = {"voice"};
  size_t rows = 0;
  for (auto _ : state) {
    auto found = f->history->Query(q);
    if (!found.ok()) return state.SkipWithError("query failed");
    rows = found->size();
    benchmark::DoNotOptimize(found);
  }
  if (rows != expected_rows) return state.SkipWithError("unexpected row count");
  state.counters["rows"] = static_cast<double>(rows);
  state.SetItemsProcessed(state.iterations());
}

void BM_HistoryThreeMonthWindow(benchmark::State& state) { Run(state, false, kInWindow); }
void BM_HistoryThreeMonthWindowVoiceOnly(benchmark::State& state) { Run(state, true, kInWindowVoice); }

BENCHMARK(BM_HistoryThreeMonthWindow)
    ->Arg(30)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HistoryThreeMonthWindowVoiceOnly)
    ->Arg(30)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

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
