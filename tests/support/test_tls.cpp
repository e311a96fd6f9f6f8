#include "support/test_tls.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace containd::test {
namespace {

struct pkey_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct x509_free {
    void operator()(X509* x) const { X509_free(x); }
};
struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test_tls: ") + what);
}

pkey_ptr make_key(key_type type) {
    pkey_ptr key(type == key_type::rsa_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
    check(key != nullptr, "key generation failed");
    return key;
}

std::string to_pem(X509* cert) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

pkey_ptr read_key(const std::string& pem) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    check(key != nullptr, "read key");
    return key;
}

x509_ptr read_cert(const std::string& pem) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    check(cert != nullptr, "read cert");
    return cert;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

x509_ptr new_cert(EVP_PKEY* key, const std::string& cn) {
    x509_ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    return cert;
}

}  // namespace

test_ca::test_ca(std::string common_name, key_type key) {
    auto k = make_key(key);
    auto cert = new_cert(k.get(), common_name);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
    check(X509_sign(cert.get(), k.get(), EVP_sha256()) > 0, "sign CA");
    ca_.cert_pem = to_pem(cert.get());
    ca_.key_pem = to_pem(k.get());
}

pem_pair test_ca::issue(const std::vector<std::string>& sans, std::string common_name, key_type key) const {
    auto ca_key = read_key(ca_.key_pem);
    auto ca_cert = read_cert(ca_.cert_pem);
    auto k = make_key(key);
    auto cert = new_cert(k.get(), common_name);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
    add_ext(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid");
    if (!sans.empty()) {
        std::string list;
        for (const auto& s : sans) list += (list.empty() ? "" : ",") + s;
        add_ext(cert.get(), ca_cert.get(), NID_subject_alt_name, list);
    }
    check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "sign leaf");
    return {to_pem(cert.get()), to_pem(k.get())};
}

loopback_tls make_loopback_tls() {
    loopback_tls t;
    t.server = t.authority.issue({"IP:127.0.0.1", "DNS:localhost"});
    return t;
}

pem_pair make_self_signed(std::string common_name, key_type key) {
    auto k = make_key(key);
    auto cert = new_cert(k.get(), common_name);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    check(X509_sign(cert.get(), k.get(), EVP_sha256()) > 0, "sign self-signed");
    return {to_pem(cert.get()), to_pem(k.get())};
}

const loopback_tls& shared_loopback_tls() {
    static const loopback_tls t = make_loopback_tls();
    return t;
}

}  // namespace containd::test
