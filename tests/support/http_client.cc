#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace contextd::testing {

HttpClient::HttpClient(uint16_t port) : HttpClient(std::vector<uint16_t>{port}) {}

HttpClient::HttpClient(const std::vector<uint16_t>& ports) {
  if (ports.empty()) throw std::runtime_error("HttpClient: no port");
  for (uint16_t port : ports) {
    conns_.push_back({port, -1, ""});
    cur_ = conns_.size() - 1;
    Connect();
  }
}

HttpClient::~HttpClient() {
  for (Connection& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
}

void HttpClient::Connect() {
  if (fd() >= 0) close(fd());
  buffered().clear();
  fd() = socket(AF_INET, SOCK_STREAM, 0);
  if (fd() < 0) throw std::runtime_error("socket failed");
  timeval tv{10, 0};
  setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(conns_[cur_].port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect failed");
  }
}

bool HttpClient::Write(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

HttpReply HttpClient::ReadReply(bool head_request) {
  HttpReply reply;
  auto fill = [&]() {
    char buf[65536];
    ssize_t n = recv(fd(), buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered().append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t head_end;
  while ((head_end = buffered().find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return reply;
  }
  std::string head = buffered().substr(0, head_end);
  buffered().erase(0, head_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return reply;
  reply.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = line.find_first_not_of(' ', colon + 1);
    reply.headers[name] = v == std::string::npos ? "" : line.substr(v);
  }
  size_t length = 0;
  if (auto it = reply.headers.find("content-length"); !head_request && it != reply.headers.end()) {
    length = std::stoul(it->second);
  }
  while (buffered().size() < length) {
    if (!fill()) break;
  }
  reply.body = buffered().substr(0, length);
  buffered().erase(0, length);
  return reply;
}

bool HttpClient::ReadEof() {
  if (!buffered().empty()) return false;
  char c;
  return recv(fd(), &c, 1, 0) == 0;
}

bool HttpClient::QuietFor(std::chrono::milliseconds wait) {
  if (!buffered().empty()) return false;
  pollfd p{fd(), POLLIN, 0};
  return poll(&p, 1, static_cast<int>(wait.count())) == 0;
}

bool HttpClient::ShutdownWrite() { return shutdown(fd(), SHUT_WR) == 0; }

HttpReply HttpClient::SendRaw(const std::string& bytes) {
  // A CometD client's long-polls stay on the node of its handshake, as a load balancer with
  // session affinity keeps them (another node answers 402::unknown_client).
  const size_t line_end = bytes.find("\r\n");
  const bool cometd = bytes.substr(0, line_end).find("/notifications") != std::string::npos ||
                      bytes.substr(0, line_end).find("/cometd") != std::string::npos;
  cur_ = cometd ? 0 : (cur_ + 1) % conns_.size();
  if (!Write(bytes)) return HttpReply();
  return ReadReply();
}

HttpReply HttpClient::Request(const std::string& method, const std::string& target,
                              const std::string& body,
                              const std::vector<std::string>& extra_headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const std::string& h : extra_headers) req += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  HttpReply reply = SendRaw(req);
  if (reply.status == 0) {  // the server may have closed an idle connection: retry once
    Connect();
    if (Write(req)) reply = ReadReply();
  }
  return reply;
}

}  // namespace contextd::testing
