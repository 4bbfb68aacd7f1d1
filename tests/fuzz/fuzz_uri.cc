// libFuzzer target: the request-target parser (path segments, query parameters,
// percent-decoding). Any input must parse or fail cleanly; what parses is valid UTF-8.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/http/uri.h"
#include "server/http/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<contextd::server::Target> target = contextd::server::ParseTarget(in);
  if (target.ok()) {
    for (const std::string& segment : target->segments) {
      if (!contextd::server::IsValidUtf8(segment)) std::abort();
    }
  }
  (void)contextd::server::PercentDecode(in, /*plus_is_space=*/true);
  return 0;
}
