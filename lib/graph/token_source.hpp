#pragma once
// OAuth2 client-credentials tokens for Microsoft Graph, from
// POST {login_base}/{tenant}/oauth2/v2.0/token with scope https://graph.microsoft.com/.default,
// authenticated by a client secret or by a certificate (signed JWT client assertion).
//
// - Cached until refresh_margin (5 minutes) before expiry, measured on the injected clock.
// - Single flight: concurrent callers of get() while a request is in flight await that one
//   request and all receive its outcome (success or the same failure).
// - invalidate(token) after Graph answered 401 to that token: the next get() fetches a new one
//   (unless another caller already replaced it).
// - The client secret, the private key and the access token are `secret`s: they are never in a
//   result body, an error message or a log line.
//
// Threading: same executor as the https_client; not thread-safe.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "graph/jwt.hpp"
#include "graph/result.hpp"

namespace containd::graph {

class https_client;

struct client_secret_credential {
    secret value;
};

struct certificate_credential {
    secret private_key_pem;       // unencrypted PEM (PKCS#8 or PKCS#1), RSA
    std::string certificate_pem;  // the certificate registered on the application
    assertion_alg alg = assertion_alg::rs256;
};

using credential = std::variant<client_secret_credential, certificate_credential>;

struct token_settings {
    std::string login_base = "https://login.microsoftonline.com";
    std::string tenant;     // tenant id (GUID) or verified domain
    std::string client_id;  // application (client) id
    std::string scope = "https://graph.microsoft.com/.default";
    duration refresh_margin = minutes(5);
    duration assertion_lifetime = minutes(10);
    std::optional<duration> timeout;  // per-attempt override for the token request
};

// The outcome of get(): token is non-empty exactly when call.ok().
struct token_reply {
    secret token;
    call_result call;  // for failures: status, error (e.g. "invalid_client"), AADSTS codes
    bool ok() const { return call.ok() && !token.empty(); }
};

class token_source {
public:
    // Throws std::invalid_argument for unusable settings (no tenant/client id, invalid tenant,
    // login_base not https, or a certificate credential whose key/cert cannot be parsed).
    token_source(https_client& http, const clock_source& clock, token_settings settings, credential cred);
    ~token_source();
    token_source(const token_source&) = delete;
    token_source& operator=(const token_source&) = delete;

    // A valid access token, from the cache or one token request (see single flight above).
    boost::asio::awaitable<token_reply> get();

    // Drops the cached token if it is still `rejected` (the token Graph answered 401 to).
    void invalidate(const secret& rejected);
    // Drops the cached token unconditionally.
    void invalidate();

    // The token endpoint URL ({login_base}/{tenant}/oauth2/v2.0/token), also the assertion's aud.
    const std::string& endpoint() const;
    std::size_t requests_made() const;               // token requests sent so far
    std::optional<time_point> cached_until() const;  // when the cached token stops being used

    struct impl;  // implementation detail (opaque; public only so the .cpp's helpers can name it)

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::graph
