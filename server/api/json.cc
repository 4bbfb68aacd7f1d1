#include "server/api/json.h"

#include <charconv>
#include <cmath>
#include <unordered_set>

#include "simdjson.h"

namespace contextd::server {
namespace {

namespace od = simdjson::ondemand;
using storage::Value;

absl::Status JsonError(simdjson::error_code e) {
  return absl::InvalidArgumentError(std::string("malformed JSON: ") + simdjson::error_message(e));
}

absl::StatusOr<Value> Convert(od::value v, int depth);

absl::StatusOr<Value> ConvertObject(od::object obj, int depth) {
  Value out = Value::Object({});
  // Duplicate keys are refused (simdjson itself lets the last one win): by a scan while the
  // object is small, by a hash set of its keys beyond that.
  constexpr size_t kScanKeys = 16;
  std::unordered_set<std::string> seen;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return JsonError(e);
    std::string k(key);
    bool duplicate = false;
    if (out.object.size() < kScanKeys) {
      for (const auto& member : out.object) duplicate = duplicate || member.first == k;
    } else {
      if (seen.empty()) {
        for (const auto& member : out.object) seen.insert(member.first);
      }
      duplicate = !seen.insert(k).second;
    }
    if (duplicate) {
      return absl::InvalidArgumentError("malformed JSON: duplicate key '" + k + "'");
    }
    od::value child;
    if (auto e = field.value().get(child)) return JsonError(e);
    absl::StatusOr<Value> converted = Convert(child, depth + 1);
    if (!converted.ok()) return converted.status();
    out.object.emplace_back(std::move(k), std::move(*converted));
  }
  return out;
}

absl::StatusOr<Value> Convert(od::value v, int depth) {
  if (depth > kMaxJsonDepth) {
    return absl::InvalidArgumentError("malformed JSON: nested deeper than " +
                                      std::to_string(kMaxJsonDepth) + " levels");
  }
  od::json_type type;
  if (auto e = v.type().get(type)) return JsonError(e);
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (auto e = v.get_object().get(obj)) return JsonError(e);
      return ConvertObject(obj, depth);
    }
    case od::json_type::array: {
      od::array arr;
      if (auto e = v.get_array().get(arr)) return JsonError(e);
      Value out = Value::Array({});
      for (auto item : arr) {
        od::value child;
        if (auto e = item.get(child)) return JsonError(e);
        absl::StatusOr<Value> converted = Convert(child, depth + 1);
        if (!converted.ok()) return converted.status();
        out.array.push_back(std::move(*converted));
      }
      return out;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return JsonError(e);
      return Value::String(std::string(s));
    }
    case od::json_type::number: {
      od::number_type nt;
      if (auto e = v.get_number_type().get(nt)) return JsonError(e);
      // Integers beyond 64 bits fail both integer reads in simdjson 3.0.1; they are kept
      // as the nearest double, as JavaScript would.
      if (nt == od::number_type::signed_integer) {
        int64_t i;
        if (!v.get_int64().get(i)) return Value::Int(i);
      } else if (nt == od::number_type::unsigned_integer) {
        uint64_t u;
        if (!v.get_uint64().get(u)) return Value::Uint(u);
      }
      double d;
      if (auto e = v.get_double().get(d)) return JsonError(e);
      return Value::Double(d);
    }
    case od::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return JsonError(e);
      return Value::Bool(b);
    }
    case od::json_type::null: {
      bool is_null;
      if (auto e = v.is_null().get(is_null)) return JsonError(e);
      if (!is_null) return absl::InvalidArgumentError("malformed JSON: bad literal");
      return Value::Null();
    }
  }
  return absl::InvalidArgumentError("malformed JSON");
}

}  // namespace

absl::StatusOr<Value> ParseJson(std::string_view text) {
  // One parser per thread: parsers are not thread-safe and reuse saves allocations. The
  // padded copy satisfies simdjson's padding requirement (engineering notes 3.1).
  thread_local od::parser parser;
  thread_local std::string padded;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(text);
  od::document doc;
  if (auto e = parser.iterate(padded.data(), padded.size(), padded.capacity()).get(doc)) {
    return JsonError(e);
  }
  absl::StatusOr<Value> out;
  bool scalar = false;
  if (auto e = doc.is_scalar().get(scalar)) return JsonError(e);
  if (scalar) {
    // A document that is a bare scalar is never a valid request body here.
    return absl::InvalidArgumentError("malformed JSON: expected an object or array");
  }
  od::value root;
  if (auto e = doc.get_value().get(root)) return JsonError(e);
  out = Convert(root, 1);
  if (!out.ok()) return out;
  // Nothing may follow the root (simdjson 3.0.1 has no at_end(); engineering notes 3.3).
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return absl::InvalidArgumentError("malformed JSON: trailing content after the document");
  }
  return out;
}

absl::StatusOr<const storage::Fields*> ObjectMembers(const Value& value, std::string_view what) {
  if (value.kind != Value::Kind::kObject) {
    return absl::InvalidArgumentError(std::string(what) + " must be a JSON object");
  }
  return &value.object;
}

absl::Status MemberError(Naming naming, std::string_view name, std::string_view problem) {
  std::string text =
      naming == Naming::kQuoted ? "field '" + std::string(name) + "'" : std::string(name);
  return absl::InvalidArgumentError(text + ": " + std::string(problem));
}

absl::StatusOr<std::string> Text(const Value& value, std::string_view name, const TextRule& rule) {
  if (rule.integers && value.kind == Value::Kind::kInt) return std::to_string(value.int_value);
  if (value.kind != Value::Kind::kString) {
    return MemberError(rule.naming, name,
                       rule.integers ? "expected a string or a number" : "expected a string");
  }
  if (value.string_value.size() > rule.max_bytes) {
    return MemberError(rule.naming, name,
                       "longer than " + std::to_string(rule.max_bytes) + " bytes");
  }
  return value.string_value;
}

absl::StatusOr<std::string> TextMember(const storage::Fields& object, std::string_view name,
                                       const TextRule& rule) {
  const Value* v = storage::FindField(object, name);
  if (v == nullptr || v->kind == Value::Kind::kNull) return std::string();
  return Text(*v, name, rule);
}

}  // namespace contextd::server
