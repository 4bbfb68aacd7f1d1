#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/keys.h"
#include "storage/model.h"

namespace contextd::storage {

// One contiguous range of one owner's index: the candidates for a query.
struct IndexScan {
  enum class Status { kAny, kActive, kCompleted };

  std::string tenant;
  OwnerKind owner_kind = OwnerKind::kCustomer;
  std::string owner;
  IndexKind index = IndexKind::kStarted;
  TimeRange range;  // on the index's time: start time, or completion time for kCompleted
  // Entries whose service is known from the index alone not to have this status are
  // skipped without reading the record.
  Status status = Status::kAny;
};

// Loads many services fast into a store that nothing else writes to meanwhile (an import into
// a stopped server's data directory). Added services are held until Finish, which makes all
// of them visible and durable at once: a load that fails or crashes before Finish returns
// leaves nothing behind (but the id counter ReserveIds advanced). Thread-safety: one thread
// at a time.
class BulkLoader {
 public:
  virtual ~BulkLoader() = default;
  // Adds a service given as EncodeService bytes (codec.h); service_id 0 means "assign the
  // next id". Returns the id; DataLoss for bytes that do not decode.
  // REQUIRES: ReserveIds was called; an explicit id is at most kMaxId and not in use.
  virtual absl::StatusOr<uint64_t> Add(std::string record) = 0;
  // Whether a service with this id exists (ids above every id ever handed out are known free
  // without a read). An error (Unavailable for an I/O error, DataLoss for a record that does
  // not decode) when the store cannot tell: the id must then not be taken for free.
  virtual absl::StatusOr<bool> IdInUse(uint64_t service_id) = 0;
  // Before the first Add: persists the id counter (synced) past `max_explicit_id` and past
  // `unassigned` new ids, and assigns new ids above every explicit one. So an interrupted
  // load never holds an id the server could hand out again, and assigned ids never collide
  // with explicit ones.
  virtual absl::Status ReserveIds(uint64_t max_explicit_id, uint64_t unassigned) = 0;
  virtual absl::Status Finish() = 0;
  // After Finish: compacts what the load left outside the last level, so that a server started next
  // does not spend its first minutes (and CPU) compacting the load.
  virtual absl::Status Compact() = 0;
};

// The storage seam: service records with their per-owner time indexes. A record and all its
// index entries always change together, in one atomic write. Reads see every write that
// returned before them. Ids are never reused, also not across restarts. A write survives a
// process crash once it returns; it survives a machine crash on the terms of Store (store.h):
// with `sync` set in the store's options, or after a later Store::Sync().
//
// Thread-safety: all methods may be called concurrently. Update and Delete of one service
// are serialized with each other, so concurrent read-modify-writes lose nothing.
class ServiceStore {
 public:
  // Changes a record in place. Returning an error aborts the update and writes nothing.
  // REQUIRES: the mutation keeps service_id.
  using Mutation = std::function<absl::Status(Service&)>;

  virtual ~ServiceStore() = default;

  // Assigns `service.service_id` from the persistent counter and stores the record.
  // Returns the stored record. REQUIRES: customer_id or contact_key is set.
  virtual absl::StatusOr<Service> Create(std::string_view tenant, Service service) = 0;

  // Returns the record, or NotFound.
  virtual absl::StatusOr<Service> Get(std::string_view tenant, uint64_t service_id) = 0;

  // Applies `mutate` to the current record and stores the result with its index entries.
  // Returns the stored record; NotFound for an unknown id; the mutation's own error.
  virtual absl::StatusOr<Service> Update(std::string_view tenant, uint64_t service_id,
                                         const Mutation& mutate) = 0;

  // Removes the record and every index entry. NotFound for an unknown id.
  virtual absl::Status Delete(std::string_view tenant, uint64_t service_id) = 0;

  // A loader for bulk imports into `tenant`. REQUIRES: no other writer until Finish.
  virtual std::unique_ptr<BulkLoader> NewBulkLoader(std::string_view tenant) = 0;

  // Returns the records whose entries lie in the scan's range, in descending index order
  // (time, then id). Records are read after the index, not at one snapshot: a record may
  // have changed since its entry was read, so callers re-check their own predicates.
  virtual absl::StatusOr<std::vector<Service>> Scan(const IndexScan& scan) = 0;
};

}  // namespace contextd::storage
