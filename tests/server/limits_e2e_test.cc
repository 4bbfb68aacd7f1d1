// End to end: `--max-body-bytes` (README "Limits") and service ids at the JSON safe-integer
// limit 2^53-1 (context-services-api.md 0, "Identifiers").

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "storage/model.h"
#include "tests/server/server_fixture.h"
#include "tests/support/command.h"

namespace contextd::testing {
namespace {

// One native interaction record padded with an agent comment to exactly `bytes` bytes.
std::string RecordOfSize(size_t bytes) {
  const std::string head =
      R"({"customer_id":"C1","time":"2024-01-01T00:00:00Z","channel":"voice","agent_comment":")";
  const std::string tail = "\"}";
  return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

class LimitsTest : public ServerTest {
 protected:
  void SetUp() override {}

  // A request on a fresh connection (a 413 closes it).
  HttpReply Post(const std::string& target, const std::string& body) {
    HttpClient c(server_->port());
    return c.Post(target, body);
  }
  size_t Stored(const std::string& customer) {
    HttpReply r = client_->Get("/contextd/v1/interactions?customer_id=" + customer);
    EXPECT_EQ(r.status, 200) << r.body;
    return Field(Json(r), "interactions")->array.size();
  }
};

TEST_F(LimitsTest, MaxBodyBytesBoundsIngestAndEveryOtherBody) {
  StartServer({"--sync", "none", "--max-body-bytes", "2000"});
  EXPECT_EQ(Post("/contextd/v1/interactions", RecordOfSize(2000)).status, 201);
  HttpReply over = Post("/contextd/v1/interactions", RecordOfSize(2001));
  EXPECT_EQ(over.status, 413) << over.body;
  EXPECT_NE(over.body.find("request body larger than 2000 bytes"), std::string::npos)
      << over.body;
  EXPECT_EQ(Stored("C1"), 1u);  // the refused body stored nothing
  // The flag lowers the per-event limit too (min of 256 KiB and the flag).
  const std::string big_event = R"({"contact_key":"k","note":")" + std::string(2000, 'x') + "\"}";
  EXPECT_EQ(Post(std::string(kCs) + "/services/start", big_event).status, 413);
}

TEST_F(LimitsTest, TheDefaultLimitIsOneMebibyteForIngestOnly) {
  StartServer({"--sync", "none"});
  // 1 MiB exactly: accepted (an NDJSON body, far above the 256 KiB of one event).
  std::string ndjson;
  const size_t line = 4000;  // agent_comment holds at most 4096 bytes
  while ((1u << 20) - ndjson.size() > 2 * (line + 1)) ndjson += RecordOfSize(line) + "\n";
  const size_t rest = (1u << 20) - ndjson.size() - 1;  // two records and a newline
  ndjson += RecordOfSize(rest / 2) + "\n" + RecordOfSize(rest - rest / 2);
  ASSERT_EQ(ndjson.size(), 1u << 20);
  HttpReply ok = Post("/contextd/v1/interactions", ndjson);
  EXPECT_EQ(ok.status, 201) << ok.body.substr(0, 200);
  const size_t records = static_cast<size_t>(std::count(ndjson.begin(), ndjson.end(), '\n')) + 1;
  EXPECT_EQ(Stored("C1"), records);
  EXPECT_EQ(Post("/contextd/v1/interactions", ndjson + " ").status, 413);
  // One event: 256 KiB whatever the flag.
  const std::string event = R"({"contact_key":"k","note":")" + std::string(256 << 10, 'x') + "\"}";
  EXPECT_EQ(Post(std::string(kCs) + "/services/start", event).status, 413);
}

class SafeIntegerIdTest : public ServerTest {
 protected:
  void SetUp() override {}

  // Runs `contextd import` with `ndjson` into the fixture's data directory; the exit status.
  int Import(const std::string& ndjson, std::string* output) {
    const std::string file = dir_.path() + "/import.ndjson";
    std::ofstream(file) << ndjson;
    CommandResult r = RunCommand(std::string(CONTEXTD_BINARY) + " import --data-dir " +
                                 dir_.path() + "/data " + file);
    *output += r.output;
    return r.code;
  }
  // Imports one anonymous service (contact key "k") with id 2^53-1; the exit status.
  int ImportServiceAtMaxId(std::string* output) {
    return Import(R"({"service_id":9007199254740991,"contact_key":"k",)"
                  R"("started":{"timestamp":"2024-01-01T00:00:00Z"}})" "\n",
                  output);
  }
  void Start() {
    client_.reset();
    server_ = std::make_unique<ServerProcess>(CONTEXTD_BINARY, dir_.path() + "/data",
                                              std::vector<std::string>{"--sync", "none"});
    client_ = std::make_unique<HttpClient>(server_->port());
  }
};

constexpr char kMax[] = "9007199254740991";  // 2^53-1

TEST_F(SafeIntegerIdTest, IdsUpTo2To53Minus1AreServicesAndAboveAreUnknown) {
  std::string out;
  // 2^53 is not a service id: the import names the field and writes nothing.
  EXPECT_EQ(Import(R"({"service_id":9007199254740992,"contact_key":"k",)"
                   R"("started":{"timestamp":"2024-01-01T00:00:00Z"}})" "\n",
                   &out),
            1);
  EXPECT_NE(out.find("field 'service_id'"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(ImportServiceAtMaxId(&out), 0) << out;
  Start();
  const std::string at = std::string(kCs) + "/services/" + kMax;
  HttpReply got = client_->Get(at);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_NE(got.body.find(std::string(R"("service_id":)") + kMax + ","), std::string::npos);
  EXPECT_EQ(client_->Post(at + "/states/start", R"({"state_type":"x"})").status, 201);
  EXPECT_EQ(client_->Get(std::string(kCs) + "/services/anonymous/k").status, 200);
  // Path ids of 2^53 or more (and past 2^64) are unknown services: 400 NotFoundException.
  for (const char* id : {"9007199254740992", "18446744073709551615", "18446744073709551616",
                         "0", "-1", "1e3"}) {
    HttpReply r = client_->Get(std::string(kCs) + "/services/" + id);
    EXPECT_EQ(r.status, 400) << id;
    EXPECT_EQ(r.body,
              std::string(R"({"message":"There are no service found for : )") + id +
                  R"(","exception":"com.genesyslab.gsg.services.contextservices.exceptions.)"
                  R"(NotFoundException"})");
  }
}

// Once a tenant's service ids are used up (an import took 2^53-1), a start is refused with a
// 400 naming the limit, nothing is stored, and no id above 2^53-1 is ever handed out.
TEST_F(SafeIntegerIdTest, NoIdAbove2To53Minus1IsHandedOut) {
  std::string out;
  ASSERT_EQ(ImportServiceAtMaxId(&out), 0) << out;
  Start();
  for (int attempt = 0; attempt < 2; ++attempt) {
    HttpReply r = client_->Post(std::string(kCs) + "/services/start", R"({"contact_key":"k"})");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("9007199254740991"), std::string::npos) << r.body;
  }
  HttpReply active = client_->Get(std::string(kCs) + "/services/anonymous/k/active");
  ASSERT_EQ(active.status, 200);
  EXPECT_EQ(Ids(active), std::vector<int64_t>{static_cast<int64_t>(storage::kMaxId)});
}

}  // namespace
}  // namespace contextd::testing
