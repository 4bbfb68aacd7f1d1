#pragma once

// What a record contributes to the index families, as pure functions of the record: a
// service's started and completed entries, its place in its owner's active record and that
// record's byte format, an interaction's index keys. The store's writes, the bulk loader's
// files and the integrity checker's expectations all derive from here, so they cannot
// disagree. Internal to storage/rocksdb_*.cc; the key layouts themselves are keys.h.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/interaction.h"
#include "storage/keys.h"
#include "storage/model.h"

namespace contextd::storage {

// One key and value of the index family.
struct IndexEntry {
  std::string key;
  std::string value;
};

// Where a service is listed: its customer, else (anonymous) its contact key; nullopt for
// neither.
std::optional<std::pair<OwnerKind, std::string_view>> OwnerOf(const Service& s);

// Every started/completed index entry a record should have: the single definition of that
// index content, from which Create, Update and Delete all derive their writes. The started
// entry's value is one byte, 1 when the service is completed (so a status scan can skip it
// unread); the completed entry's value is the start time, big-endian.
std::vector<IndexEntry> IndexEntriesOf(std::string_view tenant, const Service& s);

// The interaction index keys of a record (customer, account, contact number: those it has).
// Each entry's value is the whole encoded record: records never change, and a window is then
// read as one contiguous range with no lookups.
std::vector<std::string> InteractionIndexKeysOf(std::string_view tenant, const Interaction& x);

// A service's place in its owner's active record, if it is active and has an owner.
struct ActiveEntry {
  std::string record_key;    // IndexPrefix(tenant, kActive, owner)
  std::string overflow_key;  // its key if it lives outside the record
  std::string entry;         // kActiveEntryBytes: time, service id
};

std::optional<ActiveEntry> ActiveEntryOf(std::string_view tenant, const Service& s);

// The decoded active record of one owner (format in keys.h): the overflow count, then the
// entries in ascending order.
class ActiveRecord {
 public:
  // Returns false for bytes that are not an active record. Empty bytes are an empty record.
  bool Parse(std::string_view bytes);

  std::string Encode() const;

  bool empty() const { return entries_.empty() && overflow_ == 0; }
  uint32_t overflow() const { return overflow_; }
  std::string_view entries() const { return entries_; }

  // Inserts in order; false when the record is full (the entry then goes to the overflow).
  bool Insert(std::string_view entry);

  // Removes the entry; false when it is not in the record (it is in the overflow).
  bool Remove(std::string_view entry);

 private:
  uint32_t overflow_ = 0;
  std::string entries_;
};

}  // namespace contextd::storage
