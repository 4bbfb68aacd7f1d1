#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace contextd::testing {

// The real contextd binary, started on port 0 with its own data directory.
class ServerProcess {
 public:
  // Starts `binary --port 0 --data-dir data_dir extra_args...` and waits for its
  // "listening" line. Throws std::runtime_error if it does not come up. Without an
  // --admin-key among the args the server runs without API keys (--no-auth): the suites
  // that test access control give one. `env`: "NAME=VALUE" entries set in the server's
  // environment on top of the test's (LD_PRELOAD of a fault shim, for example).
  ServerProcess(const std::string& binary, const std::string& data_dir,
                const std::vector<std::string>& extra_args = {},
                const std::vector<std::string>& env = {});
  ~ServerProcess();  // SIGKILL if still running

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }  // -1 once stopped

  // SIGTERM and wait; returns the exit status (0 for a clean shutdown), -1 on a signal.
  int Stop();
  // SIGKILL and wait.
  void Kill();

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace contextd::testing
