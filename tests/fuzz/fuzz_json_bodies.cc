// libFuzzer target: the JSON parser and every request-body parser behind it (Context
// Services events, service records, native interactions, Pega, LCM). What parses renders to
// JSON that parses to the same value.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/api/json.h"
#include "server/cs/cs_json.h"
#include "server/history/lcm.h"
#include "server/history/native.h"
#include "server/history/pega.h"

namespace {

using contextd::storage::Value;
namespace q = contextd::query;
namespace s = contextd::server;

void Bodies(const Value& v) {
  (void)s::ParseServiceStart(v);
  (void)s::ParseStateStart(v);
  (void)s::ParseTaskStart(v);
  for (q::EventKind kind : {q::kServiceEnd, q::kChildEnd}) (void)s::ParseEndEvent(v, kind);
  (void)s::ParseAssociate(v);
  (void)s::ParseTransition(v);
  (void)s::ParseServiceRecord(v);
  for (s::CaptureVersion version : {s::CaptureVersion::kV2, s::CaptureVersion::kV3}) {
    (void)s::ParseCaptureResponse(v, version, 1700000000000);
  }
  (void)s::ParseOfferHistoryRequest(v);
  std::string callid;
  (void)s::ParseJourneyRequest(v, "", 1700000000000, &callid);
  (void)s::ParseNativeInteraction(v, 1700000000000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Value> v = s::ParseJson(in);
  if (!v.ok()) return 0;
  Bodies(*v);
  std::string out;
  s::JsonWriter w(&out);
  w.Value(*v);
  absl::StatusOr<Value> again = s::ParseJson(out);
  if (!again.ok()) std::abort();
  std::string twice;
  s::JsonWriter w2(&twice);
  w2.Value(*again);
  if (twice != out) std::abort();
  return 0;
}
