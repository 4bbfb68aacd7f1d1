// End to end: `contextd check` (the CLI) on a real data directory: exit 0 when consistent,
// exit 1 naming the problem when the store was damaged behind the server's back.

#include <functional>

#include "rocksdb/db.h"
#include "storage/keys.h"
#include "tests/server/server_fixture.h"
#include "tests/support/command.h"

namespace contextd::testing {
namespace {

class CheckCliTest : public ServerTest {
 protected:
  void SetUp() override {}

  // Runs `contextd check`; returns its exit status and sets `output` (stdout and stderr).
  int Check(std::string* output) {
    CommandResult r = RunCommand(std::string(CONTEXTD_BINARY) + " check --data-dir " + dir_.path());
    *output = std::move(r.output);
    return r.code;
  }

  // Opens the stopped server's RocksDB with every column family and applies `edit`.
  void Damage(const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle* services,
                                       rocksdb::ColumnFamilyHandle* index)>& edit) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_.path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), families, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle *services = nullptr, *index = nullptr;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "services") services = handles[i];
      if (names[i] == "index") index = handles[i];
    }
    ASSERT_TRUE(services && index);
    edit(db, services, index);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
};

TEST_F(CheckCliTest, ExitsZeroOnAGoodStoreAndOneNamingTheDamage) {
  StartServer({"--sync", "none"});
  const uint64_t a = StartService(
      R"({"contact_key":"k","timestamp":"2024-01-01T00:00:00Z"})");
  const uint64_t b = StartService(R"({"customer_id":"C1"})");
  ASSERT_EQ(client_->Post(std::string(kCs) + "/services/" + std::to_string(b) + "/end", "{}")
                .status,
            204);
  ASSERT_EQ(server_->Stop(), 0);
  std::string out;
  EXPECT_EQ(Check(&out), 0) << out;
  EXPECT_NE(out.find("checked 2 services"), std::string::npos) << out;
  EXPECT_NE(out.find("consistent"), std::string::npos) << out;

  // One index entry deleted: the service's started entry under its contact key.
  Damage([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle*, rocksdb::ColumnFamilyHandle* index) {
    const std::string key =
        storage::IndexKey(storage::IndexPrefix("", storage::IndexKind::kStarted,
                                               storage::OwnerKind::kAnonymous, "k"),
                          1704067200000, a);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), index, key, &value).ok()) << "no such entry";
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), index, key).ok());
  });
  EXPECT_EQ(Check(&out), 1) << out;
  EXPECT_NE(out.find("1 problems"), std::string::npos) << out;
  EXPECT_NE(out.find("service " + std::to_string(a) + ": index entry"), std::string::npos)
      << out;

  // And a record that no longer decodes.
  Damage([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* services, rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), services, storage::ServiceKey("", b), "garbage")
                    .ok());
  });
  EXPECT_EQ(Check(&out), 1) << out;
  EXPECT_NE(out.find("service " + std::to_string(b) + ": record does not decode"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace contextd::testing
