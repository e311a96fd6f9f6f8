#include "graph/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/ids.hpp"

namespace containd::graph {
namespace {

struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct pkey_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct x509_free {
    void operator()(X509* x) const { X509_free(x); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::int64_t unix_seconds(time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

struct certificate_signer::impl {
    std::unique_ptr<EVP_PKEY, pkey_free> key;
    std::string der;
};

certificate_signer::certificate_signer(const secret& private_key_pem, std::string_view certificate_pem)
        : impl_(std::make_unique<impl>()) {
    {
        std::unique_ptr<BIO, bio_free> bio(
            BIO_new_mem_buf(private_key_pem.reveal().data(), static_cast<int>(private_key_pem.size())));
        if (!bio) throw std::invalid_argument("cannot read the private key");
        impl_->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
        if (!impl_->key) throw std::invalid_argument("the private key is not a readable unencrypted PEM key");
    }
    if (EVP_PKEY_get_base_id(impl_->key.get()) != EVP_PKEY_RSA)
        throw std::invalid_argument("the private key is not an RSA key");

    std::unique_ptr<BIO, bio_free> cbio(
        BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
    std::unique_ptr<X509, x509_free> cert(cbio ? PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!cert) throw std::invalid_argument("the certificate is not a readable PEM certificate");
    if (X509_check_private_key(cert.get(), impl_->key.get()) != 1)
        throw std::invalid_argument("the private key does not match the certificate");
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert.get(), &der);
    if (len <= 0) throw std::invalid_argument("cannot encode the certificate");
    impl_->der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
}

certificate_signer::~certificate_signer() = default;
certificate_signer::certificate_signer(certificate_signer&&) noexcept = default;
certificate_signer& certificate_signer::operator=(certificate_signer&&) noexcept = default;

std::string certificate_signer::certificate_der() const { return impl_->der; }

std::string certificate_signer::x5t() const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(impl_->der.data(), impl_->der.size(), digest, &n, EVP_sha1(), nullptr);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), n));
}

std::string certificate_signer::x5t_s256() const { return base64url_encode(sha256_raw(impl_->der)); }

std::string certificate_signer::make_assertion(const assertion_claims& claims, assertion_alg alg) const {
    nlohmann::json header = {{"typ", "JWT"}};
    if (alg == assertion_alg::rs256) {
        header["alg"] = "RS256";
        header["x5t"] = x5t();
    } else {
        header["alg"] = "PS256";
        header["x5t#S256"] = x5t_s256();
    }
    const auto now = unix_seconds(claims.now);
    const nlohmann::json payload = {
        {"aud", claims.audience},
        {"iss", claims.client_id},
        {"sub", claims.client_id},
        {"jti", claims.jti.empty() ? random_uuid() : claims.jti},
        {"nbf", now},
        {"iat", now},
        {"exp", now + std::chrono::duration_cast<std::chrono::seconds>(claims.lifetime).count()},
    };
    const std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());

    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, impl_->key.get()) != 1)
        throw std::runtime_error("cannot initialise the assertion signature");
    if (alg == assertion_alg::ps256) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
            throw std::runtime_error("cannot configure PSS padding");
    }
    std::size_t sig_len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1)
        throw std::runtime_error("cannot sign the client assertion");
    std::string sig(sig_len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
        throw std::runtime_error("cannot sign the client assertion");
    sig.resize(sig_len);
    return signing_input + "." + base64url_encode(sig);
}

}  // namespace containd::graph
