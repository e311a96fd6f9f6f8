#include "graph/https_client.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "graph/url.hpp"

namespace containd::graph {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct connection {
    connection(const asio::any_io_executor& ex, ssl::context& ctx) : stream(ex, ctx) {}
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    steady::time_point idle_since{};
};
using connection_ptr = std::unique_ptr<connection>;

enum class phase { resolve, connect, handshake, write, read };

transport_error classify(const error_code& ec, phase where) {
    if (ec == beast::error::timeout || ec == asio::error::timed_out) return transport_error::timeout;
    if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow)
        return transport_error::body_limit;
    if (ec == asio::ssl::error::stream_truncated)
        return where == phase::handshake ? transport_error::tls : transport_error::reset;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
        ec == asio::error::not_connected)
        return transport_error::reset;
    if (ec.category() == asio::error::get_ssl_category() || ec.category() == asio::ssl::error::get_stream_category())
        return transport_error::tls;
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) return transport_error::protocol;
    switch (where) {
        case phase::resolve: return transport_error::resolve;
        case phase::connect: return transport_error::connect;
        case phase::handshake: return transport_error::tls;
        case phase::write:
        case phase::read: return transport_error::reset;
    }
    return transport_error::reset;
}

http_result failure(transport_error e, std::string detail) {
    http_result r;
    r.error = e;
    r.detail = std::move(detail);
    return r;
}

bool safe_header_text(std::string_view s) {
    for (const char c : s)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

bool default_idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

// A pooled connection the server has since closed shows up as readable (EOF or a TLS
// close_notify). Checking before reuse avoids most stale-connection failures up front.
bool looks_alive(connection& c) {
    if (c.buffer.size() != 0) return false;
    auto& sock = beast::get_lowest_layer(c.stream).socket();
    if (!sock.is_open()) return false;
    char byte;
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    return false;  // 0: orderly close; > 0: unsolicited bytes (close_notify or garbage)
}

}  // namespace

struct https_client::impl {
    impl(asio::any_io_executor ex, https_options opts) : executor(std::move(ex)), options(std::move(opts)) {}

    asio::any_io_executor executor;
    ssl::context ctx{ssl::context::tls_client};
    https_options options;
    std::map<std::string, std::vector<connection_ptr>> idle;  // "host:port" -> idle connections
    std::size_t opened = 0;

    connection_ptr take_idle(const std::string& key) {
        auto it = idle.find(key);
        if (it == idle.end()) return nullptr;
        auto& pool = it->second;
        const auto now = steady::now();
        while (!pool.empty()) {
            connection_ptr c = std::move(pool.back());
            pool.pop_back();
            if (now - c->idle_since > options.max_idle_age) continue;
            if (!looks_alive(*c)) continue;
            return c;
        }
        return nullptr;
    }
};

namespace {

asio::awaitable<void> close_gracefully(std::shared_ptr<https_client::impl> keep_alive, connection_ptr c) {
    // Keep the close off the caller's path: the response is already delivered. keep_alive holds
    // the TLS context for as long as the stream that uses it.
    (void)keep_alive;
    beast::get_lowest_layer(c->stream).expires_after(std::chrono::seconds(2));
    auto [ec] = co_await c->stream.async_shutdown(use_nothrow);
    (void)ec;  // stream_truncated and friends are normal here
    error_code ignored;
    beast::get_lowest_layer(c->stream).socket().close(ignored);
}

void release(const std::shared_ptr<https_client::impl>& self, const std::string& key, connection_ptr c, bool reusable) {
    if (reusable && c->buffer.size() == 0) {
        auto& pool = self->idle[key];
        if (pool.size() < self->options.max_idle_per_host) {
            c->idle_since = steady::now();
            pool.push_back(std::move(c));
            return;
        }
    }
    asio::co_spawn(self->executor, close_gracefully(self, std::move(c)), asio::detached);
}

struct open_result {
    connection_ptr conn;
    http_result error;  // when conn is null
};

asio::awaitable<open_result> open_connection(std::shared_ptr<https_client::impl> self, url_parts url,
                                             steady::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    open_result out;
    auto c = std::make_unique<connection>(self->executor, self->ctx);

    error_code addr_ec;
    const auto address = asio::ip::make_address(url.host, addr_ec);
    const bool is_ip = !addr_ec;
    const auto port = static_cast<unsigned short>(std::stoi(url.port));
    std::vector<tcp::endpoint> endpoints;
    if (is_ip) {
        endpoints.emplace_back(address, port);
    } else {
        tcp::resolver resolver(self->executor);
        asio::steady_timer timer(self->executor);
        timer.expires_at(deadline);
        auto raced = co_await (resolver.async_resolve(url.host, url.port, use_nothrow) || timer.async_wait(use_nothrow));
        if (raced.index() == 1) {
            out.error = failure(transport_error::timeout, "name resolution timed out");
            co_return out;
        }
        auto [rec, results] = std::get<0>(raced);
        if (rec || results.empty()) {
            out.error = failure(transport_error::resolve, rec ? rec.message() : "no addresses");
            co_return out;
        }
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }

    auto& lowest = beast::get_lowest_layer(c->stream);
    lowest.expires_at(deadline);
    auto [cec, ep] = co_await lowest.async_connect(endpoints, use_nothrow);
    (void)ep;
    if (cec) {
        out.error = failure(classify(cec, phase::connect), cec.message());
        co_return out;
    }
    ++self->opened;
    error_code nodelay_ec;
    lowest.socket().set_option(tcp::no_delay(true), nodelay_ec);

    // SNI only for DNS names (RFC 6066 forbids IP literals); host-name verification for both.
    if (!is_ip && !SSL_set_tlsext_host_name(c->stream.native_handle(), url.host.c_str())) {
        out.error = failure(transport_error::tls, "cannot set SNI");
        co_return out;
    }
    c->stream.set_verify_mode(ssl::verify_peer);
    c->stream.set_verify_callback(ssl::host_name_verification(url.host));
    auto [hec] = co_await c->stream.async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) {
        std::string detail = hec.message();
        const long verify = SSL_get_verify_result(c->stream.native_handle());
        if (verify != X509_V_OK) detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        out.error = failure(classify(hec, phase::handshake), detail);
        co_return out;
    }
    out.conn = std::move(c);
    co_return out;
}

struct exchange_result {
    error_code ec;
    phase where = phase::write;
    bool received_any = false;
    http::response<http::string_body> response;
};

asio::awaitable<exchange_result> exchange(connection& c, const http::request<http::string_body>& req,
                                          steady::time_point deadline, const https_options& options) {
    exchange_result out;
    beast::get_lowest_layer(c.stream).expires_at(deadline);
    auto [wec, written] = co_await http::async_write(c.stream, req, use_nothrow);
    (void)written;
    if (wec) {
        out.ec = wec;
        out.where = phase::write;
        co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    auto [rec, read] = co_await http::async_read(c.stream, c.buffer, parser, use_nothrow);
    (void)read;
    if (rec) {
        out.ec = rec;
        out.where = phase::read;
        out.received_any = parser.got_some() || c.buffer.size() > 0;
        co_return out;
    }
    out.response = parser.release();
    co_return out;
}

asio::awaitable<http_result> do_send(std::shared_ptr<https_client::impl> self, http_request request) {
    const auto url = parse_url(request.url);
    if (!url) co_return failure(transport_error::invalid_request, "not a valid https URL");
    const http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) co_return failure(transport_error::invalid_request, "unknown HTTP method");
    for (const auto& [name, value] : request.headers)
        if (name.empty() || !safe_header_text(name) || !safe_header_text(value))
            co_return failure(transport_error::invalid_request, "invalid header");
    if (!safe_header_text(request.bearer_token.reveal()))
        co_return failure(transport_error::invalid_request, "invalid bearer token");

    http::request<http::string_body> req{verb, url->target, 11};
    req.set(http::field::host, url->host_header());
    req.set(http::field::user_agent, self->options.user_agent);
    req.set(http::field::accept, "application/json");
    for (const auto& [name, value] : request.headers) req.set(name, value);
    if (!request.bearer_token.empty()) req.set(http::field::authorization, "Bearer " + request.bearer_token.reveal());
    req.body() = std::move(request.body);
    req.prepare_payload();

    const bool idempotent = request.idempotent.value_or(default_idempotent(request.method));
    const auto deadline = steady::now() + request.timeout.value_or(self->options.attempt_timeout);
    const std::string key = url->host + ":" + url->port;

    bool resent = false;
    for (;;) {
        connection_ptr conn = self->take_idle(key);
        const bool reused = conn != nullptr;
        if (!conn) {
            auto opened = co_await open_connection(self, *url, deadline);
            if (!opened.conn) {
                opened.error.resent = resent;
                co_return std::move(opened.error);
            }
            conn = std::move(opened.conn);
        }
        auto ex = co_await exchange(*conn, req, deadline, self->options);
        if (ex.ec) {
            // A pooled connection the server dropped while it sat idle: nothing was received, so
            // the server did not answer. Re-send once on a fresh connection when that cannot
            // duplicate an effect (idempotent method, or the request never left).
            const bool stale = reused && !resent && !ex.received_any && ex.ec != beast::error::timeout &&
                               classify(ex.ec, ex.where) == transport_error::reset &&
                               (idempotent || ex.where == phase::write);
            if (stale) {
                resent = true;
                continue;
            }
            http_result r = failure(classify(ex.ec, ex.where), ex.ec.message());
            r.reused_connection = reused;
            r.resent = resent;
            co_return r;
        }
        http_result r;
        r.reused_connection = reused;
        r.resent = resent;
        r.response.status = static_cast<int>(ex.response.result_int());
        for (const auto& field : ex.response)
            r.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        const bool keep = ex.response.keep_alive();
        r.response.body = std::move(ex.response.body());
        release(self, key, std::move(conn), keep);
        co_return r;
    }
}

}  // namespace

https_client::https_client(asio::any_io_executor executor, tls_settings tls, https_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {
    auto& ctx = impl_->ctx;
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    ctx.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (tls.use_system_trust) {
        ctx.set_default_verify_paths(ec);
        if (ec) throw std::runtime_error("cannot load the system CA store: " + ec.message());
    }
    if (!tls.ca_file.empty()) {
        ctx.load_verify_file(tls.ca_file, ec);
        if (ec) throw std::runtime_error("cannot load CA file '" + tls.ca_file + "': " + ec.message());
    }
    if (!tls.ca_pem.empty()) {
        ctx.add_certificate_authority(asio::buffer(tls.ca_pem), ec);
        if (ec) throw std::runtime_error("cannot load the configured CA certificate: " + ec.message());
    }
}

https_client::~https_client() {
    // Pending graceful closes may keep impl_ alive a little longer; the pool goes now.
    impl_->idle.clear();
}

asio::awaitable<http_result> https_client::send(http_request request) {
    return do_send(impl_, std::move(request));
}

asio::any_io_executor https_client::get_executor() const { return impl_->executor; }
const https_options& https_client::options() const { return impl_->options; }
std::size_t https_client::connections_opened() const { return impl_->opened; }

std::size_t https_client::idle_connections() const {
    std::size_t n = 0;
    for (const auto& [key, pool] : impl_->idle) n += pool.size();
    return n;
}

void https_client::close_idle() { impl_->idle.clear(); }

}  // namespace containd::graph
