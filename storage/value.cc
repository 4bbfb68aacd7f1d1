#include "storage/value.h"

#include <charconv>
#include <cmath>

namespace contextd::storage {

#if defined(__clang__)
Value::Value() = default;
Value::~Value() = default;
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
#endif

Value Value::Null() { return Value(); }

Value Value::Bool(bool b) {
  Value v;
  v.kind = Kind::kBool;
  v.bool_value = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.kind = Kind::kInt;
  v.int_value = i;
  return v;
}

Value Value::Uint(uint64_t u) {
  Value v;
  v.kind = Kind::kUint;
  v.uint_value = u;
  return v;
}

Value Value::Double(double d) {
  Value v;
  v.kind = Kind::kDouble;
  v.double_value = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind = Kind::kString;
  v.string_value = std::move(s);
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v;
  v.kind = Kind::kArray;
  v.array = std::move(items);
  return v;
}

Value Value::Object(std::vector<Member> members) {
  Value v;
  v.kind = Kind::kObject;
  v.object = std::move(members);
  return v;
}

std::string Value::ScalarText() const {
  char buf[32];
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return bool_value ? "true" : "false";
    case Kind::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, int_value);
      return std::string(buf, r.ptr);
    }
    case Kind::kUint: {
      auto r = std::to_chars(buf, buf + sizeof buf, uint_value);
      return std::string(buf, r.ptr);
    }
    case Kind::kDouble: {
      // Plain decimals between 1e-7 and 1e21, exponent form beyond, as JavaScript prints
      // numbers: 100000.0 is "100000", 1.5 is "1.5", 1e21 is "1e+21".
      // Negative zero is "0" too, as in JavaScript (and "-0" would read back as integer 0).
      // (Found by the json_bodies fuzz target.)
      if (double_value == 0) return "0";
      const double magnitude = std::fabs(double_value);
      const bool plain = magnitude >= 1e-7 && magnitude < 1e21;
      char wide[400];
      auto r = std::to_chars(wide, wide + sizeof wide, double_value,
                             plain ? std::chars_format::fixed : std::chars_format::scientific);
      return std::string(wide, r.ptr);
    }
    case Kind::kString:
      return string_value;
    case Kind::kArray:
    case Kind::kObject:
      break;
  }
  return std::string();
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.bool_value == b.bool_value;
    case Value::Kind::kInt:
      return a.int_value == b.int_value;
    case Value::Kind::kUint:
      return a.uint_value == b.uint_value;
    case Value::Kind::kDouble:
      return a.double_value == b.double_value;
    case Value::Kind::kString:
      return a.string_value == b.string_value;
    case Value::Kind::kArray:
      return a.array == b.array;
    case Value::Kind::kObject:
      return a.object == b.object;
  }
  return false;
}

const Value* FindField(const Fields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return &value;
  }
  return nullptr;
}

void SetField(Fields& fields, std::string name, Value value) {
  for (auto& [key, old] : fields) {
    if (key == name) {
      old = std::move(value);
      return;
    }
  }
  fields.emplace_back(std::move(name), std::move(value));
}

void MergeFields(Fields& fields, const Fields& update) {
  for (const auto& [key, value] : update) SetField(fields, key, value);
}

}  // namespace contextd::storage
