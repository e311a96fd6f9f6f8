#pragma once
// A small HTTPS server on 127.0.0.1:<OS-chosen port> for client tests (after userver's
// HttpServerMock): built from a handler std::function<fake_response(const fake_request&)>, run on
// its own io_context thread, stopped by its destructor. It counts requests and connections and
// can misbehave on purpose: delay, hang, reset the connection, or close it without answering.
//
// The handler runs on the server thread, one request at a time; it must not block.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "support/test_tls.hpp"

namespace containd::test {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

struct fake_request {
    std::string method;
    std::string target;  // as received (still percent-encoded)
    std::string body;
    header_pairs headers;                    // names lower-cased
    std::size_t connection = 0;              // 1-based connection number
    std::size_t sequence_on_connection = 0;  // 1 for the first request on its connection

    std::optional<std::string> header(const std::string& lower_name) const;
    std::string path() const;   // target up to '?', percent-decoded
    std::string query() const;  // after '?', percent-decoded
};

struct fake_response {
    enum class action {
        respond,  // send the response (after `delay`)
        hang,     // never answer; keep the connection open until the server stops
        reset,    // abort the connection (TCP RST) without answering
        close,    // close the connection (TLS close_notify + FIN) without answering
    };

    int status = 200;
    header_pairs headers;
    std::string body;
    action act = action::respond;
    std::chrono::milliseconds delay{0};
    bool close_after = false;  // answer with Connection: close and close

    static fake_response json(int status, const nlohmann::json& body, header_pairs extra = {});
    static fake_response empty(int status, header_pairs extra = {});
    static fake_response with(action a);
};

class fake_https_server {
public:
    using handler = std::function<fake_response(const fake_request&)>;

    fake_https_server(const pem_pair& identity, handler h);
    ~fake_https_server();
    fake_https_server(const fake_https_server&) = delete;
    fake_https_server& operator=(const fake_https_server&) = delete;

    unsigned short port() const { return port_; }
    std::string base_url() const { return "https://127.0.0.1:" + std::to_string(port_); }

    std::size_t request_count() const;
    std::size_t connection_count() const;
    std::size_t max_in_flight() const;  // most requests being handled at once
    // Keep-alive connections idle for longer than this are closed by the server (0: never).
    void set_idle_timeout(std::chrono::milliseconds t);
    std::size_t idle_closed() const;  // connections the server closed for idleness
    std::vector<fake_request> received() const;

    void set_handler(handler h);

    struct state;  // implementation detail

private:
    std::shared_ptr<state> state_;
    std::thread thread_;
    unsigned short port_ = 0;
};

// Runs a coroutine on `ioc` until it completes, at most `limit` of real time (then the test
// fails with std::runtime_error instead of hanging).
template <class T>
T run_coro(boost::asio::io_context& ioc, boost::asio::awaitable<T> aw,
           std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    auto fut = boost::asio::co_spawn(ioc, std::move(aw), boost::asio::use_future);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("run_coro: time limit exceeded");
        ioc.run_one_for(std::chrono::milliseconds(50));
        if (ioc.stopped()) ioc.restart();
    }
    return fut.get();
}

}  // namespace containd::test
