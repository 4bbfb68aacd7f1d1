#include "storage/errors.h"

#include "absl/strings/cord.h"

namespace contextd::storage {

namespace {
constexpr char kMissingUrl[] = "contextd/missing";  // payload: kind '\n' id
}  // namespace

absl::Status NotFound(std::string_view kind, std::string_view id) {
  absl::Status s = absl::NotFoundError("no " + std::string(kind) + " " + std::string(id));
  s.SetPayload(kMissingUrl, absl::Cord(std::string(kind) + "\n" + std::string(id)));
  return s;
}

std::optional<Missing> MissingOf(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kNotFound) return std::nullopt;
  auto payload = status.GetPayload(kMissingUrl);  // absl::optional: not std:: in Debian abseil
  if (!payload) return std::nullopt;
  const std::string text(*payload);
  const size_t nl = text.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  return Missing{text.substr(0, nl), text.substr(nl + 1)};
}

}  // namespace contextd::storage
