// libFuzzer target: the timestamp parser. What parses formats back to a timestamp that parses
// to the same instant; the query-parameter form accepts everything the strict form does, as the
// same instant.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "query/timestamp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<contextd::storage::TimeMs> t = contextd::query::ParseTimestamp(in);
  absl::StatusOr<contextd::storage::TimeMs> q = contextd::query::ParseQueryTimestamp(in);
  if (t.ok()) {
    absl::StatusOr<contextd::storage::TimeMs> again =
        contextd::query::ParseTimestamp(contextd::query::FormatTimestamp(*t));
    if (!again.ok() || *again != *t) std::abort();
    if (!q.ok() || *q != *t) std::abort();
  }
  return 0;
}
