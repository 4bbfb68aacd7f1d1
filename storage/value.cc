#include "storage/value.h"

#include <charconv>

namespace contextd::storage {

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
      auto r = std::to_chars(buf, buf + sizeof buf, double_value);
      return std::string(buf, r.ptr);
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
