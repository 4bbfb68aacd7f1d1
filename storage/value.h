#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace contextd::storage {

// A JSON-shaped datum (attached data, business attributes) as plain C++ data. Storage keeps
// it without knowing JSON; the server converts JSON text to and from it.
// Thread-safety: a value type; concurrent reads are safe.
struct Value {
  enum class Kind { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };
  using Member = std::pair<std::string, Value>;

  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;  // only for integers above INT64_MAX
  double double_value = 0;
  std::string string_value;
  std::vector<Value> array;
  std::vector<Member> object;  // in the order received; keys are unique

#if defined(__clang__)
  // Clang 14 with libstdc++ 12 (the fuzz build) cannot instantiate the implicit members of a
  // type holding std::vector<std::pair<std::string, Value>> inside its own definition: the
  // pair's default-constructibility check needs Value's destructor, which needs the vector's,
  // which needs the pair. Declared here and defaulted in value.cc, they are instantiated only
  // once Value is complete. (GCC instantiates them lazily: the implicit ones stay inline.)
  Value();
  ~Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
#endif

  static Value Null();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Uint(uint64_t u);
  static Value Double(double d);
  static Value String(std::string s);
  static Value Array(std::vector<Value> items);
  static Value Object(std::vector<Member> members);

  bool is_scalar() const { return kind != Kind::kArray && kind != Kind::kObject; }
  bool is_number() const {
    return kind == Kind::kInt || kind == Kind::kUint || kind == Kind::kDouble;
  }

  // The text a scalar compares as in filters and is written as in JSON: strings as they
  // are, numbers in shortest round-trip form without an exponent between 1e-7 and 1e21
  // (JavaScript's rule: 100000.0 is "100000"), `true`/`false`, `null`. REQUIRES: is_scalar().
  std::string ScalarText() const;

  friend bool operator==(const Value& a, const Value& b);
};

// An ordered list of named values with unique names (attached data, event fields).
using Fields = std::vector<Value::Member>;

// Returns the value named `name`, or nullptr.
const Value* FindField(const Fields& fields, std::string_view name);

// Sets `name` to `value`: replaces an existing entry in place, else appends.
void SetField(Fields& fields, std::string name, Value value);

// Sets every entry of `update` into `fields` (key by key; later keys replace earlier ones).
void MergeFields(Fields& fields, const Fields& update);

}  // namespace contextd::storage
