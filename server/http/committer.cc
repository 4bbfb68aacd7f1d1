#include "server/http/committer.h"

#include <utility>

namespace contextd::server {

Committer::Committer(std::function<absl::Status()> sync)
    : sync_(std::move(sync)), thread_([this] { Run(); }) {}

Committer::~Committer() { Close(); }

void Committer::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Committer::Enqueue(Item item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) {
      queue_.push_back(std::move(item));
      cv_.notify_one();
      return;
    }
  }
  absl::Status synced = item.needs_sync ? sync_() : absl::OkStatus();
  item.deliver(synced);
}

uint64_t Committer::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

void Committer::Run() {
  std::deque<Item> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        // Stopping, and nothing left: from now on Enqueue delivers inline, decided under
        // the same lock so that no item can slip into a queue nobody reads.
        closed_ = true;
        return;
      }
      batch.swap(queue_);
    }
    bool needs_sync = false;
    for (const Item& item : batch) needs_sync = needs_sync || item.needs_sync;
    absl::Status synced = absl::OkStatus();
    if (needs_sync) {
      synced = sync_();
      std::lock_guard<std::mutex> lock(mu_);
      ++syncs_;
    }
    for (Item& item : batch) item.deliver(item.needs_sync ? synced : absl::OkStatus());
    batch.clear();
  }
}

}  // namespace contextd::server
