// The transport against hostile and unlucky clients, on the real binary: clients that pipeline
// requests and never read the replies (memory stays bounded, the connection pauses and
// resumes, or is closed when it keeps sending or stays unread), a connection flood at the
// limit (refused cheaply, no spinning). (A client that half-closes after a write:
// durability_e2e_test.cc.)

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/server_fixture.h"
#include "tests/support/basic_auth.h"
#include "tests/support/eventually.h"

namespace contextd::testing {
namespace {

// Resident memory of process `pid`, in bytes.
size_t RssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

// CPU time (user + system) process `pid` has used, in clock ticks.
long CpuTicks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(all.substr(all.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stol(field);
    if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return utime + stime;
}

// The value of an unlabelled /metrics line (-1 when absent).
double Metric(HttpClient& client, const std::string& name) {
  const std::string body = client.Get("/metrics").body;
  const size_t at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + name.size() + 2));
}

// `n` GETs of `target`, the i-th with X-Request-Id r<i> (replies echo it).
std::string Pipelined(const std::string& target, int n) {
  std::string all;
  for (int i = 0; i < n; ++i) {
    all += "GET " + target + " HTTP/1.1\r\nHost: t\r\nX-Request-Id: r" + std::to_string(i) +
           "\r\n\r\n";
  }
  return all;
}

class TransportTest : public ServerTest {};

// 20 clients x 2000 pipelined GET /ui/app.js (6 KB each): unbounded, the server would hold
// 240 MB of replies; bounded, each connection holds at most ~1 MiB of them and stops being
// served. A client that then reads gets every reply, in order.
TEST_F(TransportTest, PipelinedClientsThatNeverReadStayBounded) {
  constexpr int kClients = 20;
  constexpr int kRequests = 2000;
  const size_t before = RssBytes(server_->pid());
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<HttpClient>(server_->port()));
    ASSERT_TRUE(clients.back()->Write(Pipelined("/ui/app.js", kRequests)));
  }
  EXPECT_TRUE(Eventually(
      [&] { return Metric(*client_, "contextd_http_connections_paused") == kClients; },
      std::chrono::seconds(10)))
      << Metric(*client_, "contextd_http_connections_paused");
  [[maybe_unused]] const size_t grown = RssBytes(server_->pid()) - before;
#if !defined(__SANITIZE_ADDRESS__)  // ASan keeps freed memory in quarantine (256 MiB)
  EXPECT_LT(grown, size_t{80} << 20) << "RSS grew by " << (grown >> 20) << " MiB";
#endif
  // The IVR path is served meanwhile.
  EXPECT_EQ(client_->Get("/health").status, 200);

  // Reading resumes the connection: every reply arrives, in order, complete.
  HttpClient& reader = *clients.front();
  for (int i = 0; i < kRequests; ++i) {
    HttpReply r = reader.ReadReply();
    ASSERT_EQ(r.status, 200) << "reply " << i;
    std::string id = "r";
    id += std::to_string(i);
    ASSERT_EQ(r.headers["x-request-id"], id);
    ASSERT_GT(r.body.size(), 1000u);
  }
  EXPECT_TRUE(reader.QuietFor(std::chrono::milliseconds(100)));
  EXPECT_EQ(reader.Get("/health").status, 200);
}

// A client that reads none of its replies for --idle-timeout-s is disconnected, and with it
// what the server held for it.
TEST_F(TransportTest, AnUnreadConnectionIsClosedAfterTheIdleTimeout) {
  StartServer({"--sync", "none", "--idle-timeout-s", "1"});
  const double open_before = Metric(*client_, "contextd_http_connections");
  {
    HttpClient stuck(server_->port());
    ASSERT_TRUE(stuck.Write(Pipelined("/ui/app.js", 2000)));
    ASSERT_TRUE(Eventually(
        [&] { return Metric(*client_, "contextd_http_connections_paused") == 1; }));
    // Closed within the timeout plus Pistache's 0.5 s idle check.
    EXPECT_TRUE(Eventually(
        [&] { return Metric(*client_, "contextd_http_connections") == open_before; },
        std::chrono::seconds(4)));
    EXPECT_EQ(Metric(*client_, "contextd_http_connections_paused"), 0);
  }
  // An idle keep-alive connection is closed too.
  HttpClient idle(server_->port());
  ASSERT_EQ(idle.Get("/health").status, 200);
  EXPECT_TRUE(idle.ReadEof());
}

// A client that leaves while its reply is held (a Basic sign-in waiting for its password hash
// on the hashing thread) frees its connection: none is kept, and the limit does not fill up.
TEST_F(TransportTest, AClientGoneDuringAHeldReplyFreesItsConnection) {
  const double open_before = Metric(*client_, "contextd_http_connections");
  for (int i = 0; i < 20; ++i) {
    HttpClient gone(server_->port());
    ASSERT_TRUE(gone.Write("GET /api/v2/me HTTP/1.1\r\nHost: t\r\n" +
                           BasicAuth("nobody" + std::to_string(i), "wrong") + "\r\n\r\n"));
  }  // closed at once, before the hashes run
  EXPECT_TRUE(Eventually(
      [&] { return Metric(*client_, "contextd_http_connections") == open_before; }))
      << Metric(*client_, "contextd_http_connections") << " open, " << open_before << " before";
}

// A paused client that keeps sending requests is disconnected once it has sent 1 MiB more
// than the server would read; the server stays up and bounded.
TEST_F(TransportTest, APausedClientThatKeepsSendingIsDisconnected) {
  HttpClient flood(server_->port());
  const std::string batch = Pipelined("/ui/app.js", 1000);  // ~40 KB
  bool closed = false;
  for (int i = 0; i < 400 && !closed; ++i) closed = !flood.Write(batch);  // up to 16 MB
  EXPECT_TRUE(closed) << "the server read 16 MB of requests it did not answer";
  EXPECT_TRUE(Eventually(
      [&] { return Metric(*client_, "contextd_http_connections_overrun_total") == 1; }));
  EXPECT_EQ(client_->Get("/health").status, 200);
}

// At --max-connections, a new connection gets 503 with Retry-After and is closed; those
// served go on; a slot that frees is taken again.
TEST_F(TransportTest, ConnectionsOverTheLimitAreRefused) {
  StartServer({"--sync", "none", "--max-connections", "8"});
  std::vector<std::unique_ptr<HttpClient>> held;
  held.push_back(std::move(client_));  // the fixture's client is connection 1
  for (int i = 1; i < 8; ++i) {
    held.push_back(std::make_unique<HttpClient>(server_->port()));
    ASSERT_EQ(held.back()->Get("/health").status, 200) << "connection " << i + 1;
  }
  HttpClient over(server_->port());
  HttpReply refused = over.ReadReply();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_TRUE(over.ReadEof());
  for (auto& c : held) EXPECT_EQ(c->Get("/health").status, 200);
  EXPECT_EQ(Metric(*held.front(), "contextd_http_connections_refused_total"), 1);

  held.pop_back();  // frees a slot
  ASSERT_TRUE(Eventually([&] {
    HttpClient again(server_->port());
    return again.Get("/health").status == 200;
  }));
  client_ = std::move(held.front());
}

// With a low fd limit the default connection limit leaves room for the server's own files:
// a flood past it is refused, accept never hits EMFILE (which made Pistache's listener spin
// at 100% of a core), and the server still serves and writes.
TEST_F(TransportTest, AFloodAtTheFdLimitIsRefusedWithoutSpinning) {
  // 300 fds: 150 connections, 150 fds in reserve.
  client_.reset();
  server_.reset();  // one process per data directory
  server_ = std::make_unique<ServerProcess>(
      CONTEXTD_FD_LIMIT_SH, dir_.path(), std::vector<std::string>{"--sync", "none"},
      std::vector<std::string>{std::string("CONTEXTD_UNDER_TEST=") + CONTEXTD_BINARY,
                               "FD_LIMIT=300"});
  client_ = std::make_unique<HttpClient>(server_->port());

  std::vector<std::unique_ptr<HttpClient>> clients;
  int served = 0, refused = 0;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<HttpClient>(server_->port()));
    const int status = clients.back()->Get("/health").status;
    served += status == 200;
    refused += status == 503 || status == 0;
  }
  EXPECT_EQ(served, 149) << "the fixture's client holds one of the 150";
  EXPECT_EQ(refused, 51);
  // At the limit, with 150 more clients connecting (past the fd limit were they all served),
  // the server idles: each is accepted and refused at once.
  const long ticks = CpuTicks(server_->pid());
  std::vector<std::unique_ptr<HttpClient>> more;
  for (int i = 0; i < 150; ++i) more.push_back(std::make_unique<HttpClient>(server_->port()));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(CpuTicks(server_->pid()) - ticks, 30) << "ticks of 1/100 s in ~1 s";
  if (HasFailure()) return;  // a client that was never accepted would wait 10 s for nothing
  for (auto& c : more) EXPECT_NE(c->ReadReply().status, 200);
  EXPECT_EQ(client_->Post(std::string(kCs) + "/services/start", R"({"customer_id":"F1"})").status,
            201);
}

}  // namespace
}  // namespace contextd::testing
