#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "storage/value.h"

namespace contextd::storage {

// Milliseconds since the Unix epoch, UTC.
using TimeMs = int64_t;

// The largest id of a service or an interaction, 2^53-1: ids are JSON numbers, and JavaScript
// clients read integers exactly only up to this one. No id above it is stored or handed out.
inline constexpr uint64_t kMaxId = (uint64_t{1} << 53) - 1;

// A half-open time window [from_ms, to_ms).
struct TimeRange {
  TimeMs from_ms = std::numeric_limits<TimeMs>::min();
  TimeMs to_ms = std::numeric_limits<TimeMs>::max();

  bool Contains(TimeMs t) const { return t >= from_ms && t < to_ms; }
  bool Empty() const { return from_ms >= to_ms; }
};

// A stored start or end event: its time and its descriptive fields (session_id, media_type,
// disposition, ...) in the order received.
struct Event {
  TimeMs timestamp_ms = 0;
  Fields fields;

  friend bool operator==(const Event&, const Event&) = default;
};

struct State {
  int32_t state_id = 0;
  std::optional<Value> state_type;
  std::optional<int32_t> previous_state_id;
  std::optional<int64_t> est_duration_s;
  Event started;
  std::optional<Event> completed;
  Fields attached;

  bool active() const { return !completed.has_value(); }
  friend bool operator==(const State&, const State&) = default;
};

struct Task {
  int32_t task_id = 0;
  std::optional<Value> task_type;
  std::optional<int32_t> state_id;  // the state it is linked to, if any
  std::optional<int64_t> est_duration_s;
  Event started;
  std::optional<Event> completed;
  Fields attached;

  bool active() const { return !completed.has_value(); }
  friend bool operator==(const Task&, const Task&) = default;
};

// A service with its states and tasks. state_id / task_id equal the index in `states` /
// `tasks`: they are counted per service from 0 and never removed on their own.
struct Service {
  uint64_t service_id = 0;
  std::optional<std::string> customer_id;
  std::optional<std::string> contact_key;
  std::optional<Value> service_type;
  std::optional<int64_t> est_duration_s;
  Event started;
  std::optional<Event> completed;
  Fields attached;
  std::vector<State> states;
  std::vector<Task> tasks;

  bool active() const { return !completed.has_value(); }
  // Anonymous services have no customer; they are found by contact key.
  bool anonymous() const { return !customer_id.has_value(); }

  friend bool operator==(const Service&, const Service&) = default;
};

}  // namespace contextd::storage
