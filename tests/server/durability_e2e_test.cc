// End to end: what `--sync` promises and what a client sees when the disk fails, on the real
// binary with a fault shim preloaded (tests/support/fault_fs.cc) that counts, stalls or fails
// its fsync/fdatasync/sync_file_range calls while a trigger file exists.

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/server/server_fixture.h"
#include "tests/support/basic_auth.h"
#include "tests/support/eventually.h"

namespace contextd::testing {
namespace {

using storage::Value;

constexpr char kUnavailableCs[] =
    R"({"message":"service unavailable, try again","exception":)"
    R"("com.genesyslab.gsg.services.contextservices.exceptions.ContextServicesExceptionResource"})";

class DurabilityTest : public ServerTest {
 protected:
  void SetUp() override {}  // each test starts its server with the shim

  // Starts contextd with the fault shim preloaded, in `data_dir` (default: the fixture's).
  void StartFaulty(std::vector<std::string> args, const std::string& data_dir = "") {
    client_.reset();
    server_.reset();
    const char* asan = std::getenv("ASAN_OPTIONS");
    server_ = std::make_unique<ServerProcess>(
        CONTEXTD_BINARY, data_dir.empty() ? dir_.path() : data_dir, args,
        std::vector<std::string>{
            std::string("LD_PRELOAD=") + CONTEXTD_FAULT_FS, "FAULT_FS_COUNT=" + Path("count"),
            "FAULT_FS_STALL=" + Path("stall"), "FAULT_FS_FAIL=" + Path("fail"),
            // The shim is preloaded ahead of the ASan runtime of a sanitizer build.
            std::string("ASAN_OPTIONS=") + (asan ? asan : "") + ":verify_asan_link_order=0"});
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  std::string Path(const std::string& name) const { return faults_.path() + "/" + name; }
  void Set(const std::string& trigger) { std::ofstream(Path(trigger)).put('x'); }
  void Clear(const std::string& trigger) { std::filesystem::remove(Path(trigger)); }
  // Sync calls made so far (the shim appends a byte per call).
  uint64_t Syncs() const {
    std::error_code ec;
    const uintmax_t n = std::filesystem::file_size(Path("count"), ec);
    return ec ? 0 : n;
  }

  TempDir faults_;
};

TEST_F(DurabilityTest, BatchAcknowledgesAtOnceAndSyncsSoonAfter) {
  StartFaulty({"--sync", "batch"});
  StartService(R"({"contact_key":"warm"})");  // persists the id block (a synced write)

  // An acknowledged write is followed by a sync within a bounded time (documented: every
  // 10 ms; a generous bound for a loaded machine): two more calls means one began after it.
  for (int i = 0; i < 3; ++i) {
    StartService(R"({"contact_key":"k"})");
    const uint64_t after_ack = Syncs();
    EXPECT_TRUE(Eventually([&] { return Syncs() >= after_ack + 2; }, std::chrono::seconds(1)))
        << "no WAL sync within 1 s of an acknowledged write";
  }

  // The client does not wait for the sync: with the syncing thread stuck inside fdatasync,
  // writes are still acknowledged and readable at once.
  Set("stall");
  const uint64_t before = Syncs();
  ASSERT_TRUE(Eventually([&] { return Syncs() > before; })) << "the periodic sync never ran";
  const uint64_t stuck = Syncs();  // that call waits while the stall file exists
  const uint64_t id = StartService(R"({"contact_key":"stalled"})");
  HttpReply state =
      client_->Post(std::string(kCs) + "/services/" + std::to_string(id) + "/states/start",
                    R"({"state_type":"InQueue"})");
  EXPECT_EQ(state.status, 201) << state.body;
  EXPECT_EQ(client_->Get(std::string(kCs) + "/services/" + std::to_string(id)).status, 200);
  EXPECT_EQ(Syncs(), stuck) << "a sync ran while the disk was stalled";
  Clear("stall");
  // The sync that covers these writes follows once the disk answers again.
  EXPECT_TRUE(Eventually([&] { return Syncs() >= stuck + 2; }, std::chrono::seconds(1)));
}

// A client that sends a write and shuts down its sending side still gets the reply, once the
// write is durable (Pistache drops a connection on reading its end; the reply goes out on a
// duplicate of the socket). Without it, a retrying client would apply the write twice.
TEST_F(DurabilityTest, AHalfClosedClientGetsItsWriteAcknowledgedOnceDurable) {
  StartFaulty({"--sync", "always"});
  StartService(R"({"contact_key":"warm"})");
  Set("stall");
  HttpClient writer(server_->port());
  const std::string body = R"({"customer_id":"HC1"})";
  ASSERT_TRUE(writer.Write("POST " + std::string(kCs) +
                           "/services/start HTTP/1.1\r\nHost: t\r\nContent-Type: "
                           "application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body));
  ASSERT_TRUE(writer.ShutdownWrite());
  // Nothing while the sync is stalled (meanwhile the server reads the end of the input).
  EXPECT_TRUE(writer.QuietFor(std::chrono::milliseconds(300)));
  Clear("stall");
  HttpReply r = writer.ReadReply();
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find("service_id"), std::string::npos) << r.body;
  EXPECT_TRUE(writer.ReadEof());
  EXPECT_EQ(Ids(client_->Get(std::string(kCs) + "/customers/HC1/services")).size(), 1u);
}

TEST_F(DurabilityTest, BatchWritesSurviveKill9AndRestart) {
  StartServer({"--sync", "batch"});
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(StartService(R"({"contact_key":"k","service_type":"T)" + std::to_string(i) +
                               "\"}"));
    ASSERT_EQ(client_
                  ->Post(std::string(kCs) + "/services/" + std::to_string(ids.back()) +
                             "/states/start",
                         R"({"state_type":"S)" + std::to_string(i) + "\"}")
                  .status,
              201);
  }
  server_->Kill();  // SIGKILL right after the last acknowledgement
  StartServer({"--sync", "batch"});
  for (size_t i = 0; i < ids.size(); ++i) {
    HttpReply r = client_->Get(std::string(kCs) + "/services/" + std::to_string(ids[i]) +
                               "?active_states=true");
    ASSERT_EQ(r.status, 200) << "service " << ids[i] << " lost: " << r.body;
    EXPECT_NE(r.body.find("\"state_type\":\"S" + std::to_string(i) + "\""), std::string::npos)
        << r.body;
  }
}

// One write route of a dialect: how to warm it up (its first write persists an id block
// with a synced write of its own) and the write whose WAL sync fails.
struct DialectWrite {
  const char* name;
  std::string path;
  std::string body;
  bool workspace;  // needs the admin's session cookie
  int ok_status;
  std::string dialect_503;  // the route's own 503 body (a write failing before its sync)
};

TEST_F(DurabilityTest, AFailedWalSyncIsA503InEveryDialectAndNeverAnAcknowledgement) {
  const std::vector<DialectWrite> writes = {
      {"genesys", std::string(kCs) + "/services/start", R"({"contact_key":"k"})", false, 201,
       kUnavailableCs},
      {"native", "/contextd/v1/interactions",
       R"({"customer_id":"C1","time":"2024-01-01T00:00:00Z","channel":"voice"})", false, 201,
       R"({"message":"service unavailable, try again"})"},
      {"pega", "/prweb/PRRestService/PegaMKTContainer/V2/CaptureResponse",
       R"({"CustomerID":"C1","RankedResults":[{"Name":"Card","Issue":"Sales","Group":"Cards",)"
       R"("InteractionID":"-1","Outcome":"Accepted","Channel":"SMS"}]})",
       false, 200, R"({"Status":"ERROR","Message":"service unavailable, try again"})"},
      {"workspace", "/api/v2/interactions",
       R"({"mediatype":"email","queue":"q","userData":{"CustomerID":"C1"}})", true, 200,
       R"({"statusCode":4,"statusMessage":"service unavailable, try again"})"},
  };
  for (const DialectWrite& w : writes) {
    SCOPED_TRACE(w.name);
    TempDir data;
    Clear("fail");
    StartFaulty({"--sync", "always", "--admin", "root:secret"}, data.path());
    std::vector<std::string> headers;
    if (w.workspace) {
      headers = {SignIn(*client_, "root", "secret")};
      ASSERT_FALSE(headers[0].empty());
    }
    HttpReply warm = client_->Request("POST", w.path, w.body, headers);
    ASSERT_EQ(warm.status, w.ok_status) << warm.body;

    Set("fail");
    // The write is applied, but its WAL sync fails: never acknowledged, and answered in the
    // route's dialect like any other 503. The connection is closed after it.
    HttpReply failed = client_->Request("POST", w.path, w.body, headers);
    EXPECT_EQ(failed.status, 503) << failed.body;
    EXPECT_EQ(failed.body, w.dialect_503);
    EXPECT_TRUE(client_->ReadEof());

    // RocksDB now refuses writes: the next one fails before its sync, in the route's shape.
    HttpClient again(server_->port());
    HttpReply refused = again.Request("POST", w.path, w.body, headers);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(refused.body, w.dialect_503);
    // Not ready while writes cannot be made durable: a load balancer takes the node out.
    EXPECT_EQ(again.Get("/ready").status, 503);

    // Fault cleared: the process still serves reads; writes come back with a restart (the
    // store keeps refusing them until then), which finds the data directory consistent.
    Clear("fail");
    EXPECT_EQ(again.Get("/health").status, 200);
    EXPECT_EQ(again.Get(std::string(kCs) + "/services/anonymous/k").status, 200);
    EXPECT_EQ(again.Get("/ready").status, 503);  // RocksDB cannot reuse a WAL in error
    // A clean stop: its final sync does not touch the WAL in error (RocksDB 7.8 would abort).
    EXPECT_EQ(server_->Stop(), 0);
    StartFaulty({"--sync", "always", "--admin", "root:secret"}, data.path());
    if (w.workspace) {
      headers = {SignIn(*client_, "root", "secret")};
      ASSERT_FALSE(headers[0].empty());
    }
    HttpReply after = client_->Request("POST", w.path, w.body, headers);
    EXPECT_EQ(after.status, w.ok_status) << after.body;
    EXPECT_EQ(client_->Get("/ready").status, 200);
    EXPECT_EQ(server_->Stop(), 0);
    const std::string check =
        std::string(CONTEXTD_BINARY) + " check --data-dir " + data.path() + " >/dev/null";
    EXPECT_EQ(std::system(check.c_str()), 0);
  }
}

TEST_F(DurabilityTest, ReadyIs503WhileTheServerIsStopping) {
  StartFaulty({"--sync", "always"});
  StartService(R"({"contact_key":"warm"})");
  HttpClient probe(server_->port());
  HttpReply ready = probe.Get("/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"status":"ready"})");

  // A write whose sync hangs keeps the stopping server in its shutdown (it delivers every
  // queued reply first), so /ready can be asked meanwhile.
  Set("stall");
  const uint64_t before = Syncs();
  const std::string body = R"({"contact_key":"last"})";
  ASSERT_TRUE(client_->Write("POST " + std::string(kCs) +
                             "/services/start HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body));
  ASSERT_TRUE(Eventually([&] { return Syncs() > before; })) << "the write's sync never began";
  ASSERT_EQ(kill(server_->pid(), SIGTERM), 0);
  HttpReply stopping;
  EXPECT_TRUE(Eventually([&] {
    stopping = probe.Get("/ready");
    return stopping.status != 200;
  }));
  EXPECT_EQ(stopping.status, 503);
  EXPECT_EQ(stopping.body, R"({"message":"service unavailable, try again"})");
  EXPECT_EQ(probe.Get("/health").status, 200);  // alive, just not taking traffic

  Clear("stall");
  HttpReply last = client_->ReadReply();  // delivered before the server exits
  EXPECT_EQ(last.status, 201) << last.body;
  EXPECT_EQ(server_->Stop(), 0);
}

}  // namespace
}  // namespace contextd::testing
