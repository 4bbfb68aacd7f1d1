#pragma once

#include <cstddef>
#include <string_view>

namespace contextd::server {

// The length of the UTF-8 sequence `lead` begins by its bit pattern: 1 (ASCII), 2, 3 or 4;
// 0 for a byte no sequence begins with (a continuation byte, 0xF8-0xFF). Whether the
// sequence is well-formed is IsValidUtf8's to say.
inline size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 0;
}

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace contextd::server
