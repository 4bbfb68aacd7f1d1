#include "query/history.h"

#include <algorithm>
#include <map>

#include "storage/status_macros.h"

namespace contextd::query {

absl::StatusOr<std::vector<storage::Interaction>> History::Record(
    std::string_view tenant, std::vector<storage::Interaction> records) {
  std::map<std::string, std::optional<storage::CustomerKeys>, std::less<>> directory;
  for (size_t i = 0; i < records.size(); ++i) {
    storage::Interaction& x = records[i];
    if (x.customer_id.empty() && x.account_number.empty() && x.contact_number.empty()) {
      return absl::InvalidArgumentError("record " + std::to_string(i + 1) +
                                        ": a customer id, account number or contact number "
                                        "is required");
    }
    if (x.customer_id.empty() || (!x.account_number.empty() && !x.contact_number.empty())) {
      continue;
    }
    auto it = directory.find(x.customer_id);
    if (it == directory.end()) {
      ASSIGN_OR_RETURN(std::optional<storage::CustomerKeys> keys,
                       store_->GetCustomerKeys(tenant, x.customer_id));
      it = directory.emplace(x.customer_id, std::move(keys)).first;
    }
    if (!it->second) continue;
    if (x.account_number.empty()) x.account_number = it->second->account_number;
    if (x.contact_number.empty()) x.contact_number = it->second->contact_number;
  }
  return store_->Append(tenant, std::move(records));
}

absl::StatusOr<std::vector<storage::Interaction>> History::Query(const HistoryQuery& query) {
  storage::InteractionScan scan;
  scan.tenant = query.tenant;
  scan.by = query.by;
  scan.key = query.key;
  scan.range = query.range;
  scan.limit = std::min(query.limit, kMaxHistoryRecords);
  if (!query.channels.empty() || !query.campaign.empty()) {
    scan.keep = [&query](const storage::Interaction& x) {
      if (!query.campaign.empty() && x.campaign != query.campaign) return false;
      return query.channels.empty() || std::find(query.channels.begin(), query.channels.end(),
                                                 x.channel) != query.channels.end();
    };
  }
  return store_->ScanInteractions(scan);
}

absl::Status History::SetCustomerKeys(std::string_view tenant, std::string_view customer_id,
                                      const storage::CustomerKeys& keys) {
  return store_->PutCustomerKeys(tenant, customer_id, keys);
}

absl::StatusOr<storage::CustomerKeys> History::GetCustomerKeys(std::string_view tenant,
                                                               std::string_view customer_id) {
  ASSIGN_OR_RETURN(std::optional<storage::CustomerKeys> keys,
                   store_->GetCustomerKeys(tenant, customer_id));
  if (!keys) {
    return absl::NotFoundError("no keys are recorded for customer " + std::string(customer_id));
  }
  return *keys;
}

}  // namespace contextd::query
