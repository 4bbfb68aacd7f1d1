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

HttpClient::HttpClient(uint16_t port) : port_(port) { Connect(); }

HttpClient::~HttpClient() {
  if (fd_ >= 0) close(fd_);
}

void HttpClient::Connect() {
  if (fd_ >= 0) close(fd_);
  buffered_.clear();
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect failed");
  }
}

bool HttpClient::Write(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

HttpReply HttpClient::ReadReply(bool head_request) {
  HttpReply reply;
  auto fill = [&]() {
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t head_end;
  while ((head_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return reply;
  }
  std::string head = buffered_.substr(0, head_end);
  buffered_.erase(0, head_end + 4);
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
  while (buffered_.size() < length) {
    if (!fill()) break;
  }
  reply.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return reply;
}

bool HttpClient::ReadEof() {
  if (!buffered_.empty()) return false;
  char c;
  return recv(fd_, &c, 1, 0) == 0;
}

bool HttpClient::QuietFor(std::chrono::milliseconds wait) {
  if (!buffered_.empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(wait.count())) == 0;
}

bool HttpClient::ShutdownWrite() { return shutdown(fd_, SHUT_WR) == 0; }

HttpReply HttpClient::SendRaw(const std::string& bytes) {
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
    reply = SendRaw(req);
  }
  return reply;
}

}  // namespace contextd::testing
