#pragma once
// Throwaway TLS material for tests, generated with OpenSSL at run time: a CA, leaf certificates
// it signs (with chosen subjectAltNames), and self-signed RSA certificates for JWT assertions.
// Nothing is written to disk unless a test does so itself.

#include <string>
#include <vector>

namespace containd::test {

struct pem_pair {
    std::string cert_pem;
    std::string key_pem;  // unencrypted PKCS#8
};

enum class key_type { ec_p256, rsa_2048 };

class test_ca {
public:
    // A new self-signed CA (basicConstraints CA:TRUE, keyCertSign).
    explicit test_ca(std::string common_name = "containd test CA", key_type key = key_type::ec_p256);

    // A leaf certificate signed by this CA, valid from an hour ago for a day, with
    // extendedKeyUsage serverAuth and the given subjectAltNames ("IP:127.0.0.1", "DNS:localhost").
    pem_pair issue(const std::vector<std::string>& subject_alt_names, std::string common_name = "localhost",
                   key_type key = key_type::ec_p256) const;

    const pem_pair& ca() const { return ca_; }

private:
    pem_pair ca_;
};

// The usual loopback server identity: SANs IP:127.0.0.1 and DNS:localhost.
struct loopback_tls {
    test_ca authority;
    pem_pair server;
};
loopback_tls make_loopback_tls();
// One loopback_tls for the whole test binary, made on first use (RSA key generation is slow).
const loopback_tls& shared_loopback_tls();

// A self-signed certificate and key (RSA by default), e.g. an application's client certificate.
pem_pair make_self_signed(std::string common_name, key_type key = key_type::rsa_2048);

}  // namespace containd::test
