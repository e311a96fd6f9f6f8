#pragma once
// A plain HTTPS client for the simulator's tests (Beast + OpenSSL): deliberately NOT lib/graph, so
// a bug shared by the client and the simulator cannot hide. Real TLS verification (verify_peer +
// host-name check against the simulator's CA). One keep-alive connection, reopened when needed;
// each call runs its io_context for a bounded time.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace containd::test {

struct sim_response {
    int status = 0;                              // 0: no HTTP response (see error)
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string error;  // transport error ("timeout", "reset", ...) or empty
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

class sim_test_client {
public:
    // verify_host: the name checked against the certificate ("127.0.0.1" or "localhost").
    sim_test_client(std::string connect_host, std::uint16_t port, std::string ca_pem,
                    std::string verify_host = "127.0.0.1");
    ~sim_test_client();
    sim_test_client(const sim_test_client&) = delete;
    sim_test_client& operator=(const sim_test_client&) = delete;

    sim_response request(const std::string& method, const std::string& target, const std::string& body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

    // Graph call with a bearer token and a JSON body (Content-Type set when body is not empty).
    sim_response graph(const std::string& method, const std::string& target, const std::string& bearer,
                       const nlohmann::json& body = nullptr,
                       std::vector<std::pair<std::string, std::string>> headers = {});

    // Client-credentials token with a secret; returns the access token or "" (response in last).
    std::string token_with_secret(const std::string& tenant, const std::string& client_id, const std::string& secret,
                                  sim_response* last = nullptr);

    int connections_opened() const;
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Form-encodes key/value pairs (application/x-www-form-urlencoded).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
std::string url_encode(const std::string& s);

// A test client certificate (RSA 2048, self-signed) and its key, PEM.
struct test_certificate {
    std::string cert_pem;
    std::string key_pem;
    std::string der;  // certificate DER
};
test_certificate make_test_certificate(const std::string& common_name = "containd-test");

// Signs a compact JWS: alg "RS256" or "PS256". header gets alg/typ added.
std::string sign_jwt(nlohmann::json header, const nlohmann::json& claims, const std::string& key_pem,
                     const std::string& alg);

// base64url(SHA-1(der)) and base64url(SHA-256(der)).
std::string x5t_sha1(const std::string& der);
std::string x5t_sha256(const std::string& der);

}  // namespace containd::test
