#pragma once

// Neutral error statuses shared by every layer. A missing record is reported with its kind
// and the id as the client gave it, carried as a status payload, so that each API dialect
// words the error its own way (Context Services: "There are no service found for : 5").

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace contextd::storage {

// NotFound "no service 5", naming `kind` ("service", "state", "task") and `id`.
absl::Status NotFound(std::string_view kind, std::string_view id);

struct Missing {
  std::string kind;
  std::string id;
};

// The record a status made by NotFound names; nullopt for any other status.
std::optional<Missing> MissingOf(const absl::Status& status);

}  // namespace contextd::storage
