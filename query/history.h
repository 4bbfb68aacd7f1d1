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
#include "storage/interaction_store.h"
#include "storage/model.h"

namespace contextd::query {

// The most records one history read returns: the newest of its window.
inline constexpr size_t kMaxHistoryRecords = 1000;

// A window of one key's interaction history, optionally narrowed to some channels and one
// campaign.
struct HistoryQuery {
  std::string tenant;
  storage::InteractionKey by = storage::InteractionKey::kCustomer;
  std::string key;
  storage::TimeRange range;
  std::vector<std::string> channels;  // canonical names; empty: every channel
  std::string campaign;               // empty: every campaign
  size_t limit = kMaxHistoryRecords;
};

// Records interactions and reads them back by customer, account or contact number: the
// dialect-free half of every history API.
// Thread-safety: thread-safe.
class History {
 public:
  // `store` is not owned and must outlive the History.
  explicit History(storage::InteractionStore* store) : store_(store) {}

  // Stores the records in one atomic write (all or none) and returns them with their ids. A
  // record of a customer that lacks an account or contact number takes it from the
  // customer's directory entry, so it is found by those keys too. InvalidArgument
  // ("record N: ...", N from 1) for a record with no customer, account or contact number.
  absl::StatusOr<std::vector<storage::Interaction>> Record(
      std::string_view tenant, std::vector<storage::Interaction> records);

  // The newest records of the query's window that match its filters, newest first.
  absl::StatusOr<std::vector<storage::Interaction>> Query(const HistoryQuery& query);

  // The customer directory: which account and contact number a customer's records carry
  // when they arrive without them.
  absl::Status SetCustomerKeys(std::string_view tenant, std::string_view customer_id,
                               const storage::CustomerKeys& keys);
  // NotFound for a customer without an entry.
  absl::StatusOr<storage::CustomerKeys> GetCustomerKeys(std::string_view tenant,
                                                        std::string_view customer_id);

 private:
  storage::InteractionStore* store_;  // not owned
};

}  // namespace contextd::query
