#include "ctl/http.hpp"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace containd::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::uint64_t max_body = 64ull * 1024 * 1024;
constexpr const char* user_agent = "containctl/0.1";

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// Runs one asynchronous operation to completion on ioc (the stream's timer bounds it).
template <class Start>
error_code run(asio::io_context& ioc, Start&& start) {
    error_code result = asio::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
}

template <class Fields>
void copy_headers(const Fields& fields, http_result& out) {
    for (const auto& f : fields) out.headers[lower(std::string(f.name_string()))] = std::string(f.value());
}

}  // namespace

struct http_client::impl {
    client_options opts;
    asio::io_context ioc;
    ssl::context tls{ssl::context::tls_client};

    explicit impl(client_options o) : opts(std::move(o)) {
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        tls.set_verify_mode(ssl::verify_peer);
        error_code ec;
        if (!opts.cacert_file.empty()) {
            tls.load_verify_file(opts.cacert_file, ec);
            if (ec) throw std::invalid_argument("cannot load --cacert '" + opts.cacert_file + "': " + ec.message());
        } else {
            tls.set_default_verify_paths(ec);
        }
    }

    std::string where() const { return (opts.base.tls ? "https://" : "http://") + host_header(opts.base); }

    [[noreturn]] void fail(const char* step, const error_code& ec) const {
        std::string why = ec == beast::error::timeout ? std::string("timed out") : ec.message();
        throw transport_error(std::string(step) + " " + where() + ": " + why);
    }

    http::request<http::string_body> make_request(
        const std::string& method, const std::string& target, const std::string& body, const std::string& content_type,
        const std::vector<std::pair<std::string, std::string>>& headers) const {
        http::request<http::string_body> req;
        req.method_string(method);
        req.target(opts.base.base_path + target);
        req.version(11);
        req.set(http::field::host, host_header(opts.base));
        req.set(http::field::user_agent, user_agent);
        req.set(http::field::connection, "close");
        if (!opts.bearer.empty()) req.set(http::field::authorization, "Bearer " + opts.bearer.reveal());
        bool has_accept = false;
        for (const auto& [k, v] : headers) {
            has_accept = has_accept || lower(k) == "accept";
            req.set(k, v);
        }
        if (!has_accept) req.set(http::field::accept, "application/json, application/problem+json");
        if (!body.empty()) req.set(http::field::content_type, content_type);
        req.body() = body;
        req.prepare_payload();  // Content-Length, also 0 for an empty POST
        return req;
    }

    // Resolves and connects the lowest layer; for TLS, also the handshake with verification.
    template <class Stream>
    void open(Stream& stream) {
        tcp::resolver resolver(ioc);
        tcp::resolver::results_type endpoints;
        error_code ec = run(ioc, [&](auto handler) {
            resolver.async_resolve(opts.base.host, std::to_string(opts.base.port),
                                   [&endpoints, handler](error_code e, tcp::resolver::results_type r) mutable {
                                       endpoints = std::move(r);
                                       handler(e);
                                   });
        });
        if (ec) fail("cannot resolve", ec);
        auto& lowest = beast::get_lowest_layer(stream);
        lowest.expires_after(opts.timeout);
        ec = run(ioc, [&](auto handler) { lowest.async_connect(endpoints, handler); });
        if (ec) fail("cannot connect to", ec);
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            if (!is_ip_literal(opts.base.host) &&
                !SSL_set_tlsext_host_name(stream.native_handle(), opts.base.host.c_str()))
                fail("TLS (SNI) with",
                     error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
            stream.set_verify_callback(ssl::host_name_verification(opts.base.host));
            lowest.expires_after(opts.timeout);
            ec = run(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
            if (ec) fail("TLS handshake with", ec);
        }
    }

    // graceful: a TLS close_notify exchange (bounded); otherwise just drop the connection (we
    // leave a live stream, whose server would not answer the close_notify promptly).
    template <class Stream>
    void close(Stream& stream, bool graceful = true) {
        error_code ec;
        if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
            if (graceful) {
                beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
                ec = run(ioc, [&](auto handler) { stream.async_shutdown(handler); });  // errors do not matter here
            }
        }
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
        beast::get_lowest_layer(stream).close();
    }

    template <class Stream>
    http_result exchange(Stream& stream, http::request<http::string_body>& req) {
        open(stream);
        auto& lowest = beast::get_lowest_layer(stream);
        lowest.expires_after(opts.timeout);
        error_code ec = run(ioc, [&](auto handler) { http::async_write(stream, req, handler); });
        if (ec) fail("cannot send the request to", ec);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_body);
        lowest.expires_after(opts.timeout);
        ec = run(ioc, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
        if (ec) fail("no complete response from", ec);
        http_result out;
        const auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        copy_headers(res.base(), out);
        out.body = res.body();
        close(stream);
        return out;
    }

    template <class Stream>
    http_result stream_body(Stream& stream, http::request<http::string_body>& req,
                            const std::function<void(const http_result&)>& on_head,
                            const std::function<bool(std::string_view)>& on_data, std::chrono::milliseconds idle) {
        open(stream);
        auto& lowest = beast::get_lowest_layer(stream);
        lowest.expires_after(opts.timeout);
        error_code ec = run(ioc, [&](auto handler) { http::async_write(stream, req, handler); });
        if (ec) fail("cannot send the request to", ec);

        beast::flat_buffer buffer;
        http::response_parser<http::buffer_body> parser;
        parser.body_limit(boost::none);  // a live stream has no end in sight
        lowest.expires_after(opts.timeout);
        ec = run(ioc, [&](auto handler) { http::async_read_header(stream, buffer, parser, handler); });
        if (ec) fail("no response from", ec);
        http_result head;
        head.status = static_cast<int>(parser.get().result_int());
        copy_headers(parser.get().base(), head);
        const bool ok = head.status >= 200 && head.status < 300;
        if (ok && on_head) on_head(head);

        char chunk[16 * 1024];
        while (!parser.is_done()) {
            parser.get().body().data = chunk;
            parser.get().body().size = sizeof chunk;
            lowest.expires_after(ok ? idle : opts.timeout);
            ec = run(ioc, [&](auto handler) { http::async_read_some(stream, buffer, parser, handler); });
            if (ec == http::error::need_buffer) ec = {};
            if (ec) fail(ok ? "the event stream broke from" : "no complete response from", ec);
            const std::size_t n = sizeof chunk - parser.get().body().size;
            if (n == 0) continue;
            if (ok) {
                if (!on_data(std::string_view(chunk, n))) break;
            } else {
                if (head.body.size() + n > 1024 * 1024) break;  // an error body is small; keep what we have
                head.body.append(chunk, n);
            }
        }
        close(stream, parser.is_done());
        return head;
    }
};

http_client::http_client(client_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
http_client::~http_client() = default;

const url& http_client::base() const { return impl_->opts.base; }

http_result http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                 const std::string& content_type,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
    auto& d = *impl_;
    auto req = d.make_request(method, target, body, content_type, headers);
    if (d.opts.base.tls) {
        beast::ssl_stream<beast::tcp_stream> s(d.ioc, d.tls);
        return d.exchange(s, req);
    }
    beast::tcp_stream s(d.ioc);
    return d.exchange(s, req);
}

http_result http_client::stream(const std::string& target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::function<void(const http_result&)>& on_head,
                                const std::function<bool(std::string_view)>& on_data, std::chrono::milliseconds idle) {
    auto& d = *impl_;
    auto req = d.make_request("GET", target, {}, {}, headers);
    if (d.opts.base.tls) {
        beast::ssl_stream<beast::tcp_stream> s(d.ioc, d.tls);
        return d.stream_body(s, req, on_head, on_data, idle);
    }
    beast::tcp_stream s(d.ioc);
    return d.stream_body(s, req, on_head, on_data, idle);
}

}  // namespace containd::ctl
