#include "server/http/http_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "pistache/endpoint.h"
#include "pistache/http.h"
#include "pistache/peer.h"
#include "server/http/committer.h"
#include "server/http/http1.h"
#include "server/http/request_log.h"

namespace contextd::server {
namespace {

using namespace Pistache;
using http1::ChunkDecoder;
using http1::HeadError;
using http1::kMaxHeadBytes;
using http1::ParseHeaders;
using http1::ParseRequestLine;
using http1::RequestHead;

constexpr char kConnKey[] = "contextd.conn";

Http::Version VersionOf(const RequestHead& head) {
  return head.http10 ? Http::Version::Http10 : Http::Version::Http11;
}

// What is measured and logged of a request once its reply is sent.
struct Trace {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string request_id;
  std::string method;
  std::string tenant;
};
using TraceRef = std::shared_ptr<const Trace>;

// The X-Request-Id of a request: the client's when it is 1-128 characters of [A-Za-z0-9._-],
// else a new one (a per-process random prefix and a counter).
std::string RequestId(std::string_view given) {
  if (!given.empty() && given.size() <= 128 &&
      given.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
          std::string_view::npos) {
    return std::string(given);
  }
  static const uint64_t prefix = std::random_device()() ^ (uint64_t{std::random_device()()} << 32);
  static std::atomic<uint64_t> counter{0};
  // "%016llx-%llx" of (prefix, count), by hand: this runs for every request.
  std::string id(16, '0');
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15, v = 0; i >= 0; --i, ++v) id[i] = kHex[(prefix >> (4 * v)) & 0xf];
  id += '-';
  char digits[16];
  int n = 0;
  for (uint64_t count = counter.fetch_add(1, std::memory_order_relaxed) + 1; count != 0 || n == 0;
       count >>= 4) {
    digits[n++] = kHex[count & 0xf];
  }
  while (n > 0) id += digits[--n];
  return id;
}

// Per-connection framing state, kept on the Pistache peer (it may outlive the peer a little,
// in callbacks still running).
struct ConnState {
  ~ConnState() {
    if (paused.load()) counters->paused.fetch_sub(1);
    counters->open.fetch_sub(1);
    if (orphan_fd >= 0) ::close(orphan_fd);
  }

  Tcp::Transport* transport = nullptr;  // the event loop that owns the connection; not owned
  ConnectionCounters* counters = nullptr;  // not owned; this connection is counted open in it
  std::atomic<int> pending{0};          // replies of this connection queued in the committer
  // Bytes of this connection's replies not yet taken by its socket: queued in the committer
  // (estimated) or in Pistache's write queue. Past kMaxUnsentReplyBytes the connection is
  // `paused`: no further request of it is served (set and cleared on its event loop).
  std::atomic<size_t> unsent{0};
  std::atomic<bool> paused{false};
  bool overrun = false;  // closed for sending too much while paused (event loop only)
  // Runs on the event loop after a queued write of the connection completed: the handler
  // resumes a paused connection there. Set when the connection is accepted.
  std::function<void()> on_written;
  // A client that half-closes (shuts down its sending side) still gets the replies of the
  // requests it sent: when Pistache drops the connection on reading its end with replies
  // still in the committer, the socket is kept open through this duplicate until they are
  // sent. Guarded by fd_mu, which also orders it with the committer's sends.
  std::mutex fd_mu;
  int orphan_fd = -1;
  bool closed = false;  // Pistache dropped the connection (its fd may be another's by now)
  std::string peer_address;  // the client's address, as ApiRequest::peer
  // Writes of this connection handed to Pistache's write queue and not yet completed. While
  // there are any, later replies queue behind them (Write below).
  std::atomic<int> queued{0};
  // Set by the committer when a sync failed and the connection was closed: no later request
  // of it is executed (its reply could not reach the client).
  std::atomic<bool> broken{false};
  std::string buf;          // received bytes not yet consumed
  size_t scanned = 0;       // bytes of buf already searched for the end of the head
  bool in_request = false;  // a request has started arriving
  bool discard = false;     // after a framing error: all further input is dropped
  bool continue_sent = false;
  std::optional<RequestHead> head;     // once the current request's head is complete
  std::optional<ChunkDecoder> chunks;  // the current request's body, if chunked
  // Completes this connection's held reply (ApiResponse::hold) at once; set while one is held.
  std::function<void()> release_held;  // guarded by held_mu
  std::mutex held_mu;
};

// The bytes of a reply: status line, headers, body. A HEAD reply states the length of the
// body it leaves out.
std::string WireReply(Http::Version version, const ApiResponse& reply, bool close, bool head_only) {
  std::string out;
  out.reserve(160 + reply.body.size());
  out += version == Http::Version::Http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(reply.status);
  out += ' ';
  out += Http::codeString(static_cast<Http::Code>(reply.status));
  out += "\r\n";
  auto header = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  if (!reply.body.empty()) {
    header("Content-Type",
           reply.content_type.empty() ? std::string_view("application/json") : reply.content_type);
  }
  if (!reply.allow.empty()) header("Allow", reply.allow);
  for (const auto& [name, value] : reply.headers) header(name, value);
  // Stated either way: Pistache's own handler would answer a request without a Connection
  // header with `Connection: Close` and keep the socket open (engineering notes 1.2; upstream
  // issue #56).
  header("Connection", close ? "Close" : "Keep-Alive");
  header("Content-Length", std::to_string(reply.body.size()));
  out += "\r\n";
  if (!head_only) out += reply.body;
  return out;
}

// Puts `bytes` on the connection after everything written to it before, then half-closes it
// if `close` (the client's input is still read and dropped until it closes, so a client still
// sending a refused body gets the reply rather than a reset).
//
// `direct`: nothing else writes to the connection meanwhile: the caller runs on its event
// loop (in onInput), or is the committer delivering one of its replies (while the committer
// holds any, every reply of the connection goes through it, in order). Then, with nothing of
// the connection queued, the bytes go straight to the socket: the hop through Pistache
// 0.0.5's write queue (Transport::asyncWrite always enqueues, with an eventfd wake-up and two
// epoll_ctl per reply) costs more CPU than the rest of an IVR read. What the socket does not
// take at once, and every other write, goes through the queue, which writes in order.
void Write(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn,
           std::string bytes, bool close, bool direct) {
  size_t sent = 0;
  if (direct && conn->queued.load() == 0) {
    while (sent < bytes.size()) {
      const ssize_t n = ::send(peer->fd(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n >= 0) {
        sent += static_cast<size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else if (errno != EINTR) {
        return;  // the client is gone; the transport sees the hang-up
      }
    }
    if (sent == bytes.size()) {
      if (close) ::shutdown(peer->fd(), SHUT_WR);
      return;
    }
  }
  std::string rest = bytes.substr(sent);
  const size_t size = rest.size();
  conn->queued.fetch_add(1);
  conn->unsent.fetch_add(size);
  std::weak_ptr<Tcp::Peer> weak = peer;
  auto finished = [conn, weak, close, size] {  // on the connection's event loop
    conn->queued.fetch_sub(1);
    conn->unsent.fetch_sub(size);
    if (close) {
      if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_WR);
    }
    if (conn->on_written) conn->on_written();
  };
  conn->transport->asyncWrite(peer->fd(), RawBuffer(std::move(rest), size))
      .then([finished](ssize_t) { finished(); }, [finished](std::exception_ptr&) { finished(); });
}

// Runs conn->on_written on the connection's event loop, from any thread: an empty write's
// completion is the one way into Pistache 0.0.5's loop (its queue completes writes there).
void PostWritten(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn) {
  conn->transport->asyncWrite(peer->fd(), RawBuffer(std::string(), 0))
      .then(
          [conn](ssize_t) {
            if (conn->on_written) conn->on_written();
          },
          [](std::exception_ptr&) {});
}

// Sends what a non-blocking socket takes at once (a reply to a client that half-closed; one
// the socket's buffer cannot take is cut short).
void SendNow(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

// Delivers a reply the committer held (`reserved` bytes of it were counted in conn->unsent
// when it was queued): to the connection, or to its orphaned socket once the client
// half-closed. Runs on the commit thread.
void DeliverCommitted(const std::weak_ptr<Tcp::Peer>& weak, const std::shared_ptr<ConnState>& conn,
                      std::string bytes, bool close, size_t reserved) {
  std::shared_ptr<Tcp::Peer> p = weak.lock();
  std::lock_guard<std::mutex> lock(conn->fd_mu);
  if (conn->orphan_fd >= 0) {
    SendNow(conn->orphan_fd, bytes);
  } else if (p && !conn->closed) {
    Write(p, conn, std::move(bytes), close, /*direct=*/true);
  }
  conn->unsent.fetch_sub(reserved);
  if (conn->pending.fetch_sub(1) == 1 && conn->orphan_fd >= 0) {
    ::shutdown(conn->orphan_fd, SHUT_WR);
    ::close(conn->orphan_fd);
    conn->orphan_fd = -1;
  }
  if (p && conn->paused.load() && conn->unsent.load() <= kMaxUnsentReplyBytes / 2) {
    PostWritten(p, conn);
  }
}

// What a reply queued in the committer is counted as in conn->unsent until it is delivered:
// its body and room for its head.
size_t ReservedBytes(const ApiResponse& reply) { return reply.body.size() + 256; }

class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  // `committer` is null unless writes wait for their sync (Durability::kAlways).
  Handler(RequestHandler* api, RouteLatencies* latencies, RequestLog* log, size_t max_body,
          Committer* committer, std::optional<int64_t> fixed_now_ms, size_t max_connections,
          ConnectionCounters* counters)
      : api_(api),
        latencies_(latencies),
        telemetry_{latencies, log, api},
        max_body_(max_body),
        committer_(committer),
        fixed_now_ms_(fixed_now_ms),
        max_connections_(max_connections),
        counters_(counters) {}

  // A new connection: counted, and refused at once (503, closed) over the limit. Accepting
  // and closing keeps the listener from spinning on a full accept queue, and the limit is
  // below the fd limit, so accept never fails with EMFILE.
  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    // What Http::Handler::onConnection (private in Pistache 0.0.5) does: the parser only
    // serves as the transport's request clock here (StartRequest).
    peer->putData(ParserData, std::make_shared<Http::RequestParser>(getMaxRequestSize()));
    auto conn = std::make_shared<ConnState>();
    conn->transport = transport();
    conn->counters = counters_;
    conn->peer_address = peer->address().host();
    const auto open = static_cast<size_t>(counters_->open.fetch_add(1) + 1);
    std::weak_ptr<Tcp::Peer> weak = peer;
    conn->on_written = [this, weak] {
      if (std::shared_ptr<Tcp::Peer> p = weak.lock()) Written(p);
    };
    peer->putData(kConnKey, conn);
    if (open > max_connections_) {
      counters_->refused.fetch_add(1);
      conn->discard = true;
      ApiResponse reply =
          api_->TransportError(-1, "", 503, "too many connections");
      const std::string bytes = WireReply(Http::Version::Http11, reply, true, false);
      SendNow(peer->fd(), bytes);
      ::shutdown(peer->fd(), SHUT_RDWR);  // Pistache reads the end and drops the connection
    }
  }

  // Pistache drops the connection: the client closed, or half-closed, its side. Replies
  // still in the committer go to a duplicate of the socket (ConnState::orphan_fd).
  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    std::shared_ptr<void> data = peer->tryGetData(kConnKey);
    if (!data) return;
    auto conn = std::static_pointer_cast<ConnState>(data);
    std::lock_guard<std::mutex> lock(conn->fd_mu);
    conn->closed = true;
    // Not when replies are in Pistache's write queue: it drops them with the connection, and
    // later ones would follow a cut reply.
    if (conn->pending.load() > 0 && conn->queued.load() == 0 && !conn->overrun) {
      conn->orphan_fd = ::fcntl(peer->fd(), F_DUPFD_CLOEXEC, 0);
    }
  }

  // Not reached: onInput below frames and dispatches every request itself. (Timeouts are
  // answered by Pistache's transport with a body-less 408 and never reach a handler.)
  void onRequest(const Http::Request&, Http::ResponseWriter response) override {
    response.send(Http::Code::Internal_Server_Error, R"({"message":"internal error"})");
  }

 private:
  // Replaces Http::Handler::onInput: frames requests (pipelined ones too), then serves each.
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    std::shared_ptr<ConnState> conn = ConnOf(peer);
    if (conn->discard || conn->broken.load()) return;
    conn->buf.append(buffer, len);
    if (conn->paused.load()) {
      if (conn->buf.size() > kMaxHeadBytes + max_body_ + kMaxUnreadInput) Overrun(peer, *conn);
      return;
    }
    Drain(peer, conn);
  }

  // Serves the complete requests of conn->buf, in order, until one is incomplete or the
  // connection's unsent replies pause it.
  void Drain(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn) {
    try {
      while (!conn->discard && !conn->broken.load() && !conn->buf.empty()) {
        if (!conn->in_request) StartRequest(peer, *conn);
        if (!conn->head && !FrameHead(peer, conn)) return;
        if (!conn->head) return;
        // A held reply (a CometD connect) is completed before anything of the next request
        // is answered (100 Continue included), so replies keep request order.
        ReleaseHeld(*conn);
        const RequestHead& head = *conn->head;
        // No interim reply while earlier replies wait in the committer: it would overtake them
        // (the client then sends the body after its own expect timeout).
        const bool complete = head.chunked
                                  ? BodyDecoded(peer, conn)
                                  : conn->buf.size() >= head.head_bytes + head.content_length;
        if (conn->discard) return;
        if (head.expect_continue && !conn->continue_sent && conn->pending.load() == 0 &&
            !complete) {
          Write(peer, conn, "HTTP/1.1 100 Continue\r\n\r\n", /*close=*/false, /*direct=*/true);
          conn->continue_sent = true;
        }
        if (!complete) return;
        if (conn->unsent.load() > kMaxUnsentReplyBytes) {
          Pause(peer, *conn);
          // The commit thread may have delivered everything before `paused` was set, and so
          // posted no wake-up: resume at once then.
          if (conn->unsent.load() > kMaxUnsentReplyBytes / 2) return;
          Unpause(peer, *conn);
        }
        Serve(peer, conn);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "contextd: request framing failed: %s\n", e.what());
      Reject(peer, conn, {400, "malformed HTTP request"});
    }
  }

  // Stops serving the connection until its unsent replies drain. It counts as idle meanwhile:
  // Pistache's idle timeout closes it when no reply of it completes for that long.
  void Pause(const std::shared_ptr<Tcp::Peer>& peer, ConnState& conn) {
    conn.paused.store(true);
    counters_->paused.fetch_add(1);
    peer->setIdle(true);
    Http::Handler::getParser(peer)->reset();  // the idle clock
  }

  void Unpause(const std::shared_ptr<Tcp::Peer>& peer, ConnState& conn) {
    conn.paused.store(false);
    counters_->paused.fetch_sub(1);
    peer->setIdle(false);
  }

  // A queued write of the connection completed (on its event loop): a paused connection
  // resumes once its unsent replies are below half the bound, else its idle clock restarts.
  void Written(const std::shared_ptr<Tcp::Peer>& peer) {
    std::shared_ptr<ConnState> conn = ConnOf(peer);
    if (!conn->paused.load()) return;
    Http::Handler::getParser(peer)->reset();
    if (conn->unsent.load() > kMaxUnsentReplyBytes / 2) return;
    Unpause(peer, *conn);
    Drain(peer, conn);
  }

  // A paused client kept sending: its connection is closed (reading the end makes Pistache
  // drop it), with what it holds.
  void Overrun(const std::shared_ptr<Tcp::Peer>& peer, ConnState& conn) {
    counters_->overrun.fetch_add(1);
    conn.overrun = true;
    conn.discard = true;
    std::string().swap(conn.buf);
    ::shutdown(peer->fd(), SHUT_RDWR);
  }

  // Feeds the received part of a chunked body to the decoder; true once it is complete.
  bool BodyDecoded(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn) {
    if (!conn->chunks) conn->chunks.emplace();
    HeadError error;
    switch (conn->chunks->Feed(std::string_view(conn->buf).substr(conn->head->head_bytes),
                               conn->head->max_body, &error)) {
      case ChunkDecoder::State::kMore:
        return false;
      case ChunkDecoder::State::kDone:
        return true;
      case ChunkDecoder::State::kError:
        Reject(peer, conn, error, conn->head->target, VersionOf(*conn->head));
        return false;
    }
    return false;
  }

  static void ReleaseHeld(ConnState& conn) {
    std::function<void()> release;
    {
      std::lock_guard<std::mutex> lock(conn.held_mu);
      release = std::move(conn.release_held);
      conn.release_held = nullptr;
    }
    if (release) release();
  }

  // A new request starts: Pistache's transport times requests from the parser's clock and
  // applies the header timeout to peers that are not idle.
  void StartRequest(const std::shared_ptr<Tcp::Peer>& peer, ConnState& conn) {
    // Empty lines before a request line are ignored (RFC 9112 section 2.2).
    size_t skip = 0;
    while (skip + 1 < conn.buf.size() && conn.buf[skip] == '\r' && conn.buf[skip + 1] == '\n') {
      skip += 2;
    }
    conn.buf.erase(0, skip);
    if (conn.buf.empty()) return;
    Http::Handler::getParser(peer)->reset();
    peer->setIdle(false);
    conn.in_request = true;
  }

  // Looks for the end of the head; on finding it, validates it into conn.head. Returns
  // false when the request was rejected.
  bool FrameHead(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& state) {
    ConnState& conn = *state;
    const size_t limit = std::min(conn.buf.size(), kMaxHeadBytes);
    size_t end = std::string::npos;
    for (size_t i = conn.scanned; i < limit; ++i) {
      if (conn.buf[i] != '\n') continue;
      if (i == 0 || conn.buf[i - 1] != '\r') {
        Reject(peer, state, {400, "malformed request: bare LF line ending"});
        return false;
      }
      if (i >= 3 && conn.buf.compare(i - 3, 4, "\r\n\r\n") == 0) {
        end = i + 1;
        break;
      }
    }
    if (end == std::string::npos) {
      conn.scanned = limit;
      if (conn.buf.size() > kMaxHeadBytes) {
        Reject(peer, state, {431, "request head larger than 64 KiB"});
        return false;
      }
      // Refuse a bad request line as soon as it is complete, not at the timeout.
      size_t line_end = conn.buf.find("\r\n");
      RequestHead probe;
      if (line_end != std::string::npos) {
        if (auto err = ParseRequestLine(std::string_view(conn.buf).substr(0, line_end), &probe)) {
          Reject(peer, state, *err);
          return false;
        }
      }
      return true;
    }
    RequestHead head;
    head.head_bytes = end;
    std::string_view all(conn.buf.data(), end - 4);  // without the blank line
    size_t line_end = std::min(all.find("\r\n"), all.size());
    if (auto err = ParseRequestLine(all.substr(0, line_end), &head)) {
      Reject(peer, state, *err);
      return false;
    }
    std::string_view block = line_end + 2 <= all.size() ? all.substr(line_end + 2) : "";
    if (auto err = ParseHeaders(block, max_body_, &head)) {
      head.close = true;
      Reject(peer, state, *err, head.target, VersionOf(head));
      return false;
    }
    // Each route has its own body limit (most are far below the server's); a body over it is
    // refused before it is read.
    // (Every limit is at least 8 KiB or the server's: smaller bodies skip the lookup.)
    head.max_body = head.chunked || head.content_length > (8 << 10)
                        ? api_->MaxBodyBytes(head.method, head.target, max_body_)
                        : max_body_;
    if (head.content_length > head.max_body) {
      head.close = true;
      Reject(peer, state,
             {413, "request body larger than " + std::to_string(head.max_body) +
                       " bytes (this route's limit)"},
             head.target, VersionOf(head));
      return false;
    }
    conn.head = std::move(head);
    return true;
  }

  void Serve(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& state) {
    ConnState& conn = *state;
    const RequestHead head = std::move(*conn.head);
    auto trace = std::make_shared<Trace>();
    latencies_->Begin();
    ApiRequest request;
    request.method =
        head.method == "HEAD" ? std::string_view("GET") : std::string_view(head.method);
    request.target = head.target;
    const size_t wire_body_bytes = head.chunked ? conn.chunks->wire_bytes() : head.content_length;
    request.body = head.chunked
                       ? std::string_view(conn.chunks->body())
                       : std::string_view(conn.buf).substr(head.head_bytes, head.content_length);
    request.tenant_header = head.tenant;
    request.headers = &head.headers;
    request.peer = conn.peer_address;
    request.now_ms = fixed_now_ms_ ? *fixed_now_ms_
                                   : std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
    trace->request_id = RequestId(request.Header("x-request-id"));
    trace->method = head.method;
    trace->tenant = head.tenant.value_or("");
    ApiResponse reply = api_->Handle(request);

    const bool held = static_cast<bool>(reply.hold);
    if (held) {
      Hold(peer, state, VersionOf(head), std::move(reply), head.close, std::move(trace));
    } else {
      const bool needs_sync = reply.wrote;
      Respond(peer, state, VersionOf(head), std::move(reply), head.close, head.method == "HEAD",
              needs_sync, std::move(trace));
    }
    conn.buf.erase(0, head.head_bytes + wire_body_bytes);
    if (conn.buf.empty() && conn.buf.capacity() > (64 << 10)) std::string().swap(conn.buf);
    conn.chunks.reset();
    conn.scanned = 0;
    conn.head.reset();
    conn.in_request = false;
    conn.continue_sent = false;
    if (head.close) conn.discard = true;
    // Keep-alive idle time counts from the end of this request; a held request is still in
    // progress (Pistache's request timeout bounds it).
    peer->setIdle(!held);
    Http::Handler::getParser(peer)->reset();
  }

  // Parks the reply: reply.hold receives a completion that sends the final reply later, from
  // any thread, at most once; a next request on the connection completes it first.
  void Hold(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn,
            Http::Version version, ApiResponse reply, bool close, TraceRef trace) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::weak_ptr<Tcp::Peer> weak = peer;
    ApiResponse::Complete complete = [done, weak, version, close, trace, conn,
                                      telemetry = telemetry_, committer = committer_,
                                      route = reply.route](ApiResponse final_reply) {
      if (done->exchange(true)) return false;
      std::shared_ptr<Tcp::Peer> p = weak.lock();
      if (!p) {  // the client is gone: nothing was delivered
        std::lock_guard<std::mutex> lock(conn->held_mu);
        conn->release_held = nullptr;  // it holds this completion, which holds conn
        return false;
      }
      final_reply.route = route;
      final_reply.headers.emplace_back("X-Request-Id", trace->request_id);
      std::string bytes = WireReply(version, final_reply, close, /*head_only=*/false);
      Record(telemetry, *trace, route, final_reply.status);
      {
        // Under held_mu: a next request of the connection (ReleaseHeld) waits until this
        // reply is queued, so replies keep request order.
        std::lock_guard<std::mutex> lock(conn->held_mu);
        conn->release_held = nullptr;
        if (committer != nullptr && (final_reply.wrote || conn->pending.load() > 0)) {
          // A write is acknowledged once durable; earlier replies of the connection still
          // waiting for their sync go first.
          conn->pending.fetch_add(1);
          const size_t reserved = ReservedBytes(final_reply);
          conn->unsent.fetch_add(reserved);
          committer->Enqueue(
              {final_reply.wrote, [bytes = std::move(bytes), close, weak, conn, version, route,
                                   reserved, telemetry](const absl::Status& synced) mutable {
                 if (!synced.ok()) {  // as in Respond: applied but not durable
                   conn->broken.store(true);
                   bytes = WireReply(version,
                                     telemetry.api->TransportError(
                                         route, "", 503, "the write could not be made durable"),
                                     true, false);
                 }
                 DeliverCommitted(weak, conn, std::move(bytes), close || !synced.ok(), reserved);
               }});
        } else {
          Write(p, conn, std::move(bytes), close, /*direct=*/false);
        }
      }
      return true;
    };
    {
      std::lock_guard<std::mutex> lock(conn->held_mu);
      conn->release_held = [hold = reply.hold, complete] { hold(complete, /*now=*/true); };
    }
    reply.hold(complete, /*now=*/false);
  }

  // Answers with a framing error and closes the connection: the bytes that follow cannot be
  // told apart from a next request.
  void Reject(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn,
              const HeadError& err, std::string_view target = {},
              Http::Version version = Http::Version::Http11) {
    ReleaseHeld(*conn);
    conn->discard = true;
    conn->buf.clear();
    latencies_->Begin();
    auto trace = std::make_shared<Trace>();
    trace->request_id = RequestId("");
    Respond(peer, conn, version, api_->TransportError(-1, target, err.status, err.message),
            /*close=*/true, /*head_only=*/false,
            /*needs_sync=*/false, std::move(trace));
  }

  // Sends a reply now, or through the committer when it acknowledges a write (sent once the
  // write is durable) or when earlier replies of the connection are still there (replies
  // keep request order).
  void Respond(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnState>& conn,
               Http::Version version, ApiResponse reply, bool close, bool head_only,
               bool needs_sync, TraceRef trace) {
    reply.headers.emplace_back("X-Request-Id", trace->request_id);
    if (committer_ == nullptr || (!needs_sync && conn->pending.load() == 0)) {
      std::string bytes = WireReply(version, reply, close, head_only);
      Record(telemetry_, *trace, reply.route, reply.status);
      Write(peer, conn, std::move(bytes), close, /*direct=*/true);
      return;
    }
    conn->pending.fetch_add(1);
    const size_t reserved = ReservedBytes(reply);
    conn->unsent.fetch_add(reserved);
    std::weak_ptr<Tcp::Peer> weak = peer;
    committer_->Enqueue(
        {needs_sync, [version, reply = std::move(reply), close, head_only, weak, conn, trace,
                      reserved, telemetry = telemetry_](const absl::Status& synced) {
           if (!synced.ok()) {
             // Applied but not durable: the client must not take it as
             // acknowledged, and later pipelined requests are not run.
             conn->broken.store(true);
             std::fprintf(stderr, "contextd: WAL sync failed: %s\n", synced.ToString().c_str());
           }
           std::string bytes =
               synced.ok()
                   ? WireReply(version, reply, close, head_only)
                   : WireReply(version,
                               telemetry.api->TransportError(reply.route, "", 503,
                                                             "the write could not be made durable"),
                               true, head_only);
           Record(telemetry, *trace, reply.route, synced.ok() ? reply.status : 503);
           DeliverCommitted(weak, conn, std::move(bytes), close || !synced.ok(), reserved);
         }});
  }

  // Where finished requests are measured and logged: when the reply is ready, just before
  // it is handed to the socket (engineering notes 4.2). On loopback a send also runs the
  // client's receive path and may hand it the CPU, which is not the server's time.
  struct Telemetry {
    RouteLatencies* latencies;  // not owned
    RequestLog* log;            // not owned; may be null
    const RequestHandler* api;  // not owned
  };

  static void Record(const Telemetry& t, const Trace& trace, int route, int status) {
    const auto micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::steady_clock::now() - trace.started)
                                                  .count());
    t.latencies->Record(route, status, micros);
    if (t.log != nullptr && t.log->enabled(LogLevel::kInfo)) {
      RequestRecord r;
      r.request_id = trace.request_id;
      r.method = trace.method;
      r.route = t.api->RouteName(route);
      r.status = status;
      r.micros = micros;
      r.tenant = trace.tenant;
      t.log->Request(r);
    }
  }

  // The state onConnection attached to the peer.
  static std::shared_ptr<ConnState> ConnOf(const std::shared_ptr<Tcp::Peer>& peer) {
    return std::static_pointer_cast<ConnState>(peer->tryGetData(kConnKey));
  }

  RequestHandler* api_;        // not owned
  RouteLatencies* latencies_;  // not owned
  Telemetry telemetry_;
  size_t max_body_;
  Committer* committer_;  // not owned; may be null
  std::optional<int64_t> fixed_now_ms_;
  size_t max_connections_;
  ConnectionCounters* counters_;  // not owned
};

// Fsyncs the WAL every `interval` until stopped (Durability::kBatch).
class PeriodicSync {
 public:
  PeriodicSync(HttpServer::Sync sync, std::chrono::milliseconds interval)
      : thread_([this, sync = std::move(sync), interval] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
            lock.unlock();
            if (absl::Status s = sync(); !s.ok()) {
              std::fprintf(stderr, "contextd: WAL sync failed: %s\n", s.ToString().c_str());
            }
            lock.lock();
          }
        }) {}

  ~PeriodicSync() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

struct HttpServer::Impl {
  RequestHandler* api;
  RouteLatencies* latencies;
  Sync sync;
  HttpOptions options;
  std::unique_ptr<Committer> committer;    // Durability::kAlways
  std::unique_ptr<PeriodicSync> periodic;  // Durability::kBatch
  std::unique_ptr<Http::Endpoint> endpoint;
  ConnectionCounters own_counters;  // when options.counters is not set
};

size_t DefaultMaxConnections() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 512;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const auto fds = static_cast<size_t>(std::min<rlim_t>(limit.rlim_cur, rlim_t{1} << 20));
  // The reserve: the store's files (RocksDB opens every SST file it keeps), the listener,
  // the reactors' epoll and event fds, a connection being refused.
  const size_t reserve = std::min<size_t>(1024, fds / 2);
  return fds - reserve;
}

HttpServer::HttpServer(RequestHandler* handler, RouteLatencies* latencies, Sync sync,
                       HttpOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->api = handler;
  impl_->latencies = latencies;
  impl_->sync = std::move(sync);
  impl_->options = std::move(options);
}

HttpServer::~HttpServer() { Shutdown(); }

absl::StatusOr<uint16_t> HttpServer::Start() {
  try {
    const HttpOptions& o = impl_->options;
    impl_->endpoint = std::make_unique<Http::Endpoint>(Address(o.address, Port(o.port)));
    auto opts = Http::Endpoint::options()
                    .threads(o.threads)
                    .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                    // Requests are framed by Handler::onInput, not Pistache's parser, and
                    // the transport applies the shorter of these two timeouts to a whole
                    // request, head and body.
                    .headerTimeout(std::chrono::seconds(30))
                    .bodyTimeout(std::chrono::seconds(30))
                    .keepaliveTimeout(o.idle_timeout);
    impl_->endpoint->init(opts);
    if (o.durability == Durability::kAlways) {
      impl_->committer = std::make_unique<Committer>(impl_->sync);
    } else if (o.durability == Durability::kBatch) {
      impl_->periodic = std::make_unique<PeriodicSync>(impl_->sync, std::chrono::milliseconds(10));
    }
    impl_->endpoint->setHandler(
        Http::make_handler<Handler>(
            impl_->api, impl_->latencies, o.log, o.max_body_bytes, impl_->committer.get(),
            o.fixed_now_ms,
            o.max_connections > 0 ? std::min(o.max_connections, DefaultMaxConnections())
                                  : DefaultMaxConnections(),
            o.counters != nullptr ? o.counters : &impl_->own_counters));
    impl_->endpoint->serveThreaded();
    return static_cast<uint16_t>(impl_->endpoint->getPort());
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    return absl::UnavailableError(std::string("cannot listen: ") + e.what());
  }
}

void HttpServer::Shutdown() {
  if (!impl_->endpoint) return;
  impl_->api->SetShuttingDown();
  // Deliver queued replies while the reactors still run and can write them; requests still
  // arriving are then synced and answered inline by their worker (Committer::Enqueue after
  // Close). The pause lets the reactors put the last replies (these, and replies completed
  // from other threads just before, such as released CometD connects) on the wire.
  if (impl_->committer) impl_->committer->Close();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  impl_->endpoint->shutdown();
  impl_->endpoint.reset();  // joins the reactor threads
  impl_->committer.reset();
  impl_->periodic.reset();
  if (absl::Status s = impl_->sync(); !s.ok()) {
    std::fprintf(stderr, "contextd: final WAL sync failed: %s\n", s.ToString().c_str());
  }
}

}  // namespace contextd::server
