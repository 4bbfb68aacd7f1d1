#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace contextd::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// Parses "debug", "info", "warn", "error", "off"; false for anything else.
bool ParseLogLevel(std::string_view text, LogLevel* level);

// One finished request, as logged: no path, query, body, credential or cookie, only the
// route pattern (ids and phone numbers stay out of the log).
struct RequestRecord {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;  // "GET /genesys/1/cs/services/:sid", or "" when none matched
  int status = 0;
  uint64_t micros = 0;
  std::string_view tenant;
};

// Structured JSON log lines on a FILE (stderr): one per request at info level
// ({"time","level","request_id","method","route","status","us","tenant"}), and messages.
// Lines are buffered and written by a background thread every 100 ms, so a request never
// waits on the log's file; if the file blocks and 8 MiB pile up, lines are dropped and counted.
// Thread-safety: thread-safe.
class RequestLog {
 public:
  RequestLog(std::FILE* out, LogLevel level);
  ~RequestLog();  // writes what is buffered

  bool enabled(LogLevel level) const { return level >= level_ && level_ != LogLevel::kOff; }
  void Request(const RequestRecord& record);  // at info (5xx: error)
  void Message(LogLevel level, std::string_view message);

 private:
  void Append(std::string line);
  void FlushLoop();

  std::FILE* out_;
  const LogLevel level_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;    // guarded by mu_
  uint64_t dropped_ = 0;  // guarded by mu_
  bool stop_ = false;     // guarded by mu_
  std::thread flusher_;
};

}  // namespace contextd::server
