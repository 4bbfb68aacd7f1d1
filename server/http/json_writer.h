#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/value.h"

namespace contextd::server {

// Appends JSON text to a string. Keys given as literals are trusted; every string value and
// dynamic key is escaped per RFC 8259.
// Thread-safety: not thread-safe; one writer per response.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // Starts a member; the next call writes its value.
  void Key(std::string_view key);
  void String(std::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  void Value(const storage::Value& v);

 private:
  void Open(char c);
  void Close(char c);
  void Separate();

  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace contextd::server
