#include "query/engine.h"

#include "gtest/gtest.h"
#include "storage/errors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

using storage::Value;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_.path());
    engine_ = std::make_unique<Engine>(store_.get());
  }

  uint64_t Start(std::string key = "k", storage::TimeMs now = 1000) {
    ServiceStart s;
    s.contact_key = std::move(key);
    auto created = engine_->StartService("", std::move(s), now);
    EXPECT_TRUE(created.ok()) << created.status();
    return created->service_id;
  }

  storage::Service Get(uint64_t id) { return *engine_->GetService("", id); }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, StartNeedsAnOwner) {
  EXPECT_EQ(engine_->StartService("", ServiceStart{}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, TimestampDefaultsToNowAndEndBeforeStartIsRejected) {
  uint64_t id = Start("k", 5000);
  EXPECT_EQ(Get(id).started.timestamp_ms, 5000);
  EventInput early;
  early.timestamp_ms = 4999;
  EXPECT_EQ(engine_->CompleteService("", id, early, 9000).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Get(id).completed.has_value());
  ASSERT_TRUE(engine_->CompleteService("", id, {}, 9000).ok());
  EXPECT_EQ(Get(id).completed->timestamp_ms, 9000);
}

TEST_F(EngineTest, CompletingTwiceIsRejectedForEveryResource) {
  uint64_t id = Start();
  auto st = engine_->StartState("", id, {}, 1000);
  auto t = engine_->StartTask("", id, {}, 1000);
  ASSERT_TRUE(st.ok() && t.ok());
  ASSERT_TRUE(engine_->CompleteState("", id, 0, {}, 2000).ok());
  ASSERT_TRUE(engine_->CompleteTask("", id, 0, {}, 2000).ok());
  ASSERT_TRUE(engine_->CompleteService("", id, {}, 2000).ok());
  EXPECT_EQ(engine_->CompleteState("", id, 0, {}, 3000).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->CompleteTask("", id, 0, {}, 3000).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->CompleteService("", id, {}, 3000).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(id).completed->timestamp_ms, 2000);
}

TEST_F(EngineTest, CompletionDoesNotCascadeAndChildrenMayStartAfterIt) {
  uint64_t id = Start();
  ASSERT_TRUE(engine_->StartState("", id, {}, 1000).ok());
  TaskStart ts;
  ts.state_id = 0;
  ASSERT_TRUE(engine_->StartTask("", id, ts, 1000).ok());
  ASSERT_TRUE(engine_->CompleteState("", id, 0, {}, 2000).ok());
  ASSERT_TRUE(engine_->CompleteService("", id, {}, 2000).ok());
  storage::Service s = Get(id);
  EXPECT_TRUE(s.tasks[0].active());
  auto late = engine_->StartState("", id, {}, 3000);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->state_id, 1);
}

TEST_F(EngineTest, UnknownIdsAreNotFound) {
  // The engine names the missing record neutrally; each dialect words it (server/).
  auto missing = [](const absl::Status& s) {
    std::optional<storage::Missing> m = storage::MissingOf(s);
    return m ? m->kind + " " + m->id : "not a NotFound record: " + s.ToString();
  };
  uint64_t id = Start();
  EXPECT_EQ(missing(engine_->CompleteService("", id + 100, {}, 0)),
            "service " + std::to_string(id + 100));
  EXPECT_EQ(missing(engine_->CompleteState("", id, 3, {}, 0)), "state 3");
  EXPECT_EQ(missing(engine_->CompleteTask("", id, 0, {}, 0)), "task 0");
  EXPECT_EQ(missing(engine_->GetService("", id + 100).status()),
            "service " + std::to_string(id + 100));
  EXPECT_EQ(engine_->CompleteState("", id, 3, {}, 0).message(), "no state 3");
}

TEST_F(EngineTest, TaskStateLinkMustNameAStateOfTheService) {
  uint64_t id = Start();
  uint64_t other = Start();
  ASSERT_TRUE(engine_->StartState("", other, {}, 1000).ok());
  TaskStart ts;
  ts.state_id = 0;  // exists in `other`, not in `id`
  EXPECT_EQ(engine_->StartTask("", id, ts, 1000).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Get(id).tasks.empty());
}

TEST_F(EngineTest, TransitionEndsOneStateAndStartsTheNextAtomically) {
  uint64_t id = Start();
  ASSERT_TRUE(engine_->StartState("", id, {}, 1000).ok());
  Transition t;
  t.from_state_id = 0;
  t.from_fields = {{"disposition", Value::String("Identified")}};
  t.to_state_type = Value::Int(4);
  t.to_est_duration_s = 120;
  t.shared.fields = {{"interaction_id", Value::String("IX1")}};
  t.shared.attached = {{"note", Value::String("n")}};
  auto created = engine_->TransitionState("", id, t, 2000);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state_id, 1);
  EXPECT_EQ(created->previous_state_id, 0);
  storage::Service s = Get(id);
  ASSERT_EQ(s.states.size(), 2u);
  EXPECT_EQ(s.states[0].completed->timestamp_ms, 2000);
  EXPECT_EQ(*storage::FindField(s.states[0].completed->fields, "disposition"),
            Value::String("Identified"));
  EXPECT_EQ(*storage::FindField(s.states[1].started.fields, "interaction_id"),
            Value::String("IX1"));
  EXPECT_EQ(storage::FindField(s.states[1].started.fields, "disposition"), nullptr);
  EXPECT_EQ(*storage::FindField(s.states[1].attached, "note"), Value::String("n"));

  // The ended state is no longer active: a second transition from it changes nothing.
  EXPECT_EQ(engine_->TransitionState("", id, t, 3000).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(id).states.size(), 2u);
}

TEST_F(EngineTest, AttachedDataMergesKeyByKey) {
  ServiceStart start;
  start.contact_key = "k";
  start.event.attached = {{"a", Value::Int(1)}, {"b", Value::Int(2)}};
  uint64_t id = engine_->StartService("", start, 0)->service_id;
  EventInput end;
  end.attached = {{"b", Value::Int(3)}, {"c", Value::Int(4)}};
  ASSERT_TRUE(engine_->CompleteService("", id, end, 10).ok());
  storage::Fields want = {{"a", Value::Int(1)}, {"b", Value::Int(3)}, {"c", Value::Int(4)}};
  EXPECT_EQ(Get(id).attached, want);
}

TEST_F(EngineTest, ExtensionReplaceAndMerge) {
  uint64_t id = Start();
  ResourceRef ref{id, std::nullopt, std::nullopt};
  auto obj = [](std::vector<Value::Member> m) { return Value::Object(std::move(m)); };
  ASSERT_TRUE(
      engine_
          ->WriteExtension("", ref, "Offer", obj({{"x", Value::Int(1)}}), ExtensionWrite::kReplace)
          .ok());
  ASSERT_TRUE(
      engine_->WriteExtension("", ref, "Offer", obj({{"y", Value::Int(2)}}), ExtensionWrite::kMerge)
          .ok());
  EXPECT_EQ(*storage::FindField(Get(id).attached, "Offer"),
            obj({{"x", Value::Int(1)}, {"y", Value::Int(2)}}));
  ASSERT_TRUE(
      engine_
          ->WriteExtension("", ref, "Offer", obj({{"z", Value::Int(3)}}), ExtensionWrite::kReplace)
          .ok());
  EXPECT_EQ(*storage::FindField(Get(id).attached, "Offer"), obj({{"z", Value::Int(3)}}));

  // Merge is defined for objects only; replace takes objects or arrays.
  ASSERT_TRUE(
      engine_
          ->WriteExtension("", ref, "List", Value::Array({Value::Int(1)}), ExtensionWrite::kReplace)
          .ok());
  EXPECT_EQ(
      engine_->WriteExtension("", ref, "List", obj({}), ExtensionWrite::kMerge).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->WriteExtension("", ref, "S", Value::String("s"), ExtensionWrite::kReplace)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->WriteExtension("", ref, "started", obj({}), ExtensionWrite::kReplace)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // A merge into an absent key creates it; state and task targets are checked.
  ASSERT_TRUE(
      engine_->WriteExtension("", ref, "New", obj({{"k", Value::Null()}}), ExtensionWrite::kMerge)
          .ok());
  ResourceRef bad_state{id, 5, std::nullopt};
  EXPECT_EQ(engine_->WriteExtension("", bad_state, "x", obj({}), ExtensionWrite::kReplace)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, AssociateReplacesTheCustomerAndKeepsTheContactKey) {
  uint64_t id = Start("408");
  ServiceUpdate update;
  update.service_type = Value::String("Billing");
  update.event.fields = {{"media_type", Value::String("voice")}};
  auto s = engine_->AssociateService("", id, "C1", update);
  ASSERT_TRUE(s.ok());
  s = engine_->AssociateService("", id, "C2", {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->customer_id, "C2");
  EXPECT_EQ(s->contact_key, "408");
  EXPECT_EQ(s->service_type, Value::String("Billing"));
  EXPECT_EQ(engine_->AssociateService("", id + 9, "C1", {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace contextd::query
