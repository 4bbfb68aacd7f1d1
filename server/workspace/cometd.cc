#include "server/workspace/cometd.h"

#include "query/secrets.h"
#include "query/timestamp.h"
#include "server/api/json.h"

namespace contextd::server {
namespace {

using storage::Value;

constexpr char kInteractions[] = "/v2/me/interactions";
constexpr char kInteractionsOld[] = "/me/interactions";

std::string Text(const Value& message, std::string_view field) {
  const Value* v = storage::FindField(message.object, field);
  return v != nullptr && v->kind == Value::Kind::kString ? v->string_value : std::string();
}

// `yyyy-MM-dd HH:mm:ss.SSS+0000`, as GWS 8.5.2 writes receivedDate.
std::string ReceivedDate(storage::TimeMs t) {
  std::string iso = query::FormatTimestamp(t);  // YYYY-MM-DDTHH:MM:SS.mmmZ
  iso[10] = ' ';
  iso.pop_back();
  return iso + "+0000";
}

// A meta reply: id, channel, successful, and more members written by `more`.
template <typename More>
void MetaReply(JsonWriter& w, const Value& message, bool successful, More&& more) {
  w.BeginObject();
  if (const Value* id = storage::FindField(message.object, "id")) {
    w.Key("id");
    w.Value(*id);
  }
  w.Key("channel");
  w.String(Text(message, "channel"));
  w.Key("successful");
  w.Value(Value::Bool(successful));
  more(w);
  w.EndObject();
}

void Advice(JsonWriter& w, const char* reconnect, int64_t timeout_ms) {
  w.Key("advice");
  w.BeginObject();
  w.Key("reconnect");
  w.String(reconnect);
  w.Key("interval");
  w.Int(0);
  if (timeout_ms >= 0) {
    w.Key("timeout");
    w.Int(timeout_ms);
  }
  w.EndObject();
}

// Joins rendered JSON values into one array.
std::string Array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  return out + "]";
}

ApiResponse Reply200(std::string body) {
  ApiResponse r;
  r.body = std::move(body);
  return r;
}

}  // namespace

void WriteWorkItem(JsonWriter& w, const query::ItemView& view, std::string_view host) {
  const storage::WorkItem& x = view.item;
  w.BeginObject();
  w.Key("id");
  w.String(x.id);
  w.Key("mediatype");
  w.String(x.mediatype);
  w.Key("state");
  w.String(x.state);
  w.Key("capabilities");
  w.BeginArray();
  for (const std::string& c : view.capabilities) w.String(c);
  w.EndArray();
  w.Key("userData");
  w.Value(Value::Object(x.user_data));
  w.Key("interactionType");
  w.String(x.interaction_type);
  w.Key("currentQueue");
  w.String(x.queue);
  if (!x.workbin.empty()) {
    w.Key("workbin");
    w.String(x.workbin);
  }
  if (!x.owner.empty()) {
    w.Key("userId");
    w.String(x.owner);
  }
  if (!x.customer_id.empty()) {
    w.Key("customerId");
    w.String(x.customer_id);
  }
  if (!x.contact.empty()) {
    w.Key("contact");
    w.String(x.contact);
  }
  w.Key("receivedDate");
  w.String(ReceivedDate(x.received_ms));
  w.Key("uri");
  w.String((host.empty() ? std::string() : "http://" + std::string(host)) +
           "/api/v2/interactions/" + x.id);
  w.EndObject();
}

Cometd::Cometd(CometdOptions options) : options_(options), sweeper_([this] { Sweep(); }) {}

Cometd::~Cometd() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    for (auto& [id, client] : clients_) Flush(client);
  }
  cv_.notify_all();
  sweeper_.join();
}

void Cometd::ReleaseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  releasing_ = true;
  for (auto& [id, client] : clients_) Flush(client);
}

size_t Cometd::clients() {
  std::lock_guard<std::mutex> lock(mu_);
  return clients_.size();
}

size_t Cometd::held_connects() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t held = 0;
  for (const auto& [id, c] : clients_) held += c.held ? 1 : 0;
  return held;
}

void Cometd::Flush(Client& client) {
  if (!client.held) return;
  std::vector<std::string> items;
  if (!client.held_prefix.empty()) items.push_back(client.held_prefix);
  items.insert(items.end(), client.queue.begin(), client.queue.end());
  items.push_back(client.held_reply);
  ApiResponse::Complete complete = std::move(client.held);
  client.held = nullptr;
  client.held_prefix.clear();
  client.last_seen = std::chrono::steady_clock::now();
  // Deliveries leave the queue only once a reply carrying them was sent.
  if (complete(Reply200(Array(items)))) client.queue.clear();
}

void Cometd::Sweep() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    const auto now = std::chrono::steady_clock::now();
    for (auto it = clients_.begin(); it != clients_.end();) {
      Client& c = it->second;
      if (c.held && now >= c.held_until) Flush(c);
      if (!c.held && now - c.last_seen > options_.max_interval) {
        it = Erase(it);
      } else {
        ++it;
      }
    }
  }
}

std::map<std::string, Cometd::Client>::iterator Cometd::Erase(
    std::map<std::string, Client>::iterator it) {
  auto count = clients_per_session_.find(it->second.session);
  if (count != clients_per_session_.end() && --count->second == 0) {
    clients_per_session_.erase(count);
  }
  return clients_.erase(it);
}

void Cometd::Deliver(const std::string& tenant, const std::string& user_name,
                     query::WorkNotification n) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, client] : clients_) {
    if (client.tenant != tenant || client.user != user_name) continue;
    for (const std::string& channel : client.subscriptions) {
      std::string out;
      JsonWriter w(&out);
      w.BeginObject();
      w.Key("channel");
      w.String(channel);
      w.Key("data");
      w.BeginObject();
      if (n.notification_type == "WorkbinContent") {
        w.Key("messageType");
        w.String("WorkbinContent");
        w.Key("workbin");
        w.String(n.workbin);
        w.Key("referenceId");
        w.Int(n.reference_id);
        w.Key("interactions");
        w.BeginArray();
        for (const query::ItemView& v : n.workbin_items) WriteWorkItem(w, v, "");
        w.EndArray();
      } else {
        w.Key("messageType");
        w.String("InteractionStateChanged");
        w.Key("notificationType");
        w.String(n.notification_type);
        w.Key("referenceId");
        w.Int(n.reference_id);
        w.Key("interaction");
        WriteWorkItem(w, n.view, "");
      }
      w.EndObject();
      w.EndObject();
      client.queue.push_back(std::move(out));
    }
    Flush(client);
  }
}

ApiResponse Cometd::Handle(const Value& messages, const query::Session& session, std::string_view) {
  std::vector<Value> batch;
  if (messages.kind == Value::Kind::kArray) {
    batch = messages.array;
  } else if (messages.kind == Value::Kind::kObject) {
    batch.push_back(messages);
  }
  std::vector<std::string> replies;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const int64_t hold_ms = options_.hold.count();
  Client* hold_client = nullptr;
  std::string hold_reply;
  for (const Value& m : batch) {
    std::string out;
    JsonWriter w(&out);
    const std::string channel = Text(m, "channel");
    if (m.kind != Value::Kind::kObject || channel.empty()) {
      w.BeginObject();
      w.Key("successful");
      w.Value(Value::Bool(false));
      w.Key("error");
      w.String("400::bad_message");
      w.EndObject();
      replies.push_back(std::move(out));
      continue;
    }
    if (channel == "/meta/handshake") {
      size_t& of_session = clients_per_session_[session.id];
      if (of_session >= options_.max_clients_per_session) {
        MetaReply(w, m, false, [&](JsonWriter& w) {
          w.Key("error");
          w.String("409::too_many_clients::this session has " + std::to_string(of_session) +
                   " CometD clients, the most it may have: disconnect one first");
          Advice(w, "none", -1);
        });
        replies.push_back(std::move(out));
        continue;
      }
      ++of_session;
      std::string id = query::RandomToken(24);
      Client& c = clients_[id];
      c.tenant = session.tenant;
      c.user = session.user_name;
      c.session = session.id;
      c.last_seen = now;
      MetaReply(w, m, true, [&](JsonWriter& w) {
        w.Key("version");
        w.String("1.0");
        w.Key("clientId");
        w.String(id);
        w.Key("supportedConnectionTypes");
        w.BeginArray();
        w.String("long-polling");
        w.EndArray();
        Advice(w, "retry", hold_ms);
      });
      replies.push_back(std::move(out));
      continue;
    }
    const std::string client_id = Text(m, "clientId");
    auto it = clients_.find(client_id);
    if (it == clients_.end() || it->second.user != session.user_name ||
        it->second.tenant != session.tenant) {
      MetaReply(w, m, false, [&](JsonWriter& w) {
        w.Key("error");
        w.String("402::unknown_client");
        Advice(w, "handshake", -1);
      });
      replies.push_back(std::move(out));
      continue;
    }
    Client& c = it->second;
    c.last_seen = now;
    if (channel == "/meta/connect") {
      Flush(c);  // one held connect per client: the older one completes, empty
      MetaReply(w, m, true, [&](JsonWriter& w) {
        w.Key("clientId");
        w.String(client_id);
        Advice(w, "retry", hold_ms);
      });
      const Value* advice = storage::FindField(m.object, "advice");
      const Value* timeout = advice ? storage::FindField(advice->object, "timeout") : nullptr;
      const bool immediate =
          !c.connected || (timeout && timeout->is_number() && timeout->ScalarText() == "0");
      c.connected = true;
      if (immediate || releasing_ || !c.queue.empty() || hold_client != nullptr) {
        for (std::string& q : c.queue) replies.push_back(std::move(q));
        c.queue.clear();
        replies.push_back(std::move(out));
      } else {
        hold_client = &c;
        hold_reply = std::move(out);
      }
    } else if (channel == "/meta/subscribe" || channel == "/meta/unsubscribe") {
      const std::string sub = Text(m, "subscription");
      const bool allowed = sub == kInteractions || sub == kInteractionsOld;
      if (allowed) {
        if (channel == "/meta/subscribe") {
          c.subscriptions.insert(sub);
        } else {
          c.subscriptions.erase(sub);
        }
      }
      MetaReply(w, m, allowed, [&](JsonWriter& w) {
        w.Key("clientId");
        w.String(client_id);
        w.Key("subscription");
        w.String(sub);
        if (!allowed) {
          w.Key("error");
          w.String("403::subscription_denied");
        }
      });
      replies.push_back(std::move(out));
    } else if (channel == "/meta/disconnect") {
      Flush(c);
      MetaReply(w, m, true, [&](JsonWriter& w) {
        w.Key("clientId");
        w.String(client_id);
      });
      replies.push_back(std::move(out));
      if (hold_client == &c) {  // connect and disconnect in one batch: answer both now
        replies.insert(replies.end() - 1, std::move(hold_reply));
        hold_client = nullptr;
      }
      Erase(it);
    } else {
      MetaReply(w, m, false, [&](JsonWriter& w) {
        w.Key("error");
        w.String("403::publish_denied");
      });
      replies.push_back(std::move(out));
    }
  }
  if (hold_client == nullptr) return Reply200(Array(replies));

  // Held: the other replies go first when it completes.
  std::string prefix = Array(replies);
  prefix = prefix.substr(1, prefix.size() - 2);
  std::string held_id;
  for (auto& [id, client] : clients_) {
    if (&client == hold_client) held_id = id;
  }
  ApiResponse r;
  r.hold = [this, held_id, prefix, hold_reply](ApiResponse::Complete complete, bool now) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clients_.find(held_id);
    if (it == clients_.end()) {  // gone meanwhile (disconnect, expiry)
      std::string items = prefix.empty() ? hold_reply : prefix + "," + hold_reply;
      complete(Reply200("[" + items + "]"));  // nothing to keep if it is not delivered
      return;
    }
    Client& c = it->second;
    if (now) {
      if (c.held) Flush(c);
      return;
    }
    Flush(c);  // never two held connects
    c.held = std::move(complete);
    c.held_prefix = prefix;
    c.held_reply = hold_reply;
    c.held_until = std::chrono::steady_clock::now() + options_.hold;
    if (!c.queue.empty()) Flush(c);
  };
  return r;
}

}  // namespace contextd::server
