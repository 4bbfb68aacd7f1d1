// libFuzzer target: the CometD (Bayeux) message handling of one signed-in session: any
// message batch gets a reply or is held, never a crash; a held connect is released at once.

#include <cstdint>
#include <string_view>

#include "query/workspace.h"
#include "server/api/json.h"
#include "server/workspace/cometd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static contextd::server::Cometd* hub = [] {
    contextd::server::CometdOptions options;
    options.hold = std::chrono::milliseconds(1);
    return new contextd::server::Cometd(options);
  }();
  static const contextd::query::Session session{"session", "", "agent", "csrf", false, true};
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<contextd::storage::Value> messages = contextd::server::ParseJson(in);
  if (!messages.ok()) return 0;
  contextd::server::ApiResponse reply = hub->Handle(*messages, session, "host");
  if (reply.hold) {
    reply.hold([](contextd::server::ApiResponse) { return true; }, /*now=*/false);
    reply.hold([](contextd::server::ApiResponse) { return true; }, /*now=*/true);
  }
  return 0;
}
