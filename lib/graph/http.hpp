#pragma once
// Plain HTTP request/response values exchanged with graph::https_client. No Beast or Asio types:
// every layer above the client (token source, Graph calls, step runners, tests) uses these.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/secret.hpp"

namespace containd::graph {

// Why an attempt produced no HTTP response. `none` means a complete response was received.
enum class transport_error {
    none,
    invalid_request,  // the URL or request could not be used (not https, bad host, ...): nothing sent
    resolve,          // DNS resolution failed
    connect,          // TCP connect failed (refused, unreachable)
    tls,              // TLS handshake or certificate/host-name verification failed, or a TLS error later
    timeout,          // the per-attempt deadline passed (connect, handshake, write or read)
    reset,            // the peer closed or reset the connection before the response was complete
    body_limit,       // the response (headers or body) exceeded the configured limit
    protocol,         // the peer sent something that is not valid HTTP/1.1
};

std::string_view to_string(transport_error e);

using header_list = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match wins.
std::optional<std::string> find_header(const header_list& headers, std::string_view name);

struct http_request {
    std::string method = "GET";  // GET, POST, PATCH, PUT, DELETE
    std::string url;             // absolute https:// URL; the target is sent as given (already encoded)
    header_list headers;         // extra headers (Content-Type, Prefer, ...); Host/User-Agent are set
    std::string body;
    secret bearer_token;  // when not empty: "Authorization: Bearer <token>"
    // Whether the request may be re-sent when a reused keep-alive connection turned out to be
    // dead before any response byte arrived. nullopt: by method (GET, HEAD, PUT, DELETE, OPTIONS).
    std::optional<bool> idempotent;
    // Per-attempt deadline override (resolve + connect + TLS + write + read).
    std::optional<duration> timeout;
};

struct http_response {
    int status = 0;
    header_list headers;
    std::string body;

    std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

// One attempt's outcome: either a complete response (error == none; any status) or a transport
// failure. `detail` is a short diagnostic (the system/TLS error text); it never contains request
// headers or bodies.
struct http_result {
    transport_error error = transport_error::none;
    std::string detail;
    http_response response;
    bool reused_connection = false;  // the response came over a pooled keep-alive connection
    bool resent = false;             // a stale pooled connection failed and a fresh one was used

    bool ok() const { return error == transport_error::none; }
};

}  // namespace containd::graph
