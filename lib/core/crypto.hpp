#pragma once
// Small cryptographic helpers over OpenSSL: digests, CSPRNG bytes and encodings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace containd {

std::string sha256_hex(std::string_view data);
std::string sha256_raw(std::string_view data);  // 32 raw bytes
std::string hex_encode(std::string_view bytes);

// Cryptographically secure random bytes. Throws std::runtime_error if the CSPRNG fails.
std::string random_bytes(std::size_t n);
// Uniform integer in [0, bound) from the CSPRNG (rejection sampling: no modulo bias).
std::uint32_t random_below(std::uint32_t bound);

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no padding (JWT)
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace containd
