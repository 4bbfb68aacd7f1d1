#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/interaction.h"
#include "storage/value.h"

namespace contextd::server {

// The one mapping from each history dialect's fields to storage::Interaction (README
// "Interaction history" shows the same table). "" = the dialect does not carry the member.
// Members with neither pointer set are converted by hand in each dialect (time, channel,
// negotiation actions, attributes, id).
struct HistoryField {
  const char* native;  // POST/GET /contextd/v1/interactions
  const char* pega;    // CaptureResponse result (in) and CustomerOfferHistory record (out)
  const char* lcm;     // GetCustomerJourney: request key or response element field
  std::string storage::Interaction::*text = nullptr;
  std::optional<int64_t> storage::Interaction::*number = nullptr;
};

inline constexpr HistoryField kHistoryFields[] = {
    {"interaction_id", "", ""},
    {"time", "OutcomeTime", "CallCompletedTime"},  // + LCM CallCompletedDate/Month/Year/TimeFormat
    {"customer_id", "CustomerID", "", &storage::Interaction::customer_id},  // Pega V3: SubjectID
    {"account_number", "", "AccountNumber", &storage::Interaction::account_number},
    {"contact_number", "", "ContactValue",
     &storage::Interaction::contact_number},  // request: ContactNumber
    {"channel", "Channel", "ChannelType"},
    {"direction", "Direction", "CallType", &storage::Interaction::direction},
    {"campaign", "CampaignID", "CampaignName", &storage::Interaction::campaign},
    {"action_name", "Name", "", &storage::Interaction::action_name},
    {"action_issue", "Issue", "", &storage::Interaction::action_issue},
    {"action_group", "Group", "", &storage::Interaction::action_group},
    {"outcome", "Outcome", "Outcome", &storage::Interaction::outcome},
    {"outcome_id", "", "OutcomeId", nullptr, &storage::Interaction::outcome_id},
    {"behaviour", "Behaviour", "", &storage::Interaction::behaviour},
    {"agent", "", "AgentName", &storage::Interaction::agent},
    {"agent_comment", "", "AgentComment", &storage::Interaction::agent_comment},
    {"lead_score_before", "", "PreviousLeadScore", &storage::Interaction::lead_score_before},
    {"lead_score_after", "", "CurrentLeadScore", &storage::Interaction::lead_score_after},
    {"mode_id", "", "ModeID", nullptr, &storage::Interaction::mode_id},
    {"mode", "", "Mode", &storage::Interaction::mode},
    {"target_value", "", "TargetValue", &storage::Interaction::target_value},
    {"external_id", "ExternalID", "ContactID", &storage::Interaction::external_id},
    {"pega_interaction_id", "InteractionID", "", &storage::Interaction::pega_interaction_id},
    {"negotiation_actions", "OfferHistory", ""},  // Pega: [{"Name": action}, ...]
    {"attributes", "", ""},                       // Pega: every other CaptureResponse result field
};

// Channel names: canonical (stored) <-> Pega <-> LCM ChannelID / ChannelType code (0: none).
struct ChannelName {
  const char* canonical;
  const char* pega;
  int lcm_code;
};
inline constexpr ChannelName kChannels[] = {
    {"voice", "CallCenter", 2}, {"sms", "SMS", 1}, {"email", "Email", 3},
    {"chat", "Chat", 0},        {"web", "Web", 0}, {"mobile", "Mobile", 0},
};

// The stored form of a channel name from any dialect: the canonical name when it matches a
// canonical or Pega name without regard to case ("CallCenter", "VOICE" -> "voice"), else the
// text as given.
std::string CanonicalChannel(std::string_view name);

// The entry for a stored channel, or nullptr for one outside the table.
const ChannelName* FindChannel(std::string_view canonical);


// Longest text member accepted, in bytes.
inline constexpr size_t kMaxHistoryTextBytes = 4096;

// Checks a Pega interaction id (a string, or an integer) as a signed 64-bit decimal and
// returns its canonical text. InvalidArgument naming `field` otherwise.
absl::StatusOr<std::string> PegaInteractionId(std::string_view field, const storage::Value& v);

// "Inbound" / "Outbound" from any case; "" stays "". InvalidArgument naming `field` otherwise.
absl::StatusOr<std::string> Direction(std::string_view field, std::string_view text);

// A native interaction record (JSON object with the `native` names) -> the model.
// `time` absent: `now_ms`. `interaction_id` is set by the server and refused. Unknown fields
// are refused so that a typo is not silently dropped. InvalidArgument naming the field.
absl::StatusOr<storage::Interaction> ParseNativeInteraction(const storage::Value& json,
                                                            storage::TimeMs now_ms);

// Records in the native representation: {"interactions":[...]}.
std::string RenderNativeInteractions(const std::vector<storage::Interaction>& records);

}  // namespace contextd::server
