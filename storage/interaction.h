#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/model.h"
#include "storage/value.h"

namespace contextd::storage {

// One interaction with a customer on any channel and its outcome: the single record behind
// every history dialect (native ingest, Pega CaptureResponse / CustomerOfferHistory, LCM
// GetCustomerJourney). Records are immutable once stored. Empty strings mean "not given".
// The mapping of each dialect's fields onto these members is query/history_fields.h.
struct Interaction {
  uint64_t interaction_id = 0;  // assigned by the store, never reused
  TimeMs time_ms = 0;           // when the outcome happened (Pega OutcomeTime, LCM completion)
  std::string customer_id;
  std::string account_number;  // LCM account key, e.g. "2|3|3|0|0|44|1"
  std::string contact_number;  // the number or address contacted
  std::string channel;         // canonical ("voice", "sms", "email", ...) or as received
  std::string direction;       // "Inbound", "Outbound" or ""
  std::string campaign;
  std::string action_name;
  std::string action_issue;
  std::string action_group;
  std::string outcome;
  std::optional<int64_t> outcome_id;
  std::string behaviour;
  std::string agent;
  std::string agent_comment;
  std::string lead_score_before;
  std::string lead_score_after;
  std::optional<int64_t> mode_id;
  std::string mode;
  std::string target_value;
  std::string external_id;
  std::string pega_interaction_id;  // signed 64-bit decimal, kept as text
  std::vector<std::string> negotiation_actions;
  Fields attributes;  // free attributes (Pega Rank, Propensity, ...)

  friend bool operator==(const Interaction&, const Interaction&) = default;
};

// The keys under which interactions are indexed, each by time.
enum class InteractionKey : uint8_t { kCustomer = 1, kAccount = 2, kContact = 3 };

// What links a customer to the other keys: interactions stored for the customer without an
// account or contact number take them from here.
struct CustomerKeys {
  std::string account_number;
  std::string contact_number;

  friend bool operator==(const CustomerKeys&, const CustomerKeys&) = default;
};

}  // namespace contextd::storage
