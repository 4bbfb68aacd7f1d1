#include "storage/id_high_water.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace contextd::storage {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto digit = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

bool ParseU64(std::string_view text, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

absl::Status IoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(what + " " + path + ": " + strerror(errno));
}

}  // namespace

absl::StatusOr<std::map<std::string, uint64_t>> ReadIdHighWater(const std::string& dir) {
  const std::string path = dir + "/" + kIdHighWaterFile;
  std::map<std::string, uint64_t> limits;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) return absl::UnavailableError("cannot read " + path + ": " + ec.message());
  if (!exists) return limits;
  std::ifstream in(path);
  if (!in) return IoError("cannot read", path);
  const auto corrupt = [&path](const std::string& why) {
    return absl::DataLossError(path + " is damaged (" + why +
                               "); it holds the id counters' high-water marks");
  };
  std::string line;
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    if (space == std::string::npos) return corrupt("a line without a space");
    const std::string_view first = std::string_view(line).substr(0, space);
    uint64_t n = 0;
    if (!ParseU64(std::string_view(line).substr(space + 1), &n)) {
      return corrupt("a line without a number");
    }
    if (first == "end") {
      if (n != limits.size()) return corrupt("its count disagrees with its lines");
      if (std::getline(in, line)) return corrupt("lines after its end");
      return limits;
    }
    std::string key;
    if (!Unhex(first, &key) || key.empty()) return corrupt("a key that is not hex");
    limits[key] = n;
  }
  if (in.bad()) return IoError("cannot read", path);
  return corrupt("no end line");
}

absl::Status WriteIdHighWater(const std::string& dir,
                              const std::map<std::string, uint64_t>& limits) {
  std::ostringstream text;
  for (const auto& [key, limit] : limits) text << Hex(key) << ' ' << limit << '\n';
  text << "end " << limits.size() << '\n';
  const std::string bytes = text.str();
  const std::string path = dir + "/" + kIdHighWaterFile;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = IoError("cannot write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = IoError("cannot fsync", tmp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return IoError("cannot close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot rename", tmp);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return IoError("cannot open", dir);
  const int synced = ::fsync(dir_fd);
  ::close(dir_fd);
  if (synced != 0) return IoError("cannot fsync", dir);
  return absl::OkStatus();
}

}  // namespace contextd::storage
