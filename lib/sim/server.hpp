#pragma once
// The simulator's HTTPS server (Beast + OpenSSL, C++20 coroutines). Asio stays in server.cpp.
// Keep-alive, concurrent connections (one strand per connection over `threads` threads), header
// and body limits, idle and handshake timeouts. Each request is handed to the handler, which is
// called concurrently from several connections (it must synchronise itself).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sim/http_types.hpp"

namespace containd::sim {

struct server_settings {
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 0;
    int threads = 1;
    std::string cert_pem, key_pem;  // leaf certificate (chain) and its private key
    std::size_t header_limit = 16 * 1024;
    std::size_t body_limit = 4 * 1024 * 1024;
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds handshake_timeout{10'000};
};

class https_server {
public:
    using handler = std::function<http_response(http_request)>;

    https_server(server_settings settings, handler h);
    ~https_server();  // stops
    https_server(const https_server&) = delete;
    https_server& operator=(const https_server&) = delete;

    void start();  // binds and listens; throws std::runtime_error on failure
    void stop();   // closes the listener, drops connections, joins the threads; idempotent
    std::uint16_t port() const;

    // Real-time delay before each response (benchmarks). Thread-safe.
    void set_latency(std::chrono::nanoseconds d);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::sim
