#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"

namespace contextd::server {

// Group commit: a dedicated thread that makes writes durable and then delivers their
// replies, so that no HTTP worker ever waits on fsync. Writes are applied (visible) before
// they are enqueued; all items that queue up while one sync runs share the next sync.
//
// Items are delivered in the order they were enqueued, which keeps the replies of one
// connection in request order when callers route a connection's later replies through the
// committer while earlier ones are pending.
//
// Thread-safety: Enqueue may be called from any thread.
class Committer {
 public:
  // `deliver` is called on the committer thread with the status of the sync that covered
  // the item (OK when the item needed none).
  struct Item {
    bool needs_sync = false;
    std::function<void(const absl::Status& synced)> deliver;
  };

  // `sync` makes every applied write durable; it is called on the committer thread only.
  explicit Committer(std::function<absl::Status()> sync);
  ~Committer();  // Close()

  // Queues `item`; after Close(), syncs (if needed) and delivers it on the calling thread.
  void Enqueue(Item item);

  // Delivers everything queued (syncing first if needed) and joins the committer thread.
  void Close();

  // Number of syncs performed so far (for tests and metrics).
  uint64_t syncs() const;

 private:
  void Run();

  std::function<absl::Status()> sync_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  bool closed_ = false;     // guarded by mu_; after Close()
  uint64_t syncs_ = 0;      // guarded by mu_
  std::thread thread_;
};

}  // namespace contextd::server
