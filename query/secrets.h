#pragma once

// The one place for secrets: random tokens, digests, password hashing and constant-time
// compares (OpenSSL's libcrypto, owned here). Thread-safety: every function may be called from
// any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace contextd::query {

// `n` random characters of [0-9A-Za-z] from the OS's CSPRNG (aborts if it has no entropy:
// nothing safe could be handed out).
std::string RandomToken(size_t n);

// The 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);

// The 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// The 32-byte PBKDF2-HMAC-SHA256 of `password` with `salt` and `iterations` rounds.
// REQUIRES: iterations >= 1.
std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, uint32_t iterations);

// Equality whose time depends only on the sizes, not on where the bytes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace contextd::query
