#include "server/http_handler.h"

#include <chrono>
#include <cstdio>
#include <exception>

#include "pistache/endpoint.h"
#include "pistache/http.h"
#include "pistache/peer.h"

namespace contextd::server {
namespace {

using namespace Pistache;

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kMaxTenantBytes = 256;
constexpr char kConnKey[] = "contextd.conn";

// Per-connection framing state, kept on the Pistache peer.
struct ConnState {
  std::string head;        // bytes received of the current request until its head is complete
  bool head_done = false;  // the head was validated and handed to Pistache's parser
  bool discard = false;    // after a framing error: all further input is dropped
  std::string method;
  std::string target;      // raw request target (Pistache keeps no raw query string)
};

struct Head {
  std::string method;
  std::string target;
};

struct HeadError {
  int status;
  std::string message;
};

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':' || c == '(' || c == ')' || c == '"' || c == '/' ||
        c == ',' || c == ';' || c == '<' || c == '>' || c == '=' || c == '@' || c == '[' ||
        c == ']' || c == '?' || c == '{' || c == '}' || c == '\\') {
      return false;
    }
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Validates the request line. Pistache's own parser answers some garbage with a text body
// and waits forever on other garbage; this answers every case at once, in JSON.
std::optional<HeadError> CheckRequestLine(std::string_view line, Head* head) {
  static constexpr std::string_view kMethods[] = {"OPTIONS", "GET",   "POST",  "HEAD",   "PUT",
                                                  "PATCH",   "DELETE", "TRACE", "CONNECT"};
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HeadError{400, "malformed request line"};
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  bool known = false;
  for (std::string_view m : kMethods) known = known || m == method;
  if (!known) return HeadError{405, "unsupported HTTP method"};
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return HeadError{505, "only HTTP/1.0 and HTTP/1.1 are supported"};
  }
  if (target.empty() || target.front() != '/') {
    return HeadError{400, "request target must be an absolute path"};
  }
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return HeadError{400, "request target has invalid characters"};
  }
  head->method = std::string(method);
  head->target = std::string(target);
  return std::nullopt;
}

// Validates the header block (without the final empty line). Rejecting hostile framing here
// keeps it away from Pistache 0.0.5, which reserve()s whatever Content-Length says (a 500
// with the exception text; engineering notes 1.3) and reads chunk sizes with strtol
// (upstream issue #1251).
std::optional<HeadError> CheckHeaders(std::string_view block, size_t max_body) {
  std::optional<uint64_t> content_length;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return HeadError{400, "malformed header line"};
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return HeadError{411, "chunked request bodies are not supported; send Content-Length"};
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return HeadError{400, "invalid Content-Length"};
      }
      uint64_t n = std::stoull(std::string(value));
      if (content_length && *content_length != n) {
        return HeadError{400, "conflicting Content-Length headers"};
      }
      content_length = n;
    }
  }
  if (content_length && *content_length > max_body) {
    return HeadError{413, "request body larger than " + std::to_string(max_body) + " bytes"};
  }
  return std::nullopt;
}

// `Allow` with a preformatted value. Pistache 0.0.5 writes only typed headers (addRaw ones
// are dropped), and its typed Allow wants Http::Method values.
class AllowHeader final : public Http::Header::Header {
 public:
  NAME("Allow")
  AllowHeader() = default;
  explicit AllowHeader(std::string value) : value_(std::move(value)) {}
  void parseRaw(const char* str, size_t len) override { value_.assign(str, len); }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string value_;
};

class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  Handler(Api* api, size_t max_body) : api_(api), max_body_(max_body) {}

  // Not reached: onInput below frames and dispatches every request itself.
  void onRequest(const Http::Request&, Http::ResponseWriter response) override {
    Send(response, HttpError(500, "internal error"), true);
  }

  void onTimeout(const Http::Request&, Http::ResponseWriter response) override {
    Send(response, HttpError(408, "request timed out"), true);
  }

 private:
  // Replaces Http::Handler::onInput (same steps as Pistache 0.0.5's, plus framing checks).
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    std::shared_ptr<ConnState> conn = ConnOf(peer);
    if (conn->discard) return;
    std::shared_ptr<Http::RequestParser> parser = Http::Handler::getParser(peer);
    std::string head_bytes;
    std::string_view input(buffer, len);
    try {
      if (!conn->head_done) {
        conn->head.append(buffer, len);
        Head head;
        size_t line_end = conn->head.find("\r\n");
        if (line_end != std::string::npos) {
          if (auto err = CheckRequestLine(std::string_view(conn->head).substr(0, line_end), &head)) {
            return Reject(peer, *parser, *conn, *err);
          }
        }
        size_t head_end = conn->head.find("\r\n\r\n");
        if (head_end == std::string::npos) {
          if (conn->head.size() > kMaxHeadBytes) {
            return Reject(peer, *parser, *conn, {431, "request head larger than 64 KiB"});
          }
          return;  // wait for the rest of the head
        }
        if (head_end + 4 > kMaxHeadBytes) {
          return Reject(peer, *parser, *conn, {431, "request head larger than 64 KiB"});
        }
        std::string_view block = std::string_view(conn->head).substr(0, head_end);
        block = block.substr(std::min(block.size(), line_end + 2));
        if (line_end == head_end) block = std::string_view();
        if (auto err = CheckHeaders(block, max_body_)) {
          return Reject(peer, *parser, *conn, *err);
        }
        conn->head_done = true;
        conn->method = std::move(head.method);
        conn->target = std::move(head.target);
        head_bytes = std::move(conn->head);
        conn->head.clear();
        input = head_bytes;
      }
      if (!parser->feed(input.data(), input.size())) {
        return Reject(peer, *parser, *conn, {413, "request larger than the limit"});
      }
      if (parser->parse() != Http::Private::State::Done) return;

      const Http::Request& request = parser->request;
      Http::ResponseWriter response(request.version(), transport(), this, peer);
      peer->setIdle(false);
      Serve(request, *conn, response);
      parser->reset();
      *conn = ConnState();
    } catch (const std::exception& e) {
      // Pistache's parser throws on input it cannot read; never leak e.what() to clients.
      std::fprintf(stderr, "contextd: bad request framing: %s\n", e.what());
      Reject(peer, *parser, *conn, {400, "malformed HTTP request"});
    }
  }

  void Serve(const Http::Request& request, const ConnState& conn,
             Http::ResponseWriter& response) {
    ApiRequest api_request;
    api_request.method = conn.method;
    api_request.target = conn.target;
    api_request.body = request.body();
    if (auto tenant = request.headers().tryGetRaw("ContactCenterId")) {
      api_request.tenant = tenant->value();
    }
    api_request.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    ApiResponse reply = api_request.tenant.size() > kMaxTenantBytes
                            ? HttpError(400, "ContactCenterId header too long")
                            : api_->Handle(api_request);

    // Pistache 0.0.5 answers a request without a Connection header with `Connection: Close`
    // yet keeps the socket open, so HTTP/1.1 clients reconnect every time (engineering notes
    // 1.2; upstream issue #56). HTTP/1.1 defaults to keep-alive: say so.
    bool close = request.version() == Http::Version::Http10;
    if (auto c = request.headers().tryGet<Http::Header::Connection>()) {
      close = c->control() == Http::ConnectionControl::Close;
    }
    Send(response, reply, close);
  }

  // Answers with a framing error, then drops the rest of the connection's input: the
  // remaining bytes cannot be told apart from a next request.
  void Reject(const std::shared_ptr<Tcp::Peer>& peer, Http::RequestParser& parser,
              ConnState& conn, const HeadError& err) {
    parser.reset();
    conn.discard = true;
    Http::ResponseWriter response(Http::Version::Http11, transport(), this, peer);
    Send(response, HttpError(err.status, err.message), true);
  }

  static void Send(Http::ResponseWriter& response, const ApiResponse& reply, bool close) {
    response.headers().remove<Http::Header::Connection>();
    response.headers().add<Http::Header::Connection>(close ? Http::ConnectionControl::Close
                                                           : Http::ConnectionControl::KeepAlive);
    if (!reply.allow.empty()) response.headers().add(std::make_shared<AllowHeader>(reply.allow));
    const auto code = static_cast<Http::Code>(reply.status);
    if (reply.body.empty()) {
      response.send(code);
    } else {
      response.send(code, reply.body, MIME(Application, Json));
    }
  }

  static std::shared_ptr<ConnState> ConnOf(const std::shared_ptr<Tcp::Peer>& peer) {
    std::shared_ptr<void> data = peer->tryGetData(kConnKey);
    if (data) return std::static_pointer_cast<ConnState>(data);
    auto conn = std::make_shared<ConnState>();
    peer->putData(kConnKey, conn);
    return conn;
  }

  Api* api_;  // not owned
  size_t max_body_;
};

}  // namespace

struct HttpServer::Impl {
  Api* api;
  HttpOptions options;
  std::unique_ptr<Http::Endpoint> endpoint;
};

HttpServer::HttpServer(Api* api, HttpOptions options)
    : impl_(std::make_unique<Impl>(Impl{api, std::move(options), nullptr})) {}

HttpServer::~HttpServer() { Shutdown(); }

absl::StatusOr<uint16_t> HttpServer::Start() {
  try {
    const HttpOptions& o = impl_->options;
    impl_->endpoint = std::make_unique<Http::Endpoint>(Address(o.address, Port(o.port)));
    auto opts = Http::Endpoint::options()
                    .threads(o.threads)
                    .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                    .maxRequestSize(kMaxHeadBytes + o.max_body_bytes + 4)
                    .headerTimeout(std::chrono::seconds(10))
                    .bodyTimeout(std::chrono::seconds(30))
                    .keepaliveTimeout(std::chrono::seconds(75));
    impl_->endpoint->init(opts);
    impl_->endpoint->setHandler(Http::make_handler<Handler>(impl_->api, o.max_body_bytes));
    impl_->endpoint->serveThreaded();
    return static_cast<uint16_t>(impl_->endpoint->getPort());
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    return absl::UnavailableError(std::string("cannot listen: ") + e.what());
  }
}

void HttpServer::Shutdown() {
  if (!impl_->endpoint) return;
  impl_->endpoint->shutdown();
  impl_->endpoint.reset();  // joins the reactor threads
}

}  // namespace contextd::server
