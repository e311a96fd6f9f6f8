// The accept loop and the HTTP session (plain or TLS, one coroutine template), the live event
// stream, and the server's lifecycle. Handlers, routing and auth are Beast-free (router.cpp).

#include "api/server.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <set>
#include <stdexcept>
#include <type_traits>

#include <spdlog/common.h>

#include "api/problem.hpp"
#include "api/router.hpp"
#include "api/state.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace containd::api {
namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds stop_grace{5};
constexpr std::chrono::seconds close_timeout{2};

// A request's answer, with what the logs and metrics label it by.
struct dispatched {
    response res;
    std::string route = "unmatched";  // the template
    std::string who;                  // the caller's token name, if authenticated
};

// One open connection, as stop() sees it.
struct session_entry {
    bool idle = false;                // waiting for the next request: stop() may close it at once
    std::function<void()> close;      // closes the socket (pending operations complete with an error)
    std::function<bool()> has_input;  // bytes of a next request already arrived (then it is served)
};

struct server_state : api_state {
    server_state(asio::any_io_executor network, asio::any_io_executor work_executor, config::api_settings s, context c)
            : api_state(std::move(s), std::move(c)),
              executor(network),
              work(std::move(work_executor)),
              acceptor(network),
              grace(network) {}

    asio::any_io_executor executor;  // network: accept, parse, write, event streams, cached views
    asio::any_io_executor work;      // the store's and the engine's: every handler
    tcp::acceptor acceptor;
    std::optional<ssl::context> tls;
    std::set<session_entry*> sessions;
    asio::steady_timer grace;
    bool started = false;
    bool stopped = false;

    void close_sessions(bool only_idle) {
        const std::vector<session_entry*> all(sessions.begin(), sessions.end());
        for (auto* s : all) {
            if (!s->close) continue;
            if (only_idle && (!s->idle || (s->has_input && s->has_input()))) continue;
            s->close();
        }
    }
};

namespace {

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// Counts the connection and lists it for stop() for as long as the session's frame lives.
struct session_guard {
    explicit session_guard(server_state& s) : st(s) {
        ++st.open_connections;
        st.sessions.insert(&entry);
    }
    ~session_guard() {
        st.sessions.erase(&entry);
        --st.open_connections;
    }
    session_guard(const session_guard&) = delete;
    session_guard& operator=(const session_guard&) = delete;
    server_state& st;
    session_entry entry;
};

struct subscription {
    subscription(stream_hub& h, stream_subscriber& s) : hub(h), sub(s) { hub.add(&sub); }
    ~subscription() { hub.remove(&sub); }
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    stream_hub& hub;
    stream_subscriber& sub;
};

// Bytes already received but not yet parsed, below the socket (TLS keeps decrypted and
// undecrypted bytes of its own): then the next request must be read, not waited for.
bool has_buffered_input(plain_stream&) { return false; }
bool has_buffered_input(tls_stream& s) {
    SSL* ssl = s.native_handle();
    return SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
}

bool readable(tcp::socket& s) {
    boost::system::error_code ec;
    return s.is_open() && s.available(ec) > 0 && !ec;
}

// Runs job() on the work executor and resumes on the network thread with its result. The job
// may reference the caller's locals: the caller waits for it.
template <class Job>
asio::awaitable<std::invoke_result_t<Job&>> on_work(server_state& st, Job& job) {
    return asio::co_spawn(
        st.work, [&job]() -> asio::awaitable<std::invoke_result_t<Job&>> { co_return job(); }, asio::use_awaitable);
}

// Routing and auth here; a cached view answered here too; every other handler on the work side.
asio::awaitable<dispatched> dispatch(server_state& st, const request& req) {
    dispatched d;
    prepared p = prepare(st, req);
    d.route = p.route_template;
    d.who = p.who.name;
    if (p.answered) {
        d.res = std::move(*p.answered);
        co_return d;
    }
    if (p.matched->fast)
        if (auto fast = p.matched->fast(st, req, p.who, p.params)) {
            d.res = std::move(*fast);
            co_return d;
        }
    auto job = [&] { return run_handler(st, req, p); };
    d.res = co_await on_work(st, job);
    co_return d;
}

std::string method_label(std::string_view m) {
    for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
        if (m == known) return std::string(m);
    return "OTHER";
}

// The incident a request is about: the {id} of an /v1/incidents/{id}... route (as sent, bounded).
std::string incident_of(std::string_view route, std::string_view path) {
    constexpr std::string_view prefix = "/v1/incidents/";
    if (route.rfind("/v1/incidents/{id}", 0) != 0 || path.rfind(prefix, 0) != 0) return {};
    path.remove_prefix(prefix.size());
    auto id = percent_decode(path.substr(0, path.find('/')), false);
    return id && id->size() <= 64 ? *id : std::string();
}

std::string client_address(tcp::socket& socket) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) return {};
    return peer.address().to_string() + ":" + std::to_string(peer.port());
}

void log_request(std::string_view method, std::string_view route, int status, std::chrono::nanoseconds elapsed,
                 const std::string& who, const std::string& client = {}, const std::string& incident_id = {}) {
    nlohmann::json fields = {{"method", std::string(method)},
                             {"route", std::string(route)},
                             {"status", status},
                             {"duration_ms", std::chrono::duration<double, std::milli>(elapsed).count()}};
    if (!who.empty()) fields["caller"] = who;
    if (!client.empty()) fields["client"] = client;
    if (!incident_id.empty()) fields["incident_id"] = incident_id;
    log_event(status >= 500 ? spdlog::level::warn : spdlog::level::info, "api_request", fields);
}

http::response<http::string_body> to_beast(response&& r, unsigned version, bool keep_alive) {
    http::response<http::string_body> out{static_cast<http::status>(r.status), version};
    for (auto& [k, v] : r.headers) out.insert(k, v);
    out.body() = std::move(r.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
}

// Reads and drops what the client is still sending (bounded), so that it can finish its write
// and read our error response instead of being reset by a close with unread data.
template <class Stream>
asio::awaitable<void> drain(Stream& stream, std::size_t max_bytes) {
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::seconds(1));
    std::vector<char> sink(16 * 1024);
    std::size_t drained = 0;
    while (drained < max_bytes) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
        if (ec) break;
        drained += n;
    }
}

// The live event stream (SSE): every event after `after`, then each new one as the hub wakes
// us, a heartbeat comment every 15 s; ends once the incident is final and everything was sent,
// when the client goes away, or when the server stops. The connection closes after it.
template <class Stream>
asio::awaitable<void> run_event_stream(std::shared_ptr<server_state> st, Stream& stream, event_stream ev) {
    auto& lowest = beast::get_lowest_layer(stream);
    const auto write_timeout = st->settings.idle_timeout;
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n\r\nretry: 3000\n\n";
    lowest.expires_after(write_timeout);
    auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), use_nothrow);
    (void)hn;
    if (hec) co_return;

    asio::steady_timer signal(st->executor);
    stream_subscriber sub;
    sub.incident_id = ev.incident_id;
    sub.wake = [&signal] { signal.cancel(); };
    subscription registered(st->hub, sub);

    constexpr std::size_t page = 500;
    std::int64_t last = ev.after;
    for (;;) {
        std::string out;
        bool final = false;
        bool more = false;
        sub.dirty = false;  // cleared before reading: a change after this read sets it again
        bool gone = false;
        auto read_page = [&] {
            try {
                const auto rec = st->ctx.db.get_incident(ev.incident_id);
                if (!rec) {
                    gone = true;
                    return;
                }
                final = store::is_final(rec->status);
                const auto events = st->ctx.db.events(ev.incident_id, last, page);
                more = events.size() == page;
                for (const auto& e : events) {
                    out += format_sse_event(e, ev.viewer);
                    last = e.id;
                }
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "api_event_stream_error", {{"error", e.what()}});
                gone = true;
            }
        };
        co_await on_work(*st, read_page);
        if (gone) break;
        if (!out.empty()) {
            lowest.expires_after(write_timeout);
            auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), use_nothrow);
            (void)wn;
            if (wec) break;
        }
        if (final && !more) break;
        if (st->hub.closing()) break;  // after sending what there is
        if (more || sub.dirty) continue;

        signal.expires_after(sse_heartbeat);
        // A readable socket on an event stream means the client closed (or misbehaves): end.
        auto woke = co_await (signal.async_wait(use_nothrow) ||
                              lowest.socket().async_wait(tcp::socket::wait_read, use_nothrow));
        if (woke.index() == 1) break;
        const auto [sec] = std::get<0>(woke);
        if (!sec) {
            static const std::string heartbeat = ": heartbeat\n\n";
            lowest.expires_after(write_timeout);
            auto [bec, bn] = co_await asio::async_write(stream, asio::buffer(heartbeat), use_nothrow);
            (void)bn;
            if (bec) break;
        }
    }
    lowest.expires_never();
}

// The request loop of one connection: one request at a time (pipelined requests wait in the
// bounded buffer), every read bounded by read_timeout, the wait between requests by
// idle_timeout.
template <class Stream>
asio::awaitable<void> serve_http(std::shared_ptr<server_state> st, Stream& stream, session_entry& entry) {
    auto& lowest = beast::get_lowest_layer(stream);
    const auto& cfg = st->settings;
    const std::string client = client_address(lowest.socket());
    beast::flat_buffer buffer(cfg.header_limit + cfg.body_limit + 8192);
    bool first = true;
    for (;;) {
        if (st->stopping) co_return;
        if (buffer.size() == 0 && !has_buffered_input(stream)) {
            entry.idle = true;
            asio::steady_timer timer(st->executor);
            timer.expires_after(first ? cfg.read_timeout : cfg.idle_timeout);
            auto ready = co_await (lowest.socket().async_wait(tcp::socket::wait_read, use_nothrow) ||
                                   timer.async_wait(use_nothrow));
            entry.idle = false;
            if (ready.index() == 1) co_return;  // idle for too long
            const auto [wec] = std::get<0>(ready);
            if (wec) co_return;  // closed (stop() closes idle connections)
        }
        first = false;

        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(cfg.header_limit, UINT32_MAX)));
        parser.body_limit(cfg.body_limit);
        lowest.expires_after(cfg.read_timeout);  // header and body together: a slow sender is dropped
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
        (void)n;
        if (!ec && !parser.is_done()) {
            const auto expect = parser.get()[http::field::expect];
            if (beast::iequals(expect, "100-continue")) {
                static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
                auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(go_on), use_nothrow);
                (void)cn;
                ec = cec;
            }
            if (!ec) {
                auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
                (void)bn;
                ec = bec;
            }
        }
        const auto started = std::chrono::steady_clock::now();
        if (ec) {
            int status = 0;
            std::string_view title, detail;
            if (ec == http::error::header_limit) {
                status = 431;
                title = "Request Header Fields Too Large";
                detail = "The request header is larger than the server accepts.";
            } else if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
                status = 413;
                title = "Content Too Large";
                detail = "The request body is larger than the server accepts.";
            } else if (ec == beast::error::timeout) {
                log_event(spdlog::level::info, "api_connection_dropped", {{"reason", "read_timeout"}});
                co_return;  // the stream closed the socket: nothing can be answered
            } else if (ec == http::error::end_of_stream || ec == asio::error::eof ||
                       ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
                       ec == asio::error::bad_descriptor || ec == http::error::partial_message ||
                       ec == ssl::error::stream_truncated) {
                co_return;  // the client went away (or stop() closed the socket)
            } else {
                status = 400;
                title = "Bad Request";
                detail = "The request is not well-formed HTTP/1.1.";
            }
            auto res = problem(status, status == 400 ? "malformed-request" : "too-large", title, detail);
            st->stats.observe("unparsed", "OTHER", status, std::chrono::steady_clock::now() - started);
            log_request("OTHER", "unparsed", status, std::chrono::steady_clock::now() - started, {}, client);
            auto out = to_beast(std::move(res), 11, false);
            lowest.expires_after(cfg.read_timeout);
            auto [wec, wn] = co_await http::async_write(stream, out, use_nothrow);
            (void)wn;
            if (!wec) co_await drain(stream, cfg.body_limit + cfg.header_limit);
            co_return;
        }
        lowest.expires_never();

        auto& msg = parser.get();
        request req;
        req.method = std::string(msg.method_string());
        const std::string_view target = msg.target();
        const auto q = target.find('?');
        req.path = std::string(target.substr(0, q));
        bool bad_target = req.path.empty() || req.path.front() != '/';
        if (q != std::string_view::npos) {
            auto parsed = parse_query(target.substr(q + 1));
            if (parsed)
                req.query = std::move(*parsed);
            else
                bad_target = true;
        }
        for (const auto& f : msg) {
            std::string name = lower(f.name_string());
            auto [it, inserted] = req.headers.emplace(std::move(name), std::string(f.value()));
            if (!inserted) it->second += "," + std::string(f.value());
        }
        req.body = std::move(msg.body());

        // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host; any request at most one.
        const auto hosts = msg.count(http::field::host);
        const bool bad_host = msg.version() >= 11 ? hosts != 1 : hosts > 1;

        dispatched d;
        if (bad_target)
            d.res = bad_request("The request target is malformed.");
        else if (bad_host)
            d.res = bad_request("An HTTP/1.1 request needs exactly one Host header.");
        else
            d = co_await dispatch(*st, req);
        const auto elapsed = std::chrono::steady_clock::now() - started;
        const std::string method = d.route == "unmatched" ? method_label(req.method) : req.method;
        st->stats.observe(d.route, method, d.res.status, elapsed);
        log_request(method, d.route, d.res.status, elapsed, d.who, client, incident_of(d.route, req.path));

        if (d.res.stream) {
            co_await run_event_stream(st, stream, std::move(*d.res.stream));
            co_return;
        }
        const bool keep_alive = msg.keep_alive() && !st->stopping;
        auto out = to_beast(std::move(d.res), msg.version(), keep_alive);
        lowest.expires_after(cfg.idle_timeout);
        auto [wec, wn] = co_await http::async_write(stream, out, use_nothrow);
        (void)wn;
        lowest.expires_never();
        if (wec || !keep_alive) co_return;
    }
}

asio::awaitable<void> run_connection(std::shared_ptr<server_state> st, tcp::socket socket) {
    session_guard guard(*st);
    boost::system::error_code ignored;
    if (st->tls) {
        tls_stream stream(std::move(socket), *st->tls);
        auto close = [&stream] { beast::get_lowest_layer(stream).close(); };
        auto has_input = [&stream] { return readable(beast::get_lowest_layer(stream).socket()); };
        guard.entry.close = close;
        guard.entry.has_input = has_input;
        beast::get_lowest_layer(stream).expires_after(st->settings.read_timeout);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
        if (hec) co_return;
        co_await serve_http(st, stream, guard.entry);
        if (beast::get_lowest_layer(stream).socket().is_open()) {
            beast::get_lowest_layer(stream).expires_after(close_timeout);
            co_await stream.async_shutdown(use_nothrow);
        }
    } else {
        plain_stream stream(std::move(socket));
        auto close = [&stream] { stream.close(); };
        auto has_input = [&stream] { return readable(stream.socket()); };
        guard.entry.close = close;
        guard.entry.has_input = has_input;
        co_await serve_http(st, stream, guard.entry);
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
}

// Beyond max_connections: a short 503 and close, so the flood costs a bounded amount.
asio::awaitable<void> reject_connection(tcp::socket socket) {
    plain_stream stream(std::move(socket));
    static const std::string body =
        R"({"type":"urn:containd:problem:overloaded","title":"Service Unavailable","status":503,)"
        R"("detail":"Too many connections; retry shortly."})";
    static const std::string text =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    stream.expires_after(std::chrono::seconds(1));
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(text), use_nothrow);
    (void)n;
    boost::system::error_code ignored;
    if (!ec) stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void on_session_done(std::exception_ptr e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_event(spdlog::level::err, "api_session_error", {{"error", ex.what()}});
    } catch (...) {
        log_event(spdlog::level::err, "api_session_error", {{"error", "unknown"}});
    }
}

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> st) {
    for (;;) {
        auto [ec, socket] = co_await st->acceptor.async_accept(use_nothrow);
        if (ec) {
            if (st->stopping || !st->acceptor.is_open()) co_return;
            // EMFILE and friends: keep serving the connections we have, try again shortly.
            asio::steady_timer pause(st->executor);
            pause.expires_after(std::chrono::milliseconds(50));
            co_await pause.async_wait(use_nothrow);
            continue;
        }
        if (st->stopping) co_return;
        if (st->open_connections >= st->settings.max_connections) {
            st->stats.connection_rejected();
            if (st->tls) {
                boost::system::error_code ignored;
                socket.close(ignored);
            } else {
                asio::co_spawn(st->executor, reject_connection(std::move(socket)), on_session_done);
            }
            continue;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(st->executor, run_connection(st, std::move(socket)), on_session_done);
    }
}

}  // namespace
}  // namespace detail

server::server(boost::asio::any_io_executor executor, config::api_settings settings, context ctx)
        : server(executor, executor, std::move(settings), std::move(ctx)) {}

server::server(boost::asio::any_io_executor network, boost::asio::any_io_executor work, config::api_settings settings,
               context ctx)
        : state_(std::make_shared<detail::server_state>(network, work, std::move(settings), std::move(ctx))) {
    // Both hooks hold the state weakly, so an engine outliving the server calls into nothing.
    std::weak_ptr<detail::server_state> weak = state_;
    state_->wake_streams = [weak, network](const std::string& incident_id) {
        boost::asio::post(network, [weak, incident_id] {
            if (auto st = weak.lock()) st->hub.notify(incident_id);
        });
    };
    // The server's one engine observer (on the work executor): the incident's cached view is
    // stale now, and its streams have something to send.
    state_->ctx.engine.on_change([weak](const std::string& incident_id) {
        if (auto st = weak.lock()) {
            st->views.drop(incident_id);
            st->wake_streams(incident_id);
        }
    });
}

namespace detail {

// The TLS profiles of config::tls_profile: forward secrecy only. TLS 1.3's suites are all
// ephemeral (ECDHE or DHE key shares; OpenSSL offers ECDHE groups only, set below); on TLS 1.2
// only ECDHE key exchange with AEAD ciphers (Mozilla's "intermediate" list without DHE). No
// renegotiation, no compression, no session tickets (their keys would outlive a session).
void apply_tls_profile(boost::asio::ssl::context& ctx, config::tls_profile profile) {
    SSL_CTX* native = ctx.native_handle();
    const int min_version = profile == config::tls_profile::modern ? TLS1_3_VERSION : TLS1_2_VERSION;
    const bool ok = SSL_CTX_set_min_proto_version(native, min_version) == 1 &&
                    SSL_CTX_set_cipher_list(native,
                                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") == 1 &&
                    SSL_CTX_set_ciphersuites(
                        native, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") == 1 &&
                    SSL_CTX_set1_groups_list(native, "X25519:P-256:P-384") == 1;
    if (!ok)
        throw std::runtime_error("api: OpenSSL refused the TLS profile " + std::string(config::to_string(profile)));
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
}

}  // namespace detail

server::~server() {
    stop();
    // Going away: whatever is still open is closed now, not after the grace period.
    state_->grace.cancel();
    state_->close_sessions(false);
}

std::uint16_t server::start() {
    namespace asio = boost::asio;
    namespace ssl = asio::ssl;
    using tcp = asio::ip::tcp;
    auto& st = *state_;
    if (st.started) throw std::runtime_error("api: the server is already started");
    const auto& cfg = st.settings;
    boost::system::error_code ec;
    if (cfg.tls_cert_file.has_value() != cfg.tls_key_file.has_value())
        throw std::runtime_error("api: TLS needs both tls_cert_file and tls_key_file");
    if (cfg.tls_cert_file) {
        st.tls.emplace(ssl::context::tls_server);
        detail::apply_tls_profile(*st.tls, cfg.tls);
        st.tls->use_certificate_chain_file(*cfg.tls_cert_file, ec);
        if (ec) throw std::runtime_error("api: cannot use TLS certificate " + *cfg.tls_cert_file + ": " + ec.message());
        st.tls->use_private_key_file(*cfg.tls_key_file, ssl::context::pem, ec);
        if (ec) throw std::runtime_error("api: cannot use TLS private key " + *cfg.tls_key_file + ": " + ec.message());
    }
    const auto address = asio::ip::make_address(cfg.bind_address, ec);
    if (ec) throw std::runtime_error("api: bad bind address '" + cfg.bind_address + "'");
    const tcp::endpoint ep(address, cfg.port);
    st.acceptor.open(ep.protocol(), ec);
    if (!ec) st.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) st.acceptor.bind(ep, ec);
    if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        st.acceptor.close(ignored);
        throw std::runtime_error("api: cannot listen on " + cfg.bind_address + ":" + std::to_string(cfg.port) + ": " +
                                 ec.message());
    }
    const auto port = st.acceptor.local_endpoint().port();
    st.started = true;
    asio::co_spawn(st.executor, detail::accept_loop(state_), detail::on_session_done);
    log_event(spdlog::level::info, "api_listening",
              {{"address", cfg.bind_address}, {"port", port}, {"tls", st.tls.has_value()}});
    return port;
}

void server::stop() {
    auto& st = *state_;
    if (st.stopped) return;
    st.stopped = true;
    st.stopping = true;
    boost::system::error_code ignored;
    st.acceptor.close(ignored);
    st.hub.close_all();
    st.close_sessions(true);
    if (st.sessions.empty()) return;
    // In-flight requests finish and then close (keep-alive is off once stopping); whatever is
    // still open after the grace period is closed.
    st.grace.expires_after(detail::stop_grace);
    std::weak_ptr<detail::server_state> weak = state_;
    st.grace.async_wait([weak](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto s = weak.lock()) s->close_sessions(false);
    });
}

void server::set_ready(bool ready) { state_->ready = ready; }

void server::set_tokens(std::vector<config::api_token> tokens) { state_->tokens.replace(std::move(tokens)); }

}  // namespace containd::api
