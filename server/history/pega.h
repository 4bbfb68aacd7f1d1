#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/interaction.h"
#include "storage/value.h"

namespace contextd::server {

// Pega Marketing's CaptureResponse and CustomerOfferHistory services (dialects reference,
// section 3), over the interaction model (query/history_fields.h).

enum class CaptureVersion { kV2, kV3 };

// A CaptureResponse body -> one record per RankedResults entry, stamped `now_ms`. V2 needs
// CustomerID; V3 needs ContainerName and per result SubjectID (the customer) and
// ContextName, which a result may inherit from the top level. Every result needs Name,
// Issue, Group and InteractionID. Result fields outside the model (Rank, Propensity,
// Treatment, Journey, ...) and ContainerName / ContextName are kept as attributes;
// Identifier is derived on read, not stored. InvalidArgument "<field> is required" or
// naming the field at fault.
absl::StatusOr<std::vector<storage::Interaction>> ParseCaptureResponse(const storage::Value& body,
                                                                       CaptureVersion version,
                                                                       storage::TimeMs now_ms);

// The customer id of a CustomerOfferHistory POST body ({"CustomerID":"..."}); other members
// are ignored. InvalidArgument "CustomerID is required".
absl::StatusOr<std::string> ParseOfferHistoryRequest(const storage::Value& body);

// {"OfferHistory":[...]} with the records in the given order.
std::string RenderOfferHistory(const std::vector<storage::Interaction>& records);

// {"Status":"OK"|"ERROR","Message":...}: CaptureResponse's reply and every Pega error.
std::string RenderPegaStatus(std::string_view status, std::string_view message);

// Pega's default date-time text: yyyyMMdd'T'HHmmss.SSS 'GMT', in UTC.
std::string FormatPegaTime(storage::TimeMs time_ms);

}  // namespace contextd::server
