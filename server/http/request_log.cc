#include "server/http/request_log.h"

#include <ctime>

#include "query/timestamp.h"
#include "server/http/json_writer.h"

namespace contextd::server {
namespace {

constexpr size_t kMaxBuffered = 8 << 20;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

std::string Now() {
  return query::FormatTimestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (LogLevel l :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (text == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

RequestLog::RequestLog(std::FILE* out, LogLevel level)
    : out_(out), level_(level), flusher_([this] { FlushLoop(); }) {}

RequestLog::~RequestLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  flusher_.join();
}

void RequestLog::Request(const RequestRecord& r) {
  const LogLevel level = r.status >= 500 ? LogLevel::kError : LogLevel::kInfo;
  if (!enabled(level)) return;
  std::string line;
  line.reserve(200);
  JsonWriter w(&line);
  w.BeginObject();
  w.Key("time");
  w.String(Now());
  w.Key("level");
  w.String(LevelName(level));
  w.Key("request_id");
  w.String(r.request_id);
  w.Key("method");
  w.String(r.method);
  w.Key("route");
  w.String(r.route);
  w.Key("status");
  w.Int(r.status);
  w.Key("us");
  w.Uint(r.micros);
  w.Key("tenant");
  w.String(r.tenant);
  w.EndObject();
  line += '\n';
  Append(std::move(line));
}

void RequestLog::Message(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  JsonWriter w(&line);
  w.BeginObject();
  w.Key("time");
  w.String(Now());
  w.Key("level");
  w.String(LevelName(level));
  w.Key("message");
  w.String(message);
  w.EndObject();
  line += '\n';
  Append(std::move(line));
}

void RequestLog::Append(std::string line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (buffer_.size() + line.size() > kMaxBuffered) {
    ++dropped_;
    return;
  }
  buffer_ += line;
}

void RequestLog::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
    std::string out;
    out.swap(buffer_);
    if (dropped_ > 0) {
      out += "{\"level\":\"warn\",\"message\":\"log lines dropped: " + std::to_string(dropped_) +
             "\"}\n";
      dropped_ = 0;
    }
    const bool stop = stop_;
    lock.unlock();
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), out_);
      std::fflush(out_);
    }
    lock.lock();
    if (stop && buffer_.empty()) return;
  }
}

}  // namespace contextd::server
