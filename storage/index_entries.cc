// What a record contributes to the index families (index_entries.h): the started/completed
// entries, the active record's format, the interaction index keys.

#include "storage/index_entries.h"

namespace contextd::storage {

std::optional<std::pair<OwnerKind, std::string_view>> OwnerOf(const Service& s) {
  if (s.customer_id) return std::make_pair(OwnerKind::kCustomer, std::string_view(*s.customer_id));
  if (s.contact_key) return std::make_pair(OwnerKind::kAnonymous, std::string_view(*s.contact_key));
  return std::nullopt;
}

std::vector<IndexEntry> IndexEntriesOf(std::string_view tenant, const Service& s) {
  std::vector<IndexEntry> out;
  auto owner = OwnerOf(s);
  if (!owner) return out;
  const TimeMs started = s.started.timestamp_ms;
  out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kStarted, owner->first, owner->second),
                          started, s.service_id),
                 std::string(1, s.completed ? '\1' : '\0')});
  if (s.completed) {
    std::string started_be;
    AppendBigEndian64(static_cast<uint64_t>(started), &started_be);
    out.push_back({IndexKey(IndexPrefix(tenant, IndexKind::kCompleted, owner->first, owner->second),
                            s.completed->timestamp_ms, s.service_id),
                   std::move(started_be)});
  }
  return out;
}

std::vector<std::string> InteractionIndexKeysOf(std::string_view tenant, const Interaction& x) {
  std::vector<std::string> out;
  for (auto [by, key] : {std::pair{InteractionKey::kCustomer, &x.customer_id},
                         std::pair{InteractionKey::kAccount, &x.account_number},
                         std::pair{InteractionKey::kContact, &x.contact_number}}) {
    if (!key->empty()) {
      out.push_back(
          IndexKey(InteractionIndexPrefix(tenant, by, *key), x.time_ms, x.interaction_id));
    }
  }
  return out;
}

std::optional<ActiveEntry> ActiveEntryOf(std::string_view tenant, const Service& s) {
  auto owner = OwnerOf(s);
  if (!owner || s.completed) return std::nullopt;
  ActiveEntry a;
  a.record_key = IndexPrefix(tenant, IndexKind::kActive, owner->first, owner->second);
  a.entry = IndexKey("", s.started.timestamp_ms, s.service_id);
  a.overflow_key =
      IndexPrefix(tenant, IndexKind::kActiveOverflow, owner->first, owner->second) + a.entry;
  return a;
}

bool ActiveRecord::Parse(std::string_view bytes) {
  if (bytes.empty()) return true;
  if (bytes.size() < 4 || (bytes.size() - 4) % kActiveEntryBytes != 0) return false;
  overflow_ = 0;
  for (int i = 0; i < 4; ++i) overflow_ = (overflow_ << 8) | static_cast<uint8_t>(bytes[i]);
  entries_.assign(bytes.substr(4));
  return true;
}

std::string ActiveRecord::Encode() const {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(overflow_ >> shift));
  return out + entries_;
}

bool ActiveRecord::Insert(std::string_view entry) {
  if (entries_.size() >= kMaxActiveInRecord * kActiveEntryBytes) {
    ++overflow_;
    return false;
  }
  size_t pos = 0;
  while (pos < entries_.size() && entries_.compare(pos, kActiveEntryBytes, entry) < 0) {
    pos += kActiveEntryBytes;
  }
  entries_.insert(pos, entry);
  return true;
}

bool ActiveRecord::Remove(std::string_view entry) {
  for (size_t pos = 0; pos < entries_.size(); pos += kActiveEntryBytes) {
    if (entries_.compare(pos, kActiveEntryBytes, entry) == 0) {
      entries_.erase(pos, kActiveEntryBytes);
      return true;
    }
  }
  if (overflow_ > 0) --overflow_;
  return false;
}

}  // namespace contextd::storage
