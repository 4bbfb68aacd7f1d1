#pragma once

// Workspace API credentials: the Basic header and signing in for a session cookie.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/http_client.h"

namespace contextd::testing {

inline std::string Base64(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kTable[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint8_t(in[i]) << 16;
    out += std::string{kTable[(n >> 18) & 63], kTable[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += std::string{kTable[(n >> 18) & 63], kTable[(n >> 12) & 63], kTable[(n >> 6) & 63], '='};
  }
  return out;
}

// The Workspace API's Basic credentials header.
inline std::string BasicAuth(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + Base64(user + ":" + password);
}

// Signs in with GET /api/v2/me and Basic credentials, in `tenant` (its ContactCenterId header)
// unless that is "". Returns the session's "Cookie: JSESSIONID=..." header, or "" when the
// reply is not a 200 that sets a JSESSIONID cookie.
inline std::string SignIn(HttpClient& http, const std::string& user, const std::string& password,
                          const std::string& tenant = "") {
  std::vector<std::string> headers = {BasicAuth(user, password)};
  if (!tenant.empty()) headers.push_back("ContactCenterId: " + tenant);
  HttpReply r = http.Request("GET", "/api/v2/me", "", headers);
  const std::string& set = r.headers["set-cookie"];
  if (r.status != 200 || set.rfind("JSESSIONID=", 0) != 0) return "";
  return "Cookie: " + set.substr(0, set.find(';'));
}

}  // namespace contextd::testing
