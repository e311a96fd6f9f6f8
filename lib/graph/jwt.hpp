#pragma once
// Client assertions for the certificate flavour of OAuth2 client credentials: a compact JWS
// signed with the private key of a certificate registered on the application.
//
// Header: {"alg":"RS256","typ":"JWT","x5t":base64url(SHA-1(cert DER))}, or with PS256
// {"alg":"PS256","typ":"JWT","x5t#S256":base64url(SHA-256(cert DER))}.
// Claims: aud = the token endpoint URL, iss = sub = client id, jti = random UUID,
// nbf = iat = now, exp = now + lifetime (10 minutes by default).

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/secret.hpp"

namespace containd::graph {

enum class assertion_alg { rs256, ps256 };

struct assertion_claims {
    std::string audience;   // token endpoint URL
    std::string client_id;  // iss and sub
    time_point now;
    duration lifetime = minutes(10);
    std::string jti;  // empty: a random UUID
};

// An RSA private key and its certificate, parsed once. Immutable and thread-safe after
// construction.
class certificate_signer {
public:
    // Throws std::invalid_argument when the key or certificate PEM cannot be parsed, the key is
    // not RSA, or the key does not belong to the certificate. Messages never include key material.
    certificate_signer(const secret& private_key_pem, std::string_view certificate_pem);
    ~certificate_signer();
    certificate_signer(certificate_signer&&) noexcept;
    certificate_signer& operator=(certificate_signer&&) noexcept;
    certificate_signer(const certificate_signer&) = delete;
    certificate_signer& operator=(const certificate_signer&) = delete;

    std::string x5t() const;       // base64url(SHA-1(DER))
    std::string x5t_s256() const;  // base64url(SHA-256(DER))
    std::string certificate_der() const;

    // The signed compact JWS. Throws std::runtime_error if OpenSSL fails to sign.
    std::string make_assertion(const assertion_claims& claims, assertion_alg alg = assertion_alg::rs256) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace containd::graph
