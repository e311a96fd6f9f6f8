#include "store/vault.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "core/crypto.hpp"

namespace containd::store {
namespace {

struct ctx_free {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, ctx_free>;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

vault::vault(std::string key) : key_(std::move(key)) {
    if (key_.size() != 32) {
        OPENSSL_cleanse(key_.data(), key_.size());
        throw std::invalid_argument("the vault key must be 32 bytes");
    }
}

vault::~vault() {
    if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

vault vault::from_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read the vault key file " + path);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string content = buffer.str();
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
    if (content.size() == 64) {
        std::string key(32, '\0');
        for (std::size_t i = 0; i < 32; ++i) {
            const int hi = hex_value(content[2 * i]), lo = hex_value(content[2 * i + 1]);
            if (hi < 0 || lo < 0) throw std::runtime_error("the vault key file " + path + " is not 64 hex characters");
            key[i] = static_cast<char>(hi * 16 + lo);
        }
        OPENSSL_cleanse(content.data(), content.size());
        return vault(std::move(key));
    }
    if (content.size() != 32)
        throw std::runtime_error("the vault key file " + path + " must hold 32 bytes or 64 hex characters");
    return vault(std::move(content));
}

vault vault::create_or_load(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const mode_t old = ::umask(077);
        {
            std::ofstream out(path, std::ios::binary);
            const std::string hex = hex_encode(random_bytes(32));
            out << hex << '\n';
            if (!out) {
                ::umask(old);
                throw std::runtime_error("cannot create the vault key file " + path);
            }
        }
        ::umask(old);
    }
    return from_key_file(path);
}

sealed_secret vault::seal(std::string_view plaintext, std::string_view aad) const {
    sealed_secret out{random_bytes(12), std::string(plaintext.size(), '\0'), std::string(16, '\0')};
    cipher_ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key_), bytes(out.nonce)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), bytes(out.ciphertext), &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), bytes(out.ciphertext) + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.tag.data()) != 1)
        throw std::runtime_error("AES-256-GCM encryption failed");
    return out;
}

std::optional<std::string> vault::open(const sealed_secret& sealed, std::string_view aad) const {
    if (sealed.nonce.size() != 12 || sealed.tag.size() != 16) return std::nullopt;
    std::string plaintext(sealed.ciphertext.size(), '\0');
    std::string tag = sealed.tag;
    cipher_ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key_), bytes(sealed.nonce)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &len, bytes(sealed.ciphertext),
                          static_cast<int>(sealed.ciphertext.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + len, &len) != 1) {
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        return std::nullopt;
    }
    return plaintext;
}

}  // namespace containd::store
