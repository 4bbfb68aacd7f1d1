// The HTTP/1.x framing functions on their own: request lines, header blocks, chunked bodies.

#include "server/http/http1.h"

#include "gtest/gtest.h"

namespace contextd::server::http1 {
namespace {

std::optional<int> LineStatus(std::string_view line, RequestHead* head = nullptr) {
  RequestHead scratch;
  std::optional<HeadError> e = ParseRequestLine(line, head ? head : &scratch);
  return e ? std::optional<int>(e->status) : std::nullopt;
}

std::optional<int> HeadersStatus(std::string_view block, RequestHead* head, size_t max = 1000) {
  std::optional<HeadError> e = ParseHeaders(block, max, head);
  return e ? std::optional<int>(e->status) : std::nullopt;
}

TEST(Http1Test, RequestLine) {
  RequestHead head;
  EXPECT_EQ(LineStatus("GET /a?b=c HTTP/1.1", &head), std::nullopt);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/a?b=c");
  EXPECT_FALSE(head.http10);
  EXPECT_FALSE(head.close);
  RequestHead old;
  EXPECT_EQ(LineStatus("POST / HTTP/1.0", &old), std::nullopt);
  EXPECT_TRUE(old.http10);
  EXPECT_TRUE(old.close);  // unless it asks for keep-alive

  EXPECT_EQ(LineStatus("GET / HTTP/2.0"), 505);
  EXPECT_EQ(LineStatus("GET / http/1.1"), 505);
  EXPECT_EQ(LineStatus("BREW / HTTP/1.1"), 501);
  EXPECT_EQ(LineStatus("get / HTTP/1.1"), 501);  // methods are case-sensitive
  EXPECT_EQ(LineStatus("GET  HTTP/1.1"), 400);   // empty target
  EXPECT_EQ(LineStatus("GET http://h/ HTTP/1.1"), 400);
  EXPECT_EQ(LineStatus("GET /a\x7f HTTP/1.1"), 400);
  EXPECT_EQ(LineStatus("GET /\xc3\xa9 HTTP/1.1"), 400);  // raw non-ASCII: must be percent-encoded
  EXPECT_EQ(LineStatus("GET /"), 400);
  EXPECT_EQ(LineStatus(""), 400);
  const std::string longest = "/" + std::string(kMaxTargetBytes - 1, 'a');
  EXPECT_EQ(LineStatus("GET " + longest + " HTTP/1.1"), std::nullopt);
  EXPECT_EQ(LineStatus("GET " + longest + "a HTTP/1.1"), 414);
}

TEST(Http1Test, Headers) {
  RequestHead head;
  ASSERT_EQ(HeadersStatus("Host: x\r\nContent-Length:  12 \r\nX-Api-Key: k1\r\n"
                          "Cookie: a=b\r\nAccept: */*\r\nContactCenterId: acme",
                          &head),
            std::nullopt);
  EXPECT_EQ(head.content_length, 12u);
  EXPECT_FALSE(head.chunked);
  EXPECT_EQ(head.tenant, "acme");
  const std::vector<std::pair<std::string, std::string>> passed = {
      {"host", "x"}, {"x-api-key", "k1"}, {"cookie", "a=b"}};  // names lower-cased, in order
  EXPECT_EQ(head.headers, passed);

  RequestHead same;  // a repeated equal Content-Length is one
  EXPECT_EQ(HeadersStatus("Content-Length: 5\r\ncontent-length: 5", &same), std::nullopt);
  EXPECT_EQ(same.content_length, 5u);
  RequestHead h1, h2, h3, h4, h5, h6, h7, h8, h9;
  EXPECT_EQ(HeadersStatus("Content-Length: 5\r\nContent-Length: 6", &h1), 400);
  EXPECT_EQ(HeadersStatus("Content-Length: -1", &h2), 400);
  EXPECT_EQ(HeadersStatus("Content-Length: 1e3", &h3), 400);
  EXPECT_EQ(HeadersStatus("Content-Length: 9999999999999999999", &h4), 400);
  EXPECT_EQ(HeadersStatus("Content-Length: 1001", &h5), 413);  // over max_body
  EXPECT_EQ(HeadersStatus("Transfer-Encoding: gzip", &h6), 501);
  EXPECT_EQ(HeadersStatus("Expect: something", &h7), 417);
  EXPECT_EQ(HeadersStatus("Bad Name: x", &h8), 400);
  EXPECT_EQ(HeadersStatus("no colon", &h9), 400);
  // RFC 9112: obs-fold (a line starting with white space) and a bare CR or LF inside a line
  // are refused, never read as a line break that hides a header from this parser.
  for (const std::string& block :
       {std::string("Host: x\r\n folded"), std::string("Host: x\r\n\tfolded"),
        std::string("Host: x\nX-Api-Key: k"), std::string("Host: x\rX-Api-Key: k"),
        std::string("Host: x\0y", 9)}) {
    SCOPED_TRACE(block);
    RequestHead bad;
    EXPECT_EQ(HeadersStatus(block, &bad), 400);
  }
  RequestHead hosts;  // RFC 9112 3.2
  EXPECT_EQ(HeadersStatus("Host: a\r\nX-Api-Key: k\r\nhost: b", &hosts), 400);
  RequestHead tenants, long_tenant;
  EXPECT_EQ(HeadersStatus("ContactCenterId: a\r\nContactCenterId: a", &tenants), 400);
  EXPECT_EQ(HeadersStatus("ContactCenterId: " + std::string(kMaxTenantBytes + 1, 't'),
                          &long_tenant),
            400);

  // Transfer-Encoding overrides Content-Length, and the connection closes (RFC 9112 6.3).
  RequestHead both;
  EXPECT_EQ(HeadersStatus("Content-Length: 3\r\nTransfer-Encoding: Chunked", &both),
            std::nullopt);
  EXPECT_TRUE(both.chunked);
  EXPECT_EQ(both.content_length, 0u);
  EXPECT_TRUE(both.close);

  RequestHead close, keep, expect;
  EXPECT_EQ(HeadersStatus("Connection: TE, Close", &close), std::nullopt);
  EXPECT_TRUE(close.close);
  keep.close = true;  // as for HTTP/1.0
  EXPECT_EQ(HeadersStatus("Connection: keep-alive", &keep), std::nullopt);
  EXPECT_FALSE(keep.close);
  EXPECT_EQ(HeadersStatus("Expect: 100-Continue", &expect), std::nullopt);
  EXPECT_TRUE(expect.expect_continue);
}

// Feeds `wire` to a decoder in pieces cut at `cuts`, as the bytes would arrive.
ChunkDecoder::State FeedInPieces(std::string_view wire, std::vector<size_t> cuts,
                                 ChunkDecoder* decoder, HeadError* error, size_t max = 1000) {
  cuts.push_back(wire.size());
  ChunkDecoder::State state = ChunkDecoder::State::kMore;
  for (size_t cut : cuts) {
    state = decoder->Feed(wire.substr(0, cut), max, error);
    if (state != ChunkDecoder::State::kMore) return state;
  }
  return state;
}

TEST(Http1Test, ChunkedBodiesDecodeHoweverTheyArrive) {
  const std::string wire = "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
  const size_t end = wire.size() - 4;  // the next request starts there
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    SCOPED_TRACE(cut);
    ChunkDecoder decoder;
    HeadError error;
    ASSERT_EQ(FeedInPieces(wire, {cut}, &decoder, &error), ChunkDecoder::State::kDone);
    EXPECT_EQ(decoder.body(), "hello, chunked!");
    EXPECT_EQ(decoder.wire_bytes(), end);
  }
  ChunkDecoder incomplete;
  HeadError error;
  EXPECT_EQ(incomplete.Feed("5\r\nhel", 1000, &error), ChunkDecoder::State::kMore);
}

TEST(Http1Test, MalformedOrOversizedChunksAreRefused) {
  struct Case {
    std::string wire;
    int status;
  };
  const Case cases[] = {
      {"x\r\n", 400},                                   // not a hex size
      {"\r\n", 400},                                    // no size
      {"-5\r\nhello\r\n", 400},                         // signed
      {"1234567890abcdef\r\n", 400},                    // 16 hex digits
      {"5\r\nhelloXX0\r\n\r\n", 400},                   // data not followed by CRLF
      {"3e9\r\n", 413},                                 // 1001 bytes, over the limit at once
      {"3e8\r\n" + std::string(1000, 'a') + "\r\n1\r\n", 413},  // over it in total
      {std::string(9000, '1'), 400},                    // a size line that never ends
      {"0\r\n" + std::string(9000, 't') + "\r\n", 400},  // trailers too long
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.wire.substr(0, 40));
    ChunkDecoder decoder;
    HeadError error{0, ""};
    EXPECT_EQ(decoder.Feed(c.wire, 1000, &error), ChunkDecoder::State::kError);
    EXPECT_EQ(error.status, c.status);
    EXPECT_FALSE(error.message.empty());
  }
}

}  // namespace
}  // namespace contextd::server::http1
