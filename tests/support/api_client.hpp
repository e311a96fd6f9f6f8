#pragma once
// A plain blocking HTTP(S) client for the API's tests (Beast), deliberately independent of
// lib/api. One keep-alive connection, reopened when needed; every call bounded in time (its
// own io_context, run for at most the timeout). Not thread-safe: one client per thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace containd::test {

struct api_response {
    int status = 0;                              // 0: no HTTP response (see error)
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string error;  // transport error or empty
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// HTTPS without verifying the server: only for a loopback peer whose CA the test cannot read
// (containd's built-in simulated tenant keeps its CA in the daemon's memory).
struct unverified_tls_t {};
inline constexpr unverified_tls_t unverified_tls{};

class api_client {
public:
    // ca_pem non-empty: HTTPS, verifying the server against that CA (host name 127.0.0.1).
    explicit api_client(std::uint16_t port, std::string ca_pem = {});
    api_client(std::uint16_t port, unverified_tls_t);
    ~api_client();
    api_client(const api_client&) = delete;
    api_client& operator=(const api_client&) = delete;

    api_response request(const std::string& method, const std::string& target, const std::string& body = {},
                         const header_list& headers = {},
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

    // With "Authorization: Bearer <token>" when token is not empty.
    api_response get(const std::string& target, const std::string& token, header_list headers = {});
    // A JSON body (Content-Type: application/json); null body: no body at all.
    api_response post(const std::string& target, const std::string& token, const nlohmann::json& body = nullptr,
                      header_list headers = {});

    int connections_opened() const;
    bool connected() const;
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// A raw TCP conversation on a new connection: writes `bytes`, then reads until the server
// closes or the timeout passes. closed says whether the server closed within the timeout.
struct raw_result {
    std::string received;
    bool closed = false;
    std::chrono::milliseconds elapsed{0};
};
raw_result raw_exchange(std::uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// A connection that sends one byte every `interval` (a slow sender) after `prefix`, until the
// server closes it or `give_up` passes. Returns how long the server took to drop it.
raw_result slow_sender(std::uint16_t port, const std::string& prefix, std::chrono::milliseconds interval,
                       std::chrono::milliseconds give_up);

// A raw connection kept open (for connection limits and stop()); read_all waits for EOF.
class raw_connection {
public:
    explicit raw_connection(std::uint16_t port);
    ~raw_connection();
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;
    bool send(const std::string& bytes);
    raw_result read_all(std::chrono::milliseconds timeout);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// One server-sent event as parsed from the stream.
struct sse_event {
    std::string id;
    std::string event;
    std::string data;
};
std::vector<sse_event> parse_sse(const std::string& text);

}  // namespace containd::test
