#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "query/history.h"
#include "storage/interaction.h"
#include "storage/value.h"

namespace contextd::server {

// Acqueon LCM's GetCustomerJourney message (dialects reference, section 4), served as
// POST /lcm/messages over the interaction model (query/history_fields.h).

struct JourneyRequest {
  std::string callid;  // echoed back; "" when absent
  query::HistoryQuery query;
};

// The request envelope -> the history query: AccountNumber when non-empty, else
// ContactNumber; ChannelID 1 SMS, 2 Voice, 3 Email, -1 all three; MonthType N (1..120) = the
// window [N calendar months before now, now] (months counted in UTC); CampaignName narrows to one
// campaign. ChannelID and MonthType may be strings or numbers. InvalidArgument with the message for
// the WS_Error envelope ("Callid is empty", "Invalid Call ID:<id>" when neither key is
// given); `callid` is set as soon as it is read, for that envelope.
absl::StatusOr<JourneyRequest> ParseJourneyRequest(const storage::Value& body,
                                                   std::string_view tenant, storage::TimeMs now_ms,
                                                   std::string* callid);

// Makes LCM times (CallCompleted*) render in the IANA zone `zone` ("America/New_York") rather
// than UTC, through the process's TZ setting. InvalidArgument for a zone the system's
// zoneinfo lacks. REQUIRES: called before any other thread starts (it sets TZ).
absl::Status SetLcmTimeZone(const std::string& zone);

// The CustomerJourney response envelope with one element per record, in the given order.
std::string RenderJourney(std::string_view callid,
                          const std::vector<storage::Interaction>& records);

// The WS_Error envelope: {"channel":"LCM",...,"message":{"callid":...,"error":{"errorType":
// "WS_Error","errorMessage":<error_message>,"msg":"Invalid Call ID." | "Invalid request."}}}.
std::string RenderLcmError(std::string_view callid, std::string_view error_message);

}  // namespace contextd::server
