#include "support/api_client.hpp"

#include <optional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/text.hpp"
#include "support/beast_names.hpp"

namespace containd::test {
namespace {

using namespace beast_names;

// Runs one asynchronous operation on ioc for at most timeout; on timeout, cancel() is called and
// the operation is let finish (with an error). Returns the operation's error (timed_out on timeout).
template <class Start, class Cancel>
error_code run_bounded(asio::io_context& ioc, std::chrono::milliseconds timeout, Start start, Cancel cancel,
                       bool& timed_out) {
    error_code result;
    bool done = false;
    ioc.restart();
    start([&](error_code ec) {
        result = ec;
        done = true;
    });
    ioc.run_for(timeout);
    timed_out = false;
    if (!done) {
        timed_out = true;
        cancel();
        ioc.restart();
        ioc.run_for(std::chrono::seconds(2));
    }
    return result;
}

}  // namespace

struct api_client::impl {
    std::uint16_t port;
    std::string ca_pem;
    bool verify = true;
    asio::io_context ioc;
    std::optional<ssl::context> tls;
    std::optional<tcp::socket> plain;
    std::optional<ssl::stream<tcp::socket>> secure;
    beast::flat_buffer buffer;
    int opened = 0;

    tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }
    bool is_open() const { return (plain && plain->is_open()) || (secure && secure->next_layer().is_open()); }

    void close() {
        error_code ignored;
        if (plain) plain->close(ignored);
        if (secure) secure->next_layer().close(ignored);
        plain.reset();
        secure.reset();
        buffer.clear();
    }

    std::string open(std::chrono::milliseconds timeout) {
        close();
        const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        bool timed_out = false;
        if (tls) {
            secure.emplace(ioc, *tls);
            SSL_set_tlsext_host_name(secure->native_handle(), "127.0.0.1");
            secure->set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
            if (verify) secure->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
        } else {
            plain.emplace(ioc);
        }
        auto ec = run_bounded(
            ioc, timeout, [&](auto h) { socket().async_connect(ep, h); }, [&] { socket().cancel(); }, timed_out);
        if (timed_out) return "timeout";
        if (ec) return ec.message();
        socket().set_option(tcp::no_delay(true), ec);
        if (tls) {
            ec = run_bounded(
                ioc, timeout, [&](auto h) { secure->async_handshake(ssl::stream_base::client, h); },
                [&] { socket().cancel(); }, timed_out);
            if (timed_out) return "timeout";
            if (ec) return "handshake: " + ec.message();
        }
        ++opened;
        return {};
    }

    template <class Stream>
    api_response exchange(Stream& stream, http::request<http::string_body>& req, std::chrono::milliseconds timeout) {
        api_response out;
        bool timed_out = false;
        auto ec = run_bounded(
            ioc, timeout, [&](auto h) { http::async_write(stream, req, [h](error_code e, std::size_t) { h(e); }); },
            [&] { socket().cancel(); }, timed_out);
        if (timed_out || ec) {
            out.error = timed_out ? "timeout" : "write: " + ec.message();
            close();
            return out;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        parser.skip(req.method() == http::verb::head);
        ec = run_bounded(
            ioc, timeout,
            [&](auto h) { http::async_read(stream, buffer, parser, [h](error_code e, std::size_t) { h(e); }); },
            [&] { socket().cancel(); }, timed_out);
        if (timed_out || ec) {
            out.error = timed_out ? "timeout" : "read: " + ec.message();
            close();
            return out;
        }
        auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        for (const auto& f : res) {
            std::string name = lower(f.name_string());
            auto [it, inserted] = out.headers.emplace(name, std::string(f.value()));
            if (!inserted) it->second += ", " + std::string(f.value());
        }
        out.body = std::move(res.body());
        if (!res.keep_alive()) close();
        return out;
    }
};

api_client::api_client(std::uint16_t port, std::string ca_pem) : impl_(std::make_unique<impl>()) {
    impl_->port = port;
    impl_->ca_pem = std::move(ca_pem);
    if (!impl_->ca_pem.empty()) {
        impl_->tls.emplace(ssl::context::tls_client);
        impl_->tls->add_certificate_authority(asio::buffer(impl_->ca_pem));
    }
}

api_client::api_client(std::uint16_t port, unverified_tls_t) : impl_(std::make_unique<impl>()) {
    impl_->port = port;
    impl_->verify = false;
    impl_->tls.emplace(ssl::context::tls_client);
}

api_client::~api_client() { impl_->close(); }

api_response api_client::request(const std::string& method, const std::string& target, const std::string& body,
                                 const header_list& headers, std::chrono::milliseconds timeout) {
    http::request<http::string_body> req;
    const auto verb = http::string_to_verb(method);
    if (verb == http::verb::unknown)
        req.method_string(method);
    else
        req.method(verb);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    for (const auto& [k, v] : headers) req.insert(k, v);
    req.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();

    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = impl_->is_open();
        if (!reused) {
            if (auto err = impl_->open(timeout); !err.empty()) {
                api_response failed;
                failed.error = "connect: " + err;
                return failed;
            }
        }
        auto res = impl_->secure ? impl_->exchange(*impl_->secure, req, timeout)
                                 : impl_->exchange(*impl_->plain, req, timeout);
        // A stale keep-alive (the server closed it while idle): once more on a new connection.
        if (res.status == 0 && reused && res.error != "timeout") continue;
        return res;
    }
    api_response failed;
    failed.error = "no response";
    return failed;
}

api_response api_client::get(const std::string& target, const std::string& token, header_list headers) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return request("GET", target, {}, headers);
}

api_response api_client::post(const std::string& target, const std::string& token, const nlohmann::json& body,
                              header_list headers) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    std::string text;
    if (!body.is_null()) {
        text = body.dump();
        bool has_type = false;
        for (const auto& [k, v] : headers) has_type = has_type || beast::iequals(k, "content-type");
        if (!has_type) headers.emplace_back("Content-Type", "application/json");
    }
    return request("POST", target, text, headers);
}

int api_client::connections_opened() const { return impl_->opened; }
bool api_client::connected() const { return impl_->is_open(); }
void api_client::close() { impl_->close(); }

// ------------------------------------------------------------------ raw connections

struct raw_connection::impl {
    asio::io_context ioc;
    tcp::socket socket{ioc};
};

raw_connection::raw_connection(std::uint16_t port) : impl_(std::make_unique<impl>()) {
    impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

raw_connection::~raw_connection() {
    error_code ignored;
    impl_->socket.close(ignored);
}

bool raw_connection::send(const std::string& bytes) {
    error_code ec;
    asio::write(impl_->socket, asio::buffer(bytes), ec);
    return !ec;
}

raw_result raw_connection::read_all(std::chrono::milliseconds timeout) {
    raw_result out;
    const auto started = std::chrono::steady_clock::now();
    std::array<char, 8192> chunk{};
    for (;;) {
        bool done = false;
        error_code result;
        std::size_t got = 0;
        impl_->ioc.restart();
        impl_->socket.async_read_some(asio::buffer(chunk), [&](error_code ec, std::size_t n) {
            result = ec;
            got = n;
            done = true;
        });
        const auto left =
            timeout - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        impl_->ioc.run_for(std::max(left, std::chrono::milliseconds(1)));
        if (!done) {
            impl_->socket.cancel();
            impl_->ioc.restart();
            impl_->ioc.run_for(std::chrono::seconds(1));
            break;
        }
        out.received.append(chunk.data(), got);
        if (result) {
            out.closed = true;
            break;
        }
    }
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return out;
}

raw_result raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
    raw_connection c(port);
    c.send(bytes);
    return c.read_all(timeout);
}

raw_result slow_sender(std::uint16_t port, const std::string& prefix, std::chrono::milliseconds interval,
                       std::chrono::milliseconds give_up) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    raw_result out;
    const auto started = std::chrono::steady_clock::now();
    error_code ec;
    asio::write(s, asio::buffer(prefix), ec);
    s.non_blocking(true);
    std::array<char, 4096> chunk{};
    while (!ec && std::chrono::steady_clock::now() - started < give_up) {
        std::this_thread::sleep_for(interval);
        // Closed by the server? A read says EOF (or reset) before a write notices.
        error_code rec;
        const auto n = s.read_some(asio::buffer(chunk), rec);
        if (!rec) out.received.append(chunk.data(), n);
        if (rec && rec != asio::error::would_block) {
            out.closed = true;
            break;
        }
        asio::write(s, asio::buffer("X-Slow: y\r\n", 1), ec);
        if (ec) out.closed = true;
    }
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return out;
}

std::vector<sse_event> parse_sse(const std::string& text) {
    std::vector<sse_event> out;
    sse_event current;
    bool any = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // an incomplete last line
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            if (any) out.push_back(current);
            current = {};
            any = false;
            continue;
        }
        if (line.front() == ':') continue;
        const auto colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (field == "id")
            current.id = value, any = true;
        else if (field == "event")
            current.event = value, any = true;
        else if (field == "data")
            current.data += (current.data.empty() ? "" : "\n") + value, any = true;
    }
    return out;
}

}  // namespace containd::test
