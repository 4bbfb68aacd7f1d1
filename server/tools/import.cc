#include "server/tools/import.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "server/api/json.h"
#include "server/cs/cs_json.h"
#include "storage/codec.h"
#include "server/tools/redis_flags.h"
#include "storage/rocksdb_store.h"

namespace contextd::server {
namespace {

constexpr char kUsage[] = R"(usage: contextd import [--data-dir=DIR | --redis-cluster=HOST:PORT,...] [--tenant=T] FILE|-

Loads services from NDJSON (one JSON Service per line, as GET /services/{id} renders it with
every expansion flag and extensions=*) into DIR (default ./data; the server must be stopped)
or into a Redis Cluster (also --redis-user, --redis-password, --redis-key-prefix, as for the
server; nodes may keep serving). Services without service_id get new ids. Every line is
checked before anything is written. Into DIR a failed load leaves nothing; into a cluster it
leaves whole services, each with all its index entries.
)";

struct Line {
  size_t offset;
  size_t size;
  size_t number;  // 1-based, in the file
};

// The non-blank lines of `input`.
std::vector<Line> SplitLines(std::string_view input) {
  std::vector<Line> lines;
  size_t pos = 0, number = 0;
  while (pos < input.size()) {
    size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    ++number;
    std::string_view line = input.substr(pos, end - pos);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      lines.push_back({pos, line.size(), number});
    }
    pos = end + 1;
  }
  return lines;
}

// The line number in a "line N: ..." message.
size_t LineOf(const absl::Status& s) { return std::stoul(std::string(s.message().substr(5))); }

absl::StatusOr<storage::Service> ParseLine(std::string_view line) {
  absl::StatusOr<storage::Value> json = ParseJson(line);
  if (!json.ok()) return json.status();
  return ParseServiceRecord(std::move(*json));
}

// On a terminal, a progress bar on standard error: the lines checked, then the write.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO)) {}

  void Checked(size_t done, size_t total) const {
    if (!tty_) return;
    const int width = 40;
    const int filled = total ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\r[%s%s] checked %zu/%zu services, %.0f/s",
                 std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(), done,
                 total, Seconds() > 0 ? static_cast<double>(done) / Seconds() : 0);
  }
  void Writing(size_t total) const {
    if (tty_) std::fprintf(stderr, "\nindexing and writing %zu services...\n", total);
  }

  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "contextd import: %s\n", message.c_str());
  return 1;
}

}  // namespace

int RunImport(int argc, char** argv) {
  std::string data_dir = "./data", tenant, path;
  RedisFlags redis;
  RedisFlagsFromEnvironment(&redis);
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (ParseRedisFlag(argc, argv, &i, &redis)) {
      continue;
    } else if (arg.rfind("--data-dir=", 0) == 0) {
      data_dir = arg.substr(11);
    } else if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg.rfind("--tenant=", 0) == 0) {
      tenant = arg.substr(9);
    } else if (arg == "--tenant" && i + 1 < argc) {
      tenant = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (path.empty() && !arg.empty() && (arg == "-" || arg.front() != '-')) {
      path = arg;
    } else {
      std::fprintf(stderr, "contextd import: bad argument '%s'\n\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  Progress progress;
  // The input is mapped (a file) or read (standard input) into memory once.
  std::string stdin_copy;
  std::string_view input;
  void* mapped = MAP_FAILED;
  size_t mapped_size = 0;
  if (path == "-") {
    std::stringstream copy;
    copy << std::cin.rdbuf();
    stdin_copy = copy.str();
    input = stdin_copy;
  } else {
    int fd = ::open(path.c_str(), O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return Fail("cannot read " + path);
    mapped_size = static_cast<size_t>(st.st_size);
    if (mapped_size > 0) {
      mapped = mmap(nullptr, mapped_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (mapped == MAP_FAILED) return Fail("cannot map " + path);
      madvise(mapped, mapped_size, MADV_SEQUENTIAL);
      input = std::string_view(static_cast<const char*>(mapped), mapped_size);
    }
    ::close(fd);
  }

  absl::StatusOr<std::unique_ptr<storage::Store>> store;
  if (!redis.cluster.empty()) {
    store = OpenRedis(redis);
    if (!store.ok()) return Fail(std::string(store.status().message()));
  } else {
    storage::RocksDbOptions options;
    options.path = data_dir;
    options.sync = false;
    store = storage::OpenRocksDbStore(options);
    if (!store.ok()) {
      return Fail(std::string(store.status().message()) + " (stop the server first)");
    }
  }

  // Phase 1, on every core: parse and check every line, keep each service encoded.
  std::vector<Line> lines = SplitLines(input);
  std::vector<std::string> encoded(lines.size());
  const unsigned threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<absl::Status> errors(threads);
  struct Counts {
    size_t states = 0, tasks = 0;
  };
  std::vector<Counts> counts(threads);
  std::atomic<size_t> checked{0};
  std::atomic<unsigned> finished{0};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      struct Finished {
        std::atomic<unsigned>* finished;
        ~Finished() { finished->fetch_add(1); }
      } on_exit{&finished};
      for (size_t i = t; i < lines.size(); i += threads) {
        if ((i / threads) % 4096 == 0) checked.fetch_add(4096);
        absl::StatusOr<storage::Service> s =
            ParseLine(input.substr(lines[i].offset, lines[i].size));
        if (!s.ok()) {
          errors[t] = absl::InvalidArgumentError("line " + std::to_string(lines[i].number) + ": " +
                                                 std::string(s.status().message()));
          return;
        }
        counts[t].states += s->states.size();
        counts[t].tasks += s->tasks.size();
        encoded[i] = storage::EncodeService(*s);
      }
    });
  }
  while (finished.load() < threads) {
    progress.Checked(std::min(checked.load(), lines.size()), lines.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (std::thread& w : workers) w.join();
  // The first bad line in file order wins.
  const absl::Status* first_error = nullptr;
  for (const absl::Status& e : errors) {
    if (!e.ok() && (first_error == nullptr || LineOf(e) < LineOf(*first_error))) first_error = &e;
  }
  if (first_error) return Fail(std::string(first_error->message()) + "; nothing was imported");
  std::unique_ptr<storage::BulkLoader> loader = (*store)->NewBulkLoader(tenant);
  std::unordered_set<uint64_t> ids;
  uint64_t max_id = 0, unassigned = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const uint64_t id = storage::PeekServiceId(encoded[i]);
    if (id == 0) {
      ++unassigned;
      continue;
    }
    absl::StatusOr<bool> in_use = loader->IdInUse(id);
    if (!in_use.ok()) {
      return Fail("line " + std::to_string(lines[i].number) + ": cannot tell whether service_id " +
                  std::to_string(id) + " is stored (" + std::string(in_use.status().message()) +
                  "); nothing was imported");
    }
    if (!ids.insert(id).second || *in_use) {
      return Fail("line " + std::to_string(lines[i].number) + ": service_id " + std::to_string(id) +
                  " appears twice or already exists; nothing was imported");
    }
    max_id = std::max(max_id, id);
  }
  if (absl::Status s = loader->ReserveIds(max_id, unassigned); !s.ok()) {
    return Fail("cannot reserve service ids: " + std::string(s.message()));
  }

  // Phase 2: hand the records to the loader, which indexes, sorts and writes them at Finish.
  const double parse_s = progress.Seconds();
  progress.Checked(lines.size(), lines.size());
  progress.Writing(lines.size());
  size_t done = 0, states = 0, tasks = 0;
  for (const Counts& c : counts) {
    states += c.states;
    tasks += c.tasks;
  }
  absl::Status loaded = absl::OkStatus();
  for (std::string& bytes : encoded) {
    absl::StatusOr<uint64_t> id = loader->Add(std::move(bytes));
    std::string().swap(bytes);
    if (!id.ok()) {
      loaded = id.status();
      break;
    }
    ++done;
  }
  if (loaded.ok()) loaded = loader->Finish();
  const double loaded_s = progress.Seconds();
  if (loaded.ok()) loaded = loader->Compact();
  if (mapped != MAP_FAILED) munmap(mapped, mapped_size);
  if (!loaded.ok()) {
    return Fail(std::string("import failed, ") +
                (redis.cluster.empty() ? "nothing was imported: "
                                       : "only whole services were written: ") +
                std::string(loaded.message()));
  }
  std::printf(
      "imported %zu services (%zu states, %zu tasks) in %.2f s (check %.2f s, index and write "
      "%.2f s): %.0f services/s; then compacted in %.2f s\n",
      done, states, tasks, loaded_s, parse_s, loaded_s - parse_s,
      loaded_s > 0 ? static_cast<double>(done) / loaded_s : 0, progress.Seconds() - loaded_s);
  return 0;
}

}  // namespace contextd::server
