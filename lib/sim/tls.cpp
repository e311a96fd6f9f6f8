#include "sim/tls.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/crypto.hpp"

namespace containd::sim {
namespace {

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};
struct bio_free {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("simulator TLS setup failed: ") + what);
}

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string cert_pem(X509* cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    return bio_string(bio.get());
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

x509_ptr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool is_ca) {
    x509_ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    check(RAND_bytes(serial, sizeof serial) == 1, "RAND_bytes");
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    ASN1_INTEGER* asn = BN_to_ASN1_INTEGER(bn, nullptr);
    X509_set_serialNumber(cert.get(), asn);
    ASN1_INTEGER_free(asn);
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("containd simulator"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509* iss = issuer ? issuer : cert.get();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
    if (is_ca) {
        add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_ext(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
    } else {
        add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(cert.get(), iss, NID_ext_key_usage, "serverAuth");
        add_ext(cert.get(), iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
        add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
        add_ext(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
    }
    check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

std::optional<certificate_facts> facts_of(X509* cert) {
    certificate_facts f;
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len <= 0) return std::nullopt;
    f.der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    f.sha1_x5t = base64url_encode(sha1_raw(f.der));
    f.sha256_x5t = base64url_encode(sha256_raw(f.der));
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (!key) return std::nullopt;
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return std::nullopt;
    f.public_key_pem = bio_string(bio.get());
    return f;
}

}  // namespace

tls_material generate_tls_material() {
    pkey_ptr ca_key(EVP_EC_gen("P-256"));
    pkey_ptr leaf_key(EVP_EC_gen("P-256"));
    check(ca_key && leaf_key, "EVP_EC_gen");
    x509_ptr ca = make_cert(ca_key.get(), "containd simulator throwaway CA", nullptr, ca_key.get(), true);
    x509_ptr leaf = make_cert(leaf_key.get(), "localhost", ca.get(), ca_key.get(), false);
    tls_material m;
    m.ca_cert_pem = cert_pem(ca.get());
    m.leaf_cert_pem = cert_pem(leaf.get());
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_PrivateKey(bio.get(), leaf_key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    m.leaf_key_pem = bio_string(bio.get());
    return m;
}

std::optional<certificate_facts> read_certificate(std::string_view pem) {
    bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return std::nullopt;
    x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return std::nullopt;
    return facts_of(cert.get());
}

std::optional<certificate_facts> read_certificate_der_base64(std::string_view b64) {
    auto der = base64_decode(b64);
    if (!der) return std::nullopt;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    x509_ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
    if (!cert) return std::nullopt;
    return facts_of(cert.get());
}

bool verify_jws_signature(std::string_view alg, std::string_view public_key_pem, std::string_view signing_input,
                          std::string_view signature) {
    if (alg != "RS256" && alg != "PS256") return false;
    bio_ptr bio(BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
    if (!bio) return false;
    pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) return false;
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1) return false;
    if (alg == "PS256") {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0) return false;
        if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0) return false;
    } else {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

std::string generate_self_signed_der_base64(const std::string& common_name) {
    pkey_ptr key(EVP_RSA_gen(2048));
    check(key != nullptr, "EVP_RSA_gen");
    x509_ptr cert = make_cert(key.get(), common_name.c_str(), nullptr, key.get(), false);
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert.get(), &der);
    check(len > 0, "i2d_X509");
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return base64_encode(out);
}

std::string sha1_raw(std::string_view data) {
    unsigned char out[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
    return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace containd::sim
