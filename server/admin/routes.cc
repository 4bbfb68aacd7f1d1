#include "server/admin/routes.h"

#include <optional>
#include <string>

#include "query/access.h"
#include "query/timestamp.h"
#include "server/api/json.h"
#include "server/api/request.h"
#include "storage/status_macros.h"

namespace contextd::server {
namespace {

using storage::Value;

// A key as listed: never its secret or digest.
void WriteKey(JsonWriter& w, const storage::ApiKey& k, const std::string* key = nullptr) {
  w.BeginObject();
  w.Key("id");
  w.String(k.id);
  if (key != nullptr) {
    w.Key("key");
    w.String(*key);
  }
  w.Key("role");
  w.String(query::RoleName(static_cast<query::Role>(k.role)));
  if (k.all_tenants) {
    w.Key("all_tenants");
    w.Value(Value::Bool(true));
  } else {
    w.Key("tenant");
    w.String(k.tenant);
  }
  w.Key("name");
  w.String(k.name);
  w.Key("created");
  w.String(query::FormatTimestamp(k.created_ms));
  if (k.revoked_ms != 0) {
    w.Key("revoked");
    w.String(query::FormatTimestamp(k.revoked_ms));
  }
  w.EndObject();
}

void WriteTenant(JsonWriter& w, const storage::Tenant& t) {
  w.BeginObject();
  w.Key("name");
  w.String(t.name);
  w.Key("created");
  w.String(query::FormatTimestamp(t.created_ms));
  w.EndObject();
}

// Names and roles; query::Access checks their own, shorter limits.
absl::StatusOr<std::string> StringField(const Value& v, std::string_view name) {
  return Text(v, name, TextRule{Naming::kQuoted, 1024});
}

ApiResponse CreateKey(query::Access& access, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, Body(c, true));
    ASSIGN_OR_RETURN(const storage::Fields* members, ObjectMembers(body));
    std::optional<query::Role> role;
    std::optional<std::string> tenant;
    std::string name;
    for (const auto& [field, v] : *members) {
      if (field == "role") {
        ASSIGN_OR_RETURN(std::string text, StringField(v, field));
        role = query::ParseRole(text);
        if (!role) return MemberError(Naming::kQuoted, field, "reader, writer or admin");
      } else if (field == "tenant") {
        ASSIGN_OR_RETURN(tenant, StringField(v, field));
      } else if (field == "name") {
        ASSIGN_OR_RETURN(name, StringField(v, field));
      } else {
        return MemberError(Naming::kQuoted, field, "unknown field");
      }
    }
    if (!role) return MemberError(Naming::kQuoted, "role", "required");
    ASSIGN_OR_RETURN(query::NewKey created,
                     access.CreateKey(*role, std::move(tenant), std::move(name), c.request.now_ms));
    std::string out;
    JsonWriter w(&out);
    WriteKey(w, created.record, &created.key);
    return Json(201, std::move(out));
  });
}

ApiResponse ListKeys(query::Access& access, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    std::string out;
    JsonWriter w(&out);
    w.BeginArray();
    for (const storage::ApiKey& k : access.Keys()) WriteKey(w, k);
    w.EndArray();
    return Json(200, std::move(out));
  });
}

ApiResponse RevokeKey(query::Access& access, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(storage::ApiKey revoked, access.RevokeKey(c.captures[0], c.request.now_ms));
    std::string out;
    JsonWriter w(&out);
    WriteKey(w, revoked);
    return Json(200, std::move(out));
  });
}

ApiResponse CreateTenant(query::Access& access, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    ASSIGN_OR_RETURN(Value body, Body(c, true));
    ASSIGN_OR_RETURN(const storage::Fields* members, ObjectMembers(body));
    std::optional<std::string> name;
    for (const auto& [field, v] : *members) {
      if (field != "name") return MemberError(Naming::kQuoted, field, "unknown field");
      ASSIGN_OR_RETURN(name, StringField(v, field));
    }
    if (!name) return MemberError(Naming::kQuoted, "name", "required");
    ASSIGN_OR_RETURN(storage::Tenant t, access.CreateTenant(std::move(*name), c.request.now_ms));
    std::string out;
    JsonWriter w(&out);
    WriteTenant(w, t);
    return Json(201, std::move(out));
  });
}

ApiResponse ListTenants(query::Access& access, const Call& c) {
  return Reply(c, [&]() -> absl::StatusOr<ApiResponse> {
    RETURN_IF_ERROR(NoParams(c));
    std::string out;
    JsonWriter w(&out);
    w.BeginArray();
    for (const storage::Tenant& t : access.Tenants()) WriteTenant(w, t);
    w.EndArray();
    return Json(200, std::move(out));
  });
}

}  // namespace

std::vector<Route> AdminRoutes(query::Access* access) {
  const std::string native = "/contextd/v1";
  auto h = [access](ApiResponse (*fn)(query::Access&, const Call&)) { return Bind(access, fn); };
  const Dialect* n = &kNativeDialect;
  return {
      {"POST", native + "/keys", h(CreateKey), n, kAdminWrite},
      {"GET", native + "/keys", h(ListKeys), n, kAdminRead},
      {"DELETE", native + "/keys/:id", h(RevokeKey), n, kAdminRemove},
      {"POST", native + "/tenants", h(CreateTenant), n, kAdminWrite},
      {"GET", native + "/tenants", h(ListTenants), n, kAdminRead},
  };
}

}  // namespace contextd::server
