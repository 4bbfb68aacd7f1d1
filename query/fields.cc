#include "query/fields.h"

#include <array>

namespace contextd::query {
namespace {

constexpr uint32_t kStarts = kServiceStart | kStateStart | kTaskStart;
constexpr uint32_t kEnds = kServiceEnd | kChildEnd;
constexpr uint32_t kDescriptive = kStarts | kEnds | kAssociate | kTransition;

constexpr std::array<FieldSpec, 21> kFields = {{
    {"customer_id", FieldType::kString, 256, kServiceStart, FieldPlace::kResource},
    {"contact_key", FieldType::kString, 256, kServiceStart, FieldPlace::kResource},
    {"service_type", FieldType::kBusinessAttribute, 0, kServiceStart | kAssociate,
     FieldPlace::kResource},
    {"state_type", FieldType::kBusinessAttribute, 0, kStateStart, FieldPlace::kResource},
    {"task_type", FieldType::kBusinessAttribute, 0, kTaskStart, FieldPlace::kResource},
    {"previous_state_id", FieldType::kInteger, 0, kStateStart, FieldPlace::kResource},
    {"state_id", FieldType::kInteger, 0, kTaskStart, FieldPlace::kResource},
    {"est_duration", FieldType::kInteger, 0, kStarts, FieldPlace::kResource},
    {"timestamp", FieldType::kTimestamp, 0, kStarts | kEnds | kTransition, FieldPlace::kTimestamp},
    {"session_id", FieldType::kString, 32, kDescriptive, FieldPlace::kEvent},
    {"interaction_id", FieldType::kString, 50, kDescriptive, FieldPlace::kEvent},
    {"application_type", FieldType::kBusinessAttribute, 0, kDescriptive, FieldPlace::kEvent},
    {"application_id", FieldType::kInteger, 0, kDescriptive, FieldPlace::kEvent},
    {"resource_type", FieldType::kBusinessAttribute, 0, kDescriptive, FieldPlace::kEvent},
    {"resource_id", FieldType::kInteger, 0, kDescriptive, FieldPlace::kEvent},
    {"media_type", FieldType::kBusinessAttribute, 0, kDescriptive, FieldPlace::kEvent},
    {"disposition", FieldType::kBusinessAttribute, 0, kEnds, FieldPlace::kEvent},
    {"disposition_desc", FieldType::kString, 64, kEnds, FieldPlace::kEvent},
    {"auto_complete_after", FieldType::kInteger, 0, kServiceStart, FieldPlace::kEvent},
    {"ttl", FieldType::kInteger, 0, kServiceStart | kServiceEnd, FieldPlace::kEvent},
    {"expiration_time", FieldType::kTimestamp, 0, kServiceStart | kServiceEnd, FieldPlace::kEvent},
}};

constexpr std::array<std::string_view, 8> kRepresentationNames = {
    "service_id",    "task_id",          "started",      "completed",
    "active_states", "completed_states", "active_tasks", "completed_tasks"};

}  // namespace

const FieldSpec* FindEventField(std::string_view name) {
  for (const FieldSpec& f : kFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool IsRepresentationName(std::string_view name) {
  for (std::string_view n : kRepresentationNames) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace contextd::query
