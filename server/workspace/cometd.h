#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "query/workspace.h"
#include "server/http/exchange.h"
#include "storage/value.h"

namespace contextd::server {

struct CometdOptions {
  std::chrono::milliseconds hold{25000};  // longest a connect is held (advice.timeout)
  std::chrono::milliseconds max_interval{
      15000};  // a client silent this long after a reply is dropped
  // Clients one session may have at once; a handshake past it is refused.
  size_t max_clients_per_session = 32;
};

// A Bayeux 1.0 server over HTTP long-polling (dialects reference, section 2) for the
// Workspace API's notifications: clients are bound to the session that handshook, may
// subscribe to /v2/me/interactions (or /me/interactions), and receive the Workspace's
// notifications for their user in order. A connect is held, without a worker thread, until
// a message is queued for the client or the hold time ends. A session may have at most
// max_clients_per_session clients (a handshake past it fails with "409::too_many_clients").
//
// Thread-safety: thread-safe. Deliver is called under the Workspace's lock and only queues.
class Cometd final : public query::WorkspaceListener {
 public:
  explicit Cometd(CometdOptions options = {});
  ~Cometd() override;  // completes every held connect

  // Serves one POST of a message array for `session`. The reply is immediate, or held
  // (ApiResponse::hold) for a connect that must wait.
  ApiResponse Handle(const storage::Value& messages, const query::Session& session,
                     std::string_view host);

  void Deliver(const std::string& tenant, const std::string& user_name,
               query::WorkNotification notification) override;

  // Clients currently known.
  size_t clients();

  // Connects currently held (parked until a message or the hold time).
  size_t held_connects();

  // Completes every held connect now and holds none from here on (the server is stopping:
  // clients get their replies before the connections close).
  void ReleaseAll();

 private:
  struct Client {
    std::string tenant;
    std::string user;
    std::string session;  // the id of the session that handshook
    std::set<std::string> subscriptions;
    std::deque<std::string> queue;  // rendered messages, in order
    ApiResponse::Complete held;     // set while a connect is held
    std::string held_prefix;        // replies of the held batch's other messages
    std::string held_reply;         // the held connect's own reply
    std::chrono::steady_clock::time_point held_until;
    std::chrono::steady_clock::time_point last_seen;
    bool connected = false;  // has sent a connect since its handshake
  };

  // Completes the held connect of `client` with its queued messages. REQUIRES: mu_ held.
  void Flush(Client& client);
  void Sweep();

  CometdOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Erases a client and its count in clients_per_session_. REQUIRES: mu_ held.
  std::map<std::string, Client>::iterator Erase(std::map<std::string, Client>::iterator it);

  std::map<std::string, Client> clients_;  // by clientId; guarded by mu_
  std::map<std::string, size_t> clients_per_session_;  // by session id; guarded by mu_
  bool stop_ = false;                      // guarded by mu_
  bool releasing_ = false;                 // guarded by mu_: ReleaseAll was called
  std::thread sweeper_;
};

// JSON of a work item as the Workspace API renders it (REST `interaction` and CometD
// `data.interaction`). `host` makes the uri absolute when known.
void WriteWorkItem(class JsonWriter& w, const query::ItemView& view, std::string_view host);

}  // namespace contextd::server
