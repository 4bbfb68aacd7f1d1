// contextd: the customer-context service. Flags are described by --help.

#include <pthread.h>
#include <signal.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "query/engine.h"
#include "query/history.h"
#include "query/timestamp.h"
#include "server/app.h"
#include "server/history/lcm.h"
#include "server/http/http_server.h"
#include "server/http/request_log.h"
#include "server/tools/check.h"
#include "server/tools/import.h"
#include "server/workspace/cometd.h"
#include "storage/rocksdb_store.h"

namespace {

constexpr char kUsage[] = R"(usage: contextd [flags]
       contextd import [--data-dir=DIR] [--tenant=T] FILE|-   (see contextd import --help)
       contextd check [--data-dir=DIR]                        (see contextd check --help)

Serves the Genesys Context Services API (/genesys/1/cs/...), the interaction history dialects
(Pega, LCM, /contextd/v1) and the Workspace API (/api/v2, CometD) on an embedded RocksDB.

Every flag can also be set by an environment variable, CONTEXTD_ and the flag's name in capitals
with '-' as '_' (CONTEXTD_PORT=9000, CONTEXTD_CSRF=true); a flag on the command line wins.

  --address=ADDR         listen address (default 127.0.0.1; 0.0.0.0 for all interfaces)
  --port=N               listen port (default 8080; 0 picks a free port)
  --data-dir=DIR         RocksDB directory, created if missing (default ./data)
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
  --fixed-now=TIMESTAMP  for tests: every request sees this time (YYYY-MM-DDTHH:MM:SS.sssZ)
                           instead of the system clock (default: the system clock)
  --help                 print this help

On start it prints "contextd listening on ADDR:PORT". SIGINT or SIGTERM stop it cleanly.
)";

// The flags an environment variable can set (CONTEXTD_<NAME>).
constexpr const char* kFlagNames[] = {
    "address",        "port",           "data-dir",      "threads", "sync",
    "max-body-bytes", "log-level",      "lcm-time-zone", "admin",   "csrf",
    "session-idle-s", "cometd-hold-ms", "fixed-now",     "admin-key", "no-auth"};

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

struct Flags {
  contextd::server::HttpOptions http;
  std::string data_dir = "./data";
  std::string lcm_time_zone = "UTC";
  std::string admin;  // NAME:PASSWORD
  std::string admin_key;
  bool no_auth = false;
  bool csrf = false;
  uint64_t session_idle_s = 1800;
  uint64_t cometd_hold_ms = 25000;
  contextd::server::LogLevel log_level = contextd::server::LogLevel::kInfo;
};

bool ParseNumber(std::string_view text, uint64_t max, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out <= max;
}

// Returns false (after printing why) on a bad flag.
bool ParseFlags(int argc, char** argv, Flags* flags, bool* help) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg, value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg != "--help" && arg != "--csrf" && arg != "--no-auth" && i + 1 < argc) {
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
    } else if (name == "--threads" && ParseNumber(value, 256, &n) && n > 0) {
      flags->http.threads = static_cast<int>(n);
    } else if (name == "--sync" && value == "always") {
      flags->http.durability = contextd::server::Durability::kAlways;
    } else if (name == "--sync" && value == "batch") {
      flags->http.durability = contextd::server::Durability::kBatch;
    } else if (name == "--sync" && value == "none") {
      flags->http.durability = contextd::server::Durability::kNone;
    } else if (name == "--max-body-bytes" && ParseNumber(value, uint64_t{1} << 30, &n) && n > 0) {
      flags->http.max_body_bytes = n;
    } else if (name == "--admin" && value.find(':') != std::string_view::npos) {
      flags->admin = std::string(value);
    } else if (name == "--csrf") {
      flags->csrf = true;
    } else if (name == "--no-auth") {
      flags->no_auth = true;
    } else if (name == "--admin-key" && value.size() >= 32) {
      flags->admin_key = std::string(value);
    } else if (name == "--cometd-hold-ms" && ParseNumber(value, kMaxHoldMs, &n) && n > 0) {
      flags->cometd_hold_ms = n;
    } else if (name == "--session-idle-s" && ParseNumber(value, 86400 * 30, &n) && n > 0) {
      flags->session_idle_s = n;
    } else if (name == "--log-level" && contextd::server::ParseLogLevel(value, &flags->log_level)) {
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

bool IsLoopback(std::string_view address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "import") {
    return contextd::server::RunImport(argc - 2, argv + 2);
  }
  if (argc > 1 && std::string_view(argv[1]) == "check") {
    return contextd::server::RunCheck(argc - 2, argv + 2);
  }
  Flags flags;
  bool help = false;
  std::vector<std::string> args = EnvironmentArgs();
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  std::vector<char*> arg_ptrs = {argv[0]};
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  if (!ParseFlags(static_cast<int>(arg_ptrs.size()), arg_ptrs.data(), &flags, &help)) return 2;
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }

  if (flags.no_auth && !IsLoopback(flags.http.address)) {
    std::fprintf(stderr, "contextd: --no-auth serves only a loopback address, not %s\n",
                 flags.http.address.c_str());
    return 2;
  }
  if (absl::Status s = contextd::server::SetLcmTimeZone(flags.lcm_time_zone); !s.ok()) {
    std::fprintf(stderr, "contextd: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::error_code ec;
  std::filesystem::create_directories(flags.data_dir, ec);
  contextd::storage::RocksDbOptions store_options;
  store_options.path = flags.data_dir;
  store_options.sync = false;  // durability comes from the HTTP server's commit path
  auto store = contextd::storage::OpenRocksDbStore(store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "contextd: cannot open %s: %s\n", flags.data_dir.c_str(),
                 std::string(store.status().message()).c_str());
    return 1;
  }
  auto access = contextd::query::Access::Open(store->get(), flags.admin_key);
  if (!access.ok()) {
    std::fprintf(stderr, "contextd: cannot load the API keys: %s\n",
                 access.status().ToString().c_str());
    return 1;
  }
  contextd::query::Engine engine(store->get());
  contextd::query::History history(store->get());
  contextd::query::WorkspaceOptions workspace_options;
  workspace_options.session_idle_ms = static_cast<int64_t>(flags.session_idle_s) * 1000;
  contextd::query::Workspace workspace(store->get(), &history, workspace_options);
  if (absl::Status s = workspace.Load(); !s.ok()) {
    std::fprintf(stderr, "contextd: cannot load the workspace: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string& admin = flags.admin;
  if (!admin.empty()) {
    const size_t colon = admin.find(':');
    contextd::query::NewUser user;
    user.user_name = admin.substr(0, colon);
    user.password = colon == std::string::npos ? "" : admin.substr(colon + 1);
    user.roles = {contextd::query::kRoleAdmin};
    if (absl::Status s = workspace.EnsureUser("", user); !s.ok()) {
      std::fprintf(stderr, "contextd: cannot create the admin: %s\n",
                   std::string(s.message()).c_str());
      return 2;
    }
  }
  // Declared before the hub: held CometD replies completed when the hub is destroyed (after
  // the server) are still logged.
  contextd::server::RequestLog log(stderr, flags.log_level);
  flags.http.log = &log;
  contextd::server::CometdOptions cometd_options;
  cometd_options.hold = std::chrono::milliseconds(flags.cometd_hold_ms);
  contextd::server::Cometd cometd(cometd_options);
  workspace.SetListener(&cometd);
  contextd::server::App app({&engine, &history, {access->get(), flags.no_auth},
                             {&workspace, &cometd, flags.csrf}, store->get()});
  contextd::storage::Store* durable = store->get();
  contextd::server::HttpServer server(&app.api(), &app.latencies(),
                                      [durable] { return durable->Sync(); }, flags.http);
  auto port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "contextd: %s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  std::printf("contextd listening on %s:%u\n", flags.http.address.c_str(), *port);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log.Message(contextd::server::LogLevel::kInfo,
              std::string(strsignal(sig)) + " received, shutting down");
  cometd.ReleaseAll();  // held CometD connects are answered while connections are open
  server.Shutdown();    // joins the workers before the store closes
  store->reset();
  return 0;
}
