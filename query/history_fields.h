#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/interaction.h"
#include "storage/value.h"

namespace contextd::query {

// How a row of the history field table converts its storage::Interaction member. kMember rows
// name a text or number member and every dialect converts them alike; the other kinds are
// converted by each dialect in its own way (time formats, channel names and codes, ...).
enum class HistoryKind : uint8_t {
  kMember,      // `text` or `number` is set
  kId,          // interaction_id, assigned by the store
  kTime,        // time_ms
  kChannel,     // channel (kChannels)
  kActions,     // negotiation_actions
  kAttributes,  // attributes
};

// One member of storage::Interaction and its name in each dialect; "" = the dialect does not
// carry the member.
struct HistoryField {
  const char* native;            // POST/GET /contextd/v1/interactions
  const char* pega = "";         // CaptureResponse result (in), CustomerOfferHistory record (out)
  const char* lcm = "";          // GetCustomerJourney response element field
  const char* lcm_request = "";  // GetCustomerJourney request `data` key
  const char* workspace = "";    // Workspace userData key read when an interaction completes
  std::string storage::Interaction::*text = nullptr;
  std::optional<int64_t> storage::Interaction::*number = nullptr;
  HistoryKind kind = HistoryKind::kMember;
};

// The one mapping from each history dialect's fields to storage::Interaction (README
// "Interaction history" shows the same table). The native representation lists its fields in
// this order.
inline constexpr HistoryField kHistoryFields[] = {
    {.native = "interaction_id", .kind = HistoryKind::kId},
    // LCM also derives CallCompletedDate/Month/Year/TimeFormat from the time.
    {.native = "time",
     .pega = "OutcomeTime",
     .lcm = "CallCompletedTime",
     .kind = HistoryKind::kTime},
    {.native = "channel",
     .pega = "Channel",
     .lcm = "ChannelType",
     .lcm_request = "ChannelID",
     .kind = HistoryKind::kChannel},
    // Pega V3 names the customer SubjectID.
    {.native = "customer_id",
     .pega = "CustomerID",
     .workspace = "CustomerID",
     .text = &storage::Interaction::customer_id},
    {.native = "account_number",
     .lcm_request = "AccountNumber",
     .workspace = "AccountNumber",
     .text = &storage::Interaction::account_number},
    {.native = "contact_number",
     .lcm = "ContactValue",
     .lcm_request = "ContactNumber",
     .workspace = "ContactNumber",
     .text = &storage::Interaction::contact_number},
    {.native = "direction",
     .pega = "Direction",
     .lcm = "CallType",
     .text = &storage::Interaction::direction},
    {.native = "campaign",
     .pega = "CampaignID",
     .lcm = "CampaignName",
     .lcm_request = "CampaignName",
     .workspace = "CampaignName",
     .text = &storage::Interaction::campaign},
    {.native = "action_name", .pega = "Name", .text = &storage::Interaction::action_name},
    {.native = "action_issue", .pega = "Issue", .text = &storage::Interaction::action_issue},
    {.native = "action_group", .pega = "Group", .text = &storage::Interaction::action_group},
    {.native = "outcome",
     .pega = "Outcome",
     .lcm = "Outcome",
     .workspace = "Outcome",
     .text = &storage::Interaction::outcome},
    {.native = "outcome_id",
     .lcm = "OutcomeId",
     .workspace = "OutcomeId",
     .number = &storage::Interaction::outcome_id},
    {.native = "behaviour", .pega = "Behaviour", .text = &storage::Interaction::behaviour},
    {.native = "agent", .lcm = "AgentName", .text = &storage::Interaction::agent},
    {.native = "agent_comment",
     .lcm = "AgentComment",
     .workspace = "AgentComment",
     .text = &storage::Interaction::agent_comment},
    {.native = "lead_score_before",
     .lcm = "PreviousLeadScore",
     .text = &storage::Interaction::lead_score_before},
    {.native = "lead_score_after",
     .lcm = "CurrentLeadScore",
     .text = &storage::Interaction::lead_score_after},
    {.native = "mode_id", .lcm = "ModeID", .number = &storage::Interaction::mode_id},
    {.native = "mode", .lcm = "Mode", .text = &storage::Interaction::mode},
    {.native = "target_value", .lcm = "TargetValue", .text = &storage::Interaction::target_value},
    {.native = "external_id",
     .pega = "ExternalID",
     .lcm = "ContactID",
     .text = &storage::Interaction::external_id},
    {.native = "pega_interaction_id",
     .pega = "InteractionID",
     .text = &storage::Interaction::pega_interaction_id},
    // Pega: nested [{"Name": action}, ...].
    {.native = "negotiation_actions", .pega = "OfferHistory", .kind = HistoryKind::kActions},
    // Pega: every other CaptureResponse result field.
    {.native = "attributes", .kind = HistoryKind::kAttributes},
};

// The row of a text member, a number member, or a kind other than kMember. A member or kind
// outside the table gets kNoHistoryField, whose names are all "" (tests/query rule that out).
inline constexpr HistoryField kNoHistoryField{.native = ""};

constexpr const HistoryField& HistoryFieldOf(std::string storage::Interaction::*text) {
  for (const HistoryField& f : kHistoryFields) {
    if (f.text == text) return f;
  }
  return kNoHistoryField;
}

constexpr const HistoryField& HistoryFieldOf(std::optional<int64_t> storage::Interaction::*number) {
  for (const HistoryField& f : kHistoryFields) {
    if (f.number == number) return f;
  }
  return kNoHistoryField;
}

constexpr const HistoryField& HistoryFieldOf(HistoryKind kind) {
  for (const HistoryField& f : kHistoryFields) {
    if (kind != HistoryKind::kMember && f.kind == kind) return f;
  }
  return kNoHistoryField;
}

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

}  // namespace contextd::query
