#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/access.h"
#include "storage/interaction.h"
#include "storage/model.h"
#include "storage/workspace.h"

namespace contextd::storage {

// Binary encoding of a service record (the value stored under its primary key).
// The first byte is a format version; decoding anything else is DataLoss.
std::string EncodeService(const Service& service);

// The service id of an encoded record, without decoding the rest; 0 if unreadable.
uint64_t PeekServiceId(std::string_view bytes);

// Decodes only what places a service in the indexes (id, customer_id, contact_key, start
// and completion times); the rest is skipped, not built. DataLoss for bad bytes.
absl::StatusOr<Service> DecodeServiceKeys(std::string_view bytes);

// Returns the decoded record, or DataLoss for bytes EncodeService did not produce.
absl::StatusOr<Service> DecodeService(std::string_view bytes);

// Binary encodings of an interaction record and of a customer's directory entry; decoding
// bytes the encoder did not produce is DataLoss.
std::string EncodeInteraction(const Interaction& record);
absl::StatusOr<Interaction> DecodeInteraction(std::string_view bytes);
std::string EncodeCustomerKeys(const CustomerKeys& keys);
absl::StatusOr<CustomerKeys> DecodeCustomerKeys(std::string_view bytes);

// Binary encodings of the Workspace's records; decoding other bytes is DataLoss.
std::string EncodeUser(const User& user);
absl::StatusOr<User> DecodeUser(std::string_view bytes);
std::string EncodeWorkItem(const WorkItem& item);
absl::StatusOr<WorkItem> DecodeWorkItem(std::string_view bytes);
std::string EncodeAgentState(const AgentState& agent);
absl::StatusOr<AgentState> DecodeAgentState(std::string_view bytes);
// A whole change: its users and items as EncodeUser and EncodeWorkItem bytes (so a record reads
// the same in a change as on its own), its agents and notes.
std::string EncodeWorkspaceChange(const WorkspaceChange& change);
absl::StatusOr<WorkspaceChange> DecodeWorkspaceChange(std::string_view bytes);
std::string EncodeStoredSession(const StoredSession& session);
absl::StatusOr<StoredSession> DecodeStoredSession(std::string_view bytes);

// Binary encodings of access control's records; decoding other bytes is DataLoss.
std::string EncodeApiKey(const ApiKey& key);
absl::StatusOr<ApiKey> DecodeApiKey(std::string_view bytes);
std::string EncodeTenant(const Tenant& tenant);
absl::StatusOr<Tenant> DecodeTenant(std::string_view bytes);

}  // namespace contextd::storage
