#include "server/api/router.h"

#include <algorithm>
#include <exception>
#include <optional>

#include "query/text.h"
#include "server/http/uri.h"
#include "storage/status_macros.h"

namespace contextd::server {

namespace {

// Matches `segments` against a route's pattern parts. On a match returns the literal
// positions as a bit string, leftmost segment highest, so that the higher score is the more
// specific route (literals beat captures, earlier positions first); -1 otherwise.
int64_t MatchScore(const std::vector<std::string_view>& parts,
                   const std::vector<std::string>& segments) {
  if (parts.size() != segments.size()) return -1;
  int64_t score = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    score <<= 1;
    if (parts[i].front() == ':') continue;
    if (parts[i] != segments[i]) return -1;
    score |= 1;
  }
  return score;
}

// The API key a request presents: `X-Api-Key: KEY` or `Authorization: Bearer KEY`.
std::string_view PresentedKey(const ApiRequest& r) {
  if (std::string_view key = r.Header("x-api-key"); !key.empty()) return key;
  std::string_view auth = r.Header("authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (auth.size() <= kBearer.size() || !query::StartsWithIgnoreCase(auth, kBearer)) return {};
  auth.remove_prefix(kBearer.size());
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  return auth;
}

query::Role RoleOf(Need need) {
  switch (need) {
    case Need::kAdmin:
      return query::Role::kAdmin;
    case Need::kWriter:
      return query::Role::kWriter;
    default:
      return query::Role::kReader;
  }
}

}  // namespace

Api::Api(std::vector<Route> routes, AccessPolicy access, const Dialect* fallback,
         std::function<void()> on_shutdown)
    : access_(access), fallback_(fallback), on_shutdown_(std::move(on_shutdown)) {
  routes_.reserve(routes.size());  // `parts` views into the stored patterns: no reallocation
  for (Route& route : routes) {
    Compiled& c = routes_.emplace_back(Compiled{std::move(route), "", {}});
    c.name = c.route.method + " " + c.route.pattern;
    std::string_view pattern = c.route.pattern;
    for (size_t pos = 1; pos <= pattern.size();) {
      const size_t slash = std::min(pattern.find('/', pos), pattern.size());
      c.parts.push_back(pattern.substr(pos, slash - pos));
      pos = slash + 1;
    }
    if (std::find(dialects_.begin(), dialects_.end(), c.route.dialect) == dialects_.end()) {
      dialects_.push_back(c.route.dialect);
    }
  }
}

const Api::Compiled* Api::Match(std::string_view method, const std::vector<std::string>& segments,
                                bool* known_path, std::string* allow) const {
  // The most specific matching routes decide: if none of them takes this method, the path
  // is known and the method wrong (GET /services/start is 405, not "service start").
  int64_t top = -1;
  for (const Compiled& c : routes_) top = std::max(top, MatchScore(c.parts, segments));
  *known_path = top >= 0;
  if (top < 0) return nullptr;
  for (const Compiled& c : routes_) {
    if (MatchScore(c.parts, segments) != top) continue;
    if (method == c.route.method) return &c;
    if (allow != nullptr) {
      *allow += allow->empty() ? "" : ", ";
      *allow += c.route.method;
    }
  }
  return nullptr;
}

const Dialect& Api::DialectOfTarget(std::string_view target) const {
  if (target.starts_with('/')) target.remove_prefix(1);
  const std::string_view first = target.substr(0, target.find_first_of("/?"));
  for (const Dialect* d : dialects_) {
    if (!d->prefix.empty() && first == d->prefix) return *d;
  }
  return *fallback_;
}

// The tenant a request to `route` acts in, after checking its caller may call it:
// Unauthenticated (no valid key), PermissionDenied (role or tenant not the key's), or
// InvalidArgument (a tenant that is not configured).
absl::StatusOr<std::string> Api::Authorize(const Route& route, const ApiRequest& r,
                                           int64_t* retry_after_ms) const {
  std::optional<std::string_view> header;
  if (r.tenant_header) header = *r.tenant_header;
  // Without a key: the open (development) policy acts as an admin of every tenant.
  query::Principal who{query::Role::kAdmin, true, "", ""};
  const Need need = route.rules.need;
  if (need == Need::kOpen) return std::string(header.value_or(""));
  if (need != Need::kSession) {
    const std::string_view key = PresentedKey(r);
    if (!key.empty() || !access_.open) {
      if (access_.access == nullptr) return absl::UnauthenticatedError("no API keys are set up");
      absl::StatusOr<query::Principal> checked = access_.access->Authenticate(key);
      if (!checked.ok()) {
        // Only presented keys count: a request without one guesses nothing.
        if (access_.throttle != nullptr && !key.empty()) {
          const std::string_view id = query::Access::KeyIdOf(key);
          *retry_after_ms = access_.throttle->RetryAfterMs(r.peer, id, r.now_ms);
          if (*retry_after_ms == 0) access_.throttle->RecordFailure(r.peer, id, r.now_ms);
        }
        return checked.status();
      }
      who = *checked;
    }
    const query::Role role = RoleOf(need);
    if (who.role < role) {
      return absl::PermissionDeniedError(
          "an API key with role '" + std::string(query::RoleName(who.role)) + "' may not call " +
          route.method + " " + route.pattern + " (it needs '" + std::string(query::RoleName(role)) +
          "')");
    }
  }
  // The Workspace API's users belong to the tenant of the header, which must be configured.
  if (access_.access == nullptr) return std::string(header.value_or(""));
  return access_.access->TenantFor(who, header);
}

size_t Api::MaxBodyBytes(std::string_view method, std::string_view target,
                         size_t server_max) const {
  constexpr size_t kNoBody = 8 << 10;
  constexpr size_t kEvent = 256 << 10;
  absl::StatusOr<server::Target> parsed = ParseTarget(target);
  bool known = false;
  const Compiled* c = parsed.ok() ? Match(method, parsed->segments, &known, nullptr) : nullptr;
  switch (c == nullptr ? BodyLimit::kNone : c->route.rules.body) {
    case BodyLimit::kBulk:
      return server_max;
    case BodyLimit::kEvent:
      return std::min(kEvent, server_max);
    case BodyLimit::kNone:
      break;
  }
  return std::min(kNoBody, server_max);
}

ApiResponse Api::TransportError(int route, std::string_view target, int http_status,
                                std::string_view message) const {
  const Dialect& d = route >= 0 && static_cast<size_t>(route) < routes_.size()
                         ? *routes_[static_cast<size_t>(route)].route.dialect
                         : DialectOfTarget(target);
  return ErrorReply(d, ProtocolError(http_status, message));
}

std::string_view Api::RouteName(int route) const {
  if (route < 0 || static_cast<size_t>(route) >= routes_.size()) return {};
  return routes_[static_cast<size_t>(route)].name;
}

std::vector<std::string> Api::RouteNames() const {
  std::vector<std::string> names;
  for (const Compiled& c : routes_) names.push_back(c.name);
  return names;
}

ApiResponse Api::Handle(const ApiRequest& request) {
  const Dialect* dialect = nullptr;  // the matched route's; the path's is looked up on failure
  try {
    absl::StatusOr<server::Target> target = ParseTarget(request.target);
    if (!target.ok()) return ErrorReply(DialectOfTarget(request.target), target.status());
    bool known_path = false;
    std::string allow;
    const Compiled* best = Match(request.method, target->segments, &known_path, &allow);
    if (best == nullptr) {
      const Dialect& of_path = DialectOfTarget(request.target);
      if (!known_path) return ErrorReply(of_path, ProtocolError(404, "no such resource"));
      ApiResponse r =
          ErrorReply(of_path, ProtocolError(405, "method " + std::string(request.method) +
                                                     " is not allowed here; allowed: " + allow));
      r.allow = std::move(allow);
      return r;
    }
    const Route& route = best->route;
    dialect = route.dialect;
    const int index = static_cast<int>(best - routes_.data());
    int64_t retry_after_ms = 0;
    absl::StatusOr<std::string> tenant = Authorize(route, request, &retry_after_ms);
    if (!tenant.ok()) {
      ApiResponse r = retry_after_ms > 0
                          ? RetryLater(*route.dialect, 429,
                                       "too many failed API key checks from this address or "
                                       "for this key: try again later",
                                       retry_after_ms)
                          : ErrorReply(*route.dialect, tenant.status());
      r.route = index;
      return r;
    }
    ApiRequest scoped = request;
    scoped.tenant = std::move(*tenant);
    Call call{scoped, {}, target->params, *route.dialect};
    for (size_t i = 0; i < best->parts.size(); ++i) {
      if (best->parts[i].front() == ':') call.captures.push_back(std::move(target->segments[i]));
    }
    ApiResponse reply = route.handler(call);
    reply.route = index;
    reply.wrote = route.rules.writes && reply.status < 300;
    if (reply.hold && route.rules.writes) {
      // Completed later (on another thread): its final reply is the one that acknowledges.
      reply.hold = [hold = std::move(reply.hold)](ApiResponse::Complete complete, bool now) {
        hold(
            [complete](ApiResponse final_reply) {
              final_reply.wrote = final_reply.status < 300;
              return complete(std::move(final_reply));
            },
            now);
      };
    }
    return reply;
  } catch (const std::exception& e) {
    return ErrorReply(dialect != nullptr ? *dialect : DialectOfTarget(request.target),
                      absl::InternalError(e.what()));
  }
}

}  // namespace contextd::server
