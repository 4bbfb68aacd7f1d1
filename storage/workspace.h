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

}  // namespace contextd::storage
