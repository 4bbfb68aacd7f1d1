// libFuzzer target: the HTTP/1.x framing functions (server/http/http1.h) on arbitrary bytes, read as
// a request head and a chunked body. Besides crashes it checks that a chunked body decodes the
// same whether its bytes arrive at once or in two pieces, and stays within the limit.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/http/http1.h"

using namespace contextd::server::http1;

namespace {

constexpr size_t kMaxBody = 4096;

struct Decoded {
  ChunkDecoder::State state;
  std::string body;
  size_t wire_bytes;
  int status;
};

Decoded Decode(std::string_view wire, size_t cut) {
  ChunkDecoder decoder;
  HeadError error{0, ""};
  ChunkDecoder::State state = decoder.Feed(wire.substr(0, cut), kMaxBody, &error);
  if (state == ChunkDecoder::State::kMore) state = decoder.Feed(wire, kMaxBody, &error);
  return {state, decoder.body(), decoder.wire_bytes(), error.status};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t end = in.find("\r\n\r\n");
  const std::string_view head_bytes = in.substr(0, std::min(end, in.size()));
  const size_t line_end = std::min(head_bytes.find("\r\n"), head_bytes.size());
  RequestHead head;
  if (ParseRequestLine(head_bytes.substr(0, line_end), &head)) return 0;
  const std::string_view block =
      line_end + 2 <= head_bytes.size() ? head_bytes.substr(line_end + 2) : std::string_view();
  if (ParseHeaders(block, kMaxBody, &head)) return 0;
  if (head.content_length > kMaxBody) abort();  // a body over the limit must be refused
  if (!head.chunked || end == std::string_view::npos) return 0;
  const std::string_view body = in.substr(end + 4);
  const Decoded whole = Decode(body, body.size());
  const Decoded split = Decode(body, body.empty() ? 0 : data[0] % body.size());
  if (whole.state != split.state || whole.status != split.status) abort();
  if (whole.state == ChunkDecoder::State::kDone &&
      (whole.body != split.body || whole.wire_bytes != split.wire_bytes ||
       whole.body.size() > kMaxBody || whole.wire_bytes > body.size())) {
    abort();
  }
  return 0;
}
