#include "core/secret.hpp"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace containd {

secret::secret(secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }

secret& secret::operator=(const secret& other) {
    if (this != &other) {
        wipe();
        value_ = other.value_;
    }
    return *this;
}

secret& secret::operator=(secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = std::move(other.value_);
        other.wipe();
    }
    return *this;
}

secret::~secret() { wipe(); }

void secret::wipe() noexcept {
    // Wipe the whole capacity: a moved-from or shortened string may still hold old bytes.
    if (value_.capacity() > 0) OPENSSL_cleanse(value_.data(), value_.capacity());
    value_.clear();
}

bool secret::equals(const secret& other) const {
    if (value_.size() != other.value_.size()) return false;
    return CRYPTO_memcmp(value_.data(), other.value_.data(), value_.size()) == 0;
}

secret load_secret_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open secret file '" + path + "': " + std::strerror(errno));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error("cannot read secret file '" + path + "'");
    if (!content.empty() && content.back() == '\n') content.pop_back();
    if (!content.empty() && content.back() == '\r') content.pop_back();
    secret s(std::move(content));
    if (s.empty()) throw std::runtime_error("secret file '" + path + "' is empty");
    return s;
}

secret load_secret_env(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) throw std::runtime_error("environment variable '" + name + "' is not set");
    if (*value == '\0') throw std::runtime_error("environment variable '" + name + "' is empty");
    return secret(std::string(value));
}

}  // namespace containd
