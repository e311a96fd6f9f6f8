#include "graph/https_client.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/crypto.hpp"
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
        ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
        ec == asio::error::connection_aborted || ec == asio::error::not_connected)
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

proxy_settings proxy_settings::from_environment() {
    proxy_settings p;
    auto env = [](const char* a, const char* b) -> std::string {
        if (const char* v = std::getenv(a); v && *v) return v;
        if (const char* v = std::getenv(b); v && *v) return v;
        return {};
    };
    p.url = env("HTTPS_PROXY", "https_proxy");
    const std::string no = env("NO_PROXY", "no_proxy");
    std::size_t start = 0;
    while (start <= no.size()) {
        const auto comma = no.find(',', start);
        std::string item = no.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) p.no_proxy.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return p;
}

bool proxy_settings::applies_to(const std::string& host, const std::string& port) const {
    if (url.empty()) return false;
    auto lower = [](std::string s) {
        for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return s;
    };
    const std::string h = lower(host);
    for (std::string entry : no_proxy) {
        entry = lower(entry);
        if (entry == "*") return false;
        const auto colon = entry.rfind(':');
        if (colon != std::string::npos && entry.find(']') == std::string::npos && entry.find(':') == colon) {
            if (entry.substr(colon + 1) != port) continue;
            entry = entry.substr(0, colon);
        }
        if (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
        if (entry.empty()) continue;
        if (h == entry) return false;
        if (h.size() > entry.size() && h.compare(h.size() - entry.size(), entry.size(), entry) == 0 &&
            h[h.size() - entry.size() - 1] == '.')
            return false;
    }
    return true;
}

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

// "http://host:port" (a trailing '/' tolerated) -> host, port.
std::optional<std::pair<std::string, std::string>> parse_proxy_url(std::string_view u) {
    constexpr std::string_view scheme = "http://";
    if (u.rfind(scheme, 0) != 0) return std::nullopt;
    u.remove_prefix(scheme.size());
    if (!u.empty() && u.back() == '/') u.remove_suffix(1);
    if (u.find_first_of("/@?# ") != std::string_view::npos || u.empty()) return std::nullopt;
    std::string host, port = "80";
    if (u.front() == '[') {
        const auto close = u.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = std::string(u.substr(1, close - 1));
        if (close + 1 < u.size()) {
            if (u[close + 1] != ':') return std::nullopt;
            port = std::string(u.substr(close + 2));
        }
    } else {
        const auto colon = u.rfind(':');
        host = std::string(u.substr(0, colon));
        if (colon != std::string_view::npos) port = std::string(u.substr(colon + 1));
    }
    if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::make_pair(host, port);
}

// The TCP connection: to host:port, resolving a DNS name within the deadline.
// Strings by value (CP.53); the stream is the caller's, which co_awaits this in place.
asio::awaitable<http_result> connect_tcp(std::shared_ptr<https_client::impl> self, beast::tcp_stream& lowest,
                                         std::string host, std::string port_text, steady::time_point deadline,
                                         std::string what) {
    using namespace asio::experimental::awaitable_operators;
    error_code addr_ec;
    const auto address = asio::ip::make_address(host, addr_ec);
    const auto port = static_cast<unsigned short>(std::stoi(port_text));
    std::vector<tcp::endpoint> endpoints;
    if (!addr_ec) {
        endpoints.emplace_back(address, port);
    } else {
        tcp::resolver resolver(self->executor);
        asio::steady_timer timer(self->executor);
        timer.expires_at(deadline);
        auto raced = co_await (resolver.async_resolve(host, port_text, use_nothrow) || timer.async_wait(use_nothrow));
        if (raced.index() == 1) co_return failure(transport_error::timeout, what + "name resolution timed out");
        auto [rec, results] = std::get<0>(raced);
        if (rec || results.empty())
            co_return failure(transport_error::resolve, what + (rec ? rec.message() : "no addresses"));
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    lowest.expires_at(deadline);
    auto [cec, ep] = co_await lowest.async_connect(endpoints, use_nothrow);
    (void)ep;
    if (cec) co_return failure(classify(cec, phase::connect), what + cec.message());
    co_return http_result{};
}

// CONNECT host:port through the proxy on an open connection to it; ok() when the tunnel is up.
asio::awaitable<http_result> open_tunnel(beast::tcp_stream& lowest, url_parts url, proxy_settings proxy,
                                         std::string proxy_name, steady::time_point deadline) {
    const std::string authority =
        url.host.find(':') != std::string::npos ? "[" + url.host + "]:" + url.port : url.host + ":" + url.port;
    std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
    if (!proxy.credentials.empty())
        request += "Proxy-Authorization: Basic " + base64_encode(proxy.credentials.reveal()) + "\r\n";
    request += "\r\n";
    lowest.expires_at(deadline);
    auto [wec, wn] = co_await asio::async_write(lowest, asio::buffer(request), use_nothrow);
    (void)wn;
    // The request held the proxy credentials: wipe our copy.
    std::fill(request.begin(), request.end(), '\0');
    const std::string where = "the proxy " + proxy_name + " ";
    if (wec) co_return failure(classify(wec, phase::write), where + "closed the connection: " + wec.message());
    std::string head;
    auto [rec, rn] =
        co_await asio::async_read_until(lowest, asio::dynamic_buffer(head, 16 * 1024), "\r\n\r\n", use_nothrow);
    if (rec) co_return failure(classify(rec, phase::read), where + "did not answer CONNECT: " + rec.message());
    // "HTTP/1.1 200 Connection established"
    const auto eol = head.find("\r\n");
    const std::string status_line = head.substr(0, std::min<std::size_t>(eol, 200));
    const auto sp = status_line.find(' ');
    const int status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status < 200 || status > 299) {
        std::string detail = where + "refused CONNECT " + authority + ": " + status_line;
        if (status == 407 || status == 401)  // tinyproxy answers a wrong password with 401
            detail += proxy.credentials.empty() ? " (the proxy wants credentials: proxy_credentials_file)"
                                                : " (the proxy credentials were not accepted)";
        co_return failure(transport_error::connect, detail);
    }
    if (head.size() > rn) co_return failure(transport_error::protocol, where + "sent data before the tunnel was up");
    co_return http_result{};
}

asio::awaitable<open_result> open_connection(std::shared_ptr<https_client::impl> self, url_parts url,
                                             steady::time_point deadline) {
    open_result out;
    auto c = std::make_unique<connection>(self->executor, self->ctx);

    error_code addr_ec;
    (void)asio::ip::make_address(url.host, addr_ec);
    const bool is_ip = !addr_ec;
    const auto& proxy = self->options.proxy;
    const bool via_proxy = proxy.applies_to(url.host, url.port);

    auto& lowest = beast::get_lowest_layer(c->stream);
    if (via_proxy) {
        const auto target = parse_proxy_url(proxy.url);
        if (!target) {
            out.error = failure(transport_error::invalid_request, "the proxy URL is not http://host:port");
            co_return out;
        }
        const std::string name = target->first + ":" + target->second;
        out.error = co_await connect_tcp(self, lowest, target->first, target->second, deadline,
                                         "cannot reach the proxy " + name + ": ");
        if (out.error.ok()) out.error = co_await open_tunnel(lowest, url, proxy, name, deadline);
    } else {
        out.error = co_await connect_tcp(self, lowest, url.host, url.port, deadline, "");
    }
    if (!out.error.ok()) co_return out;
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

asio::awaitable<http_result> https_client::send(http_request request) { return do_send(impl_, std::move(request)); }

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
