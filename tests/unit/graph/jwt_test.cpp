#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "graph/jwt.hpp"
#include "support/test_tls.hpp"

using namespace containd;
using namespace containd::graph;

namespace {

struct parts {
    nlohmann::json header, payload;
    std::string signing_input, signature;
};

parts split(const std::string& jwt) {
    const auto a = jwt.find('.'), b = jwt.rfind('.');
    parts p;
    p.signing_input = jwt.substr(0, b);
    p.header = nlohmann::json::parse(*base64url_decode(jwt.substr(0, a)));
    p.payload = nlohmann::json::parse(*base64url_decode(jwt.substr(a + 1, b - a - 1)));
    p.signature = *base64url_decode(jwt.substr(b + 1));
    return p;
}

X509* read_cert(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return cert;
}

// Verifies with the certificate's public key, independently of the signer code.
bool verify(const std::string& cert_pem, const parts& p, bool pss) {
    X509* cert = read_cert(cert_pem);
    EVP_PKEY* key = X509_get_pubkey(cert);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    bool ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key) == 1;
    if (ok && pss) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    ok = ok &&
         EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(p.signature.data()), p.signature.size(),
                          reinterpret_cast<const unsigned char*>(p.signing_input.data()), p.signing_input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    X509_free(cert);
    return ok;
}

std::string der_of(const std::string& cert_pem) {
    X509* cert = read_cert(cert_pem);
    unsigned char* der = nullptr;
    const int n = i2d_X509(cert, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    X509_free(cert);
    return out;
}

assertion_claims claims_at(const char* when) {
    assertion_claims c;
    c.audience = "aud";
    c.client_id = "client";
    c.now = *parse_rfc3339(when);
    return c;
}

const test::pem_pair& app_cert() {
    static const test::pem_pair p = test::make_self_signed("containd app");
    return p;
}

}  // namespace

TEST(ClientAssertion, rs256_has_the_documented_header_and_claims) {
    const certificate_signer signer(secret(app_cert().key_pem), app_cert().cert_pem);
    assertion_claims c;
    c.audience = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    c.client_id = "11111111-2222-3333-4444-555555555555";
    c.now = *parse_rfc3339("2024-05-01T10:00:00Z");
    const auto p = split(signer.make_assertion(c));

    unsigned char sha1[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const std::string der = der_of(app_cert().cert_pem);
    EVP_Digest(der.data(), der.size(), sha1, &n, EVP_sha1(), nullptr);
    EXPECT_EQ(p.header["alg"], "RS256");
    EXPECT_EQ(p.header["typ"], "JWT");
    EXPECT_EQ(p.header["x5t"], base64url_encode(std::string(reinterpret_cast<char*>(sha1), n)));
    EXPECT_FALSE(p.header.contains("x5t#S256"));

    EXPECT_EQ(p.payload["aud"], c.audience);
    EXPECT_EQ(p.payload["iss"], c.client_id);
    EXPECT_EQ(p.payload["sub"], c.client_id);
    EXPECT_EQ(p.payload["nbf"], 1714557600);
    EXPECT_EQ(p.payload["iat"], 1714557600);
    EXPECT_EQ(p.payload["exp"], 1714557600 + 600);
    EXPECT_EQ(p.payload["jti"].get<std::string>().size(), 36u);
    EXPECT_TRUE(verify(app_cert().cert_pem, p, false));
}

TEST(ClientAssertion, every_assertion_has_a_fresh_jti) {
    const certificate_signer signer(secret(app_cert().key_pem), app_cert().cert_pem);
    const auto c = claims_at("2024-05-01T10:00:00Z");
    EXPECT_NE(split(signer.make_assertion(c)).payload["jti"], split(signer.make_assertion(c)).payload["jti"]);
}

TEST(ClientAssertion, ps256_uses_pss_and_the_sha256_thumbprint) {
    const certificate_signer signer(secret(app_cert().key_pem), app_cert().cert_pem);
    const auto c = claims_at("2024-05-01T10:00:00Z");
    const auto p = split(signer.make_assertion(c, assertion_alg::ps256));
    EXPECT_EQ(p.header["alg"], "PS256");
    EXPECT_EQ(p.header["x5t#S256"], base64url_encode(sha256_raw(der_of(app_cert().cert_pem))));
    EXPECT_FALSE(p.header.contains("x5t"));
    EXPECT_TRUE(verify(app_cert().cert_pem, p, true));
    EXPECT_FALSE(verify(app_cert().cert_pem, p, false));
}

TEST(ClientAssertion, a_tampered_assertion_does_not_verify) {
    const certificate_signer signer(secret(app_cert().key_pem), app_cert().cert_pem);
    auto p = split(signer.make_assertion(claims_at("2024-05-01T10:00:00Z")));
    p.signing_input[5] ^= 1;
    EXPECT_FALSE(verify(app_cert().cert_pem, p, false));
}

TEST(ClientAssertion, refuses_a_key_that_does_not_match_the_certificate) {
    const auto other = test::make_self_signed("other");
    try {
        certificate_signer signer(secret(other.key_pem), app_cert().cert_pem);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).find("PRIVATE KEY"), std::string::npos);
    }
}

TEST(ClientAssertion, refuses_non_rsa_keys_and_garbage) {
    const auto ec = test::make_self_signed("ec", test::key_type::ec_p256);
    EXPECT_THROW(certificate_signer(secret(ec.key_pem), ec.cert_pem), std::invalid_argument);
    EXPECT_THROW(certificate_signer(secret("not a key"), app_cert().cert_pem), std::invalid_argument);
    EXPECT_THROW(certificate_signer(secret(app_cert().key_pem), "not a cert"), std::invalid_argument);
}
