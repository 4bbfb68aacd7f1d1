#include "storage/codec.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace contextd::storage {
namespace {

constexpr char kFormatV1 = 1;
constexpr int kMaxValueDepth = 256;

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void Signed(int64_t v) {  // zig-zag
    Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void Byte(uint8_t b) { out_->push_back(static_cast<char>(b)); }
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_->append(s);
  }
  void Double(double d) {
    char buf[8];
    std::memcpy(buf, &d, 8);
    out_->append(buf, 8);
  }

  void Val(const Value& v) {
    Byte(static_cast<uint8_t>(v.kind));
    switch (v.kind) {
      case Value::Kind::kNull:
        break;
      case Value::Kind::kBool:
        Byte(v.bool_value ? 1 : 0);
        break;
      case Value::Kind::kInt:
        Signed(v.int_value);
        break;
      case Value::Kind::kUint:
        Varint(v.uint_value);
        break;
      case Value::Kind::kDouble:
        Double(v.double_value);
        break;
      case Value::Kind::kString:
        Bytes(v.string_value);
        break;
      case Value::Kind::kArray:
        Varint(v.array.size());
        for (const Value& item : v.array) Val(item);
        break;
      case Value::Kind::kObject:
        FieldList(v.object);
        break;
    }
  }
  void FieldList(const Fields& fields) {
    Varint(fields.size());
    for (const auto& [key, value] : fields) {
      Bytes(key);
      Val(value);
    }
  }
  void OptVal(const std::optional<Value>& v) {
    Byte(v.has_value());
    if (v) Val(*v);
  }
  void OptSigned(const std::optional<int64_t>& v) {
    Byte(v.has_value());
    if (v) Signed(*v);
  }
  void OptString(const std::optional<std::string>& v) {
    Byte(v.has_value());
    if (v) Bytes(*v);
  }
  void Ev(const Event& e) {
    Signed(e.timestamp_ms);
    FieldList(e.fields);
  }
  void OptEv(const std::optional<Event>& e) {
    Byte(e.has_value());
    if (e) Ev(*e);
  }

 private:
  std::string* out_;
};

// Reads what Writer wrote. Every read checks bounds; the first failure sticks in ok_.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  // Marks the input corrupt (what a nested record's decoder found).
  void Reject() { Fail(); }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Fail();
      uint8_t b = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t Signed() {
    uint64_t u = Varint();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  uint8_t Byte() {
    if (in_.empty()) return static_cast<uint8_t>(Fail());
    uint8_t b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return b;
  }
  std::string Bytes() {
    uint64_t n = Varint();
    if (!ok_ || n > in_.size()) return Fail(), std::string();
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  double Double() {
    if (in_.size() < 8) return static_cast<double>(Fail());
    double d;
    std::memcpy(&d, in_.data(), 8);
    in_.remove_prefix(8);
    return d;
  }
  // Counts of repeated items are bounded by the bytes left, so corrupt counts cannot
  // allocate unbounded memory.
  uint64_t Count() {
    uint64_t n = Varint();
    if (n > in_.size()) return Fail();
    return n;
  }

  // Skips one encoded value without building it.
  void SkipVal(int depth = 0) {
    if (depth > kMaxValueDepth) return static_cast<void>(Fail());
    switch (static_cast<Value::Kind>(Byte())) {
      case Value::Kind::kNull:
        break;
      case Value::Kind::kBool:
        Byte();
        break;
      case Value::Kind::kInt:
      case Value::Kind::kUint:
        Varint();
        break;
      case Value::Kind::kDouble:
        Double();
        break;
      case Value::Kind::kString:
        Skip(Varint());
        break;
      case Value::Kind::kArray: {
        uint64_t n = Count();
        for (uint64_t i = 0; i < n && ok_; ++i) SkipVal(depth + 1);
        break;
      }
      case Value::Kind::kObject:
        SkipFieldList(depth + 1);
        break;
      default:
        Fail();
    }
  }
  void SkipFieldList(int depth = 0) {
    uint64_t n = Count();
    for (uint64_t i = 0; i < n && ok_; ++i) {
      Skip(Varint());
      SkipVal(depth);
    }
  }
  void Skip(uint64_t n) {
    if (n > in_.size()) return static_cast<void>(Fail());
    in_.remove_prefix(n);
  }

  Value Val(int depth = 0) {
    Value v;
    if (depth > kMaxValueDepth) return Fail(), v;
    uint8_t kind = Byte();
    if (kind > static_cast<uint8_t>(Value::Kind::kObject)) return Fail(), v;
    v.kind = static_cast<Value::Kind>(kind);
    switch (v.kind) {
      case Value::Kind::kNull:
        break;
      case Value::Kind::kBool:
        v.bool_value = Byte() != 0;
        break;
      case Value::Kind::kInt:
        v.int_value = Signed();
        break;
      case Value::Kind::kUint:
        v.uint_value = Varint();
        break;
      case Value::Kind::kDouble:
        v.double_value = Double();
        break;
      case Value::Kind::kString:
        v.string_value = Bytes();
        break;
      case Value::Kind::kArray: {
        uint64_t n = Count();
        for (uint64_t i = 0; i < n && ok_; ++i) v.array.push_back(Val(depth + 1));
        break;
      }
      case Value::Kind::kObject:
        v.object = FieldList(depth + 1);
        break;
    }
    return v;
  }
  Fields FieldList(int depth = 0) {
    Fields fields;
    uint64_t n = Count();
    for (uint64_t i = 0; i < n && ok_; ++i) {
      std::string key = Bytes();
      fields.emplace_back(std::move(key), Val(depth));
    }
    return fields;
  }
  std::optional<Value> OptVal() {
    if (!Byte()) return std::nullopt;
    return Val();
  }
  std::optional<int64_t> OptSigned() {
    if (!Byte()) return std::nullopt;
    return Signed();
  }
  std::optional<std::string> OptString() {
    if (!Byte()) return std::nullopt;
    return Bytes();
  }
  Event Ev() {
    Event e;
    e.timestamp_ms = Signed();
    e.fields = FieldList();
    return e;
  }
  std::optional<Event> OptEv() {
    if (!Byte()) return std::nullopt;
    return Ev();
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    in_ = std::string_view();
    return 0;
  }

  std::string_view in_;
  bool ok_ = true;
};

// Reads the format byte, the id and the owner fields that start every record. Returns false
// for an unknown format.
bool ReadOwner(Reader& r, Service* s) {
  if (r.Byte() != kFormatV1) return false;
  s->service_id = r.Varint();
  s->customer_id = r.OptString();
  s->contact_key = r.OptString();
  return true;
}

std::optional<int32_t> ToInt32(const std::optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<int32_t>(*v);
}

}  // namespace

std::string EncodeService(const Service& s) {
  std::string out;
  out.reserve(256);
  Writer w(&out);
  w.Byte(kFormatV1);
  w.Varint(s.service_id);
  w.OptString(s.customer_id);
  w.OptString(s.contact_key);
  w.OptVal(s.service_type);
  w.OptSigned(s.est_duration_s);
  w.Ev(s.started);
  w.OptEv(s.completed);
  w.FieldList(s.attached);
  w.Varint(s.states.size());
  for (const State& st : s.states) {
    w.OptVal(st.state_type);
    w.OptSigned(st.previous_state_id);
    w.OptSigned(st.est_duration_s);
    w.Ev(st.started);
    w.OptEv(st.completed);
    w.FieldList(st.attached);
  }
  w.Varint(s.tasks.size());
  for (const Task& t : s.tasks) {
    w.OptVal(t.task_type);
    w.OptSigned(t.state_id);
    w.OptSigned(t.est_duration_s);
    w.Ev(t.started);
    w.OptEv(t.completed);
    w.FieldList(t.attached);
  }
  return out;
}

uint64_t PeekServiceId(std::string_view bytes) {
  Reader r(bytes);
  if (r.Byte() != kFormatV1) return 0;
  uint64_t id = r.Varint();
  return r.ok() ? id : 0;
}

absl::StatusOr<Service> DecodeServiceKeys(std::string_view bytes) {
  Reader r(bytes);
  Service s;
  if (!ReadOwner(r, &s)) return absl::DataLossError("service record: unknown format");
  if (r.Byte()) r.SkipVal();  // service_type
  r.OptSigned();              // est_duration
  s.started.timestamp_ms = r.Signed();
  r.SkipFieldList();
  if (r.Byte()) {
    s.completed.emplace().timestamp_ms = r.Signed();
    r.SkipFieldList();
  }
  if (!r.ok()) return absl::DataLossError("service record: corrupt bytes");
  return s;
}

absl::StatusOr<Service> DecodeService(std::string_view bytes) {
  Reader r(bytes);
  Service s;
  if (!ReadOwner(r, &s)) return absl::DataLossError("service record: unknown format");
  s.service_type = r.OptVal();
  s.est_duration_s = r.OptSigned();
  s.started = r.Ev();
  s.completed = r.OptEv();
  s.attached = r.FieldList();
  uint64_t n_states = r.Count();
  for (uint64_t i = 0; i < n_states && r.ok(); ++i) {
    State st;
    st.state_id = static_cast<int32_t>(i);
    st.state_type = r.OptVal();
    st.previous_state_id = ToInt32(r.OptSigned());
    st.est_duration_s = r.OptSigned();
    st.started = r.Ev();
    st.completed = r.OptEv();
    st.attached = r.FieldList();
    s.states.push_back(std::move(st));
  }
  uint64_t n_tasks = r.Count();
  for (uint64_t i = 0; i < n_tasks && r.ok(); ++i) {
    Task t;
    t.task_id = static_cast<int32_t>(i);
    t.task_type = r.OptVal();
    t.state_id = ToInt32(r.OptSigned());
    t.est_duration_s = r.OptSigned();
    t.started = r.Ev();
    t.completed = r.OptEv();
    t.attached = r.FieldList();
    s.tasks.push_back(std::move(t));
  }
  if (!r.ok() || !r.done()) return absl::DataLossError("service record: corrupt bytes");
  return s;
}

}  // namespace contextd::storage

namespace contextd::storage {

std::string EncodeInteraction(const Interaction& x) {
  std::string out;
  out.reserve(192);
  Writer w(&out);
  w.Byte(kFormatV1);
  w.Varint(x.interaction_id);
  w.Signed(x.time_ms);
  for (const std::string* s :
       {&x.customer_id, &x.account_number, &x.contact_number, &x.channel, &x.direction, &x.campaign,
        &x.action_name, &x.action_issue, &x.action_group, &x.outcome, &x.behaviour, &x.agent,
        &x.agent_comment, &x.lead_score_before, &x.lead_score_after, &x.mode, &x.target_value,
        &x.external_id, &x.pega_interaction_id}) {
    w.Bytes(*s);
  }
  w.OptSigned(x.outcome_id);
  w.OptSigned(x.mode_id);
  w.Varint(x.negotiation_actions.size());
  for (const std::string& a : x.negotiation_actions) w.Bytes(a);
  w.FieldList(x.attributes);
  return out;
}

absl::StatusOr<Interaction> DecodeInteraction(std::string_view bytes) {
  Reader r(bytes);
  Interaction x;
  if (r.Byte() != kFormatV1) return absl::DataLossError("interaction record: unknown format");
  x.interaction_id = r.Varint();
  x.time_ms = r.Signed();
  for (std::string* s :
       {&x.customer_id, &x.account_number, &x.contact_number, &x.channel, &x.direction, &x.campaign,
        &x.action_name, &x.action_issue, &x.action_group, &x.outcome, &x.behaviour, &x.agent,
        &x.agent_comment, &x.lead_score_before, &x.lead_score_after, &x.mode, &x.target_value,
        &x.external_id, &x.pega_interaction_id}) {
    *s = r.Bytes();
  }
  x.outcome_id = r.OptSigned();
  x.mode_id = r.OptSigned();
  uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) x.negotiation_actions.push_back(r.Bytes());
  x.attributes = r.FieldList();
  if (!r.ok() || !r.done()) return absl::DataLossError("interaction record: corrupt bytes");
  return x;
}

std::string EncodeCustomerKeys(const CustomerKeys& keys) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  w.Bytes(keys.account_number);
  w.Bytes(keys.contact_number);
  return out;
}

absl::StatusOr<CustomerKeys> DecodeCustomerKeys(std::string_view bytes) {
  Reader r(bytes);
  CustomerKeys keys;
  if (r.Byte() != kFormatV1) return absl::DataLossError("customer keys: unknown format");
  keys.account_number = r.Bytes();
  keys.contact_number = r.Bytes();
  if (!r.ok() || !r.done()) return absl::DataLossError("customer keys: corrupt bytes");
  return keys;
}

}  // namespace contextd::storage

namespace contextd::storage {
namespace {

void WriteStrings(Writer& w, const std::vector<std::string>& v) {
  w.Varint(v.size());
  for (const std::string& s : v) w.Bytes(s);
}

std::vector<std::string> ReadStrings(Reader& r) {
  std::vector<std::string> v;
  uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) v.push_back(r.Bytes());
  return v;
}

}  // namespace

std::string EncodeUser(const User& u) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  for (const std::string* s :
       {&u.user_name, &u.first_name, &u.last_name, &u.email, &u.password_salt, &u.password_hash}) {
    w.Bytes(*s);
  }
  WriteStrings(w, u.roles);
  w.Varint(u.hash_iterations);
  w.Byte(u.enabled ? 1 : 0);
  return out;
}

absl::StatusOr<User> DecodeUser(std::string_view bytes) {
  Reader r(bytes);
  User u;
  if (r.Byte() != kFormatV1) return absl::DataLossError("user record: unknown format");
  for (std::string* s :
       {&u.user_name, &u.first_name, &u.last_name, &u.email, &u.password_salt, &u.password_hash}) {
    *s = r.Bytes();
  }
  u.roles = ReadStrings(r);
  u.hash_iterations = static_cast<uint32_t>(r.Varint());
  u.enabled = r.Byte() != 0;
  if (!r.ok() || !r.done()) return absl::DataLossError("user record: corrupt bytes");
  return u;
}

std::string EncodeWorkItem(const WorkItem& x) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  for (const std::string* s : {&x.id, &x.mediatype, &x.state, &x.queue, &x.owner, &x.workbin,
                               &x.interaction_type, &x.customer_id, &x.contact}) {
    w.Bytes(*s);
  }
  WriteStrings(w, x.rejected_by);
  w.Signed(x.received_ms);
  w.FieldList(x.user_data);
  return out;
}

absl::StatusOr<WorkItem> DecodeWorkItem(std::string_view bytes) {
  Reader r(bytes);
  WorkItem x;
  if (r.Byte() != kFormatV1) return absl::DataLossError("work item: unknown format");
  for (std::string* s : {&x.id, &x.mediatype, &x.state, &x.queue, &x.owner, &x.workbin,
                         &x.interaction_type, &x.customer_id, &x.contact}) {
    *s = r.Bytes();
  }
  x.rejected_by = ReadStrings(r);
  x.received_ms = r.Signed();
  x.user_data = r.FieldList();
  if (!r.ok() || !r.done()) return absl::DataLossError("work item: corrupt bytes");
  return x;
}

namespace {

// A record inside another: its own encoding, length-prefixed. A nested record that does not
// decode rejects the whole input.
template <typename T>
T ReadNested(Reader& r, absl::StatusOr<T> (*decode)(std::string_view)) {
  const std::string bytes = r.Bytes();
  if (!r.ok()) return T();
  absl::StatusOr<T> record = decode(bytes);
  if (!record.ok()) {
    r.Reject();
    return T();
  }
  return *std::move(record);
}

template <typename T>
std::vector<T> ReadNestedList(Reader& r, absl::StatusOr<T> (*decode)(std::string_view)) {
  std::vector<T> out;
  const uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) out.push_back(ReadNested(r, decode));
  return out;
}

template <typename T>
void WriteNestedList(Writer& w, const std::vector<T>& records, std::string (*encode)(const T&)) {
  w.Varint(records.size());
  for (const T& record : records) w.Bytes(encode(record));
}

}  // namespace

std::string EncodeAgentState(const AgentState& a) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  w.Bytes(a.user_name);
  w.Varint(a.channels.size());
  for (const auto& [channel, ready] : a.channels) {
    w.Bytes(channel);
    w.Byte(ready ? 1 : 0);
  }
  w.Signed(a.ready_since_ms);
  return out;
}

absl::StatusOr<AgentState> DecodeAgentState(std::string_view bytes) {
  Reader r(bytes);
  AgentState a;
  if (r.Byte() != kFormatV1) return absl::DataLossError("agent state: unknown format");
  a.user_name = r.Bytes();
  const uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string channel = r.Bytes();
    const bool ready = r.Byte() != 0;
    a.channels.emplace_back(std::move(channel), ready);
  }
  a.ready_since_ms = r.Signed();
  if (!r.ok() || !r.done()) return absl::DataLossError("agent state: corrupt bytes");
  return a;
}

std::string EncodeWorkspaceChange(const WorkspaceChange& c) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  WriteNestedList(w, c.users, EncodeUser);
  WriteNestedList(w, c.items, EncodeWorkItem);
  WriteNestedList(w, c.agents, EncodeAgentState);
  w.Varint(c.notes.size());
  for (const WorkspaceNote& note : c.notes) {
    w.Bytes(note.user_name);
    w.Bytes(note.type);
    w.Bytes(EncodeWorkItem(note.item));
    w.Bytes(note.workbin);
    WriteNestedList(w, note.workbin_items, EncodeWorkItem);
  }
  return out;
}

absl::StatusOr<WorkspaceChange> DecodeWorkspaceChange(std::string_view bytes) {
  Reader r(bytes);
  WorkspaceChange c;
  if (r.Byte() != kFormatV1) return absl::DataLossError("workspace change: unknown format");
  c.users = ReadNestedList(r, DecodeUser);
  c.items = ReadNestedList(r, DecodeWorkItem);
  c.agents = ReadNestedList(r, DecodeAgentState);
  const uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    WorkspaceNote note;
    note.user_name = r.Bytes();
    note.type = r.Bytes();
    note.item = ReadNested(r, DecodeWorkItem);
    note.workbin = r.Bytes();
    note.workbin_items = ReadNestedList(r, DecodeWorkItem);
    c.notes.push_back(std::move(note));
  }
  if (!r.ok() || !r.done()) return absl::DataLossError("workspace change: corrupt bytes");
  return c;
}

std::string EncodeStoredSession(const StoredSession& s) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  for (const std::string* f : {&s.id, &s.tenant, &s.user_name, &s.csrf_token}) w.Bytes(*f);
  w.Byte(s.admin ? 1 : 0);
  w.Byte(s.agent ? 1 : 0);
  w.Signed(s.expires_ms);
  w.Bytes(s.password_hash);
  return out;
}

absl::StatusOr<StoredSession> DecodeStoredSession(std::string_view bytes) {
  Reader r(bytes);
  StoredSession s;
  if (r.Byte() != kFormatV1) return absl::DataLossError("session: unknown format");
  for (std::string* f : {&s.id, &s.tenant, &s.user_name, &s.csrf_token}) *f = r.Bytes();
  s.admin = r.Byte() != 0;
  s.agent = r.Byte() != 0;
  s.expires_ms = r.Signed();
  s.password_hash = r.Bytes();
  if (!r.ok() || !r.done()) return absl::DataLossError("session: corrupt bytes");
  return s;
}

std::string EncodeApiKey(const ApiKey& k) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  for (const std::string* s : {&k.id, &k.digest, &k.tenant, &k.name}) w.Bytes(*s);
  w.Byte(k.role);
  w.Byte(k.all_tenants ? 1 : 0);
  w.Signed(k.created_ms);
  w.Signed(k.revoked_ms);
  return out;
}

absl::StatusOr<ApiKey> DecodeApiKey(std::string_view bytes) {
  Reader r(bytes);
  ApiKey k;
  if (r.Byte() != kFormatV1) return absl::DataLossError("api key: unknown format");
  for (std::string* s : {&k.id, &k.digest, &k.tenant, &k.name}) *s = r.Bytes();
  k.role = r.Byte();
  k.all_tenants = r.Byte() != 0;
  k.created_ms = r.Signed();
  k.revoked_ms = r.Signed();
  if (!r.ok() || !r.done()) return absl::DataLossError("api key: corrupt bytes");
  return k;
}

std::string EncodeTenant(const Tenant& t) {
  std::string out;
  Writer w(&out);
  w.Byte(kFormatV1);
  w.Bytes(t.name);
  w.Signed(t.created_ms);
  return out;
}

absl::StatusOr<Tenant> DecodeTenant(std::string_view bytes) {
  Reader r(bytes);
  Tenant t;
  if (r.Byte() != kFormatV1) return absl::DataLossError("tenant: unknown format");
  t.name = r.Bytes();
  t.created_ms = r.Signed();
  if (!r.ok() || !r.done()) return absl::DataLossError("tenant: corrupt bytes");
  return t;
}

}  // namespace contextd::storage
