#include "server/api/offload.h"

#include <exception>
#include <string>
#include <utility>

namespace contextd::server {
namespace {

thread_local bool on_pool_thread = false;

// What a deferred request's handler sees: a copy of the call that owns its bytes.
struct OwnedCall {
  std::string method, target, body, peer;
  std::vector<std::pair<std::string, std::string>> headers;
  ApiRequest request;
  std::vector<std::string> captures;
  query::Params params;
  const Dialect* dialect;

  explicit OwnedCall(const Call& c)
      : method(c.request.method),
        target(c.request.target),
        body(c.request.body),
        peer(c.request.peer),
        request(c.request),
        captures(c.captures),
        params(c.params),
        dialect(&c.dialect) {
    if (c.request.headers != nullptr) headers = *c.request.headers;
    request.method = method;
    request.target = target;
    request.body = body;
    request.peer = peer;
    request.headers = &headers;
  }
  OwnedCall(const OwnedCall&) = delete;  // `request` views into the members
  OwnedCall& operator=(const OwnedCall&) = delete;

  Call AsCall() const { return Call{request, captures, params, *dialect}; }
};

ApiResponse Busy(const Dialect& dialect) {
  return RetryLater(dialect, 503, "busy signing in other users: try again", 1000);
}

}  // namespace

struct OffloadPool::Job {
  enum class State { kNew, kQueued, kRunning, kDone };
  explicit Job(const Call& c, Work w) : call(c), work(std::move(w)) {}

  const OwnedCall call;
  const Work work;
  std::mutex mu;
  std::condition_variable cv;
  State state = State::kNew;                               // guarded by mu
  ApiResponse::Complete complete;                          // set when queued
  std::function<void(ApiResponse::Complete, bool)> inner;  // guarded by mu: a held result's
};

OffloadPool::OffloadPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

OffloadPool::~OffloadPool() { Stop(); }

bool OffloadPool::OnPoolThread() { return on_pool_thread; }

size_t OffloadPool::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

uint64_t OffloadPool::refused() {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

ApiResponse OffloadPool::Defer(const Call& call, Work work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || queue_.size() >= max_queued_) {
      ++refused_;
      return Busy(call.dialect);
    }
  }
  auto job = std::make_shared<Job>(call, std::move(work));
  ApiResponse r;
  r.hold = [this, job](ApiResponse::Complete complete, bool now) {
    if (!now) {
      job->complete = std::move(complete);
      Enqueue(job);
      return;
    }
    // The connection's next request is here: this reply must go first.
    std::unique_lock<std::mutex> lock(job->mu);
    if (job->state == Job::State::kQueued) {
      job->state = Job::State::kDone;  // the pool skips it
      lock.unlock();
      job->complete(Busy(*job->call.dialect));
      return;
    }
    job->cv.wait(lock, [&job] { return job->state == Job::State::kDone; });
    auto inner = job->inner;
    lock.unlock();
    if (inner) inner(job->complete, /*now=*/true);
  };
  return r;
}

void OffloadPool::Enqueue(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_ && queue_.size() < max_queued_) {
      std::lock_guard<std::mutex> job_lock(job->mu);
      job->state = Job::State::kQueued;
      queue_.push_back(job);
      cv_.notify_one();
      return;
    }
    ++refused_;
  }
  {
    std::lock_guard<std::mutex> job_lock(job->mu);
    job->state = Job::State::kDone;
  }
  job->complete(Busy(*job->call.dialect));
}

void OffloadPool::Run() {
  on_pool_thread = true;
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    {
      std::lock_guard<std::mutex> lock(job->mu);
      if (job->state != Job::State::kQueued) continue;  // answered meanwhile
      job->state = Job::State::kRunning;
    }
    ApiResponse reply;
    try {
      reply = job->work(job->call.AsCall());
    } catch (const std::exception& e) {
      reply = ErrorReply(*job->call.dialect, absl::InternalError(e.what()));
    }
    if (reply.hold) {
      {
        std::lock_guard<std::mutex> lock(job->mu);
        job->inner = reply.hold;
      }
      reply.hold(job->complete, /*now=*/false);
    } else {
      job->complete(std::move(reply));
    }
    {
      std::lock_guard<std::mutex> lock(job->mu);
      job->state = Job::State::kDone;
    }
    job->cv.notify_all();
  }
}

void OffloadPool::Stop() {
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (const std::shared_ptr<Job>& job : left) {
    {
      std::lock_guard<std::mutex> lock(job->mu);
      if (job->state != Job::State::kQueued) continue;
      job->state = Job::State::kDone;
    }
    job->complete(Busy(*job->call.dialect));
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace contextd::server
