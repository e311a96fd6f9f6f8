#include "support/fake_https_server.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/text.hpp"
#include "support/beast_names.hpp"

namespace containd::test {
namespace {
using namespace beast_names;

std::string decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}
}  // namespace

std::optional<std::string> fake_request::header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return v;
    return std::nullopt;
}

std::string fake_request::path() const { return decode(std::string_view(target).substr(0, target.find('?'))); }

std::string fake_request::query() const {
    const auto q = target.find('?');
    return q == std::string::npos ? std::string() : decode(std::string_view(target).substr(q + 1));
}

fake_response fake_response::json(int status, const nlohmann::json& body, header_pairs extra) {
    fake_response r;
    r.status = status;
    r.headers = std::move(extra);
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = body.dump();
    return r;
}

fake_response fake_response::empty(int status, header_pairs extra) {
    fake_response r;
    r.status = status;
    r.headers = std::move(extra);
    return r;
}

fake_response fake_response::with(action a) {
    fake_response r;
    r.act = a;
    return r;
}

struct fake_https_server::state {
    asio::io_context ioc;
    ssl::context ctx{ssl::context::tls_server};
    tcp::acceptor acceptor{ioc};
    std::mutex mu;
    handler h;
    std::vector<fake_request> received;
    std::atomic<std::size_t> requests{0}, connections{0}, in_flight{0}, max_in_flight{0}, idle_closed{0};
    std::atomic<long long> idle_timeout_ms{0};
};

namespace {

// Coroutines hold a plain pointer: the state owns the io_context that owns their frames, so a
// shared_ptr here would keep everything alive forever (and the listening socket open).
asio::awaitable<void> session(fake_https_server::state* st, tcp::socket socket, std::size_t conn) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), st->ctx);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
    if (hec) co_return;
    beast::flat_buffer buffer;
    for (std::size_t seq = 1;; ++seq) {
        const long long idle_ms = st->idle_timeout_ms.load();
        if (seq > 1 && idle_ms > 0)
            beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(idle_ms));
        else
            beast::get_lowest_layer(stream).expires_never();
        http::request_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        auto [rec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        (void)n;
        if (rec) {
            if (rec == beast::error::timeout) ++st->idle_closed;  // tcp_stream closed the socket
            co_return;
        }
        auto req = parser.release();

        fake_request fr;
        fr.method = std::string(req.method_string());
        fr.target = std::string(req.target());
        fr.body = req.body();
        for (const auto& f : req) fr.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
        fr.connection = conn;
        fr.sequence_on_connection = seq;

        ++st->requests;
        const auto now_in_flight = ++st->in_flight;
        auto prev = st->max_in_flight.load();
        while (prev < now_in_flight && !st->max_in_flight.compare_exchange_weak(prev, now_in_flight)) {}
        fake_https_server::handler h;
        {
            std::lock_guard lock(st->mu);
            st->received.push_back(fr);
            h = st->h;
        }
        fake_response resp;
        try {
            resp = h(fr);
        } catch (const std::exception& e) {
            resp = fake_response::json(500, {{"error", {{"code", "testHandlerThrew"}, {"message", e.what()}}}});
        }
        if (resp.delay.count() > 0) {
            asio::steady_timer t(st->ioc);
            t.expires_after(resp.delay);
            co_await t.async_wait(use_nothrow);
        }
        --st->in_flight;
        auto& lowest = beast::get_lowest_layer(stream);
        switch (resp.act) {
        case fake_response::action::hang: {
            asio::steady_timer t(st->ioc);
            t.expires_at(asio::steady_timer::time_point::max());
            co_await t.async_wait(use_nothrow);
            co_return;
        }
        case fake_response::action::reset: {
            boost::system::error_code ec;
            lowest.socket().set_option(asio::socket_base::linger(true, 0), ec);
            lowest.socket().close(ec);
            co_return;
        }
        case fake_response::action::close: {
            lowest.expires_after(std::chrono::seconds(1));
            co_await stream.async_shutdown(use_nothrow);
            boost::system::error_code ec;
            lowest.socket().close(ec);
            co_return;
        }
        case fake_response::action::respond: break;
        }
        http::response<http::string_body> res{static_cast<http::status>(resp.status), 11};
        for (const auto& [k, v] : resp.headers) res.set(k, v);
        res.body() = resp.body;
        const bool keep = !resp.close_after && req.keep_alive();
        res.keep_alive(keep);
        res.prepare_payload();
        lowest.expires_after(std::chrono::seconds(10));
        auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
        (void)wn;
        if (wec) co_return;
        if (!keep) {
            lowest.expires_after(std::chrono::seconds(1));
            co_await stream.async_shutdown(use_nothrow);
            co_return;
        }
    }
}

asio::awaitable<void> accept_loop(fake_https_server::state* st) {
    for (;;) {
        auto [ec, socket] = co_await st->acceptor.async_accept(use_nothrow);
        if (ec) co_return;
        const std::size_t conn = ++st->connections;
        asio::co_spawn(st->ioc, session(st, std::move(socket), conn), asio::detached);
    }
}

}  // namespace

fake_https_server::fake_https_server(const pem_pair& identity, handler h) : state_(std::make_shared<state>()) {
    state_->h = std::move(h);
    state_->ctx.use_certificate_chain(asio::buffer(identity.cert_pem));
    state_->ctx.use_private_key(asio::buffer(identity.key_pem), ssl::context::pem);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(ep.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(ep);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    asio::co_spawn(state_->ioc, accept_loop(state_.get()), asio::detached);
    thread_ = std::thread([st = state_] { st->ioc.run(); });
}

fake_https_server::~fake_https_server() {
    state_->ioc.stop();
    if (thread_.joinable()) thread_.join();
    boost::system::error_code ec;
    state_->acceptor.close(ec);
    // state_ goes next: destroying its io_context destroys the pending coroutine frames, which
    // close their connections.
}

std::vector<fake_request> fake_https_server::received() const {
    std::lock_guard lock(state_->mu);
    return state_->received;
}

void fake_https_server::set_handler(handler h) {
    std::lock_guard lock(state_->mu);
    state_->h = std::move(h);
}

std::size_t fake_https_server::request_count() const { return state_->requests.load(); }
std::size_t fake_https_server::connection_count() const { return state_->connections.load(); }
std::size_t fake_https_server::max_in_flight() const { return state_->max_in_flight.load(); }
std::size_t fake_https_server::idle_closed() const { return state_->idle_closed.load(); }
void fake_https_server::set_idle_timeout(std::chrono::milliseconds t) { state_->idle_timeout_ms = t.count(); }

}  // namespace containd::test
