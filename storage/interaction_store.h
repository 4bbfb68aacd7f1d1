#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/interaction.h"
#include "storage/model.h"

namespace contextd::storage {

// One time window of one key's interactions.
struct InteractionScan {
  std::string tenant;
  InteractionKey by = InteractionKey::kCustomer;
  std::string key;
  TimeRange range;
  size_t limit = 1000;  // the newest `limit` records of the window that `keep` accepts
  // Optional filter, applied before the limit; nullptr keeps every record.
  std::function<bool(const Interaction&)> keep;
};

// The storage seam for interaction history: immutable records indexed by customer, account
// number and contact number, each by time, and the customer -> keys directory. Writes are
// durable on the terms of Store (store.h); Store::Sync covers them.
//
// Thread-safety: all methods may be called concurrently.
class InteractionStore {
 public:
  virtual ~InteractionStore() = default;

  // Stores all records in one atomic write, assigning each an interaction_id. Returns them
  // as stored. REQUIRES: every record has at least one of customer_id, account_number and
  // contact_number.
  virtual absl::StatusOr<std::vector<Interaction>> Append(std::string_view tenant,
                                                          std::vector<Interaction> records) = 0;

  // The records in the scan's window, newest first (time, then id), at most scan.limit.
  // Reads only the window's index range.
  virtual absl::StatusOr<std::vector<Interaction>> ScanInteractions(
      const InteractionScan& scan) = 0;

  // The customer's directory entry, or nullopt.
  virtual absl::StatusOr<std::optional<CustomerKeys>> GetCustomerKeys(
      std::string_view tenant, std::string_view customer_id) = 0;

  // Sets (replaces) the customer's directory entry.
  virtual absl::Status PutCustomerKeys(std::string_view tenant, std::string_view customer_id,
                                       const CustomerKeys& keys) = 0;
};

}  // namespace contextd::storage
