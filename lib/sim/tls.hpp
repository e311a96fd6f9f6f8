#pragma once
// TLS and certificate helpers for the simulator (OpenSSL; no Asio).

#include <optional>
#include <string>
#include <string_view>

namespace containd::sim {

// A throwaway CA and a leaf certificate it signed, valid for IP:127.0.0.1 and DNS:localhost
// (ECDSA P-256, SHA-256, valid from one hour ago for 30 days). PEM strings.
struct tls_material {
    std::string ca_cert_pem;
    std::string leaf_cert_pem;
    std::string leaf_key_pem;
};

// Throws std::runtime_error when OpenSSL fails.
tls_material generate_tls_material();

// A registered certificate's facts that token-endpoint verification needs.
struct certificate_facts {
    std::string der;             // DER bytes
    std::string sha1_x5t;        // base64url(SHA-1(DER)), no padding
    std::string sha256_x5t;      // base64url(SHA-256(DER)), no padding
    std::string public_key_pem;  // SubjectPublicKeyInfo PEM
};

// Parses a PEM certificate (the first in the text). nullopt when it is not one.
std::optional<certificate_facts> read_certificate(std::string_view pem);
// Parses a base64 DER certificate (a keyCredential's "key"). nullopt when it is not one.
std::optional<certificate_facts> read_certificate_der_base64(std::string_view b64);

// Verifies a JWS signature over signing_input. alg: "RS256" (PKCS#1 v1.5) or "PS256" (PSS,
// SHA-256, any salt length). False for anything else or a bad signature.
bool verify_jws_signature(std::string_view alg, std::string_view public_key_pem, std::string_view signing_input,
                          std::string_view signature);

// SHA-1 of data, raw bytes.
std::string sha1_raw(std::string_view data);

}  // namespace containd::sim

namespace containd::sim {
// A self-signed certificate (RSA 2048) for scenario keyCredentials: base64 DER of the cert.
std::string generate_self_signed_der_base64(const std::string& common_name);
}  // namespace containd::sim
