// The store's recovery rules on a real RocksDB: the id high-water file (its format, and that
// ids stay above it when the WAL holding a block reservation is lost), and the WAL bound under
// services with many states. The damaged-WAL refusals are tested end to end with the binary
// (tests/server/recovery_e2e_test.cc).

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "storage/id_high_water.h"
#include "storage/rocksdb_store.h"
#include "tests/support/eventually.h"
#include "tests/support/temp_dir.h"

namespace contextd::storage {
namespace {

namespace fs = std::filesystem;

uint64_t WalBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") total += e.file_size();
  }
  return total;
}

std::unique_ptr<Store> Open(const RocksDbOptions& options, absl::StatusCode expect,
                            RecoveryReport* report = nullptr) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenRocksDbStore(options, report);
  EXPECT_EQ(store.status().code(), expect) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

Service Anonymous(const std::string& key) {
  Service s;
  s.contact_key = key;
  s.started.timestamp_ms = 1000;
  return s;
}

TEST(IdHighWaterTest, RoundTripsAndRefusesADamagedFile) {
  testing::TempDir dir;
  EXPECT_TRUE(ReadIdHighWater(dir.path())->empty());  // no file yet
  const std::map<std::string, uint64_t> limits = {
      {"next_service_id_limit", 2048}, {std::string("next_service_id_limit|\x02t\0", 24), 9}};
  ASSERT_TRUE(WriteIdHighWater(dir.path(), limits).ok());
  EXPECT_EQ(*ReadIdHighWater(dir.path()), limits);
  EXPECT_FALSE(fs::exists(dir.path() + "/" + kIdHighWaterFile + ".tmp"));

  const std::string path = dir.path() + "/" + kIdHighWaterFile;
  for (const char* damaged :
       {"6e 5\n", "6e 5\nend 2\n", "zz 5\nend 1\n", "6e x\nend 1\n", "6e 5\nend 1\n6e 6\n", ""}) {
    SCOPED_TRACE(damaged);
    std::ofstream(path, std::ios::trunc) << damaged;
    absl::StatusOr<std::map<std::string, uint64_t>> read = ReadIdHighWater(dir.path());
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  }
}

// Losing the WAL (here: every WAL file removed after a kill, which RocksDB itself cannot
// notice) loses the synced write of the id limit. The store refuses to open, and with
// recover_anyway hands out ids above every id it handed out before.
TEST(RecoveryTest, IdsStayAboveTheHighWaterMarkWhenTheWalIsLost) {
  testing::TempDir dir;
  RocksDbOptions options;
  options.path = dir.path();
  options.sync = false;
  uint64_t last = 0;
  {
    std::unique_ptr<Store> store = Open(options, absl::StatusCode::kOk);
    for (int i = 0; i < 1100; ++i) {  // past the first id block (1024)
      absl::StatusOr<Service> s = store->Create("t", Anonymous("k"));
      ASSERT_TRUE(s.ok()) << s.status();
      last = s->service_id;
    }
    // The store is closed without a flush: everything is in the WAL only.
  }
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().extension() == ".log") fs::remove(e.path());
  }
  Open(options, absl::StatusCode::kDataLoss);
  options.recover_anyway = true;
  RecoveryReport report;
  std::unique_ptr<Store> store = Open(options, absl::StatusCode::kOk, &report);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(report.dropped.size(), 1u);
  EXPECT_NE(report.dropped[0].find("new ids start at 2048"), std::string::npos)
      << report.dropped[0];
  absl::StatusOr<Service> next = store->Create("t", Anonymous("k"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->service_id, last);
  // The database's limit was raised: the next plain open is not refused.
  store.reset();
  options.recover_anyway = false;
  EXPECT_NE(Open(options, absl::StatusCode::kOk), nullptr);
}

// Services with many states rewrite their whole record on every state: without a WAL bound
// only the services family's memtable ever fills, and the other families pin every WAL file.
// With max_wal_bytes every family is flushed when the WAL passes it, so the WAL comes back below
// 2 x max_wal_bytes (README.md, "Trust") as soon as the flushes it starts are done, while far
// more than that is written. (The flushes run in the background: writes faster than they are
// can pass the bound for a moment, by what is written meanwhile.)
TEST(RecoveryTest, TheWalStaysBoundedUnderServicesWithManyStates) {
  testing::TempDir dir;
  RocksDbOptions options;
  options.path = dir.path();
  options.sync = false;
  options.max_wal_bytes = 1 << 20;
  std::unique_ptr<Store> store = Open(options, absl::StatusCode::kOk);
  ASSERT_NE(store, nullptr);
  uint64_t written = 0;
  for (int service = 0; service < 40; ++service) {
    absl::StatusOr<Service> s = store->Create("", Anonymous(std::to_string(service)));
    ASSERT_TRUE(s.ok()) << s.status();
    for (int state = 1; state <= 150; ++state) {
      absl::StatusOr<Service> after =
          store->Update("", s->service_id, [&](Service& record) -> absl::Status {
            State st;
            st.state_id = state;
            st.state_type = Value::String(std::to_string(state * 7919));
            st.started.timestamp_ms = 1000 + state;
            record.states.push_back(st);
            return absl::OkStatus();
          });
      ASSERT_TRUE(after.ok()) << after.status();
      written += 40 * after->states.size();  // a lower bound of the record's encoded size
    }
    uint64_t wal = 0;
    ASSERT_TRUE(testing::Eventually([&] {
      wal = WalBytes(dir.path());
      return wal <= 2 * options.max_wal_bytes;
    })) << "WAL " << wal << " bytes after " << written << " bytes written";
  }
  ASSERT_GT(written, 10 * options.max_wal_bytes) << "the workload does not exercise the bound";
}

}  // namespace
}  // namespace contextd::storage
