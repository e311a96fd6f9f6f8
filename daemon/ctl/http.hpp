#pragma once
// containctl's HTTP client: synchronous from the caller's side, one connection per request
// (the CLI makes few), plain HTTP or HTTPS with peer AND host-name verification (SNI sent for
// names). Asio/Beast stay in http.cpp (they are compiled once, in containd::asio).
//
// Not thread-safe: one thread uses one client.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.hpp"
#include "ctl/ctl.hpp"

namespace containd::ctl {

// The daemon could not be reached or the exchange broke: resolve, connect, TLS (including a
// certificate that does not verify), a timeout, a truncated response. Exit code 6.
struct transport_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct http_result {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct client_options {
    url base;
    std::string cacert_file;                    // PEM trust anchors for https; empty: the system's store
    secret bearer;                              // sent as "Authorization: Bearer ..." when not empty; never printed
    std::chrono::milliseconds timeout{30'000};  // per step (connect, handshake, write, read)
};

class http_client {
public:
    // Throws std::invalid_argument when cacert_file cannot be loaded.
    explicit http_client(client_options opts);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // target: the API path and query ("/v1/incidents?status=running"); the URL's base path is
    // prepended. A non-empty body is sent with content_type. Throws transport_error.
    http_result request(const std::string& method, const std::string& target, const std::string& body = {},
                        const std::string& content_type = "application/json",
                        const std::vector<std::pair<std::string, std::string>>& headers = {});

    // GET target and hand the response body to on_data as it arrives. on_head is called once
    // with the status and headers (body empty) before any data; if the status is not 2xx the
    // whole (bounded) body is read into the result instead and on_data is not called.
    // Returns when the server ends the body or on_data returns false. idle: no byte for this
    // long means the connection is dead (transport_error). Throws transport_error.
    http_result stream(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::function<void(const http_result&)>& on_head,
                       const std::function<bool(std::string_view)>& on_data, std::chrono::milliseconds idle);

    const url& base() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace containd::ctl
