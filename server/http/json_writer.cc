#include "server/http/json_writer.h"

#include <charconv>
#include <cmath>

#include "server/http/utf8.h"

namespace contextd::server {

void JsonWriter::Separate() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = true;
}

void JsonWriter::Open(char c) {
  Separate();
  out_->push_back(c);
  need_comma_ = false;
}

void JsonWriter::Close(char c) {
  out_->push_back(c);
  need_comma_ = true;
}

void JsonWriter::Key(std::string_view key) {
  String(key);
  out_->push_back(':');
  need_comma_ = false;
}

void JsonWriter::String(std::string_view s) {
  Separate();
  static constexpr char kHex[] = "0123456789abcdef";
  out_->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      // A valid UTF-8 sequence is copied; any other byte (a message quoting raw input) becomes
      // U+FFFD, so the output stays valid JSON.
      const size_t n = Utf8SequenceLength(u);
      if (n > 0 && i + n <= s.size() && IsValidUtf8(s.substr(i, n))) {
        out_->append(s.substr(i, n));
        i += n - 1;
      } else {
        out_->append("\xEF\xBF\xBD");
      }
      continue;
    }
    switch (c) {
      case '"':
        out_->append("\\\"");
        break;
      case '\\':
        out_->append("\\\\");
        break;
      case '\n':
        out_->append("\\n");
        break;
      case '\r':
        out_->append("\\r");
        break;
      case '\t':
        out_->append("\\t");
        break;
      case '\b':
        out_->append("\\b");
        break;
      case '\f':
        out_->append("\\f");
        break;
      default:
        if (u < 0x20) {
          out_->append("\\u00");
          out_->push_back(kHex[u >> 4]);
          out_->push_back(kHex[u & 0xf]);
        } else {
          out_->push_back(c);
        }
    }
  }
  out_->push_back('"');
}

void JsonWriter::Int(int64_t v) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
}

void JsonWriter::Uint(uint64_t v) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
}

void JsonWriter::Value(const storage::Value& v) {
  using Kind = storage::Value::Kind;
  switch (v.kind) {
    case Kind::kNull:
      Separate();
      out_->append("null");
      break;
    case Kind::kBool:
      Separate();
      out_->append(v.bool_value ? "true" : "false");
      break;
    case Kind::kInt:
      Int(v.int_value);
      break;
    case Kind::kUint:
      Uint(v.uint_value);
      break;
    case Kind::kDouble:
      Separate();
      if (std::isfinite(v.double_value)) {
        out_->append(v.ScalarText());
      } else {
        out_->append("null");  // JSON has no NaN/Inf; the parser never produces them
      }
      break;
    case Kind::kString:
      String(v.string_value);
      break;
    case Kind::kArray:
      BeginArray();
      for (const storage::Value& item : v.array) Value(item);
      EndArray();
      break;
    case Kind::kObject:
      BeginObject();
      for (const auto& [key, value] : v.object) {
        Key(key);
        Value(value);
      }
      EndObject();
      break;
  }
}

}  // namespace contextd::server
