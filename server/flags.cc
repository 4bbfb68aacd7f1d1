#include "server/flags.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "query/timestamp.h"

namespace contextd::server {

const char kUsage[] = R"(usage: contextd [flags]
       contextd import [--data-dir=DIR] [--tenant=T] FILE|-   (see contextd import --help)
       contextd check [--data-dir=DIR]                        (see contextd check --help)

Serves the Genesys Context Services API (/genesys/1/cs/...), the interaction history dialects
(Pega, LCM, /contextd/v1) and the Workspace API (/api/v2, CometD) on an embedded RocksDB, or
on a Redis Cluster shared by any number of contextd nodes (--redis-cluster).

Every flag can also be set by an environment variable, CONTEXTD_ and the flag's name in capitals
with '-' as '_' (CONTEXTD_PORT=9000, CONTEXTD_CSRF=true); a flag on the command line wins.

  --address=ADDR         listen address (default 127.0.0.1; 0.0.0.0 for all interfaces)
  --port=N               listen port (default 8080; 0 picks a free port)
  --data-dir=DIR         RocksDB directory, created if missing (default ./data)
  --disk-reserve-mb=N    writes are refused (503, Retry-After) while the data directory's
                           disk has less free space than this, and resume once it has; start
                           fails on such a disk (default 64)
  --redis-cluster=HOST:PORT[,HOST:PORT...]
                         keep every record in this Redis Cluster (any of its nodes; the rest
                           are discovered) instead of --data-dir: contextd nodes sharing it
                           serve the same data
  --redis-user=NAME      Redis ACL user (default: the default user)
  --redis-password=PW    Redis password (CONTEXTD_REDIS_PASSWORD keeps it out of the
                           process list)
  --redis-wait-replicas=N
                         a write is acknowledged once N Redis replicas confirm it (WAIT);
                           unconfirmed in time, it is answered 503 with Retry-After (in doubt)
                           (default 1; 0: once the master has it)
  --redis-key-prefix=P   follows the hash tag of every key: deployments sharing a cluster
                           each see only their own records (default empty)
  --threads=N            HTTP worker threads (default 2)
  --sync=always|batch|none
                         always (default): a write is acknowledged once its WAL is fsynced;
                           concurrent writes share one fsync (group commit) on a commit
                           thread, so HTTP workers never wait on the disk;
                         batch: acknowledged at once, the WAL is fsynced every 10 ms (a
                           machine crash loses at most the last 10 ms of writes);
                         none: acknowledged at once, never fsynced by contextd (a machine
                           crash may lose the last seconds; a process crash loses nothing)
  --max-body-bytes=N     largest accepted request body (default 1048576)
  --max-connections=N    connections served at once; more are answered 503 and closed
                           (default: the fd limit, raised to its hard limit, less 1024)
  --idle-timeout-s=N     close a connection idle this long, or whose client reads none of
                           its replies this long (default 75)
  --log-level=LEVEL      debug|info|warn|error|off (default info: one JSON line per request
                           on stderr)
  --lcm-time-zone=ZONE   IANA zone of LCM GetCustomerJourney times (default UTC)
  --admin-key=KEY        an admin API key (at least 32 characters) accepted besides those
                           created at POST /contextd/v1/keys, for the first admin calls; not
                           stored (CONTEXTD_ADMIN_KEY keeps it out of the process list)
  --no-auth              development only: requests without an API key act as an admin of
                           every tenant; refused unless --address is a loopback address
  --admin=NAME:PASSWORD  create this Contact Center Admin (default tenant) at start unless the
                           name exists (CONTEXTD_ADMIN keeps the password out of the
                           process list)
  --csrf                 Workspace API: cookie-authenticated writes must send the session's
                           X-CSRF-TOKEN (GET replies carry it) (default off)
  --session-idle-s=N     Workspace API session idle timeout (default 1800)
  --cometd-hold-ms=N     longest a CometD connect is held (default 25000, at most 28000)
  --auth-failures-per-address=N
                         failed sign-ins (and, apart, failed API key checks) one source
                           address may make per minute before it is answered 429 with
                           Retry-After (default 50; 0: no limit)
  --auth-failures-per-name=N
                         the same per Workspace user name and per API key id (default 10)
  --recover-anyway       start even though the write-ahead log is damaged or synced writes
                           are missing (contextd refuses to start on that by default): keeps
                           what precedes the damage and logs what was dropped; ids are never
                           handed out twice. Command line only, never from the environment
  --fixed-now=TIMESTAMP  for tests: every request sees this time (YYYY-MM-DDTHH:MM:SS.sssZ)
                           instead of the system clock (default: the system clock)
  --help                 print this help

On start it prints "contextd listening on ADDR:PORT". SIGINT or SIGTERM stop it cleanly.
)";

namespace {

// The flags an environment variable can set (CONTEXTD_<NAME>).
constexpr const char* kFlagNames[] = {
    "address",        "port",           "data-dir",      "threads",   "sync",
    "max-body-bytes", "log-level",      "lcm-time-zone", "admin",     "csrf",
    "session-idle-s", "cometd-hold-ms", "fixed-now",     "admin-key", "no-auth",
    "max-connections", "idle-timeout-s", "disk-reserve-mb", "auth-failures-per-address",
    "auth-failures-per-name", "redis-cluster", "redis-user", "redis-password",
    "redis-wait-replicas", "redis-key-prefix"};

// "--name=value" for each flag set in the environment, to be parsed before the command line.
std::vector<std::string> EnvironmentArgs() {
  std::vector<std::string> args;
  for (std::string_view name : kFlagNames) {
    std::string var = "CONTEXTD_";
    for (char c : name) var += c == '-' ? '_' : static_cast<char>(std::toupper(c));
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    if (name == "csrf" || name == "no-auth") {
      if (std::string_view(value) == "true" || std::string_view(value) == "1") {
        args.push_back("--" + std::string(name));
      }
      continue;
    }
    args.push_back("--" + std::string(name) + "=" + value);
  }
  return args;
}

// A held connect counts as a request in progress for Pistache's transport, which answers 408
// and closes after its 30 s request timeout (http_server.cc): holds stay below that.
constexpr uint64_t kMaxHoldMs = 28000;

bool ParseNumber(std::string_view text, uint64_t max, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out <= max;
}

bool ParseArgs(int argc, char** argv, Flags* flags, bool* help) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg, value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg != "--help" && arg != "--csrf" && arg != "--no-auth" &&
               arg != "--recover-anyway" && i + 1 < argc) {
      value = argv[++i];
    }
    uint64_t n = 0;
    if (name == "--help" || name == "-h") {
      *help = true;
    } else if (name == "--address" && !value.empty()) {
      flags->http.address = std::string(value);
    } else if (name == "--port" && ParseNumber(value, 65535, &n)) {
      flags->http.port = static_cast<uint16_t>(n);
    } else if (name == "--data-dir" && !value.empty()) {
      flags->data_dir = std::string(value);
    } else if (name == "--redis-cluster" && !value.empty()) {
      flags->redis.cluster = std::string(value);
    } else if (name == "--redis-user") {
      flags->redis.user = std::string(value);
    } else if (name == "--redis-password") {
      flags->redis.password = std::string(value);
    } else if (name == "--redis-wait-replicas" && ParseNumber(value, 16, &n)) {
      flags->redis.wait_replicas = static_cast<int>(n);
    } else if (name == "--redis-key-prefix") {
      flags->redis.key_prefix = std::string(value);
    } else if (name == "--threads" && ParseNumber(value, 256, &n) && n > 0) {
      flags->http.threads = static_cast<int>(n);
    } else if (name == "--sync" && value == "always") {
      flags->http.durability = Durability::kAlways;
    } else if (name == "--sync" && value == "batch") {
      flags->http.durability = Durability::kBatch;
    } else if (name == "--sync" && value == "none") {
      flags->http.durability = Durability::kNone;
    } else if (name == "--max-body-bytes" && ParseNumber(value, uint64_t{1} << 30, &n) && n > 0) {
      flags->http.max_body_bytes = n;
    } else if (name == "--disk-reserve-mb" && ParseNumber(value, uint64_t{1} << 20, &n)) {
      flags->disk_reserve_mb = n;
    } else if (name == "--max-connections" && ParseNumber(value, 1 << 24, &n) && n > 0) {
      flags->http.max_connections = n;
    } else if (name == "--idle-timeout-s" && ParseNumber(value, 86400, &n) && n > 0) {
      flags->http.idle_timeout = std::chrono::seconds(n);
    } else if (name == "--admin" && value.find(':') != std::string_view::npos) {
      flags->admin = std::string(value);
    } else if (name == "--csrf") {
      flags->csrf = true;
    } else if (name == "--no-auth") {
      flags->no_auth = true;
    } else if (name == "--recover-anyway" && value.empty()) {
      flags->recover_anyway = true;
    } else if (name == "--admin-key" && value.size() >= 32) {
      flags->admin_key = std::string(value);
    } else if (name == "--cometd-hold-ms" && ParseNumber(value, kMaxHoldMs, &n) && n > 0) {
      flags->cometd_hold_ms = n;
    } else if (name == "--session-idle-s" && ParseNumber(value, 86400 * 30, &n) && n > 0) {
      flags->session_idle_s = n;
    } else if (name == "--auth-failures-per-address" && ParseNumber(value, 1u << 30, &n)) {
      flags->auth_failures_per_address = static_cast<uint32_t>(n);
    } else if (name == "--auth-failures-per-name" && ParseNumber(value, 1u << 30, &n)) {
      flags->auth_failures_per_name = static_cast<uint32_t>(n);
    } else if (name == "--log-level" && ParseLogLevel(value, &flags->log_level)) {
    } else if (name == "--lcm-time-zone" && !value.empty()) {
      flags->lcm_time_zone = std::string(value);
    } else if (name == "--fixed-now" && contextd::query::ParseTimestamp(value).ok()) {
      flags->http.fixed_now_ms = *contextd::query::ParseTimestamp(value);
    } else {
      std::fprintf(stderr, "contextd: bad flag '%s'\n\n%s", argv[i], kUsage);
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsLoopback(std::string_view address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

bool ParseFlags(int argc, char** argv, Flags* flags, bool* help) {
  std::vector<std::string> args = EnvironmentArgs();
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  std::vector<char*> arg_ptrs = {argv[0]};
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  return ParseArgs(static_cast<int>(arg_ptrs.size()), arg_ptrs.data(), flags, help);
}

}  // namespace contextd::server
