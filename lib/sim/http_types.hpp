#pragma once
// The simulator's own view of an HTTP exchange: plain strings, no Beast, so the Graph and token
// logic is testable without sockets.

#include <string>
#include <utility>
#include <vector>

namespace containd::sim {

struct http_request {
    std::string method;
    std::string target;                                        // as received: path and query
    std::string path;                                          // raw (percent-encoded) path, without the query
    std::string query;                                         // raw query string, without '?'
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    std::string remote_address;
    bool from_loopback = true;

    // First header of that (lower-case) name, or empty.
    std::string header(const std::string& lower_name) const {
        for (const auto& [k, v] : headers)
            if (k == lower_name) return v;
        return {};
    }
};

// What the transport does with a response.
enum class transport_action { respond, reset, hang, slow_body };

struct http_response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    transport_action action = transport_action::respond;
};

}  // namespace containd::sim
