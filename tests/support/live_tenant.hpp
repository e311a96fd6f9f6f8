#pragma once
// The engine with the real Graph runners against the simulated tenant on loopback: real TLS
// (the simulator's CA), real OAuth2 client credentials, everything on one manual clock, so the
// 15/30/60-minute schedule runs in milliseconds.

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/ids.hpp"
#include "core/secret.hpp"
#include "core/time.hpp"
#include "engine/engine.hpp"
#include "graph/client.hpp"
#include "graph/https_client.hpp"
#include "graph/token_source.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"
#include "runners/runners.hpp"
#include "sim/simulator.hpp"
#include "store/store.hpp"

#ifndef CONTAIND_SOURCE_DIR
#error "CONTAIND_SOURCE_DIR must point at the repository (set by tests/CMakeLists)"
#endif

namespace containd::testing {

inline nlohmann::json load_scenario(const std::string& name) {
    std::ifstream in(std::string(CONTAIND_SOURCE_DIR) + "/config/scenarios/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return nlohmann::json::parse(s.str());
}

struct live_options {
    nlohmann::json scenario = load_scenario("bec-walkthrough.json");
    incident::tenant_settings tenant;  // filled from the scenario's "containd" hints when empty
    sim::timing times;
    std::uint64_t seed = 1;
};

class live_tenant {
public:
    static constexpr const char* client_id = "0c0ffee0-0000-4000-8000-00000000c0de";

    explicit live_tenant(live_options opts = {})
            : dir_(std::filesystem::temp_directory_path() / ("containd-live-" + random_uuid())),
              clock(*parse_rfc3339("2026-03-12T09:00:00Z")),
              client_secret_("live-test-secret-" + random_uuid()),
              tenant(std::move(opts.tenant)) {
        std::filesystem::create_directories(dir_);
        sim::options so;
        so.scenario = opts.scenario;
        so.clients = {{client_id, client_secret_, ""}};
        so.times = opts.times;
        so.seed = opts.seed;
        simulator = std::make_unique<sim::simulator>(so, clock);
        simulator->start();
        options.seed = 7;
        options.retry.attempt_timeout = seconds(10);
    }

    ~live_tenant() {
        close();
        simulator->stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::string db_path() const { return (dir_ / "containd.db").string(); }

    // Opens the store, builds the Graph client for the simulated tenant, starts the engine.
    std::size_t open() {
        ioc = std::make_unique<boost::asio::io_context>();
        db = std::make_unique<store::store>(db_path(), clock, store::vault(std::string(32, 'k')));
        graph::tls_settings tls;
        tls.use_system_trust = false;
        tls.ca_pem = simulator->ca_certificate_pem();
        http = std::make_unique<graph::https_client>(ioc->get_executor(), tls);
        graph::token_settings ts;
        ts.login_base = simulator->base_url();
        ts.tenant = simulator->tenant_id();
        ts.client_id = client_id;
        tokens = std::make_unique<graph::token_source>(*http, clock, ts,
                                                       graph::client_secret_credential{secret(client_secret_)});
        graph::graph_settings gs;
        gs.graph_base = simulator->base_url();
        // Paced calls wait on the manual clock, which drive() moves while attempts are in flight.
        gs.pacing.max_wait = seconds(30);
        graph_client = std::make_unique<graph::client>(*http, *tokens, clock, gs);
        auto* client_ptr = graph_client.get();
        auto runners = runners::make_graph_runners(
            [client_ptr, name = tenant.name](const std::string& t) { return t == name ? client_ptr : nullptr; });
        eng = std::make_unique<engine::engine>(ioc->get_executor(), *db, clock,
                                               std::map<std::string, incident::tenant_settings>{{tenant.name, tenant}},
                                               runners, options);
        return eng->start();
    }

    void close() {
        eng.reset();
        graph_client.reset();
        tokens.reset();
        http.reset();
        ioc.reset();
        db.reset();
    }

    // What the API does on a submission: validate, plan, commit, start.
    std::string submit(const nlohmann::json& body) {
        auto parsed = incident::parse_submission(body, clock.now());
        if (auto* errors = std::get_if<std::vector<incident::field_error>>(&parsed))
            throw std::runtime_error("invalid submission: " + errors->front().field + ": " + errors->front().message);
        auto& request = std::get<incident::incident_request>(parsed);
        auto planned = incident::make_plan(request, tenant, {});
        if (auto* refused = std::get_if<incident::refusal>(&planned))
            throw std::runtime_error("plan refused: " + refused->reasons.front());
        store::new_incident in{random_uuid(),
                               tenant.name,
                               request.external_ref,
                               std::nullopt,
                               incident::to_json(request),
                               std::get<incident::plan>(planned)};
        const auto result = db->create_incident(in);
        const std::string id = std::get<store::created>(result).id;
        eng->submit(id);
        return id;
    }

    // Runs real I/O until the engine is idle, then moves the manual clock to the next timer.
    // While attempts are in flight, time passes as it would (50 ms of clock per 10 ms of real
    // time): a step whose calls are paced (Conditional Access: 1 request/s) waits on the clock.
    bool drive(std::optional<time_point> until = std::nullopt, int max_rounds = 200000) {
        int busy_rounds = 0;
        for (int round = 0; round < max_rounds; ++round) {
            ioc->restart();
            ioc->run_for(std::chrono::milliseconds(2));
            if (!eng->idle()) {
                if (++busy_rounds == 5) {
                    busy_rounds = 0;
                    if (!until || clock.now() + milliseconds(50) <= *until) clock.advance(milliseconds(50));
                }
                continue;
            }
            busy_rounds = 0;
            const auto next = eng->next_wakeup();
            if (!next || (until && *next > *until)) return true;
            if (*next > clock.now()) clock.set(*next);
            eng->poke();
        }
        return false;
    }

    std::vector<sim::journal_entry> journal() const { return simulator->journal(); }

    std::filesystem::path dir_;
    manual_clock clock;
    std::string client_secret_;
    incident::tenant_settings tenant;
    engine::engine_options options;
    std::unique_ptr<sim::simulator> simulator;
    std::unique_ptr<boost::asio::io_context> ioc;
    std::unique_ptr<store::store> db;
    std::unique_ptr<graph::https_client> http;
    std::unique_ptr<graph::token_source> tokens;
    std::unique_ptr<graph::client> graph_client;
    std::unique_ptr<engine::engine> eng;
};

}  // namespace containd::testing
