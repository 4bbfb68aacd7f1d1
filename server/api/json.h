#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/http/json_writer.h"
#include "storage/value.h"

namespace contextd::server {

// Parses one JSON document strictly: valid UTF-8, no trailing content, no duplicate keys in
// any object, nesting at most kMaxJsonDepth. Returns InvalidArgument with a message a client
// can act on.
inline constexpr int kMaxJsonDepth = 64;
absl::StatusOr<storage::Value> ParseJson(std::string_view text);

// ---- Reading request bodies: the one member reader of every dialect ----

// The members of `value`; InvalidArgument "<what> must be a JSON object" unless it is one.
absl::StatusOr<const storage::Fields*> ObjectMembers(const storage::Value& value,
                                                     std::string_view what = "request body");

// How a dialect names a member in its messages: "field 'CustomerID': ..." (Context Services,
// native, admin) or "CustomerID: ..." (Pega, LCM, Workspace).
enum class Naming { kQuoted, kBare };

// InvalidArgument "<name, as `naming` writes it>: <problem>".
absl::Status MemberError(Naming naming, std::string_view name, std::string_view problem);

// What a text member may be.
struct TextRule {
  Naming naming;
  size_t max_bytes;
  bool integers = false;  // an integer is taken as its decimal text
};

// A text value (of member `name`); MemberError "expected a string" (or "expected a string or a
// number"), or "longer than N bytes".
absl::StatusOr<std::string> Text(const storage::Value& value, std::string_view name,
                                 const TextRule& rule);

// Member `name` of `object` as text: "" when absent or null, else as Text.
absl::StatusOr<std::string> TextMember(const storage::Fields& object, std::string_view name,
                                       const TextRule& rule);

}  // namespace contextd::server
