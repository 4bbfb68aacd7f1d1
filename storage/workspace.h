#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/model.h"
#include "storage/value.h"

namespace contextd::storage {

// A person who signs in to the Workspace API: an agent or a Contact Center Admin.
struct User {
  std::string user_name;  // unique per tenant; also the user's id
  std::string first_name;
  std::string last_name;
  std::string email;
  std::vector<std::string> roles;  // "ROLE_AGENT", "ROLE_ADMIN"
  std::string password_salt;       // random bytes
  std::string password_hash;       // PBKDF2-HMAC-SHA256 of the password with the salt
  uint32_t hash_iterations = 0;
  bool enabled = true;

  friend bool operator==(const User&, const User&) = default;
};

// An agent-facing interaction (an email, chat or work item to be handled) of the Workspace
// API, with its routing state. Not the history record (interaction.h): completing one writes
// one of those.
struct WorkItem {
  std::string id;         // 16 characters
  std::string mediatype;  // "email", "chat", "workitem", "voice", ...
  std::string state;      // Queued, Invited, Processing, InWorkbin, Composing, Completed, Canceled
  std::string queue;
  std::string owner;                     // the user it is offered to or owned by; "" while queued
  std::vector<std::string> rejected_by;  // users who rejected it (not offered it again)
  std::string workbin;                   // while InWorkbin
  std::string interaction_type;          // Inbound, Outbound, Internal
  std::string customer_id;
  std::string contact;  // the customer's number or address
  TimeMs received_ms = 0;
  Fields user_data;

  friend bool operator==(const WorkItem&, const WorkItem&) = default;
};

// An agent's contact-center session as routing sees it: its started channels and whether it is
// Ready on each.
struct AgentState {
  std::string user_name;
  std::vector<std::pair<std::string, bool>> channels;  // started channel -> Ready; none: ended
  TimeMs ready_since_ms = 0;

  friend bool operator==(const AgentState&, const AgentState&) = default;
};

// What a change tells one user (the query layer renders it: StatusChange, PropertiesUpdated,
// WorkbinContent): the item as it now is, and for WorkbinContent the workbin and its items.
struct WorkspaceNote {
  std::string user_name;
  std::string type;
  WorkItem item;
  std::string workbin;
  std::vector<WorkItem> workbin_items;

  friend bool operator==(const WorkspaceNote&, const WorkspaceNote&) = default;
};

// One change of a tenant's Workspace, all of it or none: the records' new values (an agent
// with no channels has ended its session) and the notes, in the order they are delivered.
struct WorkspaceChange {
  std::vector<User> users;
  std::vector<WorkItem> items;
  std::vector<AgentState> agents;
  std::vector<WorkspaceNote> notes;

  bool empty() const { return users.empty() && items.empty() && agents.empty() && notes.empty(); }
  friend bool operator==(const WorkspaceChange&, const WorkspaceChange&) = default;
};

// A tenant's Workspace as of the change numbered `head` (0: none yet).
struct WorkspaceSnapshot {
  uint64_t head = 0;
  std::vector<User> users;
  std::vector<WorkItem> items;  // the active ones (not Completed, not Canceled)
  std::vector<AgentState> agents;
};

// A signed-in user's Workspace session as every node sees it.
struct StoredSession {
  std::string id;
  std::string tenant;
  std::string user_name;
  std::string csrf_token;
  bool admin = false;
  bool agent = false;
  TimeMs expires_ms = 0;
  std::string password_hash;  // the user's when it signed in: a changed password ends it

  friend bool operator==(const StoredSession&, const StoredSession&) = default;
};

}  // namespace contextd::storage
