#include "sim/server.hpp"

#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/text.hpp"

namespace containd::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// What every connection needs; shared by the coroutine frames so that destroying the io_context
// (which destroys pending frames) never races with the owner.
struct deps {
    server_settings settings;
    https_server::handler handler;
    ssl::context tls{ssl::context::tls_server};
    std::atomic<std::int64_t> latency_ns{0};
};

bool is_loopback(const asio::ip::address& a) {
    if (a.is_loopback()) return true;
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
    return false;
}

asio::awaitable<void> pause(std::chrono::nanoseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(use_nothrow);
}

http::response<http::string_body> to_beast(const http_response& r, unsigned version, bool keep_alive) {
    http::response<http::string_body> out{static_cast<http::status>(r.status), version};
    for (const auto& [k, v] : r.headers) out.insert(k, v);
    out.body() = r.body;
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
}

asio::awaitable<void> run_session(std::shared_ptr<deps> d, tcp::socket socket) {
    boost::system::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), d->tls);
    auto& lowest = beast::get_lowest_layer(stream);

    lowest.expires_after(d->settings.handshake_timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
    if (hec) co_return;

    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(d->settings.header_limit));
        parser.body_limit(d->settings.body_limit);
        lowest.expires_after(d->settings.idle_timeout);
        auto [rec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        (void)n;
        if (rec == http::error::body_limit || rec == http::error::header_limit) {
            http_response too_big;
            too_big.status = rec == http::error::body_limit ? 413 : 431;
            too_big.headers.emplace_back("Content-Type", "application/json");
            too_big.body = R"({"error":{"code":"RequestTooLarge","message":"The request is too large."}})";
            auto out = to_beast(too_big, 11, false);
            lowest.expires_after(d->settings.idle_timeout);
            co_await http::async_write(stream, out, use_nothrow);
            // Drain what the client is still sending (bounded), so that it can finish its write
            // and read the answer instead of being reset by a close with unread data.
            lowest.expires_after(std::chrono::seconds(5));
            std::vector<char> sink(64 * 1024);
            std::size_t drained = 0;
            while (drained < 4 * d->settings.body_limit) {
                auto [dec, dn] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
                if (dec) break;
                drained += dn;
            }
            break;
        }
        if (rec) break;  // end_of_stream, timeout, reset: the client is gone

        auto& msg = parser.get();
        const bool keep_alive = msg.keep_alive();
        http_request req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        const auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        if (q != std::string::npos) req.query = req.target.substr(q + 1);
        for (const auto& f : msg) {
            std::string name = lower(f.name_string());
            req.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        req.body = std::move(msg.body());
        req.remote_address = remote.address().to_string();
        req.from_loopback = is_loopback(remote.address());

        http_response res;
        try {
            res = d->handler(std::move(req));
        } catch (const std::exception&) {
            res = http_response{};
            res.status = 500;
            res.headers.emplace_back("Content-Type", "application/json");
            res.body = R"({"error":{"code":"UnknownError","message":"An internal server error occurred."}})";
        }

        if (const auto lat = d->latency_ns.load(); lat > 0) co_await pause(std::chrono::nanoseconds(lat));

        if (res.action == transport_action::reset) {
            lowest.socket().set_option(tcp::socket::linger(true, 0), ignored);
            lowest.socket().close(ignored);
            co_return;
        }
        if (res.action == transport_action::hang) {
            // Never answer: hold the connection until the client gives up (we then read EOF or
            // an error) or the simulator stops (the io_context is destroyed with this frame).
            lowest.expires_never();
            char byte;
            for (;;) {
                auto [hang_ec, got] = co_await stream.async_read_some(asio::buffer(&byte, 1), use_nothrow);
                (void)got;
                if (hang_ec) co_return;
            }
        }
        auto out = to_beast(res, msg.version(), keep_alive);
        if (res.action == transport_action::slow_body) {
            http::response_serializer<http::string_body> sr{out};
            lowest.expires_after(d->settings.idle_timeout);
            auto [wec, w] = co_await http::async_write_header(stream, sr, use_nothrow);
            (void)w;
            if (wec) co_return;
            const std::string& body = res.body;
            const std::size_t pieces = 10;
            std::size_t off = 0;
            for (std::size_t i = 0; i < pieces && off < body.size(); ++i) {
                const std::size_t len =
                    i + 1 == pieces ? body.size() - off : std::max<std::size_t>(1, body.size() / pieces);
                const std::size_t take = std::min(len, body.size() - off);
                lowest.expires_after(d->settings.idle_timeout);
                auto [bec, bw] = co_await asio::async_write(stream, asio::buffer(body.data() + off, take), use_nothrow);
                (void)bw;
                if (bec) co_return;
                off += take;
                if (off < body.size()) co_await pause(std::chrono::milliseconds(300));
            }
        } else {
            lowest.expires_after(d->settings.idle_timeout);
            auto [wec, w] = co_await http::async_write(stream, out, use_nothrow);
            (void)w;
            if (wec) co_return;
        }
        if (!keep_alive) break;
    }
    lowest.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_nothrow);
}

asio::awaitable<void> accept_loop(std::shared_ptr<deps> d, tcp::acceptor* acceptor, asio::io_context* ioc) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(*ioc), use_nothrow);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
            continue;  // e.g. EMFILE: keep serving the connections we have
        }
        tcp::socket s(std::move(socket));
        auto ex = s.get_executor();
        asio::co_spawn(ex, run_session(d, std::move(s)), asio::detached);
    }
}

}  // namespace

struct https_server::impl {
    std::shared_ptr<deps> d = std::make_shared<deps>();
    std::optional<asio::io_context> ioc;
    std::optional<tcp::acceptor> acceptor;
    std::vector<std::thread> threads;
    std::uint16_t port = 0;
    std::mutex m;
    bool running = false;
};

https_server::https_server(server_settings settings, handler h) : impl_(std::make_shared<impl>()) {
    impl_->d->settings = std::move(settings);
    impl_->d->handler = std::move(h);
}

https_server::~https_server() { stop(); }

void https_server::start() {
    std::lock_guard lock(impl_->m);
    if (impl_->running) return;
    auto& d = *impl_->d;
    d.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    d.tls.use_certificate_chain(asio::buffer(d.settings.cert_pem), ec);
    if (ec) throw std::runtime_error("simulator: unusable certificate: " + ec.message());
    d.tls.use_private_key(asio::buffer(d.settings.key_pem), ssl::context::pem, ec);
    if (ec) throw std::runtime_error("simulator: unusable private key: " + ec.message());

    const int nthreads = std::max(1, d.settings.threads);
    impl_->ioc.emplace(nthreads);
    auto& ioc = *impl_->ioc;
    impl_->acceptor.emplace(ioc);
    auto& acc = *impl_->acceptor;
    const tcp::endpoint ep(asio::ip::make_address(d.settings.bind_address, ec), d.settings.port);
    if (ec) throw std::runtime_error("simulator: bad bind address " + d.settings.bind_address);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        impl_->acceptor.reset();
        impl_->ioc.reset();
        throw std::runtime_error("simulator: cannot listen on " + d.settings.bind_address + ":" +
                                 std::to_string(d.settings.port) + ": " + ec.message());
    }
    impl_->port = acc.local_endpoint().port();
    asio::co_spawn(ioc, accept_loop(impl_->d, &acc, &ioc), asio::detached);
    for (int i = 0; i < nthreads; ++i) impl_->threads.emplace_back([&ioc] { ioc.run(); });
    impl_->running = true;
}

void https_server::stop() {
    std::lock_guard lock(impl_->m);
    if (!impl_->running) return;
    impl_->running = false;
    impl_->ioc->stop();
    for (auto& t : impl_->threads) t.join();
    impl_->threads.clear();
    impl_->acceptor.reset();
    impl_->ioc.reset();  // destroys the pending session frames (and closes their sockets)
}

std::uint16_t https_server::port() const { return impl_->port; }

void https_server::set_latency(std::chrono::nanoseconds d) { impl_->d->latency_ns.store(d.count()); }

}  // namespace containd::sim
