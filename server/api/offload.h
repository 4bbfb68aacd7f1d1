#pragma once

// Work that must not run on the HTTP workers (a password hash costs milliseconds of CPU, and
// two workers serve every client, the IVR's hot path included) runs on a small pool instead:
// the route answers with a held reply (ApiResponse::hold) that a pool thread completes.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/api/route.h"

namespace contextd::server {

// A bounded pool: `threads` threads and at most `max_queued` requests waiting for one. A
// request past the bound is refused at once (503 with Retry-After in its route's dialect),
// so a flood costs the workers only that refusal.
//
// A held request whose connection sends its next request before the pool reached it is
// answered 503 (Retry-After) at once, so replies keep request order without a worker waiting
// on the queue; one the pool is running is waited for (at most one run).
//
// Thread-safety: thread-safe. REQUIRES: outlives the HTTP server's workers (Stop it first).
class OffloadPool {
 public:
  OffloadPool(size_t threads, size_t max_queued);
  ~OffloadPool();  // Stop()

  using Work = std::function<ApiResponse(const Call&)>;

  // A held reply whose final reply is `work(call)` run on a pool thread (with a copy of the
  // call: it may outlive the request's buffers). Its result may itself be held (a CometD
  // connect); a route that writes is acknowledged once durable as if it had run inline.
  // Answers 503 at once when the queue is full or the pool stopped.
  ApiResponse Defer(const Call& call, Work work);

  // Refuses new work, answers queued work 503, lets running work finish, joins the threads.
  void Stop();

  size_t queued();
  uint64_t refused();  // requests answered 503 because the queue was full or stopped

  // True on a pool thread.
  static bool OnPoolThread();

 private:
  struct Job;
  void Run();
  void Enqueue(const std::shared_ptr<Job>& job);

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_
  bool stopped_ = false;                    // guarded by mu_
  uint64_t refused_ = 0;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace contextd::server
