#pragma once
// The HTTPS transport under the Graph client: Boost.Beast over OpenSSL, C++20 coroutines.
//
// - One attempt per send(): resolve, connect, TLS handshake, write, read. The only re-send is
//   when a pooled keep-alive connection turns out to be dead before a single response byte
//   arrived, and then only if the request is idempotent or the write itself failed (the server
//   cannot have acted on a request it never received).
// - TLS: peer verification and host-name verification (DNS names and IP addresses, via the
//   certificate's subjectAltName) are always on; SNI is sent for DNS names. Trust: the system
//   store and/or an extra CA (file or PEM string).
// - Keep-alive connections are pooled per host:port (up to max_idle_per_host idle ones).
//   Concurrent sends each take their own connection, so independent calls run in parallel.
// - Each attempt has one deadline covering all of its steps (default 30 s); response headers and
//   body are size-limited (default 16 MiB).
//
// Threading: construct and use on one executor running on one thread (the daemon's io_context);
// send() may be awaited by many coroutines at once on that executor.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "graph/http.hpp"

namespace containd::graph {

struct tls_settings {
    bool use_system_trust = true;  // the OS CA store (set_default_verify_paths)
    std::string ca_file;           // optional extra trusted CA certificate(s), PEM file
    std::string ca_pem;            // optional extra trusted CA certificate(s), PEM text
};

// An HTTP proxy reached with CONNECT (enterprise networks): the TLS session to the server runs
// inside the tunnel, so the proxy sees the host and port, never the request. Empty url: direct.
struct proxy_settings {
    std::string url;                    // "http://host:port" (the proxy itself is spoken to in clear)
    std::vector<std::string> no_proxy;  // hosts reached directly: "host", ".suffix" / "suffix" (and
                                        // its subdomains), "host:port", or "*" for every host
    secret credentials;                 // "user:password" for Proxy-Authorization: Basic; empty: none

    // HTTPS_PROXY (or https_proxy) and NO_PROXY (or no_proxy, comma-separated) of the process.
    static proxy_settings from_environment();
    // Whether a request to host:port goes through the proxy.
    bool applies_to(const std::string& host, const std::string& port) const;
};

struct https_options {
    duration attempt_timeout = seconds(30);
    std::size_t body_limit = 16 * 1024 * 1024;
    std::size_t header_limit = 64 * 1024;
    std::size_t max_idle_per_host = 8;
    duration max_idle_age = seconds(50);  // pooled connections idle longer are closed, not reused
    std::string user_agent = "containd/0.1";
    proxy_settings proxy;
};

class https_client {
public:
    // Throws std::runtime_error when the TLS context cannot be set up (unreadable CA file,
    // invalid PEM); the message names the file, not its content.
    https_client(boost::asio::any_io_executor executor, tls_settings tls, https_options options = {});
    ~https_client();
    https_client(const https_client&) = delete;
    https_client& operator=(const https_client&) = delete;

    // One attempt (see above). Never throws for network outcomes: they are in the result.
    boost::asio::awaitable<http_result> send(http_request request);

    boost::asio::any_io_executor get_executor() const;
    const https_options& options() const;

    // Statistics (tests, metrics).
    std::size_t connections_opened() const;
    std::size_t idle_connections() const;
    // Closes every pooled idle connection.
    void close_idle();

    struct impl;  // implementation detail (opaque; public only so the .cpp's helpers can name it)

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::graph
