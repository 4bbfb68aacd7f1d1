#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace contextd::query {

struct ThrottleOptions {
  // Failed attempts one source address may make per window before it is refused (0: no
  // limit). Higher than the per-name budget: many users may share an address (a NAT).
  uint32_t address_failures = 50;
  // Failed attempts per user name or API key id per window (0: no limit).
  uint32_t name_failures = 10;
  int64_t window_ms = 60'000;
  // Most addresses and names tracked at once (each map); past it the oldest window is
  // forgotten, so memory stays bounded under any number of sources.
  size_t max_tracked = 65'536;
};

// Throttles failed authentications (wrong password, unknown user, wrong API key) per source
// address and per user name or key id: a key with `budget` failures in its current fixed
// window is refused until the window ends. The caller checks before its expensive check and
// reports each failure; success does not reset a window (a guesser gains nothing by mixing
// in its own valid credentials). The time is the caller's (tests choose it).
//
// Thread-safety: thread-safe.
class AuthThrottle {
 public:
  explicit AuthThrottle(ThrottleOptions options = {}) : options_(options) {}

  // 0 when (address, name) may try now; else the milliseconds until both may. `name` may be
  // "" (none known): only the address counts. Counts a refusal in throttled().
  int64_t RetryAfterMs(std::string_view address, std::string_view name, int64_t now_ms);

  // One more failure of (address, name); counts it in failures().
  void RecordFailure(std::string_view address, std::string_view name, int64_t now_ms);

  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t throttled() const { return throttled_.load(std::memory_order_relaxed); }

 private:
  struct Window {
    int64_t started_ms = 0;
    uint32_t failures = 0;
  };
  // Failures of one kind of key (addresses, or names), windows in the order they started.
  struct Table {
    std::map<std::string, Window, std::less<>> windows;
    std::deque<std::pair<int64_t, std::string>> started;  // (started_ms, key); may be stale
  };
  int64_t Wait(const Table& table, std::string_view key, uint32_t budget, int64_t now_ms) const;
  void Count(Table& table, std::string_view key, int64_t now_ms);

  const ThrottleOptions options_;
  std::mutex mu_;
  Table addresses_;  // guarded by mu_
  Table names_;      // guarded by mu_
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> throttled_{0};
};

}  // namespace contextd::query
