#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/history.h"
#include "storage/workspace.h"
#include "storage/workspace_store.h"

namespace contextd::query {

inline constexpr char kRoleAgent[] = "ROLE_AGENT";
inline constexpr char kRoleAdmin[] = "ROLE_ADMIN";

// A signed-in user's HTTP session (the JSESSIONID cookie's value is `id`).
struct Session {
  std::string id;
  std::string tenant;
  std::string user_name;
  std::string csrf_token;
  bool admin = false;
  bool agent = false;
};

// A work item as one user sees it: its state and what that user may do with it now.
struct ItemView {
  storage::WorkItem item;
  std::vector<std::string> capabilities;
};

// What the Workspace tells a user over CometD (`/v2/me/interactions`).
struct WorkNotification {
  std::string notification_type;  // StatusChange, PropertiesUpdated, Error, WorkbinContent
  ItemView view;                  // the interaction as the recipient sees it
  int64_t reference_id = 0;
  std::string workbin;                  // WorkbinContent: the workbin
  std::vector<ItemView> workbin_items;  // WorkbinContent: its interactions
};

// Receives notifications: every node delivers every change's notifications, its own and those
// other nodes made (it replays them), in the tenant's order of changes. Called with the
// Workspace's lock held: implementations must not block and must not call back into the
// Workspace.
class WorkspaceListener {
 public:
  virtual ~WorkspaceListener() = default;
  virtual void Deliver(const std::string& tenant, const std::string& user_name,
                       WorkNotification notification) = 0;
};

struct NewUser {
  std::string user_name;
  std::string password;
  std::string first_name;
  std::string last_name;
  std::string email;
  std::vector<std::string> roles;  // kRoleAgent and/or kRoleAdmin
};

struct NewInteraction {
  std::string mediatype;  // required
  std::string queue;
  std::string interaction_type = "Inbound";
  std::string customer_id;
  std::string contact;
  storage::Fields user_data;
  std::string composing_agent;  // set: a draft (Composing) owned by this agent, not routed
};

// An agent operation (POST /api/v2/me/interactions/{id}).
struct Operation {
  std::string name;  // Accept, Reject, Cancel, Complete, PlaceInQueue, ...
  std::string queue_name;
  storage::Fields user_data;
  std::vector<std::string> keys;  // DeleteUserData 8.5.2 form
  std::string workbin;
  std::string target_user;  // SingleStepTransfer
};

struct WorkspaceOptions {
  int64_t session_idle_ms = 30 * 60 * 1000;
  uint32_t hash_iterations = 10000;
  // Live sessions one user may have; a sign-in past it ends the user's session idle longest.
  size_t max_sessions_per_user = 64;
};

// The session table's figures (for /metrics and tests).
struct SessionStats {
  size_t live = 0;        // sessions in the table (expired ones not yet swept included)
  uint64_t examined = 0;  // session entries looked at by sign-ins' upkeep, since start
};

// The Workspace API's domain: users and sessions, agents' contact-center sessions and
// channel readiness, and work items with their state machine and routing (a queued item is
// offered to the least busy Ready agent of its channel who has not turned it down).
// Completing an item writes an interaction history record (the userData keys it reads are the
// `workspace` column of query/history_fields.h; README lists them).
//
// Nodes sharing a store: each tenant's users, items and agents change by numbered changes
// (storage/workspace_store.h). Every operation first catches up with the changes other nodes
// made (one read of the tenant's head), decides on that state, and commits its change only on
// top of it; when another node came first it catches up and decides again. So every node
// answers from the same state, routing offers an item to one agent, and of concurrent
// operations on one item exactly one wins. Sessions are stored too: one signed in on a node is
// valid on every node (its idle time is written back at most once a minute); the per-user cap
// and remembered Basic credentials are each node's own.
//
// Errors: InvalidArgument (a missing or bad parameter), FailedPrecondition (not allowed in
// the item's current state), NotFound, PermissionDenied (wrong role), AlreadyExists,
// Unauthenticated (bad credentials or session); the store's (Unavailable) when it cannot be
// read or written, and Unavailable when other nodes' changes keep winning.
//
// Thread-safety: thread-safe; one lock serializes this node's operations.
class Workspace {
 public:
  // Neither is owned; both must outlive the Workspace.
  Workspace(storage::WorkspaceStore* store, History* history, WorkspaceOptions options = {});

  // Reads the default tenant's Workspace (the others are read on first use): fails when the
  // store cannot be read. Items offered to an agent without a contact-center session (after a
  // RocksDB restart) are queued again and routed as agents become Ready.
  absl::Status Load();

  // Catches up with the changes other nodes made to every tenant this node has read, and
  // delivers their notifications. The server calls it every 50 ms.
  void Poll();

  // Not owned; must outlive the Workspace. Set before serving.
  void SetListener(WorkspaceListener* listener) { listener_ = listener; }

  // Users. CreateUser: AlreadyExists for a taken name; InvalidArgument for an empty name or
  // password or an unknown role. EnsureUser creates the user unless the name exists.
  absl::StatusOr<storage::User> CreateUser(std::string_view tenant, const NewUser& user);
  absl::Status EnsureUser(std::string_view tenant, const NewUser& user);
  absl::StatusOr<std::vector<storage::User>> Users(std::string_view tenant);
  absl::StatusOr<storage::User> GetUser(std::string_view tenant, std::string_view user_name);

  // Sessions. SignIn: checks the password (a PBKDF2 hash, for unknown names too: it takes
  // milliseconds on purpose, so callers run it off the threads that serve the hot path) and
  // starts a new session; past max_sessions_per_user the user's session idle longest ends.
  // Unauthenticated for a wrong name or password. Its upkeep looks at a bounded number of
  // sessions (expired ones, oldest first, and the user's own), never the whole table.
  absl::StatusOr<Session> SignIn(std::string_view tenant, std::string_view user_name,
                                 std::string_view password, storage::TimeMs now_ms);
  // The live session SignIn started for exactly these credentials, its idle time restarted,
  // while the user is enabled and its password unchanged; NotFound otherwise (then SignIn
  // decides). No hash: a digest keyed by a per-process secret finds it, so a client that
  // sends Basic credentials on every request keeps one session and pays one hash.
  absl::StatusOr<Session> SignInRemembered(std::string_view tenant, std::string_view user_name,
                                           std::string_view password, storage::TimeMs now_ms);
  // The session of a JSESSIONID, its idle time restarted; Unauthenticated when unknown or
  // expired.
  absl::StatusOr<Session> Resume(std::string_view session_id, storage::TimeMs now_ms);
  SessionStats session_stats();

  // Agents. Returns the channels started.
  absl::StatusOr<std::vector<std::string>> StartContactCenterSession(
      const Session& session, std::vector<std::string> channels, storage::TimeMs now_ms);
  absl::Status EndContactCenterSession(const Session& session, storage::TimeMs now_ms);
  // FailedPrecondition when the channel was not started.
  absl::Status SetChannelReady(const Session& session, std::string_view channel, bool ready,
                               storage::TimeMs now_ms);

  // Interactions.
  absl::StatusOr<ItemView> CreateInteraction(std::string_view tenant, NewInteraction request,
                                             storage::TimeMs now_ms);
  // Every item not Completed or Canceled, oldest first (admin view).
  absl::StatusOr<std::vector<ItemView>> ActiveInteractions(std::string_view tenant);
  // The items the user owns (Invited, Processing, InWorkbin, Composing), oldest first.
  absl::StatusOr<std::vector<ItemView>> MyInteractions(const Session& session);
  // NotFound unless it exists and the session may see it (an admin sees all; an agent
  // the items it owns).
  absl::StatusOr<ItemView> GetInteraction(const Session& session, std::string_view id);
  // Applies an agent operation. FailedPrecondition for one not in the item's capabilities;
  // nothing changes on any error.
  absl::Status Operate(const Session& session, std::string_view id, const Operation& op,
                       storage::TimeMs now_ms);

  // The capabilities of an item in `state`.
  static std::vector<std::string> CapabilitiesOf(std::string_view state);

 private:
  struct Agent {
    std::map<std::string, bool> channels;  // started channels -> Ready
    int64_t ready_since_ms = 0;
  };
  struct Tenant {
    bool loaded = false;
    uint64_t head = 0;  // the number of the last change applied
    std::map<std::string, storage::User> users;
    std::map<std::string, storage::WorkItem> items;  // active ones, by id
    std::map<std::string, Agent> agents;             // users with a contact-center session
  };
  struct SessionEntry {
    Session session;
    storage::TimeMs expires_ms = 0;
    storage::TimeMs stored_expires_ms = 0;  // what the store holds
    std::string credential;     // CredentialDigest of the sign-in that started it ("": none)
    std::string password_hash;  // the user's then: a changed password ends its reuse
  };
  using SessionIt = std::map<std::string, SessionEntry, std::less<>>::iterator;
  // Computes a change from the tenant's current state (no side effects on it).
  using Decide = std::function<absl::Status(const Tenant&, storage::WorkspaceChange*)>;

  // The tenant, caught up with the store's changes. REQUIRES: mu_ held.
  absl::StatusOr<Tenant*> Current(const std::string& tenant);
  // Applies the items and agents of `change` to the maps (an ended item or agent leaves them).
  static void ApplyRecords(const storage::WorkspaceChange& change,
                           std::map<std::string, storage::WorkItem>* items,
                           std::map<std::string, Agent>* agents);
  // Applies change `seq` to the copy and delivers its notes. REQUIRES: mu_ held.
  void Apply(const std::string& tenant, Tenant& t, uint64_t seq,
             const storage::WorkspaceChange& change);
  // Catches up, decides, commits; again while other nodes' changes come first.
  // REQUIRES: mu_ held.
  absl::Status Mutate(const std::string& tenant, const Decide& decide);
  ItemView ViewOf(const storage::WorkItem& item) const;
  // Adds to `change` the offers of queued items to Ready agents, on the state `t` has once
  // `change` is applied.
  void Route(const Tenant& t, storage::WorkspaceChange* change) const;
  // HMAC of (tenant, user, password) under credential_key_.
  std::string CredentialDigest(std::string_view tenant, std::string_view user_name,
                               std::string_view password) const;
  // Sessions: REQUIRES mu_ held.
  void Touch(SessionIt it, storage::TimeMs expires_ms);
  // Forgets the session here; with `store_now_ms` (the clock) also ends it in the store.
  void EndSession(SessionIt it, std::optional<storage::TimeMs> store_now_ms);
  void SweepSessions(storage::TimeMs now_ms);  // ends at most a bounded number of expired ones
  SessionIt Remember(SessionEntry entry);
  absl::Status CompleteInto(const std::string& tenant, const storage::WorkItem& item,
                            const std::string& agent, storage::TimeMs now_ms);

  storage::WorkspaceStore* store_;  // not owned
  History* history_;                // not owned
  WorkspaceListener* listener_ = nullptr;
  WorkspaceOptions options_;
  std::mutex mu_;
  std::map<std::string, Tenant, std::less<>> tenants_;         // guarded by mu_
  const std::string credential_key_;                           // random per process; never stored
  // Sessions this node knows, by id, and three indexes over them (all guarded by mu_): by
  // expiry (oldest first), by user ("tenant\0user" -> ids), and by credential digest (-> id).
  std::map<std::string, SessionEntry, std::less<>> sessions_;
  std::set<std::pair<storage::TimeMs, std::string>> sessions_by_expiry_;
  std::map<std::string, std::set<std::string>> sessions_by_user_;
  std::map<std::string, std::string> sessions_by_credential_;
  uint64_t sessions_examined_ = 0;                             // guarded by mu_
};

}  // namespace contextd::query
