#pragma once
// A value that must never reach a log, an error message, a report or a stream: client secrets,
// private keys, access tokens, temporary passwords, TAPs.
//
// By construction: no operator<<, no implicit conversion to anything printable, no formatter.
// The only way to the bytes is reveal(), which is called exactly where the value is sent (the
// token request, the HTTP Authorization header, the sealed vault entry). The buffer is wiped
// when the secret is destroyed or overwritten.

#include <iosfwd>
#include <string>
#include <string_view>

namespace containd {

class secret {
public:
    secret() = default;
    explicit secret(std::string value) : value_(std::move(value)) {}
    secret(const secret&) = default;
    secret(secret&& other) noexcept;
    secret& operator=(const secret& other);
    secret& operator=(secret&& other) noexcept;
    ~secret();

    // The plaintext. Call it only where the value leaves the process for its legitimate use.
    const std::string& reveal() const { return value_; }
    bool empty() const { return value_.empty(); }
    std::size_t size() const { return value_.size(); }

    // Constant-time comparison (tests and the simulator compare secrets).
    bool equals(const secret& other) const;

    // No implicit printable conversions.
    operator std::string() const = delete;
    operator std::string_view() const = delete;

private:
    void wipe() noexcept;
    std::string value_;
};

// Streaming a secret does not compile.
std::ostream& operator<<(std::ostream&, const secret&) = delete;

// Reads a secret from a file (one value; a single trailing "\n" or "\r\n" is dropped).
// Throws std::runtime_error naming the path and the reason (missing, unreadable, empty), never
// the content.
secret load_secret_file(const std::string& path);

// Reads a secret from an environment variable. Throws std::runtime_error naming the variable
// when it is unset or empty, never the content.
secret load_secret_env(const std::string& name);

}  // namespace containd
