// Golden bytes of every on-disk format: each record kind's encoding, each key layout, and what
// the store writes into each column family. Round trips cannot see a change of format (a
// reordered field still decodes what it encoded); these literals can, so a change to any of
// them is a deliberate format change that needs a new format version and a migration.
//
// Encoding primitives (storage/codec.cc), as the comments below use them:
//   varint   unsigned LEB128: 7 bits a byte, low bits first, high bit set on all but the last
//   signed   zig-zag ((v << 1) ^ (v >> 63)) then varint: 0->00, -5->09, 1000->d0 0f
//   bytes    varint length, then the bytes
//   opt X    one byte 00 (absent) or 01 (present) followed by X
//   value    one kind byte (0 null, 1 bool, 2 int, 3 uint, 4 double, 5 string, 6 array,
//            7 object), then: bool 1 byte; int signed; uint varint; double 8 bytes IEEE 754
//            little-endian; string bytes; array varint count + values; object field list
//   fields   varint count, then per field: bytes name, value
//   event    signed timestamp_ms, fields
// Every record starts with its format byte. Format 1 is the only format there has ever been, so
// each decoder accepts exactly one version; the tests check every other first byte is DataLoss.

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/rocksdb_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::storage {
namespace {

using namespace std::string_literals;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// encode(record) is exactly `golden`, decode(golden) is exactly `record`, and a record of any
// other format version (the golden bytes with another first byte) is DataLoss.
template <typename T>
void ExpectGolden(const T& record, const std::string& golden, std::string (*encode)(const T&),
                  absl::StatusOr<T> (*decode)(std::string_view)) {
  EXPECT_EQ(Hex(encode(record)), Hex(golden)) << "the encoding changed";
  absl::StatusOr<T> decoded = decode(golden);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(*decoded == record) << "the golden bytes decode to another record";
  for (char version : {'\x00', '\x02', '\x7f', '\xff'}) {
    std::string other = golden;
    other[0] = version;
    EXPECT_EQ(decode(other).status().code(), absl::StatusCode::kDataLoss)
        << "format version " << int{static_cast<unsigned char>(version)} << " was accepted";
  }
}

// ---------------------------------------------------------------------------------------------
// Records (storage/codec.cc), format 1.

// Every member set, every optional present at least once, every value kind used.
Service FullService() {
  Service s;
  s.service_id = 300;
  s.customer_id = "C1";
  s.contact_key = "408";
  s.service_type = Value::String("Billing");
  s.est_duration_s = 600;
  s.started = {-5, {{"media_type", Value::Int(3)}}};
  s.completed = Event{1700000000000, {{"disposition", Value::String("Resolved")}}};
  s.attached = {
      {"a", Value::Array({Value::Null(), Value::Bool(true), Value::Int(-5),
                          Value::Uint(std::numeric_limits<uint64_t>::max()), Value::Double(1.5)})},
      {"o", Value::Object({{"s", Value::String("x")}})}};
  State st0;
  st0.state_id = 0;
  st0.state_type = Value::Int(8);
  st0.est_duration_s = 30;
  st0.started = {10, {}};
  State st1;
  st1.state_id = 1;
  st1.previous_state_id = 0;
  st1.started = {11, {}};
  st1.completed = Event{12, {}};
  st1.attached = {{"x", Value::Bool(false)}};
  s.states = {st0, st1};
  Task t;
  t.task_id = 0;
  t.task_type = Value::String("call");
  t.state_id = 1;
  t.est_duration_s = 5;
  t.started = {13, {}};
  t.completed = Event{14, {}};
  t.attached = {{"k", Value::String("v")}};
  s.tasks = {t};
  return s;
}

// EncodeService: format, varint service_id, opt bytes customer_id, opt bytes contact_key,
// opt value service_type, opt signed est_duration_s, event started, opt event completed,
// fields attached, varint state count, per state {opt value state_type, opt signed
// previous_state_id, opt signed est_duration_s, event started, opt event completed, fields
// attached}, varint task count, per task {opt value task_type, opt signed state_id, opt signed
// est_duration_s, event started, opt event completed, fields attached}. State and task ids are
// not stored: they are the positions.
// clang-format off
const std::string kFullService =
    "\x01"s                                          // format 1
    "\xac\x02"                                       // service_id 300
    "\x01" "\x02" "C1"                               // customer_id present, "C1"
    "\x01" "\x03" "408"                              // contact_key present, "408"
    "\x01" "\x05" "\x07" "Billing"                   // service_type present, string "Billing"
    "\x01" "\xb0\x09"                                // est_duration_s present, 600 (zig-zag 1200)
    "\x09"                                           // started: time -5 (zig-zag 9)
    "\x01" "\x0a" "media_type" "\x02" "\x06"         //   1 field: media_type = int 3
    "\x01"                                           // completed present
    "\x80\xa0\xab\xfe\xf9\x62"                       //   time 1700000000000 (zig-zag 3.4e12)
    "\x01" "\x0b" "disposition" "\x05" "\x08" "Resolved"  // 1 field: string
    "\x02"                                           // attached: 2 fields
    "\x01" "a" "\x06" "\x05"                         //   "a" = array of 5:
    "\x00"                                           //     null
    "\x01" "\x01"                                    //     bool true
    "\x02" "\x09"                                    //     int -5
    "\x03" "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"  //   uint 2^64-1
    "\x04" "\x00\x00\x00\x00\x00\x00\xf8\x3f"        //     double 1.5, little-endian
    "\x01" "o" "\x07" "\x01" "\x01" "s" "\x05" "\x01" "x"  // "o" = object {s: "x"}
    "\x02"                                           // 2 states
    "\x01" "\x02" "\x10"                             //   0: state_type present, int 8
    "\x00"                                           //      previous_state_id absent
    "\x01" "\x3c"                                    //      est_duration_s present, 30
    "\x14" "\x00"                                    //      started: time 10, no fields
    "\x00"                                           //      completed absent
    "\x00"                                           //      attached: none
    "\x00"                                           //   1: state_type absent
    "\x01" "\x00"                                    //      previous_state_id present, 0
    "\x00"                                           //      est_duration_s absent
    "\x16" "\x00"                                    //      started: time 11, no fields
    "\x01" "\x18" "\x00"                             //      completed: time 12, no fields
    "\x01" "\x01" "x" "\x01" "\x00"                  //      attached: x = bool false
    "\x01"                                           // 1 task
    "\x01" "\x05" "\x04" "call"                      //   0: task_type present, string "call"
    "\x01" "\x02"                                    //      state_id present, 1
    "\x01" "\x0a"                                    //      est_duration_s present, 5
    "\x1a" "\x00"                                    //      started: time 13, no fields
    "\x01" "\x1c" "\x00"                             //      completed: time 14, no fields
    "\x01" "\x01" "k" "\x05" "\x01" "v";             //      attached: k = string "v"
// clang-format on

TEST(GoldenTest, ServiceFormat1) {
  ExpectGolden(FullService(), kFullService, EncodeService, DecodeService);
  EXPECT_EQ(PeekServiceId(kFullService), 300u);
  absl::StatusOr<Service> keys = DecodeServiceKeys(kFullService);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->service_id, 300u);
  EXPECT_EQ(keys->customer_id, "C1");
  EXPECT_EQ(keys->contact_key, "408");
  EXPECT_EQ(keys->started.timestamp_ms, -5);
  ASSERT_TRUE(keys->completed.has_value());
  EXPECT_EQ(keys->completed->timestamp_ms, 1700000000000);
}

TEST(GoldenTest, MinimalServiceFormat1) {
  Service s;
  s.service_id = 1;
  s.contact_key = "k";
  // clang-format off
  const std::string golden =
      "\x01"s          // format 1
      "\x01"           // service_id 1
      "\x00"           // customer_id absent
      "\x01" "\x01" "k"  // contact_key "k"
      "\x00"           // service_type absent
      "\x00"           // est_duration_s absent
      "\x00" "\x00"    // started: time 0, no fields
      "\x00"           // completed absent
      "\x00"           // attached: none
      "\x00"           // no states
      "\x00";          // no tasks
  // clang-format on
  ExpectGolden(s, golden, EncodeService, DecodeService);
}

Interaction FullInteraction() {
  Interaction x;
  x.interaction_id = 1;
  x.time_ms = 1700000000000;
  x.customer_id = "C1";
  x.account_number = "A1";
  x.contact_number = "408";
  x.channel = "sms";
  x.direction = "Inbound";
  x.campaign = "Spring";
  x.action_name = "Gold";
  x.action_issue = "Sales";
  x.action_group = "Cards";
  x.outcome = "Accepted";
  x.outcome_id = 5;
  x.behaviour = "Positive";
  x.agent = "alice";
  x.agent_comment = "ok";
  x.lead_score_before = "10";
  x.lead_score_after = "20";
  x.mode_id = -2;
  x.mode = "Auto";
  x.target_value = "5.5";
  x.external_id = "X9";
  x.pega_interaction_id = "-42";
  x.negotiation_actions = {"n1", "n2"};
  x.attributes = {{"Rank", Value::Int(3)}};
  return x;
}

// EncodeInteraction: format, varint interaction_id, signed time_ms, 19 bytes strings in the
// order below, opt signed outcome_id, opt signed mode_id, varint count + bytes of
// negotiation_actions, fields attributes.
// clang-format off
const std::string kFullInteraction =
    "\x01"s                       // format 1
    "\x01"                        // interaction_id 1
    "\x80\xa0\xab\xfe\xf9\x62"    // time_ms 1700000000000
    "\x02" "C1"                   // customer_id
    "\x02" "A1"                   // account_number
    "\x03" "408"                  // contact_number
    "\x03" "sms"                  // channel
    "\x07" "Inbound"              // direction
    "\x06" "Spring"               // campaign
    "\x04" "Gold"                 // action_name
    "\x05" "Sales"                // action_issue
    "\x05" "Cards"                // action_group
    "\x08" "Accepted"             // outcome
    "\x08" "Positive"             // behaviour
    "\x05" "alice"                // agent
    "\x02" "ok"                   // agent_comment
    "\x02" "10"                   // lead_score_before
    "\x02" "20"                   // lead_score_after
    "\x04" "Auto"                 // mode
    "\x03" "5.5"                  // target_value
    "\x02" "X9"                   // external_id
    "\x03" "-42"                  // pega_interaction_id
    "\x01" "\x0a"                 // outcome_id present, 5
    "\x01" "\x03"                 // mode_id present, -2
    "\x02" "\x02" "n1" "\x02" "n2"  // negotiation_actions
    "\x01" "\x04" "Rank" "\x02" "\x06";  // attributes: Rank = int 3
// clang-format on

TEST(GoldenTest, InteractionFormat1) {
  ExpectGolden(FullInteraction(), kFullInteraction, EncodeInteraction, DecodeInteraction);
}

// EncodeCustomerKeys: format, bytes account_number, bytes contact_number.
// clang-format off
const std::string kCustomerKeys = "\x01"s "\x03" "2|3" "\x03" "408";
// clang-format on

TEST(GoldenTest, CustomerKeysFormat1) {
  ExpectGolden(CustomerKeys{"2|3", "408"}, kCustomerKeys, EncodeCustomerKeys, DecodeCustomerKeys);
}

User FullUser() {
  User u;
  u.user_name = "alice";
  u.first_name = "Alice";
  u.last_name = "Liddell";
  u.email = "a@x.org";
  u.roles = {"ROLE_AGENT", "ROLE_ADMIN"};
  u.password_salt = "\x00\xff"s;
  u.password_hash = "\x01\x02\x03"s;
  u.hash_iterations = 10000;
  u.enabled = false;  // the default is true
  return u;
}

// EncodeUser: format, bytes user_name, first_name, last_name, email, password_salt,
// password_hash, varint count + bytes of roles, varint hash_iterations, byte enabled.
// clang-format off
const std::string kUser =
    "\x01"s                                     // format 1
    "\x05" "alice"                              // user_name
    "\x05" "Alice"                              // first_name
    "\x07" "Liddell"                            // last_name
    "\x07" "a@x.org"                            // email
    "\x02" "\x00\xff"                           // password_salt
    "\x03" "\x01\x02\x03"                       // password_hash
    "\x02" "\x0a" "ROLE_AGENT" "\x0a" "ROLE_ADMIN"  // roles
    "\x90\x4e"                                  // hash_iterations 10000
    "\x00";                                     // enabled false
// clang-format on

TEST(GoldenTest, UserFormat1) { ExpectGolden(FullUser(), kUser, EncodeUser, DecodeUser); }

WorkItem FullWorkItem() {
  WorkItem x;
  x.id = "0001";
  x.mediatype = "email";
  x.state = "InWorkbin";
  x.queue = "q1";
  x.owner = "bob";
  x.rejected_by = {"al"};
  x.workbin = "later";
  x.interaction_type = "Inbound";
  x.customer_id = "C1";
  x.contact = "a@b";
  x.received_ms = 1000;
  x.user_data = {{"k", Value::String("v")}};
  return x;
}

// EncodeWorkItem: format, bytes id, mediatype, state, queue, owner, workbin, interaction_type,
// customer_id, contact, varint count + bytes of rejected_by, signed received_ms, fields
// user_data.
// clang-format off
const std::string kWorkItem =
    "\x01"s                              // format 1
    "\x04" "0001"                        // id
    "\x05" "email"                       // mediatype
    "\x09" "InWorkbin"                   // state
    "\x02" "q1"                          // queue
    "\x03" "bob"                         // owner
    "\x05" "later"                       // workbin
    "\x07" "Inbound"                     // interaction_type
    "\x02" "C1"                          // customer_id
    "\x03" "a@b"                         // contact
    "\x01" "\x02" "al"                   // rejected_by: ["al"]
    "\xd0\x0f"                           // received_ms 1000
    "\x01" "\x01" "k" "\x05" "\x01" "v";  // user_data: k = string "v"
// clang-format on

TEST(GoldenTest, WorkItemFormat1) {
  ExpectGolden(FullWorkItem(), kWorkItem, EncodeWorkItem, DecodeWorkItem);
}

ApiKey FullApiKey() {
  ApiKey k;
  k.id = "k1";
  k.digest = "\xde\xad\xbe\xef";
  k.role = 2;
  k.all_tenants = true;
  k.tenant = "acme";
  k.name = "ops";
  k.created_ms = 1000;
  k.revoked_ms = 2000;
  return k;
}

// EncodeApiKey: format, bytes id, digest, tenant, name, byte role, byte all_tenants, signed
// created_ms, signed revoked_ms.
// clang-format off
const std::string kApiKey =
    "\x01"s                     // format 1
    "\x02" "k1"                 // id
    "\x04" "\xde\xad\xbe\xef"   // digest
    "\x04" "acme"               // tenant
    "\x03" "ops"                // name
    "\x02"                      // role 2
    "\x01"                      // all_tenants
    "\xd0\x0f"                  // created_ms 1000
    "\xa0\x1f";                 // revoked_ms 2000
// clang-format on

TEST(GoldenTest, ApiKeyFormat1) { ExpectGolden(FullApiKey(), kApiKey, EncodeApiKey, DecodeApiKey); }

// EncodeTenant: format, bytes name, signed created_ms.
// clang-format off
const std::string kTenant = "\x01"s "\x04" "acme" "\x80\xa0\xab\xfe\xf9\x62";
// clang-format on

TEST(GoldenTest, TenantFormat1) {
  ExpectGolden(Tenant{"acme", 1700000000000}, kTenant, EncodeTenant, DecodeTenant);
}

// ---------------------------------------------------------------------------------------------
// Key layouts (storage/keys.cc). A length prefix is a varint length then the bytes; times are
// 8 bytes big-endian with the sign bit flipped; ids are 8 bytes big-endian.

TEST(GoldenTest, KeyLayouts) {
  // clang-format off
  // ServiceKey: length-prefixed tenant, id.
  EXPECT_EQ(Hex(ServiceKey("t", 258)), Hex("\x01" "t" "\x00\x00\x00\x00\x00\x00\x01\x02"s));
  EXPECT_EQ(Hex(ServiceKey("", 1)), Hex("\x00" "\x00\x00\x00\x00\x00\x00\x00\x01"s));
  // A 200-byte tenant: its length prefix is the two-byte varint c8 01.
  EXPECT_EQ(Hex(ServiceKey(std::string(200, 'x'), 1).substr(0, 3)), Hex("\xc8\x01" "x"s));
  // IndexPrefix: tenant, index kind byte (1 started, 2 completed, 3 active, 4 active
  // overflow), owner kind byte (1 customer, 2 anonymous), length-prefixed owner.
  EXPECT_EQ(Hex(IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C1")),
            Hex("\x01" "t" "\x01" "\x01" "\x02" "C1"s));
  EXPECT_EQ(Hex(IndexPrefix("t", IndexKind::kCompleted, OwnerKind::kAnonymous, "408")),
            Hex("\x01" "t" "\x02" "\x02" "\x03" "408"s));
  EXPECT_EQ(Hex(IndexPrefix("t", IndexKind::kActive, OwnerKind::kCustomer, "C1")),
            Hex("\x01" "t" "\x03" "\x01" "\x02" "C1"s));
  EXPECT_EQ(Hex(IndexPrefix("", IndexKind::kActiveOverflow, OwnerKind::kAnonymous, "408")),
            Hex("\x00" "\x04" "\x02" "\x03" "408"s));
  // IndexKey: prefix, time (sign bit flipped), id. IndexBound: prefix, time.
  EXPECT_EQ(Hex(IndexKey("P", 1000, 2)),
            Hex("P" "\x80\x00\x00\x00\x00\x00\x03\xe8" "\x00\x00\x00\x00\x00\x00\x00\x02"s));
  EXPECT_EQ(Hex(IndexKey("", -1, 0)),
            Hex("\x7f\xff\xff\xff\xff\xff\xff\xff" "\x00\x00\x00\x00\x00\x00\x00\x00"s));
  EXPECT_EQ(Hex(IndexBound("P", std::numeric_limits<TimeMs>::min())),
            Hex("P" "\x00\x00\x00\x00\x00\x00\x00\x00"s));
  // Interactions: the record key is ServiceKey's layout; index prefix is tenant, key kind
  // byte (1 customer, 2 account, 3 contact number), length-prefixed key.
  EXPECT_EQ(Hex(InteractionRecordKey("t", 7)), Hex("\x01" "t" "\x00\x00\x00\x00\x00\x00\x00\x07"s));
  EXPECT_EQ(Hex(InteractionIndexPrefix("t", InteractionKey::kCustomer, "C1")),
            Hex("\x01" "t" "\x01" "\x02" "C1"s));
  EXPECT_EQ(Hex(InteractionIndexPrefix("t", InteractionKey::kAccount, "A1")),
            Hex("\x01" "t" "\x02" "\x02" "A1"s));
  EXPECT_EQ(Hex(InteractionIndexPrefix("t", InteractionKey::kContact, "408")),
            Hex("\x01" "t" "\x03" "\x03" "408"s));
  // Id limits: the bare name for the default tenant (the key from before sequences were per
  // tenant), else name, '|', length-prefixed tenant.
  EXPECT_EQ(IdLimitKey("next_service_id_limit", ""), "next_service_id_limit");
  EXPECT_EQ(Hex(IdLimitKey("next_service_id_limit", "t")),
            Hex("next_service_id_limit|" "\x01" "t"s));
  EXPECT_EQ(Hex(CustomerKeysKey("t", "C1")), Hex("customer_keys|" "\x01" "t" "\x02" "C1"s));
  // Workspace: kind byte, length-prefixed tenant, length-prefixed id.
  EXPECT_EQ(Hex(WorkspaceKey('u', "t", "alice")), Hex("u" "\x01" "t" "\x05" "alice"s));
  EXPECT_EQ(Hex(WorkspaceKey('k', "", "k1")), Hex("k" "\x00" "\x02" "k1"s));
  EXPECT_EQ(Hex(WorkspaceKey('t', "acme", "")), Hex("t" "\x04" "acme" "\x00"s));
  // clang-format on
}

TEST(GoldenTest, KeyOrderingProperties) {
  // Ids of one tenant sort numerically (big-endian), across byte boundaries.
  EXPECT_LT(ServiceKey("t", 255), ServiceKey("t", 256));
  EXPECT_LT(ServiceKey("t", 256), ServiceKey("t", uint64_t{1} << 40));
  // Interaction index keys sort by (time, id), negative times first: a window is one range.
  const std::string p = InteractionIndexPrefix("t", InteractionKey::kContact, "408");
  EXPECT_LT(IndexKey(p, -1, 9), IndexKey(p, 0, 1));
  EXPECT_LT(IndexKey(p, 0, 9), IndexKey(p, 1, 1));
  EXPECT_LT(IndexKey(p, 5, 1), IndexKey(p, 5, 2));
  // The keys of one (tenant, index, owner) are one range that no other owner's key falls in.
  const std::string c1 = IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C1");
  const std::string c12 = IndexPrefix("t", IndexKind::kStarted, OwnerKind::kCustomer, "C12");
  EXPECT_TRUE(IndexKey(c12, 0, 0) < IndexBound(c1, std::numeric_limits<TimeMs>::min()) ||
              IndexKey(c12, 0, 0) > c1 + std::string(17, '\xff'));
  // Each Workspace kind is one key range: every user key lies in ["u", "v").
  for (const std::string& key :
       {WorkspaceKey('u', "", ""), WorkspaceKey('u', std::string(300, '\xff'), "z")}) {
    EXPECT_GE(key, "u");
    EXPECT_LT(key, "v");
  }
  std::string tenant;
  ASSERT_TRUE(ParseWorkspaceKeyTenant(WorkspaceKey('i', "acme", "0001"), &tenant));
  EXPECT_EQ(tenant, "acme");
}

// ---------------------------------------------------------------------------------------------
// What the store writes (storage/rocksdb_store.cc): every key and value of every column family
// after a small known history, read back from the RocksDB files themselves.

using Dump = std::vector<std::pair<std::string, std::string>>;  // (key, value) in key order

class StoreGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = testing::OpenTestStore(dir_.path()); }

  // Closes the store and returns the contents of each column family, by family name.
  std::map<std::string, Dump> Close() {
    store_.reset();
    const std::vector<std::string> names = {"default",      "services",          "index",
                                            "interactions", "interaction_index", "workspace"};
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names)
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s =
        rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir_.path(), families, &handles, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::map<std::string, Dump> out;
    if (!s.ok()) return out;
    for (size_t i = 0; i < names.size(); ++i) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      Dump& dump = out[names[i]];
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        dump.emplace_back(it->key().ToString(), it->value().ToString());
      }
    }
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
    return out;
  }

  static void ExpectDump(const Dump& got, const Dump& want) {
    auto show = [](const Dump& d) {
      std::string out;
      for (const auto& [k, v] : d) out += "  " + Hex(k) + "  =>  " + Hex(v) + "\n";
      return out;
    };
    EXPECT_EQ(show(got), show(want));
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreGoldenTest, EveryColumnFamilyHoldsExactlyTheseBytes) {
  // Tenant "t": customer C1's active service (id 1, started 1000); anonymous 408's service
  // (id 2, started 2000, completed 3000). The default tenant: C1's active service (its id 1).
  Service a;
  a.customer_id = "C1";
  a.started.timestamp_ms = 1000;
  ASSERT_EQ(store_->Create("t", a)->service_id, 1u);
  Service b;
  b.contact_key = "408";
  b.started.timestamp_ms = 2000;
  ASSERT_EQ(store_->Create("t", b)->service_id, 2u);
  auto complete = [](Service& s) {
    s.completed = Event{3000, {}};
    return absl::OkStatus();
  };
  ASSERT_TRUE(store_->Update("t", 2, complete).ok());
  ASSERT_EQ(store_->Create("", a)->service_id, 1u);
  auto appended = store_->Append("t", {FullInteraction()});
  ASSERT_TRUE(appended.ok()) << appended.status();
  ASSERT_EQ((*appended)[0].interaction_id, 1u);
  ASSERT_TRUE(store_->PutCustomerKeys("t", "C1", CustomerKeys{"2|3", "408"}).ok());
  WorkspaceChange change;
  change.users = {FullUser()};
  change.items = {FullWorkItem()};
  change.agents = {AgentState{"alice", {{"voice", true}}, 1000}};  // in memory only
  ASSERT_EQ(store_->CommitWorkspace("t", 0, change).value_or(0), 1u);
  ASSERT_TRUE(store_->PutApiKey(FullApiKey()).ok());
  ASSERT_TRUE(store_->PutTenant(Tenant{"acme", 1700000000000}).ok());

  std::map<std::string, Dump> got = Close();
  const std::string id1 = "\x00\x00\x00\x00\x00\x00\x00\x01"s;
  const std::string id2 = "\x00\x00\x00\x00\x00\x00\x00\x02"s;
  const std::string t1000 = "\x80\x00\x00\x00\x00\x00\x03\xe8"s;  // times, sign bit flipped
  const std::string t2000 = "\x80\x00\x00\x00\x00\x00\x07\xd0"s;
  const std::string t3000 = "\x80\x00\x00\x00\x00\x00\x0b\xb8"s;
  const std::string t1700000000000 = "\x80\x00\x01\x8b\xcf\xe5\x68\x00"s;
  // C1's record: format 1, id 1, customer "C1", no contact key, type or estimate, started
  // 1000 with no fields, not completed, nothing attached, no states or tasks.
  // clang-format off
  const std::string record_c1 =
      "\x01\x01" "\x01\x02" "C1" "\x00\x00\x00" "\xd0\x0f\x00" "\x00\x00\x00\x00"s;
  // 408's record: id 2, no customer, contact key "408", started 2000, completed 3000.
  const std::string record_408 =
      "\x01\x02" "\x00" "\x01\x03" "408" "\x00\x00" "\xa0\x1f\x00" "\x01\xf0\x2e\x00"
      "\x00\x00\x00"s;
  // clang-format on
  // An id limit: the upper end of the first block of 1024 ids, 8 bytes big-endian.
  const std::string limit_1024 = "\x00\x00\x00\x00\x00\x00\x04\x00"s;

  // clang-format off
  ExpectDump(got["default"],  // the meta family
             {{"customer_keys|" "\x01" "t" "\x02" "C1"s, kCustomerKeys},
              {"next_interaction_id_limit|" "\x01" "t"s, limit_1024},
              {"next_service_id_limit", limit_1024},  // the default tenant's
              {"next_service_id_limit|" "\x01" "t"s, limit_1024}});
  ExpectDump(got["services"], {{"\x00"s + id1, record_c1},
                               {"\x01" "t"s + id1, record_c1},
                               {"\x01" "t"s + id2, record_408}});
  // Index values: a started entry holds 00 (active) or 01 (completed); a completed entry holds
  // the start time, 8 bytes big-endian (sign bit not flipped); an owner's active record holds
  // a 4-byte big-endian overflow count and its (time, id) entries. 408 has no active service
  // left, so no active record.
  ExpectDump(got["index"],
             {{"\x00" "\x01\x01" "\x02" "C1"s + t1000 + id1, "\x00"s},
              {"\x00" "\x03\x01" "\x02" "C1"s, "\x00\x00\x00\x00"s + t1000 + id1},
              {"\x01" "t" "\x01\x01" "\x02" "C1"s + t1000 + id1, "\x00"s},
              {"\x01" "t" "\x01\x02" "\x03" "408"s + t2000 + id2, "\x01"s},
              {"\x01" "t" "\x02\x02" "\x03" "408"s + t3000 + id2,
               "\x00\x00\x00\x00\x00\x00\x07\xd0"s},
              {"\x01" "t" "\x03\x01" "\x02" "C1"s, "\x00\x00\x00\x00"s + t1000 + id1}});
  ExpectDump(got["interactions"], {{"\x01" "t"s + id1, kFullInteraction}});
  // Each index entry holds the whole record.
  ExpectDump(got["interaction_index"],
             {{"\x01" "t" "\x01" "\x02" "C1"s + t1700000000000 + id1, kFullInteraction},
              {"\x01" "t" "\x02" "\x02" "A1"s + t1700000000000 + id1, kFullInteraction},
              {"\x01" "t" "\x03" "\x03" "408"s + t1700000000000 + id1, kFullInteraction}});
  ExpectDump(got["workspace"], {{"i" "\x01" "t" "\x04" "0001"s, kWorkItem},
                                {"k" "\x00" "\x02" "k1"s, kApiKey},
                                {"t" "\x04" "acme" "\x00"s, kTenant},
                                {"u" "\x01" "t" "\x05" "alice"s, kUser}});
  // clang-format on
}

TEST_F(StoreGoldenTest, ActiveRecordOverflowsIntoSingleKeys) {
  // 129 active services of one owner, started at 1..129 (ids 1..129): the record keeps the
  // first 128 in (time, id) order and counts one overflow entry, kept as its own key.
  for (TimeMs t = 1; t <= 129; ++t) {
    Service s;
    s.contact_key = "408";
    s.started.timestamp_ms = t;
    ASSERT_TRUE(store_->Create("t", s).ok());
  }
  std::map<std::string, Dump> got = Close();
  std::string record = "\x00\x00\x00\x01"s;  // one overflow entry
  for (uint64_t i = 1; i <= 128; ++i) {
    record += "\x80\x00\x00\x00\x00\x00\x00"s + static_cast<char>(i);  // time i
    record += "\x00\x00\x00\x00\x00\x00\x00"s + static_cast<char>(i);  // id i
  }
  Dump active;
  for (const auto& [key, value] : got["index"]) {
    if (key.size() > 2 && (key[2] == '\x03' || key[2] == '\x04')) active.emplace_back(key, value);
  }
  // clang-format off
  ExpectDump(active, {{"\x01" "t" "\x03\x02" "\x03" "408"s, record},
                      {"\x01" "t" "\x04\x02" "\x03" "408"
                       "\x80\x00\x00\x00\x00\x00\x00\x81" "\x00\x00\x00\x00\x00\x00\x00\x81"s,
                       ""}});
  // clang-format on
}

}  // namespace
}  // namespace contextd::storage
