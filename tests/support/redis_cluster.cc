#include "tests/support/redis_cluster.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "tests/support/command.h"
#include "tests/support/eventually.h"

namespace contextd::testing {
namespace {

std::string Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1));
}

// `s` as one word for /bin/sh.
std::string ShellQuote(std::string_view s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The process exists and is not a zombie (a killed node lingers as one until reaped).
bool Running(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("State:", 0) == 0) return line.find_first_of("ZX", 6) == std::string::npos;
  }
  return false;
}

}  // namespace

RedisCluster::RedisCluster() {
  Script("start");  // with CONTEXTD_REDIS_OWNER_PID: leaves the watchdog
  std::ifstream seeds(dir_.path() + "/seeds");
  std::getline(seeds, seeds_);
  if (seeds_.empty()) throw std::runtime_error("redis_cluster.sh start wrote no seeds");
}

RedisCluster::~RedisCluster() {
  RunCommand(ShellQuote(CONTEXTD_REDIS_CLUSTER_SH) + " stop " + ShellQuote(dir_.path()));
}

std::string RedisCluster::Script(const std::string& command, const std::string& args) {
  const std::string line = "CONTEXTD_REDIS_OWNER_PID=" + std::to_string(getpid()) + " " +
                           ShellQuote(CONTEXTD_REDIS_CLUSTER_SH) + " " + command + " " +
                           ShellQuote(dir_.path()) + (args.empty() ? "" : " " + args);
  CommandResult r = RunCommand(line);
  if (r.code != 0) {
    throw std::runtime_error("redis_cluster.sh " + command + " " + args + " failed (exit " +
                             std::to_string(r.code) + "):\n" + r.output);
  }
  return Trim(r.output);
}

uint16_t RedisCluster::MasterOfSlot(int slot) {
  return static_cast<uint16_t>(std::stoi(Script("master-of-slot", std::to_string(slot))));
}

pid_t RedisCluster::Pid(uint16_t port) {
  return static_cast<pid_t>(std::stoi(Script("pid", std::to_string(port))));
}

void RedisCluster::KillNode(uint16_t port) {
  const pid_t pid = Pid(port);
  if (kill(pid, SIGKILL) != 0) throw std::runtime_error("kill " + std::to_string(pid) + " failed");
  if (!Eventually([pid] { return !Running(pid); })) {
    throw std::runtime_error("node " + std::to_string(port) + " survived SIGKILL");
  }
}

void RedisCluster::Restart(uint16_t port) { Script("restart", std::to_string(port)); }

void RedisCluster::WaitHealthy(uint16_t skip_port) {
  Script("wait", skip_port == 0 ? "" : std::to_string(skip_port));
}

std::string SharedClusterSeeds() {
  const char* file = getenv("CONTEXTD_REDIS_SEEDS_FILE");
  if (file == nullptr || *file == '\0') return "";
  std::ifstream in(file);
  if (!in) throw std::runtime_error(std::string("cannot read CONTEXTD_REDIS_SEEDS_FILE ") + file);
  std::stringstream contents;
  contents << in.rdbuf();
  return Trim(contents.str());
}

}  // namespace contextd::testing
