// The ceiling for `make bench`: the most trivial Pistache handler (a fixed JSON body, the
// keep-alive fix, nothing else) on the same library and threads as contextd.
//
//   ceiling_server PORT THREADS

#include <signal.h>

#include <cstdio>
#include <string>

#include "pistache/endpoint.h"
#include "pistache/http.h"

namespace {

using namespace Pistache;

class Trivial final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Trivial)
  void onRequest(const Http::Request&, Http::ResponseWriter response) override {
    // Pistache 0.0.5 answers `Connection: Close` to requests without the header (engineering
    // notes 1.2); replace it so HTTP/1.1 clients keep their connection.
    response.headers().remove<Http::Header::Connection>();
    response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    response.send(Http::Code::Ok, R"({"status":"ok"})", MIME(Application, Json));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ceiling_server PORT THREADS\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  Http::Endpoint endpoint(Address(Ipv4::loopback(), Port(static_cast<uint16_t>(std::stoi(argv[1])))));
  endpoint.init(Http::Endpoint::options().threads(std::stoi(argv[2])).flags(
      Tcp::Options::ReuseAddr | Tcp::Options::NoDelay));
  endpoint.setHandler(Http::make_handler<Trivial>());
  endpoint.serveThreaded();
  std::printf("ceiling listening on 127.0.0.1:%u\n", static_cast<unsigned>(endpoint.getPort()));
  std::fflush(stdout);
  int sig;
  sigwait(&stop, &sig);
  endpoint.shutdown();
  return 0;
}
