#include "tests/support/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace contextd::testing {

ServerProcess::ServerProcess(const std::string& binary, const std::string& data_dir,
                             const std::vector<std::string>& extra_args,
                             const std::vector<std::string>& env) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {binary, "--port", "0", "--data-dir", data_dir};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  bool keys = false;
  for (const std::string& a : extra_args) keys = keys || a.rfind("--admin-key", 0) == 0;
  if (!keys) args.push_back("--no-auth");
  // Built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> environment = env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    bool replaced = false;
    for (const std::string& set : env) {
      replaced = replaced || entry.compare(0, set.find('=') + 1, set, 0, set.find('=') + 1) == 0;
    }
    if (!replaced) environment.push_back(entry);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256];
  unsigned port = 0;
  while (fgets(line, sizeof line, f) != nullptr) {
    std::string s(line);
    size_t at = s.find("listening on ");
    if (at != std::string::npos) {
      port = static_cast<unsigned>(std::stoul(s.substr(s.rfind(':') + 1)));
      break;
    }
  }
  fclose(f);  // the server writes nothing more to stdout
  if (port == 0) {
    Kill();
    throw std::runtime_error("contextd did not start");
  }
  port_ = static_cast<uint16_t>(port);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace contextd::testing
