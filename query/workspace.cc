#include "query/workspace.h"

#include <algorithm>

#include "query/history_fields.h"
#include "query/secrets.h"
#include "storage/status_macros.h"

namespace contextd::query {
namespace {

using storage::WorkItem;

constexpr char kQueued[] = "Queued";
constexpr char kInvited[] = "Invited";
constexpr char kProcessing[] = "Processing";
constexpr char kInWorkbin[] = "InWorkbin";
constexpr char kComposing[] = "Composing";
constexpr char kCompleted[] = "Completed";
constexpr char kCanceled[] = "Canceled";

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool IsActive(const WorkItem& item) { return item.state != kCompleted && item.state != kCanceled; }

absl::Status Required(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what) + " is required");
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// userData text of `key`, or "".
std::string UserText(const storage::Fields& data, std::string_view key) {
  const storage::Value* v = storage::FindField(data, key);
  if (v == nullptr || !v->is_scalar() || v->kind == storage::Value::Kind::kNull) return "";
  return v->ScalarText();
}

}  // namespace

Workspace::Workspace(storage::WorkspaceStore* store, History* history, WorkspaceOptions options)
    : store_(store), history_(history), options_(options), credential_key_(RandomToken(32)) {}

std::vector<std::string> Workspace::CapabilitiesOf(std::string_view state) {
  if (state == kInvited) return {"Accept", "Reject"};
  if (state == kProcessing) {
    return {"Complete",           "PlaceInQueue",   "PlaceInWorkbin",
            "AttachUserData",     "UpdateUserData", "DeleteUserData",
            "SingleStepTransfer", "Transfer",       "GetWorkbinContent"};
  }
  if (state == kInWorkbin) return {"Accept", "GetWorkbinContent"};
  if (state == kComposing) {
    return {"Cancel", "AttachUserData", "UpdateUserData", "DeleteUserData"};
  }
  return {};
}

absl::Status Workspace::Load() {
  ASSIGN_OR_RETURN(auto users, store_->ListUsers());
  ASSIGN_OR_RETURN(auto items, store_->ListWorkItems());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [tenant, user] : users) {
    TenantOf(tenant).users[user.user_name] = std::move(user);
  }
  for (auto& [tenant, item] : items) {
    if (!IsActive(item)) continue;
    // Offers do not survive a restart (no agent is Ready yet): queue them again.
    if (item.state == kInvited) {
      item.state = kQueued;
      item.owner.clear();
    }
    TenantOf(tenant).items[item.id] = std::move(item);
  }
  return absl::OkStatus();
}

Workspace::Tenant& Workspace::TenantOf(std::string_view tenant) {
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) it = tenants_.emplace(std::string(tenant), Tenant()).first;
  return it->second;
}

ItemView Workspace::ViewOf(const WorkItem& item) const {
  return ItemView{item, CapabilitiesOf(item.state)};
}

absl::Status Workspace::Save(const std::string& tenant, const WorkItem& item) {
  return store_->PutWorkItem(tenant, item);
}

void Workspace::Notify(const std::string& tenant, const std::string& user, std::string type,
                       ItemView view) {
  if (listener_ == nullptr || user.empty()) return;
  WorkNotification n;
  n.notification_type = std::move(type);
  n.view = std::move(view);
  n.reference_id = next_reference_++;
  listener_->Deliver(tenant, user, std::move(n));
}

absl::StatusOr<storage::User> Workspace::CreateUser(std::string_view tenant, const NewUser& u) {
  if (u.user_name.empty()) return Required("userName");
  if (u.password.empty()) return Required("password");
  if (u.user_name.size() > 128 || u.password.size() > 1024) {
    return absl::InvalidArgumentError("userName or password too long");
  }
  for (const std::string& role : u.roles) {
    if (role != kRoleAgent && role != kRoleAdmin) {
      return absl::InvalidArgumentError("unknown role '" + role + "'");
    }
  }
  if (u.roles.empty()) return Required("roles");
  storage::User user;
  user.user_name = u.user_name;
  user.first_name = u.first_name;
  user.last_name = u.last_name;
  user.email = u.email;
  user.roles = u.roles;
  user.password_salt = RandomToken(16);
  user.hash_iterations = options_.hash_iterations;
  user.password_hash = Pbkdf2Sha256(u.password, user.password_salt, user.hash_iterations);
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  if (t.users.count(user.user_name) > 0) {
    return absl::AlreadyExistsError("user " + user.user_name + " already exists");
  }
  RETURN_IF_ERROR(store_->PutUser(tenant, user));
  t.users[user.user_name] = user;
  return user;
}

absl::Status Workspace::EnsureUser(std::string_view tenant, const NewUser& user) {
  absl::StatusOr<storage::User> created = CreateUser(tenant, user);
  if (created.ok() || created.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::OkStatus();
  }
  return created.status();
}

std::vector<storage::User> Workspace::Users(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<storage::User> out;
  for (const auto& [name, user] : TenantOf(tenant).users) out.push_back(user);
  return out;
}

absl::StatusOr<storage::User> Workspace::GetUser(std::string_view tenant,
                                                 std::string_view user_name) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  auto it = t.users.find(std::string(user_name));
  if (it == t.users.end()) return absl::NotFoundError("no user " + std::string(user_name));
  return it->second;
}

absl::StatusOr<Session> Workspace::SignIn(std::string_view tenant, std::string_view user_name,
                                          std::string_view password, storage::TimeMs now_ms) {
  storage::User user;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Tenant& t = TenantOf(tenant);
    auto it = t.users.find(std::string(user_name));
    if (it != t.users.end() && it->second.enabled) user = it->second;
  }
  if (user.user_name.empty()) {
    // Unknown names cost a hash too, so timing does not tell which names exist.
    Pbkdf2Sha256(password, "unknown-user-salt", options_.hash_iterations);
    return absl::UnauthenticatedError("access denied");
  }
  // Hashed outside the lock: it takes milliseconds on purpose.
  const std::string hash = Pbkdf2Sha256(password, user.password_salt, user.hash_iterations);
  if (!ConstantTimeEquals(hash, user.password_hash)) {
    return absl::UnauthenticatedError("access denied");
  }
  Session s;
  s.id = RandomToken(32);
  s.csrf_token = RandomToken(32);
  s.tenant = std::string(tenant);
  s.user_name = user.user_name;
  s.admin = Contains(user.roles, kRoleAdmin);
  s.agent = Contains(user.roles, kRoleAgent);
  SessionEntry entry{s, now_ms + options_.session_idle_ms,
                     CredentialDigest(tenant, user_name, password), user.password_hash};
  const std::string user_key = s.tenant + '\0' + s.user_name;
  std::lock_guard<std::mutex> lock(mu_);
  SweepSessions(now_ms);
  std::set<std::string>& mine = sessions_by_user_[user_key];
  while (!mine.empty() && mine.size() >= std::max<size_t>(options_.max_sessions_per_user, 1)) {
    SessionIt idlest = sessions_.end();
    for (const std::string& id : mine) {
      ++sessions_examined_;
      SessionIt it = sessions_.find(id);
      if (idlest == sessions_.end() || it->second.expires_ms < idlest->second.expires_ms) {
        idlest = it;
      }
    }
    EndSession(idlest);  // may erase `mine` when it empties: looked up again below
    if (sessions_by_user_.count(user_key) == 0) break;
  }
  sessions_by_user_[user_key].insert(s.id);
  sessions_by_credential_[entry.credential] = s.id;
  sessions_by_expiry_.emplace(entry.expires_ms, s.id);
  sessions_.emplace(s.id, std::move(entry));
  return s;
}

absl::StatusOr<Session> Workspace::SignInRemembered(std::string_view tenant,
                                                    std::string_view user_name,
                                                    std::string_view password,
                                                    storage::TimeMs now_ms) {
  const std::string digest = CredentialDigest(tenant, user_name, password);
  std::lock_guard<std::mutex> lock(mu_);
  auto found = sessions_by_credential_.find(digest);
  if (found == sessions_by_credential_.end()) return absl::NotFoundError("not remembered");
  SessionIt it = sessions_.find(found->second);
  if (it == sessions_.end()) return absl::NotFoundError("not remembered");
  if (it->second.expires_ms <= now_ms) {
    EndSession(it);
    return absl::NotFoundError("not remembered");
  }
  const Session& s = it->second.session;
  Tenant& t = TenantOf(s.tenant);
  auto user = t.users.find(s.user_name);
  if (user == t.users.end() || !user->second.enabled ||
      user->second.password_hash != it->second.password_hash) {
    return absl::NotFoundError("not remembered");
  }
  Touch(it, now_ms + options_.session_idle_ms);
  return s;
}

absl::StatusOr<Session> Workspace::Resume(std::string_view session_id, storage::TimeMs now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return absl::UnauthenticatedError("no such session");
  if (it->second.expires_ms <= now_ms) {
    EndSession(it);
    return absl::UnauthenticatedError("session expired");
  }
  Touch(it, now_ms + options_.session_idle_ms);
  return it->second.session;
}

SessionStats Workspace::session_stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return SessionStats{sessions_.size(), sessions_examined_};
}

std::string Workspace::CredentialDigest(std::string_view tenant, std::string_view user_name,
                                        std::string_view password) const {
  // Length-prefixed: no two (tenant, user, password) triples give the same input.
  std::string data;
  for (std::string_view part : {tenant, user_name, password}) {
    data += std::to_string(part.size());
    data += ':';
    data += part;
  }
  return HmacSha256(credential_key_, data);
}

void Workspace::Touch(SessionIt it, storage::TimeMs expires_ms) {
  if (it->second.expires_ms == expires_ms) return;
  sessions_by_expiry_.erase({it->second.expires_ms, it->first});
  it->second.expires_ms = expires_ms;
  sessions_by_expiry_.emplace(expires_ms, it->first);
}

void Workspace::EndSession(SessionIt it) {
  const SessionEntry& e = it->second;
  sessions_by_expiry_.erase({e.expires_ms, it->first});
  const std::string user_key = e.session.tenant + '\0' + e.session.user_name;
  if (auto mine = sessions_by_user_.find(user_key); mine != sessions_by_user_.end()) {
    mine->second.erase(it->first);
    if (mine->second.empty()) sessions_by_user_.erase(mine);
  }
  if (auto c = sessions_by_credential_.find(e.credential);
      c != sessions_by_credential_.end() && c->second == it->first) {
    sessions_by_credential_.erase(c);
  }
  sessions_.erase(it);
}

void Workspace::SweepSessions(storage::TimeMs now_ms) {
  // Each sign-in ends at most this many expired sessions, oldest first: at least as many as
  // one sign-in adds, so expired sessions cannot pile up, and never the whole table.
  constexpr int kMaxSwept = 64;
  for (int i = 0; i < kMaxSwept && !sessions_by_expiry_.empty(); ++i) {
    const auto& [expires_ms, id] = *sessions_by_expiry_.begin();
    ++sessions_examined_;
    if (expires_ms > now_ms) break;
    EndSession(sessions_.find(id));
  }
}

absl::StatusOr<std::vector<std::string>> Workspace::StartContactCenterSession(
    const Session& session, std::vector<std::string> channels, storage::TimeMs now_ms) {
  if (!session.agent) return absl::PermissionDeniedError("only agents start a session");
  if (channels.empty()) return Required("channels");
  std::lock_guard<std::mutex> lock(mu_);
  Agent& agent = TenantOf(session.tenant).agents[session.user_name];
  std::vector<std::string> started;
  for (std::string& c : channels) {
    c = Lower(c);
    if (c.empty() || c.size() > 64) continue;
    agent.channels.emplace(c, false);
    started.push_back(c);
  }
  agent.ready_since_ms = now_ms;
  return started;
}

absl::Status Workspace::EndContactCenterSession(const Session& session, storage::TimeMs) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(session.tenant);
  if (t.agents.count(session.user_name) == 0) {
    return absl::FailedPreconditionError("no contact center session");
  }
  // Offers still open go back to the queue; the session ends once they are saved.
  for (auto& [id, item] : t.items) {
    if (item.owner != session.user_name || item.state != kInvited) continue;
    WorkItem queued = item;
    queued.state = kQueued;
    queued.owner.clear();
    RETURN_IF_ERROR(Save(session.tenant, queued));
    item = std::move(queued);
  }
  t.agents.erase(session.user_name);
  Route(session.tenant, t);
  return absl::OkStatus();
}

absl::Status Workspace::SetChannelReady(const Session& session, std::string_view channel,
                                        bool ready, storage::TimeMs now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(session.tenant);
  auto agent = t.agents.find(session.user_name);
  const std::string name = Lower(std::string(channel));
  if (agent == t.agents.end() || agent->second.channels.count(name) == 0) {
    return absl::FailedPreconditionError("channel " + name + " is not started");
  }
  bool& state = agent->second.channels[name];
  if (ready && !state) agent->second.ready_since_ms = now_ms;
  state = ready;
  if (ready) Route(session.tenant, t);
  return absl::OkStatus();
}

void Workspace::Route(const std::string& tenant, Tenant& t) {
  std::vector<WorkItem*> queued;
  for (auto& [id, item] : t.items) {
    if (item.state == kQueued) queued.push_back(&item);
  }
  std::sort(queued.begin(), queued.end(), [](const WorkItem* a, const WorkItem* b) {
    return std::tie(a->received_ms, a->id) < std::tie(b->received_ms, b->id);
  });
  for (WorkItem* item : queued) {
    const std::string* best = nullptr;
    int best_load = 0;
    int64_t best_since = 0;
    for (const auto& [name, agent] : t.agents) {
      auto channel = agent.channels.find(item->mediatype);
      if (channel == agent.channels.end() || !channel->second) continue;
      if (Contains(item->rejected_by, name)) continue;
      int load = 0;
      for (const auto& [id, other] : t.items) {
        load += other.owner == name && (other.state == kInvited || other.state == kProcessing);
      }
      if (best == nullptr || load < best_load ||
          (load == best_load && agent.ready_since_ms < best_since)) {
        best = &name;
        best_load = load;
        best_since = agent.ready_since_ms;
      }
    }
    if (best == nullptr) continue;
    WorkItem offered = *item;
    offered.state = kInvited;
    offered.owner = *best;
    if (!Save(tenant, offered).ok()) continue;  // stays queued; retried on the next change
    *item = std::move(offered);
    Notify(tenant, item->owner, "StatusChange", ViewOf(*item));
  }
}

absl::StatusOr<ItemView> Workspace::CreateInteraction(std::string_view tenant_name,
                                                      NewInteraction request,
                                                      storage::TimeMs now_ms) {
  if (request.mediatype.empty()) return Required("mediatype");
  WorkItem item;
  item.id = RandomToken(16);
  item.mediatype = Lower(request.mediatype);
  item.queue = std::move(request.queue);
  item.interaction_type = std::move(request.interaction_type);
  item.customer_id = std::move(request.customer_id);
  item.contact = std::move(request.contact);
  item.user_data = std::move(request.user_data);
  item.received_ms = now_ms;
  const std::string tenant(tenant_name);
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  if (!request.composing_agent.empty()) {
    auto user = t.users.find(request.composing_agent);
    if (user == t.users.end() || !Contains(user->second.roles, kRoleAgent)) {
      return absl::NotFoundError("no agent " + request.composing_agent);
    }
    item.state = kComposing;
    item.owner = request.composing_agent;
  } else {
    item.state = kQueued;
  }
  RETURN_IF_ERROR(Save(tenant, item));
  const std::string id = item.id;
  t.items[id] = std::move(item);
  if (t.items[id].state == kComposing) {
    Notify(tenant, t.items[id].owner, "StatusChange", ViewOf(t.items[id]));
  }
  Route(tenant, t);
  return ViewOf(t.items[id]);
}

std::vector<ItemView> Workspace::ActiveInteractions(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ItemView> out;
  for (const auto& [id, item] : TenantOf(tenant).items) {
    if (IsActive(item)) out.push_back(ViewOf(item));
  }
  std::sort(out.begin(), out.end(), [](const ItemView& a, const ItemView& b) {
    return std::tie(a.item.received_ms, a.item.id) < std::tie(b.item.received_ms, b.item.id);
  });
  return out;
}

std::vector<ItemView> Workspace::MyInteractions(const Session& session) {
  std::vector<ItemView> out;
  for (ItemView& v : ActiveInteractions(session.tenant)) {
    if (v.item.owner == session.user_name) out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<ItemView> Workspace::GetInteraction(const Session& session, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(session.tenant);
  auto it = t.items.find(std::string(id));
  if (it == t.items.end() || (!session.admin && it->second.owner != session.user_name)) {
    return absl::NotFoundError("interaction " + std::string(id) + " not found");
  }
  return ViewOf(it->second);
}

absl::Status Workspace::CompleteInto(const std::string& tenant, const WorkItem& item,
                                     const std::string& agent, storage::TimeMs now_ms) {
  storage::Interaction x;
  x.time_ms = now_ms;
  // The members the history field table names a userData key for (its `workspace` column);
  // a number member only from an integer.
  for (const HistoryField& f : kHistoryFields) {
    if (*f.workspace == '\0') continue;
    if (f.text != nullptr) {
      x.*(f.text) = UserText(item.user_data, f.workspace);
    } else if (const storage::Value* v = storage::FindField(item.user_data, f.workspace);
               f.number != nullptr && v != nullptr && v->kind == storage::Value::Kind::kInt) {
      x.*(f.number) = v->int_value;
    }
  }
  if (x.customer_id.empty()) x.customer_id = item.customer_id;
  if (x.contact_number.empty()) x.contact_number = item.contact;
  if (x.customer_id.empty() && x.account_number.empty() && x.contact_number.empty()) {
    return absl::OkStatus();  // nobody to file it under
  }
  x.channel = item.mediatype;
  if (item.interaction_type == "Inbound" || item.interaction_type == "Outbound") {
    x.direction = item.interaction_type;
  }
  x.agent = agent;
  x.external_id = item.id;
  x.attributes = item.user_data;
  return history_->Record(tenant, {std::move(x)}).status();
}

absl::Status Workspace::Operate(const Session& session, std::string_view id, const Operation& op,
                                storage::TimeMs now_ms) {
  if (!session.agent) return absl::PermissionDeniedError("only agents operate interactions");
  const std::string& tenant = session.tenant;
  std::lock_guard<std::mutex> lock(mu_);
  Tenant& t = TenantOf(tenant);
  auto it = t.items.find(std::string(id));
  if (it == t.items.end() || it->second.owner != session.user_name || it->second.state == kQueued) {
    return absl::NotFoundError("interaction " + std::string(id) + " not found");
  }
  WorkItem& item = it->second;
  const std::string name = op.name == "Transfer" ? "SingleStepTransfer" : op.name;
  if (!Contains(CapabilitiesOf(item.state), name)) {
    return absl::FailedPreconditionError(op.name + " is not allowed in state " + item.state);
  }
  WorkItem next = item;
  const std::string me = session.user_name;
  std::string type = "StatusChange";
  std::optional<WorkItem> released;  // the operator's copy after it lets the item go
  if (name == "Accept") {
    next.state = kProcessing;
    next.workbin.clear();
  } else if (name == "Reject" || name == "PlaceInQueue") {
    if (name == "PlaceInQueue") {
      if (op.queue_name.empty()) return Required("queueName");
      next.queue = op.queue_name;
    }
    next.rejected_by.push_back(me);
    next.state = kQueued;
    next.owner.clear();
    released = item;
    released->state = kCompleted;
  } else if (name == "Complete") {
    next.state = kCompleted;
  } else if (name == "Cancel") {
    next.state = kCanceled;
  } else if (name == "PlaceInWorkbin") {
    if (op.workbin.empty()) return Required("workbin");
    next.state = kInWorkbin;
    next.workbin = op.workbin;
  } else if (name == "GetWorkbinContent") {
    if (op.workbin.empty()) return Required("workbin");
    WorkNotification n;
    n.notification_type = "WorkbinContent";
    n.workbin = op.workbin;
    for (const auto& [other_id, other] : t.items) {
      if (other.state == kInWorkbin && other.workbin == op.workbin && other.owner == me) {
        n.workbin_items.push_back(ViewOf(other));
      }
    }
    n.view = ViewOf(item);
    n.reference_id = next_reference_++;
    if (listener_ != nullptr) listener_->Deliver(tenant, me, std::move(n));
    return absl::OkStatus();
  } else if (name == "UpdateUserData" || name == "AttachUserData") {
    if (op.user_data.empty()) return Required("userData");
    storage::MergeFields(next.user_data, op.user_data);
    type = "PropertiesUpdated";
  } else if (name == "DeleteUserData") {
    std::vector<std::string> keys = op.keys;
    for (const auto& [key, value] : op.user_data) keys.push_back(key);
    if (keys.empty()) return Required("userData or keys");
    std::erase_if(next.user_data,
                  [&keys](const storage::Value::Member& m) { return Contains(keys, m.first); });
    type = "PropertiesUpdated";
  } else if (name == "SingleStepTransfer") {
    if (op.target_user.empty()) return Required("userId");
    auto target = t.users.find(op.target_user);
    if (target == t.users.end() || !Contains(target->second.roles, kRoleAgent)) {
      return absl::NotFoundError("no agent " + op.target_user);
    }
    if (op.target_user == me) return absl::InvalidArgumentError("cannot transfer to oneself");
    next.state = kInvited;
    next.owner = op.target_user;
    released = item;
    released->state = kCompleted;
  } else {
    return absl::InvalidArgumentError("unknown operationName '" + op.name + "'");
  }
  if (name == "Complete") RETURN_IF_ERROR(CompleteInto(tenant, next, me, now_ms));
  RETURN_IF_ERROR(Save(tenant, next));
  item = std::move(next);
  if (released) {
    Notify(tenant, me, "StatusChange", ViewOf(*released));
    if (!item.owner.empty()) Notify(tenant, item.owner, "StatusChange", ViewOf(item));
    Route(tenant, t);
  } else {
    Notify(tenant, me, type, ViewOf(item));
  }
  if (!IsActive(item)) t.items.erase(it);
  return absl::OkStatus();
}

}  // namespace contextd::query
