#include "query/workspace.h"

#include <algorithm>
#include <optional>
#include <tuple>

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
  std::lock_guard<std::mutex> lock(mu_);
  return Current("").status();
}

void Workspace::Poll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, t] : tenants_) {
    if (t.loaded) Current(name).IgnoreError();  // an unreachable store: the next poll
  }
}

absl::StatusOr<Workspace::Tenant*> Workspace::Current(const std::string& tenant) {
  Tenant& t = tenants_[tenant];
  if (t.loaded) {
    ASSIGN_OR_RETURN(uint64_t head, store_->WorkspaceHead(tenant));
    if (head == t.head) return &t;
    absl::StatusOr<std::vector<std::pair<uint64_t, storage::WorkspaceChange>>> changes =
        store_->ReadWorkspace(tenant, t.head);
    if (changes.ok()) {
      for (const auto& [seq, change] : *changes) Apply(tenant, t, seq, change);
      return &t;
    }
    if (!absl::IsOutOfRange(changes.status())) return changes.status();
    // So far behind that the changes are gone: read the whole state (their notes are lost).
  }
  ASSIGN_OR_RETURN(storage::WorkspaceSnapshot snapshot, store_->LoadWorkspace(tenant));
  Tenant fresh;
  fresh.loaded = true;
  fresh.head = snapshot.head;
  for (storage::User& u : snapshot.users) fresh.users[u.user_name] = std::move(u);
  for (storage::AgentState& a : snapshot.agents) {
    Agent& agent = fresh.agents[a.user_name];
    for (auto& [channel, ready] : a.channels) agent.channels[channel] = ready;
    agent.ready_since_ms = a.ready_since_ms;
  }
  for (WorkItem& item : snapshot.items) {
    // An offer to an agent without a contact-center session (RocksDB keeps agents in memory
    // only: after a restart there are none) is queued again.
    if (item.state == kInvited && fresh.agents.count(item.owner) == 0) {
      item.state = kQueued;
      item.owner.clear();
    }
    fresh.items[item.id] = std::move(item);
  }
  t = std::move(fresh);
  return &t;
}

void Workspace::ApplyRecords(const storage::WorkspaceChange& change,
                             std::map<std::string, WorkItem>* items,
                             std::map<std::string, Agent>* agents) {
  for (const WorkItem& item : change.items) {
    if (IsActive(item)) {
      (*items)[item.id] = item;
    } else {
      items->erase(item.id);
    }
  }
  for (const storage::AgentState& a : change.agents) {
    if (a.channels.empty()) {
      agents->erase(a.user_name);
      continue;
    }
    Agent& agent = (*agents)[a.user_name];
    agent.channels.clear();
    for (const auto& [channel, ready] : a.channels) agent.channels[channel] = ready;
    agent.ready_since_ms = a.ready_since_ms;
  }
}

void Workspace::Apply(const std::string& tenant, Tenant& t, uint64_t seq,
                      const storage::WorkspaceChange& change) {
  for (const storage::User& u : change.users) t.users[u.user_name] = u;
  ApplyRecords(change, &t.items, &t.agents);
  t.head = seq;
  if (listener_ == nullptr) return;
  // Reference ids: the change's number, then the note's place in it (fewer than 64).
  int64_t reference = static_cast<int64_t>(seq) * 64;
  for (const storage::WorkspaceNote& note : change.notes) {
    if (note.user_name.empty()) continue;
    WorkNotification n;
    n.notification_type = note.type;
    n.view = ViewOf(note.item);
    n.reference_id = reference++;
    n.workbin = note.workbin;
    for (const WorkItem& item : note.workbin_items) n.workbin_items.push_back(ViewOf(item));
    listener_->Deliver(tenant, note.user_name, std::move(n));
  }
}

absl::Status Workspace::Mutate(const std::string& tenant, const Decide& decide) {
  constexpr int kMaxAttempts = 32;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(Tenant * t, Current(tenant));
    storage::WorkspaceChange change;
    RETURN_IF_ERROR(decide(*t, &change));
    if (change.empty()) return absl::OkStatus();
    absl::StatusOr<uint64_t> head = store_->CommitWorkspace(tenant, t->head, change);
    if (head.ok()) {
      Apply(tenant, *t, *head, change);
      return absl::OkStatus();
    }
    if (!absl::IsAborted(head.status())) return head.status();
    // Another node's change came first: catch up and decide again.
  }
  return absl::UnavailableError("the Workspace changed under too many concurrent operations");
}

ItemView Workspace::ViewOf(const WorkItem& item) const {
  return ItemView{item, CapabilitiesOf(item.state)};
}

namespace {

storage::AgentState StateOf(const std::string& user, const std::map<std::string, bool>& channels,
                            int64_t ready_since_ms) {
  storage::AgentState a;
  a.user_name = user;
  for (const auto& [channel, ready] : channels) a.channels.emplace_back(channel, ready);
  a.ready_since_ms = ready_since_ms;
  return a;
}

// Puts `item` into the change, replacing an earlier value of it.
void Upsert(std::vector<WorkItem>* items, const WorkItem& item) {
  for (WorkItem& x : *items) {
    if (x.id == item.id) {
      x = item;
      return;
    }
  }
  items->push_back(item);
}

}  // namespace

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
  RETURN_IF_ERROR(Mutate(std::string(tenant), [&](const Tenant& t, storage::WorkspaceChange* c) {
    if (t.users.count(user.user_name) > 0) {
      return absl::AlreadyExistsError("user " + user.user_name + " already exists");
    }
    c->users.push_back(user);
    return absl::OkStatus();
  }));
  return user;
}

absl::Status Workspace::EnsureUser(std::string_view tenant, const NewUser& user) {
  absl::StatusOr<storage::User> created = CreateUser(tenant, user);
  if (created.ok() || created.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::OkStatus();
  }
  return created.status();
}

absl::StatusOr<std::vector<storage::User>> Workspace::Users(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Tenant * t, Current(std::string(tenant)));
  std::vector<storage::User> out;
  for (const auto& [name, user] : t->users) out.push_back(user);
  return out;
}

absl::StatusOr<storage::User> Workspace::GetUser(std::string_view tenant,
                                                 std::string_view user_name) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Tenant * t, Current(std::string(tenant)));
  auto it = t->users.find(std::string(user_name));
  if (it == t->users.end()) return absl::NotFoundError("no user " + std::string(user_name));
  return it->second;
}

absl::StatusOr<Session> Workspace::SignIn(std::string_view tenant, std::string_view user_name,
                                          std::string_view password, storage::TimeMs now_ms) {
  storage::User user;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(Tenant * t, Current(std::string(tenant)));
    auto it = t->users.find(std::string(user_name));
    if (it != t->users.end() && it->second.enabled) user = it->second;
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
  SessionEntry entry{s, now_ms + options_.session_idle_ms, now_ms + options_.session_idle_ms,
                     CredentialDigest(tenant, user_name, password), user.password_hash};
  // Stored first: every node knows the session before its id is handed out.
  RETURN_IF_ERROR(store_->PutSession({s.id, s.tenant, s.user_name, s.csrf_token, s.admin, s.agent,
                                      entry.expires_ms, user.password_hash},
                                     now_ms));
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
    EndSession(idlest, now_ms);  // may erase `mine`: looked up again below
    if (sessions_by_user_.count(user_key) == 0) break;
  }
  Remember(std::move(entry));
  return s;
}

Workspace::SessionIt Workspace::Remember(SessionEntry entry) {
  const Session& s = entry.session;
  sessions_by_user_[s.tenant + '\0' + s.user_name].insert(s.id);
  if (!entry.credential.empty()) sessions_by_credential_[entry.credential] = s.id;
  sessions_by_expiry_.emplace(entry.expires_ms, s.id);
  const std::string id = s.id;
  return sessions_.insert_or_assign(id, std::move(entry)).first;
}

absl::StatusOr<Session> Workspace::SignInRemembered(std::string_view tenant,
                                                    std::string_view user_name,
                                                    std::string_view password,
                                                    storage::TimeMs now_ms) {
  const std::string digest = CredentialDigest(tenant, user_name, password);
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto found = sessions_by_credential_.find(digest);
    if (found == sessions_by_credential_.end()) return absl::NotFoundError("not remembered");
    id = found->second;
  }
  absl::StatusOr<Session> s = Resume(id, now_ms);
  if (!s.ok()) {
    if (absl::IsUnauthenticated(s.status())) return absl::NotFoundError("not remembered");
    return s.status();
  }
  return s;
}

absl::StatusOr<Session> Workspace::Resume(std::string_view session_id, storage::TimeMs now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || it->second.expires_ms <= now_ms) {
    // Unknown here, or idle too long by this node's clock of it: another node may have
    // started it, or used it since. The store decides.
    ASSIGN_OR_RETURN(std::optional<storage::StoredSession> stored, store_->GetSession(session_id));
    if (!stored || stored->expires_ms <= now_ms) {
      if (it != sessions_.end()) EndSession(it, std::nullopt);
      return absl::UnauthenticatedError("no such session");
    }
    SessionEntry entry;
    entry.session = Session{stored->id,         stored->tenant, stored->user_name,
                            stored->csrf_token, stored->admin,  stored->agent};
    entry.expires_ms = entry.stored_expires_ms = stored->expires_ms;
    entry.password_hash = stored->password_hash;
    if (it != sessions_.end()) {
      entry.credential = it->second.credential;
      EndSession(it, std::nullopt);
    }
    it = Remember(std::move(entry));
  }
  // A user disabled, or whose password changed, since: the session ends. Caught up with the
  // store: the request then sees every change made before it on any node (a CometD connect
  // returns the notifications of changes other nodes made).
  const Session session = it->second.session;
  ASSIGN_OR_RETURN(Tenant * t, Current(session.tenant));
  auto user = t->users.find(session.user_name);
  if (user == t->users.end() || !user->second.enabled ||
      user->second.password_hash != it->second.password_hash) {
    EndSession(it, now_ms);
    return absl::UnauthenticatedError("no such session");
  }
  const storage::TimeMs expires_ms = now_ms + options_.session_idle_ms;
  Touch(it, expires_ms);
  // The store's expiry is kept within a quarter of the idle time (at most a minute) of this
  // node's: other nodes then see the session alive while it is.
  const int64_t slack_ms = std::min<int64_t>(60000, options_.session_idle_ms / 4);
  if (it->second.stored_expires_ms + slack_ms < expires_ms) {
    // Ended on another node meanwhile (its per-user cap: expires_ms 0, or gone): ended here
    // too, never revived. (The store's expiry itself may lag this node's by the slack.)
    ASSIGN_OR_RETURN(std::optional<storage::StoredSession> stored, store_->GetSession(session_id));
    if (!stored || stored->expires_ms == 0) {
      EndSession(it, std::nullopt);
      return absl::UnauthenticatedError("no such session");
    }
    const SessionEntry& e = it->second;
    RETURN_IF_ERROR(store_->PutSession({e.session.id, e.session.tenant, e.session.user_name,
                                        e.session.csrf_token, e.session.admin, e.session.agent,
                                        expires_ms, e.password_hash},
                                       now_ms));
    it->second.stored_expires_ms = expires_ms;
  }
  return session;
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

void Workspace::EndSession(SessionIt it, std::optional<storage::TimeMs> store_now_ms) {
  const SessionEntry& e = it->second;
  if (store_now_ms) {
    // Ended for every node (expires_ms 0); a store that cannot be written keeps it there
    // until it expires.
    store_->PutSession({e.session.id, e.session.tenant, e.session.user_name, e.session.csrf_token,
                        e.session.admin, e.session.agent, 0, e.password_hash},
                       *store_now_ms)
        .IgnoreError();
  }
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
  // Each sign-in forgets at most this many expired sessions, oldest first: at least as many as
  // one sign-in adds, so expired sessions cannot pile up, and never the whole table.
  constexpr int kMaxSwept = 64;
  for (int i = 0; i < kMaxSwept && !sessions_by_expiry_.empty(); ++i) {
    const auto& [expires_ms, id] = *sessions_by_expiry_.begin();
    ++sessions_examined_;
    if (expires_ms > now_ms) break;
    EndSession(sessions_.find(id), std::nullopt);  // expired in the store too
  }
}

absl::StatusOr<std::vector<std::string>> Workspace::StartContactCenterSession(
    const Session& session, std::vector<std::string> channels, storage::TimeMs now_ms) {
  if (!session.agent) return absl::PermissionDeniedError("only agents start a session");
  if (channels.empty()) return Required("channels");
  std::vector<std::string> started;
  for (std::string& c : channels) {
    c = Lower(c);
    if (c.empty() || c.size() > 64) continue;
    started.push_back(c);
  }
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(Mutate(session.tenant, [&](const Tenant& t, storage::WorkspaceChange* c) {
    std::map<std::string, bool> mine;
    if (auto a = t.agents.find(session.user_name); a != t.agents.end()) mine = a->second.channels;
    for (const std::string& channel : started) mine.emplace(channel, false);
    if (mine.empty()) return absl::OkStatus();
    c->agents.push_back(StateOf(session.user_name, mine, now_ms));
    return absl::OkStatus();
  }));
  return started;
}

absl::Status Workspace::EndContactCenterSession(const Session& session, storage::TimeMs) {
  std::lock_guard<std::mutex> lock(mu_);
  return Mutate(session.tenant, [&](const Tenant& t, storage::WorkspaceChange* c) {
    if (t.agents.count(session.user_name) == 0) {
      return absl::FailedPreconditionError("no contact center session");
    }
    // Offers still open go back to the queue with the session's end.
    for (const auto& [id, item] : t.items) {
      if (item.owner != session.user_name || item.state != kInvited) continue;
      WorkItem queued = item;
      queued.state = kQueued;
      queued.owner.clear();
      c->items.push_back(std::move(queued));
    }
    c->agents.push_back(StateOf(session.user_name, {}, 0));
    Route(t, c);
    return absl::OkStatus();
  });
}

absl::Status Workspace::SetChannelReady(const Session& session, std::string_view channel,
                                        bool ready, storage::TimeMs now_ms) {
  const std::string name = Lower(std::string(channel));
  std::lock_guard<std::mutex> lock(mu_);
  return Mutate(session.tenant, [&](const Tenant& t, storage::WorkspaceChange* c) {
    auto agent = t.agents.find(session.user_name);
    if (agent == t.agents.end() || agent->second.channels.count(name) == 0) {
      return absl::FailedPreconditionError("channel " + name + " is not started");
    }
    std::map<std::string, bool> channels = agent->second.channels;
    int64_t since = agent->second.ready_since_ms;
    if (ready && !channels[name]) since = now_ms;
    channels[name] = ready;
    c->agents.push_back(StateOf(session.user_name, channels, since));
    if (ready) Route(t, c);
    return absl::OkStatus();
  });
}

void Workspace::Route(const Tenant& t, storage::WorkspaceChange* change) const {
  // The state once `change` is applied.
  std::map<std::string, WorkItem> items = t.items;
  std::map<std::string, Agent> agents = t.agents;
  ApplyRecords(*change, &items, &agents);
  std::vector<WorkItem*> queued;
  for (auto& [id, item] : items) {
    if (item.state == kQueued) queued.push_back(&item);
  }
  std::sort(queued.begin(), queued.end(), [](const WorkItem* a, const WorkItem* b) {
    return std::tie(a->received_ms, a->id) < std::tie(b->received_ms, b->id);
  });
  for (WorkItem* item : queued) {
    const std::string* best = nullptr;
    int best_load = 0;
    int64_t best_since = 0;
    for (const auto& [name, agent] : agents) {
      auto channel = agent.channels.find(item->mediatype);
      if (channel == agent.channels.end() || !channel->second) continue;
      if (Contains(item->rejected_by, name)) continue;
      int load = 0;
      for (const auto& [id, other] : items) {
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
    item->state = kInvited;
    item->owner = *best;
    Upsert(&change->items, *item);
    change->notes.push_back({item->owner, "StatusChange", *item, "", {}});
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
  RETURN_IF_ERROR(Mutate(tenant, [&](const Tenant& t, storage::WorkspaceChange* c) {
    WorkItem created = item;
    if (!request.composing_agent.empty()) {
      auto user = t.users.find(request.composing_agent);
      if (user == t.users.end() || !Contains(user->second.roles, kRoleAgent)) {
        return absl::NotFoundError("no agent " + request.composing_agent);
      }
      created.state = kComposing;
      created.owner = request.composing_agent;
      c->notes.push_back({created.owner, "StatusChange", created, "", {}});
    } else {
      created.state = kQueued;
    }
    c->items.push_back(std::move(created));
    Route(t, c);
    return absl::OkStatus();
  }));
  const Tenant& t = tenants_[tenant];  // as the commit left it
  auto it = t.items.find(item.id);
  if (it == t.items.end()) return ViewOf(item);
  return ViewOf(it->second);
}

absl::StatusOr<std::vector<ItemView>> Workspace::ActiveInteractions(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Tenant * t, Current(std::string(tenant)));
  std::vector<ItemView> out;
  for (const auto& [id, item] : t->items) {
    if (IsActive(item)) out.push_back(ViewOf(item));
  }
  std::sort(out.begin(), out.end(), [](const ItemView& a, const ItemView& b) {
    return std::tie(a.item.received_ms, a.item.id) < std::tie(b.item.received_ms, b.item.id);
  });
  return out;
}

absl::StatusOr<std::vector<ItemView>> Workspace::MyInteractions(const Session& session) {
  ASSIGN_OR_RETURN(std::vector<ItemView> all, ActiveInteractions(session.tenant));
  std::vector<ItemView> out;
  for (ItemView& v : all) {
    if (v.item.owner == session.user_name) out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<ItemView> Workspace::GetInteraction(const Session& session, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Tenant * t, Current(session.tenant));
  auto it = t->items.find(std::string(id));
  if (it == t->items.end() || (!session.admin && it->second.owner != session.user_name)) {
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
  const std::string me = session.user_name;
  const std::string name = op.name == "Transfer" ? "SingleStepTransfer" : op.name;
  bool recorded = false;  // the history record of a Complete is written once
  std::lock_guard<std::mutex> lock(mu_);
  return Mutate(tenant, [&](const Tenant& t, storage::WorkspaceChange* c) -> absl::Status {
    auto it = t.items.find(std::string(id));
    if (it == t.items.end() || it->second.owner != me || it->second.state == kQueued) {
      return absl::NotFoundError("interaction " + std::string(id) + " not found");
    }
    const WorkItem& item = it->second;
    if (!Contains(CapabilitiesOf(item.state), name)) {
      return absl::FailedPreconditionError(op.name + " is not allowed in state " + item.state);
    }
    WorkItem next = item;
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
      storage::WorkspaceNote note{me, "WorkbinContent", item, op.workbin, {}};
      for (const auto& [other_id, other] : t.items) {
        if (other.state == kInWorkbin && other.workbin == op.workbin && other.owner == me) {
          note.workbin_items.push_back(other);
        }
      }
      c->notes.push_back(std::move(note));
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
    if (name == "Complete" && !recorded) {
      RETURN_IF_ERROR(CompleteInto(tenant, next, me, now_ms));
      recorded = true;
    }
    c->items.push_back(next);
    if (released) {
      c->notes.push_back({me, "StatusChange", *released, "", {}});
      if (!next.owner.empty()) c->notes.push_back({next.owner, "StatusChange", next, "", {}});
      Route(t, c);
    } else {
      c->notes.push_back({me, type, next, "", {}});
    }
    return absl::OkStatus();
  });
}

}  // namespace contextd::query
