// contextd: the customer-context service. Wires the store, the query layer and the dialects
// together and serves them until SIGINT or SIGTERM (flags: server/flags.h, --help).

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "query/engine.h"
#include "query/history.h"
#include "query/throttle.h"
#include "server/api/offload.h"
#include "server/app.h"
#include "server/flags.h"
#include "server/history/lcm.h"
#include "server/http/http_server.h"
#include "server/http/request_log.h"
#include "server/tools/check.h"
#include "server/tools/import.h"
#include "server/workspace/cometd.h"
#include "storage/rocksdb_store.h"

namespace {

// Runs `fn` every `period` on a thread of its own until Stop (or destruction).
class Periodic {
 public:
  Periodic(std::chrono::milliseconds period, std::function<void()> fn)
      : thread_([this, period, fn = std::move(fn)] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!cv_.wait_for(lock, period, [this] { return stopping_; })) {
            lock.unlock();
            fn();
            lock.lock();
          }
        }) {}
  ~Periodic() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last: starts once the rest is built
};

// Opens the backend the flags choose: the Redis Cluster, or RocksDB in the data directory.
// Prints why on failure (the caller exits 1).
absl::StatusOr<std::unique_ptr<contextd::storage::Store>> OpenStore(
    const contextd::server::Flags& flags, contextd::server::RequestLog& log) {
  if (!flags.redis.cluster.empty()) {
    auto store = contextd::server::OpenRedis(flags.redis);
    if (!store.ok()) {
      std::fprintf(stderr, "contextd: cannot use the Redis cluster at %s: %s\n",
                   flags.redis.cluster.c_str(), std::string(store.status().message()).c_str());
    }
    return store;
  }
  std::error_code ec;
  std::filesystem::create_directories(flags.data_dir, ec);
  contextd::storage::RocksDbOptions store_options;
  store_options.path = flags.data_dir;
  store_options.sync = false;  // durability comes from the HTTP server's commit path
  store_options.disk_reserve_bytes = flags.disk_reserve_mb << 20;
  store_options.recover_anyway = flags.recover_anyway;
  contextd::storage::RecoveryReport recovery;
  const auto open_started = std::chrono::steady_clock::now();
  auto store = contextd::storage::OpenRocksDbStore(store_options, &recovery);
  if (!store.ok()) {
    std::fprintf(stderr, "contextd: cannot open %s: %s\n", flags.data_dir.c_str(),
                 std::string(store.status().message()).c_str());
    if (store.status().code() == absl::StatusCode::kDataLoss) {
      std::fprintf(stderr,
                   "contextd: refusing to start. Inspect with `contextd check --data-dir=%s`; "
                   "to start with what precedes the damage, run contextd once with "
                   "--recover-anyway (it logs what is dropped and never hands out an id "
                   "twice)\n",
                   flags.data_dir.c_str());
    }
    return store;
  }
  const auto open_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - open_started)
                           .count();
  for (const std::string& line : recovery.torn_tail) {
    log.Message(contextd::server::LogLevel::kWarn,
                "the newest WAL file ends in a record torn by a crash during its write (never "
                "acknowledged), dropped: " +
                    line);
  }
  for (const std::string& line : recovery.dropped) {
    log.Message(contextd::server::LogLevel::kWarn, "--recover-anyway dropped: " + line);
  }
  log.Message(contextd::server::LogLevel::kInfo,
              "recovered in " + std::to_string(open_ms) + " ms (replayed " +
                  std::to_string(recovery.wal_files) + " WAL files, " +
                  std::to_string(recovery.wal_bytes) + " bytes)");
  return store;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "import") {
    return contextd::server::RunImport(argc - 2, argv + 2);
  }
  if (argc > 1 && std::string_view(argv[1]) == "check") {
    return contextd::server::RunCheck(argc - 2, argv + 2);
  }
  contextd::server::Flags flags;
  bool help = false;
  if (!contextd::server::ParseFlags(argc, argv, &flags, &help)) return 2;
  if (help) {
    std::fputs(contextd::server::kUsage, stdout);
    return 0;
  }

  if (flags.no_auth && !contextd::server::IsLoopback(flags.http.address)) {
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

  // The log is declared before the app and the hub: held CometD replies completed when the
  // hub is destroyed (after the server) are still measured and logged.
  contextd::server::RequestLog log(stderr, flags.log_level);
  auto store = OpenStore(flags, log);
  if (!store.ok()) return 1;
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
  // The app (which owns the latencies) is declared before the hub, like the log.
  flags.http.log = &log;
  // Before everything holding a connection's state (the app, the hashing pool, the hub):
  // a connection's state counts itself out here when the last of them lets it go.
  contextd::server::ConnectionCounters connections;
  flags.http.counters = &connections;
  std::optional<contextd::server::App> app;
  // Failed authentications are throttled per address and per name, sign-ins and API keys
  // apart; password hashes run on one thread of their own, never on the HTTP workers.
  contextd::query::ThrottleOptions throttle_options;
  throttle_options.address_failures = flags.auth_failures_per_address;
  throttle_options.name_failures = flags.auth_failures_per_name;
  contextd::query::AuthThrottle sign_in_throttle(throttle_options);
  contextd::query::AuthThrottle key_throttle(throttle_options);
  contextd::server::OffloadPool hashing(/*threads=*/1, /*max_queued=*/32);
  contextd::server::CometdOptions cometd_options;
  cometd_options.hold = std::chrono::milliseconds(flags.cometd_hold_ms);
  contextd::server::Cometd cometd(cometd_options);
  workspace.SetListener(&cometd);
  app.emplace(
      contextd::server::Backends{&engine,
                                 &history,
                                 {access->get(), flags.no_auth, &key_throttle},
                                 {&workspace, &cometd, flags.csrf, &hashing, &sign_in_throttle},
                                 store->get()});
  app->AddGauge("contextd_http_connections", "Connections being served.",
                [&connections] { return static_cast<double>(connections.open.load()); });
  app->AddGauge("contextd_http_connections_paused",
                "Connections not read from while their unsent replies are over the bound.",
                [&connections] { return static_cast<double>(connections.paused.load()); });
  app->AddCounter("contextd_http_connections_refused_total",
                "Connections refused at --max-connections.",
                [&connections] { return static_cast<double>(connections.refused.load()); });
  app->AddCounter("contextd_http_connections_overrun_total",
                "Connections closed for sending while reading none of their replies.",
                [&connections] { return static_cast<double>(connections.overrun.load()); });
  // Keys, revocations and tenants other nodes sharing the store make are seen within 200 ms
  // (and at once where a request names one this node does not know).
  Periodic refresher(std::chrono::milliseconds(200), [&access] {
    (*access)->Refresh().IgnoreError();  // an unreachable store: requests see its errors
  });
  // Changes other nodes make to the Workspace reach this node's CometD clients within 50 ms.
  Periodic workspace_poller(std::chrono::milliseconds(50), [&workspace] { workspace.Poll(); });
  contextd::storage::Store* durable = store->get();
  contextd::server::HttpServer server(
      &app->api(), &app->latencies(), [durable] { return durable->Sync(); }, flags.http);
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
  hashing.Stop();       // sign-ins waiting for a hash are answered 503 while connections are open
  cometd.ReleaseAll();  // held CometD connects are answered while connections are open
  server.Shutdown();    // joins the workers before the store closes
  refresher.Stop();
  workspace_poller.Stop();
  store->reset();
  return 0;
}
