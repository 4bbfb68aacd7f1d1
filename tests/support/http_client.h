#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace contextd::testing {

struct HttpReply {
  int status = 0;                              // 0: no reply (connection closed or timed out)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A minimal blocking HTTP/1.1 client over one keep-alive TCP connection to 127.0.0.1, able
// to send malformed bytes too. Replies must carry Content-Length (contextd's always do).
//
// Given several ports (contextd nodes over one shared store), it keeps a connection to each and
// sends each Request or SendRaw to the next node in turn, but CometD's (a target with
// /notifications or /cometd) always to the first; Write, ReadReply, ShutdownWrite, ReadEof and
// QuietFor act on the connection of the last Request or SendRaw.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port);
  explicit HttpClient(const std::vector<uint16_t>& ports);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpReply Request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::string>& extra_headers = {});
  HttpReply Get(const std::string& target) { return Request("GET", target); }
  HttpReply Post(const std::string& target, const std::string& body) {
    return Request("POST", target, body);
  }

  // Sends `bytes` as they are and reads one reply.
  HttpReply SendRaw(const std::string& bytes);
  // Sends bytes without reading.
  bool Write(const std::string& bytes);
  // Shuts down the sending side (the server reads the end of the input); replies can still
  // be read.
  bool ShutdownWrite();
  // `head`: the reply to a HEAD request (its Content-Length describes a body not sent).
  HttpReply ReadReply(bool head = false);
  // True when the server closes the connection (within the 10 s receive timeout) with
  // nothing more to read.
  bool ReadEof();
  // True when nothing arrives from the server within `wait` (nothing buffered either): the
  // server has not answered, nor closed. A bounded read that must time out.
  bool QuietFor(std::chrono::milliseconds wait);

 private:
  struct Connection {
    uint16_t port;
    int fd;
    std::string buffered;
  };
  void Connect();  // (re)connects the current connection
  int& fd() { return conns_[cur_].fd; }
  std::string& buffered() { return conns_[cur_].buffered; }

  std::vector<Connection> conns_;
  size_t cur_ = 0;
};

}  // namespace contextd::testing
