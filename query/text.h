#pragma once

// ASCII text helpers for protocol keywords (HTTP header names and tokens, the Bearer scheme,
// dialect keywords such as "CallCenter"). Locale-independent.

#include <string_view>

namespace contextd::query {

constexpr char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality. (absl::EqualsIgnoreCase would do, but Debian's abseil
// 20220623 has its own absl::string_view, so every call would convert.)
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

constexpr bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

}  // namespace contextd::query
