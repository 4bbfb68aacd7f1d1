#include "storage/codec.h"

#include "gtest/gtest.h"

namespace contextd::storage {
namespace {

Service FullService() {
  Service s;
  s.service_id = 9007199254740991ull;
  s.customer_id = "C0042";
  s.contact_key = "408-832-7799";
  s.service_type = Value::String("Billing");
  s.est_duration_s = 600;
  s.started = {-5, {{"media_type", Value::Int(3)}}};
  s.completed = Event{1700000000000, {{"disposition", Value::String("Resolved")}}};
  s.attached = {
      {"Offer",
       Value::Object({{"name", Value::String("gold")},
                      {"n", Value::Array({Value::Double(1.5), Value::Null(), Value::Bool(true),
                                          Value::Uint(18446744073709551615ull)})}})}};
  State st;
  st.state_id = 0;
  st.state_type = Value::Int(8);
  st.started = {10, {}};
  s.states.push_back(st);
  State st2;
  st2.state_id = 1;
  st2.previous_state_id = 0;
  st2.started = {11, {}};
  st2.completed = Event{12, {}};
  s.states.push_back(st2);
  Task t;
  t.task_id = 0;
  t.state_id = 1;
  t.task_type = Value::String("call");
  t.started = {13, {}};
  t.attached = {{"k", Value::String("v\n\"")}};
  s.tasks.push_back(t);
  return s;
}

TEST(CodecTest, RoundTripsEveryField) {
  Service s = FullService();
  absl::StatusOr<Service> back = DecodeService(EncodeService(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

TEST(CodecTest, RoundTripsMinimalService) {
  Service s;
  s.service_id = 1;
  s.contact_key = "k";
  absl::StatusOr<Service> back = DecodeService(EncodeService(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(CodecTest, KeysDecodeReadsOnlyWhatPlacesAService) {
  Service s = FullService();
  absl::StatusOr<Service> keys = DecodeServiceKeys(EncodeService(s));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->service_id, s.service_id);
  EXPECT_EQ(keys->customer_id, s.customer_id);
  EXPECT_EQ(keys->contact_key, s.contact_key);
  EXPECT_EQ(keys->started.timestamp_ms, s.started.timestamp_ms);
  ASSERT_TRUE(keys->completed.has_value());
  EXPECT_EQ(keys->completed->timestamp_ms, s.completed->timestamp_ms);
  EXPECT_TRUE(keys->attached.empty());
  EXPECT_TRUE(keys->states.empty());
  EXPECT_EQ(PeekServiceId(EncodeService(s)), s.service_id);
}

TEST(CodecTest, RejectsEveryTruncationAndUnknownVersion) {
  std::string bytes = EncodeService(FullService());
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(DecodeService(std::string_view(bytes).substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss);
  }
  std::string bad_version = bytes;
  bad_version[0] = 7;
  EXPECT_EQ(DecodeService(bad_version).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeService(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace contextd::storage
