// End to end: what the real binary does with a data directory damaged after a kill -9 (the
// newest WAL file cut short, 8 bytes of it changed, emptied, CURRENT deleted): it refuses to
// start, naming the file and what to do; `contextd check` exits 1 naming it too, without
// writing anything; with --recover-anyway it starts, logs what was dropped, and new services
// get ids above every id acknowledged before the damage.

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/server/server_fixture.h"
#include "tests/support/command.h"

namespace contextd::testing {
namespace {

namespace fs = std::filesystem;

class RecoveryTest : public ServerTest {
 protected:
  void SetUp() override {}

  // Starts the server, acknowledges `n` services (more than one id block of 1024, so the
  // newest WAL holds a block reservation) and kills it with SIGKILL. Returns the largest id.
  uint64_t WriteAndKill(int n = 1100) {
    StartServer({"--sync", "none"});  // a process crash loses no acknowledged write
    uint64_t largest = 0;
    for (int i = 0; i < n; ++i) {
      largest = std::max(largest,
                         StartService(R"({"contact_key":"k)" + std::to_string(i % 50) + R"("})"));
    }
    server_->Kill();
    server_.reset();
    return largest;
  }

  // The newest WAL file's name (they are numbered).
  std::string NewestWal() const {
    std::string newest;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() == ".log" && name > newest) newest = name;
    }
    EXPECT_FALSE(newest.empty()) << "no WAL file";
    return newest;
  }

  std::string Binary() const {
    return std::string(CONTEXTD_BINARY) + " --port 0 --no-auth --data-dir " + dir_.path();
  }

  // Starts the server expecting it to refuse (a start that succeeds is ended by `timeout`).
  CommandResult Start() { return RunCommand("timeout 30 " + Binary() + " 2>&1"); }

  CommandResult Check() {
    return RunCommand(std::string(CONTEXTD_BINARY) + " check --data-dir " + dir_.path() + " 2>&1");
  }

  // Starts with --recover-anyway, waits for it to listen (polling, 30 s deadline), stops it
  // and returns its log.
  std::string RecoverAnyway() {
    const std::string out = logs_.path() + "/out", err = logs_.path() + "/err";
    CommandResult r = RunCommand(
        "timeout 30 sh -c '" + Binary() + " --recover-anyway >" + out + " 2>" + err +
        " & pid=$!; until grep -q listening " + out +
        "; do kill -0 $pid 2>/dev/null || exit 3; sleep 0.02; done; kill $pid; wait $pid'");
    std::ifstream in(err);
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(r.code, 0) << "--recover-anyway did not start and stop cleanly: " << log;
    return log;
  }

  // After a recovery: a plain start works again, and a new service's id is above `largest`.
  void ExpectFreshIdsAbove(uint64_t largest) {
    StartServer();
    EXPECT_GT(StartService(R"({"contact_key":"after"})"), largest);
  }

  // Every file's name and size: `check` must leave them as they are.
  std::map<std::string, uintmax_t> Files() const {
    std::map<std::string, uintmax_t> files;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      files[e.path().filename().string()] = e.is_regular_file() ? e.file_size() : 0;
    }
    return files;
  }

  // Refusal, `check`, then --recover-anyway, for a WAL file RocksDB finds damaged.
  void ExpectDamagedWal(uint64_t largest, const std::string& wal, const std::string& corruption) {
    CommandResult start = Start();
    EXPECT_EQ(start.code, 1) << start.output;
    EXPECT_NE(start.output.find(wal + ": dropping"), std::string::npos) << start.output;
    EXPECT_NE(start.output.find(corruption), std::string::npos) << start.output;
    EXPECT_NE(start.output.find("contextd check"), std::string::npos) << start.output;
    EXPECT_NE(start.output.find("--recover-anyway"), std::string::npos) << start.output;

    CommandResult check = Check();
    EXPECT_EQ(check.code, 1) << check.output;
    EXPECT_NE(check.output.find(wal), std::string::npos) << check.output;

    const std::string log = RecoverAnyway();
    EXPECT_NE(log.find("dropped: WAL files before recovery: " + wal), std::string::npos) << log;
    EXPECT_NE(log.find(wal + ": dropping"), std::string::npos) << log;
    EXPECT_NE(log.find("Point in time recovered to log"), std::string::npos) << log;
    EXPECT_NE(log.find("recovered in "), std::string::npos) << log;
    ExpectFreshIdsAbove(largest);
  }

  TempDir logs_;
};

void Truncate(const std::string& path, uintmax_t size) { fs::resize_file(path, size); }

void FlipEightBytes(const std::string& path, uintmax_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  char bytes[8];
  f.seekg(static_cast<std::streamoff>(at));
  f.read(bytes, 8);
  for (char& c : bytes) c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(bytes, 8);
}

TEST_F(RecoveryTest, ATruncatedWalIsRefusedNamedAndRecoveredWithoutReusingIds) {
  const uint64_t largest = WriteAndKill();
  const std::string wal = NewestWal();
  Truncate(dir_.path() + "/" + wal, fs::file_size(dir_.path() + "/" + wal) / 2);
  ExpectDamagedWal(largest, wal, "truncated record body");
}

TEST_F(RecoveryTest, EightFlippedBytesInTheWalAreRefusedNamedAndRecoveredWithoutReusingIds) {
  const uint64_t largest = WriteAndKill();
  const std::string wal = NewestWal();
  FlipEightBytes(dir_.path() + "/" + wal, fs::file_size(dir_.path() + "/" + wal) / 2);
  ExpectDamagedWal(largest, wal, "checksum mismatch");
}

// A WAL file emptied (or cut at a record boundary, or removed) looks complete to RocksDB; the
// id limit it held, copied to the id high-water file, shows that synced writes are missing.
TEST_F(RecoveryTest, AnEmptiedWalIsRefusedByTheIdHighWaterMark) {
  const uint64_t largest = WriteAndKill();
  Truncate(dir_.path() + "/" + NewestWal(), 0);
  CommandResult start = Start();
  EXPECT_EQ(start.code, 1) << start.output;
  EXPECT_NE(start.output.find("contextd-id-limits: synced writes are missing"), std::string::npos)
      << start.output;
  EXPECT_NE(start.output.find("--recover-anyway"), std::string::npos) << start.output;
  CommandResult check = Check();
  EXPECT_EQ(check.code, 1) << check.output;
  EXPECT_NE(check.output.find("synced writes are missing"), std::string::npos) << check.output;

  const std::string log = RecoverAnyway();
  EXPECT_NE(log.find("may be lost; new ids start at 2048"), std::string::npos) << log;
  ExpectFreshIdsAbove(largest);
}

// A crash during a write leaves the newest WAL ending inside a record, with the blocks RocksDB
// preallocated past its end still there (a file cut short afterwards has none: the test above).
// That record was never acknowledged: the server starts, dropping it and saying so.
TEST_F(RecoveryTest, ARecordTornByACrashIsDroppedAndLogged) {
  const uint64_t largest = WriteAndKill();
  const std::string wal = dir_.path() + "/" + NewestWal();
  const uintmax_t size = fs::file_size(wal);
  Truncate(wal, size - 50);  // frees the preallocated blocks too
  const int fd = ::open(wal.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const int allocated = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20);
  ::close(fd);
  if (allocated != 0) GTEST_SKIP() << "no fallocate(FALLOC_FL_KEEP_SIZE) on this file system";

  const std::string log = RecoverAnyway();  // the flag is not needed; it changes nothing here
  EXPECT_NE(log.find("ends in a record torn by a crash during its write (never acknowledged), "
                     "dropped: " +
                     wal + ": dropping"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("--recover-anyway dropped"), std::string::npos) << log;
  CommandResult check = Check();
  EXPECT_EQ(check.code, 0) << check.output;
  ExpectFreshIdsAbove(largest);
}

TEST_F(RecoveryTest, AMissingCurrentIsRefusedAndNeverReplacedByAnEmptyDatabase) {
  const uint64_t largest = WriteAndKill(10);
  fs::remove(dir_.path() + "/CURRENT");
  for (bool anyway : {false, true}) {
    CommandResult start =
        RunCommand("timeout 30 " + Binary() + (anyway ? " --recover-anyway" : "") + " 2>&1");
    EXPECT_EQ(start.code, 1) << start.output;
    EXPECT_NE(start.output.find("/CURRENT is missing, but the directory holds a database"),
              std::string::npos)
        << start.output;
  }
  EXPECT_FALSE(fs::exists(dir_.path() + "/CURRENT")) << "a new database was created";
  CommandResult check = Check();
  EXPECT_EQ(check.code, 1) << check.output;
  EXPECT_NE(check.output.find("CURRENT is missing"), std::string::npos) << check.output;

  // The message's remedy: CURRENT names the newest MANIFEST. Everything is back.
  std::string manifest;
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("MANIFEST-", 0) == 0 && name > manifest) manifest = name;
  }
  std::ofstream(dir_.path() + "/CURRENT") << manifest << "\n";
  StartServer();
  EXPECT_EQ(client_->Get(std::string(kCs) + "/services/" + std::to_string(largest)).status, 200);
}

TEST_F(RecoveryTest, CheckWritesNothingAndRefusesAMissingOrEmptyDirectory) {
  WriteAndKill(10);
  const std::map<std::string, uintmax_t> before = Files();
  CommandResult check = Check();
  EXPECT_EQ(check.code, 0) << check.output;
  EXPECT_NE(check.output.find("checked 10 services"), std::string::npos) << check.output;
  EXPECT_EQ(Files(), before) << "check changed the data directory";

  // Not on a running server's directory: its WAL may end mid-write.
  StartServer();
  CommandResult running = Check();
  EXPECT_EQ(running.code, 1) << running.output;
  EXPECT_NE(running.output.find("in use by a running server"), std::string::npos) << running.output;

  const std::string missing = logs_.path() + "/nonexistent";
  CommandResult none =
      RunCommand(std::string(CONTEXTD_BINARY) + " check --data-dir " + missing + " 2>&1");
  EXPECT_EQ(none.code, 1) << none.output;
  EXPECT_NE(none.output.find("no data directory"), std::string::npos) << none.output;
  EXPECT_FALSE(fs::exists(missing));
  CommandResult empty =
      RunCommand(std::string(CONTEXTD_BINARY) + " check --data-dir " + logs_.path() + " 2>&1");
  EXPECT_EQ(empty.code, 1) << empty.output;
  EXPECT_NE(empty.output.find("holds no database"), std::string::npos) << empty.output;
}

}  // namespace
}  // namespace contextd::testing
