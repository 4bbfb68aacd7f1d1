#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace contextd::query {

// `n` random characters of [0-9A-Za-z] from the OS's CSPRNG (aborts if it has no entropy:
// nothing safe could be handed out).
std::string RandomToken(size_t n);

// The 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);

// Equality whose time depends only on the sizes, not on where the bytes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace contextd::query
