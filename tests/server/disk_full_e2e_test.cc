// A full disk, for real: the data directory on a small tmpfs (mounted by the test, which
// needs root; skipped otherwise). Filled until writes are refused, freed, filled again,
// stopped, restarted on the full disk and on a freed one: the server never aborts, refuses
// writes with 503 + Retry-After in the route's dialect, reports not ready, takes writes again
// once space returns without a restart, and every acknowledged write is there at the end.

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/server/server_fixture.h"
#include "tests/support/command.h"
#include "tests/support/eventually.h"

namespace contextd::testing {
namespace {

class DiskFullTest : public ServerTest {
 protected:
  void SetUp() override {
    if (mount("tmpfs", mnt_.path().c_str(), "tmpfs", 0, "size=32m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << std::strerror(errno);
    }
    mounted_ = true;
    data_ = mnt_.path() + "/data";
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    if (mounted_) umount2(mnt_.path().c_str(), MNT_DETACH);
  }

  void Start(const std::string& reserve_mb = "8") {
    client_.reset();
    server_.reset();
    server_ = std::make_unique<ServerProcess>(
        CONTEXTD_BINARY, data_,
        std::vector<std::string>{"--sync", "always", "--disk-reserve-mb", reserve_mb});
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  // A file of `mib` MiB of real pages on the tmpfs.
  void Ballast(const std::string& name, int mib) {
    std::ofstream out(mnt_.path() + "/" + name, std::ios::binary);
    const std::string block(1 << 20, 'b');
    for (int i = 0; i < mib; ++i) out << block;
  }
  void Free(const std::string& name) { std::filesystem::remove(mnt_.path() + "/" + name); }


  // Starts services of ~4 KB (incompressible) until one is refused; returns that reply.
  HttpReply FillUntilRefused() {
    std::mt19937_64 random(acked_.size());
    for (int i = 0; i < 20000; ++i) {
      std::string pad;
      for (int j = 0; j < 250; ++j) pad += std::to_string(random());
      HttpReply r = client_->Post(std::string(kCs) + "/services/start",
                                  R"({"customer_id":"D)" + std::to_string(acked_.size()) +
                                      R"(","Offer":{"pad":")" + pad + "\"}}");
      if (r.status != 201) return r;
      const storage::Value v = Json(r);
      acked_.push_back(static_cast<uint64_t>(Field(v, "service_id")->int_value));
    }
    return HttpReply();
  }

  // After a restart: every acknowledged service is there, and a new write is taken.
  void ExpectEveryAcknowledgedServiceAndAWrite() {
    for (uint64_t id : acked_) {
      ASSERT_EQ(client_->Get(std::string(kCs) + "/services/" + std::to_string(id)).status, 200)
          << "acknowledged service " << id << " is gone";
    }
    EXPECT_EQ(client_->Post(std::string(kCs) + "/services/start", R"({"customer_id":"after"})")
                  .status,
              201);
  }

  TempDir mnt_;
  bool mounted_ = false;
  std::string data_;
  std::vector<uint64_t> acked_;  // ids of acknowledged services
};

TEST_F(DiskFullTest, FullDiskRefusesWritesRecoversWhenFreedAndLosesNothing) {
  Ballast("ballast", 12);
  Start();

  // Filled: writes are refused in the route's dialect, reads go on, not ready.
  HttpReply refused = FillUntilRefused();
  ASSERT_GT(acked_.size(), 100u);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_NE(refused.body.find("ContextServicesExceptionResource"), std::string::npos)
      << refused.body;
  HttpReply ingest = client_->Post("/contextd/v1/interactions",
                                   R"({"customer_id":"D0","channel":"voice","outcome":"Sold"})");
  EXPECT_EQ(ingest.status, 503);
  EXPECT_EQ(ingest.headers["retry-after"], "1");
  EXPECT_EQ(ingest.body, R"({"message":"service unavailable, try again"})");
  EXPECT_EQ(client_->Get("/ready").status, 503);
  EXPECT_EQ(client_->Get(std::string(kCs) + "/services/" + std::to_string(acked_.front())).status,
            200);

  // Space returns: ready and writing again within seconds, no restart.
  Free("ballast");
  EXPECT_TRUE(Eventually([&] { return client_->Get("/ready").status == 200; }));
  const size_t before = acked_.size();
  refused = FillUntilRefused();
  EXPECT_GT(acked_.size(), before + 100);
  EXPECT_EQ(refused.status, 503);

  // Stopped on the full disk: a clean exit, not an abort.
  client_.reset();
  EXPECT_EQ(server_->Stop(), 0);
  server_.reset();

  // Started on the full disk: a clear message and a non-zero exit.
  CommandResult full = RunCommand(std::string(CONTEXTD_BINARY) + " --port 0 --data-dir " + data_ +
                                  " --no-auth --disk-reserve-mb 8 2>&1");
  EXPECT_NE(full.code, 0);
  EXPECT_NE(full.output.find("is full"), std::string::npos) << full.output;
  EXPECT_EQ(full.output.find("Assertion"), std::string::npos) << full.output;

  // Given room (recovery writes the log's records to a table file before the log goes) and
  // started: every acknowledged write is there.
  ASSERT_EQ(mount("tmpfs", mnt_.path().c_str(), "tmpfs", MS_REMOUNT, "size=96m"), 0)
      << std::strerror(errno);
  Start();
  ExpectEveryAcknowledgedServiceAndAWrite();
}

// Without a reserve (or when something else fills the disk between two readings of its
// free space), an append to the write-ahead log fails: writes and syncs are then refused
// until a restart, and the server still stops cleanly (RocksDB 7.8 would abort on reusing
// that log) and loses nothing acknowledged.
TEST_F(DiskFullTest, AFailedLogAppendStopsWritesUntilARestartWithoutAnAbort) {
  Start("0");
  HttpReply refused = FillUntilRefused();
  ASSERT_GT(acked_.size(), 100u);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(client_->Get("/ready").status, 503);
  ASSERT_EQ(mount("tmpfs", mnt_.path().c_str(), "tmpfs", MS_REMOUNT, "size=96m"), 0)
      << std::strerror(errno);
  // Room again, but this log stays in error: refused until the restart.
  EXPECT_EQ(client_->Post(std::string(kCs) + "/services/start", R"({"customer_id":"x"})").status,
            503);
  EXPECT_EQ(client_->Get("/ready").status, 503);
  client_.reset();
  EXPECT_EQ(server_->Stop(), 0);

  Start("0");
  ExpectEveryAcknowledgedServiceAndAWrite();
  EXPECT_EQ(client_->Get("/ready").status, 200);
}

}  // namespace
}  // namespace contextd::testing
