#include "query/throttle.h"

#include <algorithm>

namespace contextd::query {

int64_t AuthThrottle::Wait(const Table& table, std::string_view key, uint32_t budget,
                           int64_t now_ms) const {
  if (budget == 0 || key.empty()) return 0;
  auto it = table.windows.find(key);
  if (it == table.windows.end()) return 0;
  const Window& w = it->second;
  const int64_t ends_ms = w.started_ms + options_.window_ms;
  if (ends_ms <= now_ms || w.failures < budget) return 0;
  return ends_ms - now_ms;
}

void AuthThrottle::Count(Table& table, std::string_view key, int64_t now_ms) {
  if (key.empty()) return;
  // Forget windows that ended, oldest first; past the bound, the oldest one even if current.
  while (!table.started.empty()) {
    const auto& [started_ms, oldest] = table.started.front();
    auto it = table.windows.find(oldest);
    const bool stale = it == table.windows.end() || it->second.started_ms != started_ms;
    const bool ended = started_ms + options_.window_ms <= now_ms;
    if (!stale && !ended && table.windows.size() < options_.max_tracked) break;
    if (!stale) table.windows.erase(it);
    table.started.pop_front();
  }
  auto it = table.windows.find(key);
  if (it == table.windows.end()) {
    it = table.windows.emplace(std::string(key), Window{now_ms, 0}).first;
    table.started.emplace_back(now_ms, it->first);
  } else if (it->second.started_ms + options_.window_ms <= now_ms) {
    it->second = Window{now_ms, 0};
    table.started.emplace_back(now_ms, it->first);
  }
  ++it->second.failures;
}

int64_t AuthThrottle::RetryAfterMs(std::string_view address, std::string_view name,
                                   int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t wait = std::max(Wait(addresses_, address, options_.address_failures, now_ms),
                                Wait(names_, name, options_.name_failures, now_ms));
  if (wait > 0) throttled_.fetch_add(1, std::memory_order_relaxed);
  return wait;
}

void AuthThrottle::RecordFailure(std::string_view address, std::string_view name, int64_t now_ms) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  Count(addresses_, address, now_ms);
  Count(names_, name, now_ms);
}

}  // namespace contextd::query
