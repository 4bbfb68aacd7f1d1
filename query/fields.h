#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace contextd::query {

// The documented fields of Context Services events, the vocabulary shared by body parsing
// (server) and the lifecycle rules (engine). A body key that is neither an event field nor
// a representation name is attached data.

// Where a field may appear. A bit set of these is an event kind's allowed fields.
enum EventKind : uint32_t {
  kServiceStart = 1 << 0,
  kStateStart = 1 << 1,
  kTaskStart = 1 << 2,
  kServiceEnd = 1 << 3,
  kChildEnd = 1 << 4,  // state or task end
  kAssociate = 1 << 5,
  kTransition = 1 << 6,  // the shared top-level fields of a transition
};

enum class FieldType {
  kBusinessAttribute,  // JSON number or string, stored as sent
  kString,             // JSON string, at most max_length bytes
  kInteger,            // JSON integer
  kTimestamp,          // ISO 8601 string (see timestamp.h)
};

// Where a parsed field goes: into the stored start/end event, or hoisted to the resource.
enum class FieldPlace { kEvent, kResource, kTimestamp };

struct FieldSpec {
  std::string_view name;
  FieldType type;
  size_t max_length;  // for kString; 0 = unlimited
  uint32_t kinds;     // EventKind bits where the field is allowed
  FieldPlace place;
};

// Returns the spec of a documented event field, or nullptr.
const FieldSpec* FindEventField(std::string_view name);

// True for names only the server sets (service_id, started, active_states, ...). They are
// never accepted in a body nor used as attached-data keys.
bool IsRepresentationName(std::string_view name);

}  // namespace contextd::query
