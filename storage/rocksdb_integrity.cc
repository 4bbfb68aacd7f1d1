// The RocksDB store's integrity check (Store::CheckIntegrity): reads every family and checks
// records, index entries, active records and id counters against one another.

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "storage/codec.h"
#include "storage/rocksdb_internal.h"
#include "storage/status_macros.h"

namespace contextd::storage {

// Both directions, streaming: each record's expected entries are looked up, and each entry's
// record is looked up and must expect exactly that entry.
absl::StatusOr<IntegrityReport> RocksDbStore::CheckIntegrity() {
  IntegrityReport report;
  auto problem = [&report](std::string what) {
    if (report.problems.size() < 100) report.problems.push_back(std::move(what));
    ++report.problem_count;
  };
  auto hex = [](std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out += static_cast<char>(c);
      } else {
        out += "\\x";
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
      }
    }
    return out;
  };
  auto get = [this](rocksdb::ColumnFamilyHandle* cf, const std::string& key,
                    std::string* value) -> absl::StatusOr<bool> {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, value);
    if (s.IsNotFound()) return false;
    RETURN_IF_ERROR(FromRocksDb(s));
    return true;
  };
  // The service a key names, decoded, if it exists and decodes.
  auto service_of = [&](std::string_view tenant,
                        uint64_t id) -> absl::StatusOr<std::optional<Service>> {
    std::string bytes;
    ASSIGN_OR_RETURN(bool found, get(services(), ServiceKey(tenant, id), &bytes));
    if (!found) return std::optional<Service>();
    absl::StatusOr<Service> s = DecodeServiceKeys(bytes);
    if (!s.ok()) return std::optional<Service>();
    return std::optional<Service>(std::move(*s));
  };
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::map<std::string, uint64_t> max_service_id, max_interaction_id;  // by tenant

  // 1. Service records: each decodes and has its index entries and active membership.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, services()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.services;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    if (!SplitLengthPrefixed(key, &tenant, &rest) || rest.size() != 8) {
      problem("service record with a malformed key " + hex(key));
      continue;
    }
    const uint64_t id = ReadBigEndian64(rest);
    uint64_t& max_id = max_service_id[std::string(tenant)];
    max_id = std::max(max_id, id);
    absl::StatusOr<Service> s = DecodeService(ToView(it->value()));
    if (!s.ok() || s->service_id != id) {
      problem("service " + std::to_string(id) + ": record does not decode to its id");
      continue;
    }
    std::string value;
    for (const IndexEntry& e : IndexEntriesOf(tenant, *s)) {
      ASSIGN_OR_RETURN(bool found, get(index(), e.key, &value));
      if (!found || value != e.value) {
        problem("service " + std::to_string(id) + ": index entry " + hex(e.key) +
                (found ? " has a wrong value" : " is missing"));
      }
    }
    if (std::optional<ActiveEntry> a = ActiveEntryOf(tenant, *s)) {
      ActiveRecord record;
      RETURN_IF_ERROR(ReadActiveRecord(a->record_key, &record));
      bool listed = false;
      for (size_t pos = 0; pos < record.entries().size(); pos += kActiveEntryBytes) {
        listed = listed || record.entries().substr(pos, kActiveEntryBytes) == a->entry;
      }
      if (!listed) {
        ASSIGN_OR_RETURN(listed, get(index(), a->overflow_key, &value));
      }
      if (!listed)
        problem("service " + std::to_string(id) + ": active but not in its owner's active record");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));

  // 2. Service index entries: each belongs to an existing record that expects it.
  std::map<std::string, uint32_t> overflow_counted;  // active record key -> overflow keys seen
  std::map<std::string, uint32_t> overflow_claimed;  // active record key -> its overflow count
  it.reset(db_->NewIterator(scan, index()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.service_index_entries;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    if (!SplitLengthPrefixed(key, &tenant, &rest) || rest.empty()) {
      problem("index entry with a malformed key " + hex(key));
      continue;
    }
    const auto kind = static_cast<IndexKind>(rest[0]);
    if (kind == IndexKind::kActive) {
      ActiveRecord record;
      if (!record.Parse(ToView(it->value()))) {
        problem("active record " + hex(key) + " does not parse");
        continue;
      }
      if (record.overflow() > 0) overflow_claimed[std::string(key)] = record.overflow();
      for (size_t pos = 0; pos < record.entries().size(); pos += kActiveEntryBytes) {
        const std::string_view entry = record.entries().substr(pos, kActiveEntryBytes);
        const uint64_t id = ReadBigEndian64(entry.substr(8));
        ASSIGN_OR_RETURN(std::optional<Service> s, service_of(tenant, id));
        std::optional<ActiveEntry> a;
        if (s) a = ActiveEntryOf(tenant, *s);
        if (!a || a->record_key != key || a->entry != entry) {
          problem("active record " + hex(key) + " lists service " + std::to_string(id) +
                  ", which is not an active service of that owner started then");
        }
      }
      continue;
    }
    if (rest.size() < 17) {
      problem("index entry with a malformed key " + hex(key));
      continue;
    }
    const uint64_t id = ReadBigEndian64(key.substr(key.size() - 8));
    ASSIGN_OR_RETURN(std::optional<Service> s, service_of(tenant, id));
    bool expected = false;
    if (s && kind == IndexKind::kActiveOverflow) {
      std::optional<ActiveEntry> a = ActiveEntryOf(tenant, *s);
      expected = a && a->overflow_key == key;
      if (expected) ++overflow_counted[a->record_key];
    } else if (s) {
      for (const IndexEntry& e : IndexEntriesOf(tenant, *s)) {
        expected = expected || (e.key == key && e.value == ToView(it->value()));
      }
    }
    if (!expected) {
      problem("index entry " + hex(key) + " matches no record (service " + std::to_string(id) +
              ")");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  if (overflow_counted != overflow_claimed) {
    problem("active records' overflow counts disagree with their overflow entries");
  }

  // 3. Interaction records and their index entries, both ways.
  it.reset(db_->NewIterator(scan, interactions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.interactions;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    absl::StatusOr<Interaction> x = DecodeInteraction(ToView(it->value()));
    if (!SplitLengthPrefixed(key, &tenant, &rest) || rest.size() != 8 || !x.ok() ||
        x->interaction_id != ReadBigEndian64(rest)) {
      problem("interaction record " + hex(key) + " does not decode to its id");
      continue;
    }
    uint64_t& max_id = max_interaction_id[std::string(tenant)];
    max_id = std::max(max_id, x->interaction_id);
    std::string value;
    for (const std::string& k : InteractionIndexKeysOf(tenant, *x)) {
      ASSIGN_OR_RETURN(bool found, get(interaction_index(), k, &value));
      if (!found || value != ToView(it->value())) {
        problem("interaction " + std::to_string(x->interaction_id) + ": index entry " + hex(k) +
                (found ? " has a wrong value" : " is missing"));
      }
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  it.reset(db_->NewIterator(scan, interaction_index()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.interaction_index_entries;
    const std::string_view key = ToView(it->key());
    std::string_view tenant, rest;
    std::string bytes;
    bool expected = false;
    if (SplitLengthPrefixed(key, &tenant, &rest) && key.size() >= 16) {
      const uint64_t id = ReadBigEndian64(key.substr(key.size() - 8));
      ASSIGN_OR_RETURN(bool found, get(interactions(), InteractionRecordKey(tenant, id), &bytes));
      absl::StatusOr<Interaction> x = found ? DecodeInteraction(bytes) : absl::NotFoundError("");
      if (x.ok()) {
        for (const std::string& k : InteractionIndexKeysOf(tenant, *x)) {
          expected = expected || (k == key && bytes == ToView(it->value()));
        }
      }
    }
    if (!expected) problem("interaction index entry " + hex(key) + " matches no record");
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));

  // 4. Id counters are past every id in use; the other records decode.
  for (auto [kind, maxima] : {std::pair{IdKind::kService, &max_service_id},
                              std::pair{IdKind::kInteraction, &max_interaction_id}}) {
    for (const auto& [tenant, max_id] : *maxima) {
      ASSIGN_OR_RETURN(IdCounter * ids, Ids(kind, tenant));
      std::lock_guard<std::mutex> lock(ids->mu);
      if (ids->limit <= max_id) {
        problem(std::string(kind == IdKind::kService ? "service" : "interaction") +
                " id counter of tenant '" + hex(tenant) + "' is not past " +
                std::to_string(max_id));
      }
    }
  }
  it.reset(db_->NewIterator(scan, workspace()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.other_records;
    const std::string_view key = ToView(it->key());
    const std::string_view value = ToView(it->value());
    const bool ok = key.empty()     ? false
                    : key[0] == 'u' ? DecodeUser(value).ok()
                    : key[0] == 'i' ? DecodeWorkItem(value).ok()
                    : key[0] == 'k' ? DecodeApiKey(value).ok()
                    : key[0] == 't' ? DecodeTenant(value).ok()
                                    : false;
    if (!ok) problem("workspace/access record " + hex(key) + " does not decode");
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  it.reset(db_->NewIterator(scan, meta()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.other_records;
    const std::string_view key = ToView(it->key());
    if (key.rfind("customer_keys|", 0) == 0 && !DecodeCustomerKeys(ToView(it->value())).ok()) {
      problem("customer keys " + hex(key) + " do not decode");
    }
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return report;
}

}  // namespace contextd::storage
