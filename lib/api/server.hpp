#pragma once
// The local REST API (API.md): routing, bearer-token auth with roles, problem+json errors,
// request limits, the live event stream (SSE) and Prometheus metrics.
//
// Threading: two executors. The network one accepts, parses, writes, runs the event streams and
// answers GET /v1/incidents/{id} from the view cache; every other handler (store and engine
// calls) runs on the work one, the store's and engine's single thread, and the session waits
// for it. So a request for a cached incident never queues behind the engine's fsync'd commits.
// With one executor for both, everything runs on it. The context's references must outlive the
// server; the work executor must keep running until the network one has drained.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "engine/engine.hpp"
#include "incident/planner.hpp"
#include "store/store.hpp"

namespace containd::api {

namespace detail {
struct server_state;  // shared with the session coroutines (server.cpp)
}

struct context {
    store::store& db;  // single-threaded: used on the work executor only
    engine::engine& engine;
    const clock_source& clock;
    std::map<std::string, incident::tenant_settings> tenants;  // by name
    std::function<std::string()> extra_metrics;  // optional: more Prometheus text (Graph calls by status), may be empty
    // optional: each tenant's last preflight ({name: {healthy, gaps, ...}}); /readyz reports it
    // and is 503 while a tenant has a gap.
    std::function<nlohmann::json()> tenant_health = {};
};

class server {
public:
    // Registers the server's one engine observer (it fans changes out to the event streams).
    server(boost::asio::any_io_executor network, boost::asio::any_io_executor work, config::api_settings settings,
           context ctx);
    // Network and work on one executor.
    server(boost::asio::any_io_executor executor, config::api_settings settings, context ctx);
    ~server();  // stop()s
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and accepts; returns the bound port (settings.port 0 = OS picks). With
    // tls_cert_file/tls_key_file set, serves HTTPS. Throws std::runtime_error with a clear message
    // when the address, certificate or key cannot be used or the bind fails.
    std::uint16_t start();
    // Stops accepting, lets in-flight requests finish (bounded), ends SSE streams, closes idle
    // keep-alive connections. Idempotent. Must be called on the network executor's thread (or
    // while it is not running).
    void stop();
    // /readyz: 200 when ready, 503 otherwise (starts not ready). Any thread.
    void set_ready(bool ready);

private:
    std::shared_ptr<detail::server_state> state_;
};

// One route: path as an OpenAPI template, e.g. "/v1/incidents/{id}/approve";
// role: "none" | "viewer" | "submitter" | "operator" (the least role that may call it: viewer
// routes accept every role, submit accepts submitter and operator, operator routes only operator).
struct route_info {
    std::string method;
    std::string path;
    std::string role;
};
// The single source of truth the router itself dispatches from.
const std::vector<route_info>& route_table();

}  // namespace containd::api
