// Runs tests/data/service_queries.txt: a fixture built through the engine, then query cases
// (request -> expected services in order, or the expected error).

#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "query/engine.h"
#include "query/timestamp.h"
#include "server/http/uri.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_store.h"

namespace contextd::query {
namespace {

using storage::Value;

Value Scalar(const std::string& text) {
  if (text == "true" || text == "false") return Value::Bool(text == "true");
  if (text == "null") return Value::Null();
  char* end = nullptr;
  long long i = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0') return Value::Int(i);
  double d = std::strtod(text.c_str(), &end);
  if (!text.empty() && *end == '\0') return Value::Double(d);
  return Value::String(text);
}

storage::TimeMs Ts(const std::string& text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.value_or(0);
}

class QueryCasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_.path());
    engine_ = std::make_unique<Engine>(store_.get());
  }

  void RunFixtureLine(const std::string& line) {
    std::istringstream in(line);
    std::string verb, label;
    in >> verb >> label;
    if (verb == "service") {
      ServiceStart start;
      std::string word;
      while (in >> word) {
        size_t eq = word.find('=');
        std::string key = word.substr(0, eq), value = word.substr(eq + 1);
        if (key == "customer")
          start.customer_id = value;
        else if (key == "key")
          start.contact_key = value;
        else if (key == "start")
          start.event.timestamp_ms = Ts(value);
        else if (key == "type")
          start.service_type = Scalar(value);
        else if (key.rfind("ext.", 0) == 0)
          start.event.attached.emplace_back(key.substr(4), Scalar(value));
        else
          FAIL() << "bad fixture word " << word;
      }
      auto s = engine_->StartService("", std::move(start), 0);
      ASSERT_TRUE(s.ok()) << s.status();
      ids_[label] = s->service_id;
      labels_[s->service_id] = label;
    } else if (verb == "complete") {
      std::string ts;
      in >> ts;
      EventInput end;
      end.timestamp_ms = Ts(ts);
      ASSERT_TRUE(engine_->CompleteService("", ids_.at(label), end, 0).ok());
    } else if (verb == "associate") {
      std::string customer;
      in >> customer;
      ASSERT_TRUE(engine_->AssociateService("", ids_.at(label), customer, {}).ok());
    } else if (verb == "delete") {
      ASSERT_TRUE(engine_->DeleteService("", ids_.at(label)).ok());
    } else {
      FAIL() << "bad fixture line: " << line;
    }
  }

  // Runs one case: "GET <path> -> <labels>" or "GET <path> -> error <text>".
  void RunCase(const std::string& line) {
    SCOPED_TRACE(line);
    size_t arrow = line.find(" -> ");
    ASSERT_NE(arrow, std::string::npos);
    std::string path = line.substr(4, arrow - 4);
    std::string expect = line.substr(arrow + 4);
    auto target = server::ParseTarget(path);
    ASSERT_TRUE(target.ok());
    const auto& seg = target->segments;
    storage::OwnerKind kind;
    std::string owner;
    size_t view_at;
    if (seg.size() >= 3 && seg[0] == "customers" && seg[2] == "services") {
      kind = storage::OwnerKind::kCustomer;
      owner = seg[1];
      view_at = 3;
    } else if (seg.size() >= 3 && seg[0] == "services" && seg[1] == "anonymous") {
      kind = storage::OwnerKind::kAnonymous;
      owner = seg[2];
      view_at = 3;
    } else {
      FAIL() << "unsupported path";
    }
    View view = View::kAll;
    if (seg.size() > view_at) view = seg[view_at] == "active" ? View::kActive : View::kCompleted;

    absl::StatusOr<std::vector<storage::Service>> found;
    auto q = ParseServiceQuery("", kind, owner, view, target->params);
    if (q.ok()) {
      found = engine_->QueryServices(*q);
    } else {
      found = q.status();
    }
    if (expect.rfind("error ", 0) == 0) {
      ASSERT_FALSE(found.ok());
      EXPECT_EQ(found.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(std::string(found.status().message()).find(expect.substr(6)), std::string::npos)
          << found.status();
      return;
    }
    ASSERT_TRUE(found.ok()) << found.status();
    std::string got;
    for (const storage::Service& s : *found)
      got += (got.empty() ? "" : " ") + labels_[s.service_id];
    EXPECT_EQ(got, expect);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Engine> engine_;
  std::map<std::string, uint64_t> ids_;
  std::map<uint64_t, std::string> labels_;
};

TEST_F(QueryCasesTest, ServiceQueries) {
  std::ifstream file(std::string(CONTEXTD_TEST_DATA) + "/service_queries.txt");
  ASSERT_TRUE(file.good());
  std::string line;
  int cases = 0;
  while (std::getline(file, line)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("GET ", 0) == 0) {
      RunCase(line.find(" ->") == line.size() - 3 ? line + " " : line);
      ++cases;
    } else {
      RunFixtureLine(line);
    }
  }
  EXPECT_GT(cases, 50);
}

}  // namespace
}  // namespace contextd::query
