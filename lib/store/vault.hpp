#pragma once
// The secret vault: AES-256-GCM (OpenSSL EVP) for temporary passwords and TAPs at rest.
// The key lives outside the database (a file readable only by the daemon's user).

#include <optional>
#include <string>
#include <string_view>

namespace containd::store {

struct sealed_secret {
    std::string nonce;  // 12 random bytes
    std::string ciphertext;
    std::string tag;  // 16 bytes
};

class vault {
public:
    // key: exactly 32 bytes. Throws std::invalid_argument otherwise (without echoing the key).
    explicit vault(std::string key);
    // Reads a key file holding 32 raw bytes or 64 hexadecimal characters (a trailing newline is
    // fine). Throws std::runtime_error naming the file, never its content.
    static vault from_key_file(const std::string& path);
    // Creates a new random key file with mode 0600 if it does not exist, then loads it.
    static vault create_or_load(const std::string& path);

    ~vault();
    vault(vault&&) noexcept = default;
    vault(const vault&) = delete;

    // aad binds the ciphertext to its row (incident id and name), so rows cannot be swapped.
    sealed_secret seal(std::string_view plaintext, std::string_view aad) const;
    // nullopt when the tag does not verify (tampered, wrong key, wrong row).
    std::optional<std::string> open(const sealed_secret& sealed, std::string_view aad) const;

private:
    std::string key_;
};

}  // namespace containd::store
