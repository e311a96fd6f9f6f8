#include "app.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>

#include "api/server.hpp"
#include "core/log.hpp"
#include "core/secret.hpp"
#include "engine/engine.hpp"
#include "graph/api.hpp"
#include "graph/client.hpp"
#include "graph/token_source.hpp"
#include "health.hpp"
#include "notify/notifier.hpp"
#include "runners/policy_keeper.hpp"
#include "runners/runners.hpp"
#include "sim/simulator.hpp"
#include "store/store.hpp"
#include "store/vault.hpp"
#include "tenants.hpp"

namespace containd::daemon {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The demo's built-in tenant: the simulator on loopback, holding the configured scenario, with
// our configured client registered under the same credential the daemon will present. The
// tenants are pointed at it; nothing else in the daemon knows it is not Microsoft.
std::unique_ptr<sim::simulator> start_embedded_simulator(const config::simulator_settings& settings,
                                                         const clock_source& clock,
                                                         std::vector<config::tenant_config>& tenants) {
    sim::options options;
    options.seed = settings.seed;
    options.scenario = nlohmann::json::parse(read_text(settings.scenario_file), nullptr, false);
    if (options.scenario.is_discarded())
        throw std::runtime_error("simulator.scenario: " + settings.scenario_file + " is not valid JSON");
    for (const auto& t : tenants) {
        sim::registered_client client;
        client.client_id = t.client_id;
        if (t.credential.secret_file) client.client_secret = load_secret_file(*t.credential.secret_file).reveal();
        if (t.credential.secret_env) client.client_secret = load_secret_env(*t.credential.secret_env).reveal();
        if (t.credential.certificate_file) client.certificate_pem = read_text(*t.credential.certificate_file);
        options.clients.push_back(std::move(client));
    }
    auto simulator = std::make_unique<sim::simulator>(std::move(options), clock);
    simulator->start();
    for (auto& t : tenants) {
        t.login_base = simulator->base_url();
        t.graph_base = simulator->base_url();
        t.directory_tenant = simulator->tenant_id();
    }
    return simulator;
}

std::unique_ptr<clock_source> make_clock(const config::daemon_config& config) {
    if (config.simulator && config.simulator->time_scale != 1.0)
        return std::make_unique<scaled_clock>(std::chrono::system_clock::now(), config.simulator->time_scale);
    return std::make_unique<system_clock_source>();
}

// SIGHUP: the API tokens again from the configuration file, if it is valid and safe.
void reload_tokens(const std::string& config_path, api::server& server) {
    auto loaded = config::load_config_file(config_path);
    if (auto* errors = std::get_if<std::vector<config::config_error>>(&loaded)) {
        log_event(spdlog::level::err, "config_reload_failed",
                  {{"file", config_path}, {"errors", config::describe(*errors)}, {"kept", "the tokens in force"}});
        return;
    }
    auto& fresh = std::get<config::daemon_config>(loaded);
    if (const auto unsafe = config::unsafe_file_permissions(fresh, config_path); !unsafe.empty()) {
        log_event(spdlog::level::err, "config_reload_failed",
                  {{"file", config_path}, {"errors", unsafe}, {"kept", "the tokens in force"}});
        return;
    }
    const auto count = fresh.api.tokens.size();
    server.set_tokens(std::move(fresh.api.tokens));
    log_event(spdlog::level::info, "tokens_reloaded", {{"file", config_path}, {"tokens", count}});
}

// What a tenant check's result goes to: /readyz and /metrics (health), the log, the notifier (a
// change is a tenant_health webhook), and the IR named locations' ranges to the engine (its plans
// warn of an attacker IP inside one).
void record_tenant_check(const tenant_check& c, tenant_health& health, notify::notifier& notifier,
                         engine::engine& eng) {
    health.record(c);
    if (c.ir_location_ranges) eng.set_ir_location_ranges(c.tenant, *c.ir_location_ranges);
    log_event(c.healthy && c.warnings.empty() ? spdlog::level::info : spdlog::level::warn, "tenant_checked",
              {{"tenant", c.tenant}, {"healthy", c.healthy}, {"gaps", c.gaps}, {"warnings", c.warnings}});
    try {
        notifier.tenant_checked(c.tenant, c.healthy, c.gaps);
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "tenant_health_not_recorded", {{"tenant", c.tenant}, {"error", e.what()}});
    }
}

// Every tenant's emergency policy (the standing snapshot the block starts from) and preflight, at
// start-up and then every `interval`; each check's result handed to `on_checked`.
boost::asio::awaitable<void> watch_tenants(
    const std::vector<config::tenant_config>& tenants, tenant_clients& clients, const clock_source& clock,
    std::function<void(const tenant_check&)> on_checked,
    std::function<boost::asio::awaitable<runners::policy_refresh>(const config::tenant_config&, graph::client&)>
        refresh_policy,
    const bool& stopping, boost::asio::steady_timer& timer, std::chrono::steady_clock::duration interval) {
    while (!stopping) {
        for (const auto& t : tenants) {
            auto* graph = clients.find(t.settings.name);
            const auto* own = clients.credential(t.settings.name);
            if (!graph || !own || stopping) continue;
            co_await refresh_policy(t, *graph);
            on_checked(co_await check_tenant(*graph, *own, t, clock));
        }
        timer.expires_after(interval);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;
    }
}

// Keeps every tenant ready for the next incident, every `interval`: the access token refreshed
// before it enters its last minutes (token_source refreshes within its margin, so no incident
// pays for a token request) and one Graph connection younger than the pool's idle limit (so the
// first call of an incident does not pay for a TLS handshake). By value: it outlives no caller.
boost::asio::awaitable<void> keep_warm(std::vector<config::tenant_config> tenants, tenant_clients* clients,
                                       const bool* stopping, boost::asio::steady_timer* timer,
                                       std::chrono::steady_clock::duration interval) {
    // The tenant check warmed both at start-up.
    while (!*stopping) {
        timer->expires_after(interval);
        auto [ec] = co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return;
        for (const auto& t : tenants) {
            auto* graph = clients->find(t.settings.name);
            if (!graph || *stopping) continue;
            auto token = co_await graph->tokens().get();
            if (!token.ok() || t.settings.break_glass_upns.empty()) continue;
            co_await graph::get_user(*graph, t.settings.break_glass_upns.front());  // any cheap read
        }
    }
}

}  // namespace

int check_tenant(const config::daemon_config& config, const std::string& tenant) {
    boost::asio::io_context ioc(1);
    const auto clock = make_clock(config);
    auto tenants = config.tenants;
    std::unique_ptr<sim::simulator> simulator;
    if (config.simulator) simulator = start_embedded_simulator(*config.simulator, *clock, tenants);
    const auto it =
        std::find_if(tenants.begin(), tenants.end(), [&](const auto& t) { return t.settings.name == tenant; });
    if (it == tenants.end()) {
        std::cerr << "containd: no tenant named '" << tenant << "' is configured\n";
        return 2;
    }
    tenant_clients clients(ioc.get_executor(), {*it}, *clock, config.engine,
                           simulator ? simulator->ca_certificate_pem() : std::string());
    auto done = boost::asio::co_spawn(
        ioc, check_tenant(*clients.find(tenant), *clients.credential(tenant), *it, *clock), boost::asio::use_future);
    ioc.run();
    const tenant_check c = done.get();
    std::cout << c.table();
    for (const auto& g : c.gaps) std::cout << "gap: " << g << "\n";
    for (const auto& w : c.warnings) std::cout << "warning: " << w << "\n";
    if (simulator) simulator->stop();
    return c.healthy ? 0 : 3;
}

int run(const config::daemon_config& config, const std::function<void(const ready_info&)>& on_ready,
        const std::string& config_path) {
    // Two threads: this one runs the store, the engine and the Graph clients (ioc); the API's
    // network side runs on its own (network), so reads of cached incidents never wait behind
    // the engine's fsync'd commits.
    boost::asio::io_context ioc(1);
    boost::asio::io_context network(1);
    const auto clock = make_clock(config);

    // Opening migrates (refusing a database newer than this binary). No integrity scan here: it
    // reads the whole file and would delay recovery in the worst hour; SQLite reports corruption
    // on the pages it reads, and the tests check integrity after every crash.
    store::store db(config.database_path, *clock, store::vault::create_or_load(config.vault_key_file));

    auto tenants = config.tenants;
    std::unique_ptr<sim::simulator> simulator;
    if (config.simulator) simulator = start_embedded_simulator(*config.simulator, *clock, tenants);

    tenant_clients clients(ioc.get_executor(), tenants, *clock, config.engine,
                           simulator ? simulator->ca_certificate_pem() : std::string());
    runners::runner_settings runner_settings;
    runner_settings.policies = std::make_shared<runners::policy_keeper>();
    auto runners =
        runners::make_graph_runners([&clients](const std::string& t) { return clients.find(t); }, runner_settings);

    std::map<std::string, incident::tenant_settings> settings;
    for (const auto& t : tenants) settings.emplace(t.settings.name, t.settings);

    engine::engine_options engine_options;
    engine_options.max_concurrent_steps = config.engine.max_concurrent_steps;
    engine_options.retry.attempt_timeout = config.engine.attempt_timeout;
    engine_options.retry.step_deadline = config.engine.step_deadline;
    // A compressed clock makes a real second worth minutes: re-read it often enough that the
    // verification timers stay punctual in the demo.
    if (config.simulator && config.simulator->time_scale > 1.0) engine_options.max_timer_sleep = milliseconds(100);
    engine::engine eng(ioc.get_executor(), db, *clock, settings, runners, engine_options);

    // Engine log lines and webhooks, from the committed events (lib/notify).
    notify::notifier notifier(ioc.get_executor(), db, *clock, config.notify);

    tenant_health health;
    bool stopping = false;
    boost::asio::steady_timer health_timer(ioc);
    boost::asio::steady_timer warm_timer(ioc);

    api::context api_context{
        db,
        eng,
        *clock,
        settings,
        [&clients, &notifier, &health] {
            return "# HELP containd_build_info The running containd's version (always 1).\n"
                   "# TYPE containd_build_info gauge\ncontaind_build_info{version=\"" CONTAIND_VERSION "\"} 1\n" +
                   clients.metrics() + notifier.metrics() + health.metrics();
        },
        [&health] { return health.to_json(); }};
    api::server server(network.get_executor(), ioc.get_executor(), config.api, std::move(api_context));

    const std::size_t recovered = eng.start();
    notifier.start();
    boost::asio::co_spawn(
        ioc,
        watch_tenants(
            tenants, clients, *clock, [&](const tenant_check& c) { record_tenant_check(c, health, notifier, eng); },
            [&](const config::tenant_config& t, graph::client& graph) {
                return runners::refresh_policy(*runner_settings.policies, graph, t.settings, db, *clock);
            },
            stopping, health_timer, std::chrono::minutes(5)),
        boost::asio::detached);
    // Below the https_client's 50 s idle limit, and many times inside the token's refresh margin.
    boost::asio::co_spawn(ioc, keep_warm(tenants, &clients, &stopping, &warm_timer, std::chrono::seconds(30)),
                          boost::asio::detached);
    const std::uint16_t port = server.start();
    server.set_ready(true);
    log_event(spdlog::level::info, "daemon_started",
              {{"port", port},
               {"recovered", recovered},
               {"tenants", settings.size()},
               {"simulated_tenant", bool(simulator)}});

    std::optional<std::chrono::steady_clock::time_point> stop_requested;
    boost::asio::signal_set stop_signals(ioc, SIGINT, SIGTERM);
    boost::asio::signal_set hup(ioc, SIGHUP);

    std::function<void()> wait_for_hup = [&] {
        hup.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            reopen_logs();
            log_event(spdlog::level::info, "logs_reopened");
            if (!config_path.empty()) reload_tokens(config_path, server);
            wait_for_hup();
        });
    };
    wait_for_hup();

    stop_signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
        if (ec) return;
        stop_requested = std::chrono::steady_clock::now();
        stopping = true;
        health_timer.cancel();
        warm_timer.cancel();
        log_event(spdlog::level::info, "daemon_stopping", {{"signal", signal_number}});
        server.set_ready(false);
        boost::asio::post(network, [&server] { server.stop(); });  // in-flight requests finish; streams end
        eng.stop();       // attempts in flight are re-run (reconciled) after the next start
        notifier.stop();  // pending deliveries are sent after the next start
        hup.cancel();
    });

    const std::string scheme = config.api.tls_cert_file ? "https://" : "http://";
    on_ready({scheme + config.api.bind_address + ":" + std::to_string(port),
              simulator ? simulator->base_url() : std::string(), recovered});

    // Runs until a stop signal has drained everything: both io_contexts then run out of work.
    // The engine's side stays up until the network side is done (its requests wait on it).
    // Whatever has not drained 10 s after the signal is cut; everything it did is already durable.
    auto keep_work = boost::asio::make_work_guard(ioc);
    std::atomic<bool> network_done = false;
    std::thread network_thread([&] {
        network.run();
        network_done = true;
    });
    constexpr auto drain_limit = std::chrono::seconds(10);
    while (!ioc.stopped()) {
        ioc.run_for(std::chrono::milliseconds(200));
        if (network_done && keep_work.owns_work()) keep_work.reset();
        if (stop_requested && std::chrono::steady_clock::now() - *stop_requested > drain_limit) {
            network.stop();
            ioc.stop();
        }
    }
    network_thread.join();
    if (simulator) simulator->stop();
    log_event(spdlog::level::info, "daemon_stopped");
    return 0;
}

}  // namespace containd::daemon
