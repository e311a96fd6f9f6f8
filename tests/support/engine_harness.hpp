#pragma once
// An engine on a manual clock over a real SQLite file, with scripted runners: enough to run the
// real 15/30/60-minute schedule in milliseconds, crash it, and reopen it.

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "engine/engine.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"
#include "store/store.hpp"
#include "support/contoso.hpp"
#include "support/scripted_runner.hpp"

namespace containd::testing {

// A submission validated and planned as the API does, ready for store::create_incident.
inline store::new_incident planned_incident(const nlohmann::json& body, time_point now,
                                            const incident::tenant_settings& tenant,
                                            std::optional<std::string> idempotency_key = {}) {
    auto parsed = incident::parse_submission(body, now);
    auto& request = std::get<incident::incident_request>(parsed);
    auto planned = incident::make_plan(request, tenant, {});
    return {random_uuid(),
            "contoso",
            request.external_ref,
            std::move(idempotency_key),
            incident::to_json(request),
            std::get<incident::plan>(planned)};
}

class engine_harness {
public:
    explicit engine_harness(std::string name = "engine")
            : dir_(std::filesystem::temp_directory_path() / ("containd-" + name + "-" + random_uuid())),
              clock(*parse_rfc3339("2026-03-12T09:00:00Z")) {
        std::filesystem::create_directories(dir_);
        key_ = std::string(32, 'k');
        tenant = contoso_settings();
        options.seed = 42;
        options.retry.attempt_timeout = seconds(5);
    }
    ~engine_harness() {
        crash();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::string db_path() const { return (dir_ / "containd.db").string(); }

    // Opens the store and starts a fresh engine on it (recovery included).
    std::size_t open() {
        ioc = std::make_unique<boost::asio::io_context>();
        db = std::make_unique<store::store>(db_path(), clock, store::vault(key_));
        eng = std::make_unique<engine::engine>(ioc->get_executor(), *db, clock,
                                               std::map<std::string, incident::tenant_settings>{{"contoso", tenant}},
                                               runners.table(), options);
        return eng->start();
    }

    // Abandons everything without a clean shutdown: the database stays as it was at this moment.
    void crash() {
        eng.reset();
        ioc.reset();
        db.reset();
    }

    // Validates, plans and commits a submission, then hands it to the engine (what the API does).
    std::string submit(const nlohmann::json& body, std::optional<std::string> idempotency_key = {}) {
        auto result = db->create_incident(planned_incident(body, clock.now(), tenant, std::move(idempotency_key)));
        const std::string id = std::holds_alternative<store::created>(result) ? std::get<store::created>(result).id
                                                                              : std::get<store::existing>(result).id;
        eng->submit(id);
        return id;
    }

    // Runs until nothing can happen without the clock moving, then moves the manual clock to the
    // next timer, and repeats; stops when nothing is left or the next timer is after `until`.
    // Returns false if it did not settle within max_rounds.
    bool drive(std::optional<time_point> until = std::nullopt, int max_rounds = 100000) {
        for (int round = 0; round < max_rounds; ++round) {
            ioc->restart();
            ioc->poll();
            if (!eng->idle()) {
                if (eng->in_flight() > 0) ioc->run_for(std::chrono::milliseconds(1));
                continue;
            }
            const auto next = eng->next_wakeup();
            if (!next || (until && *next > *until)) return true;
            if (*next > clock.now()) clock.set(*next);
            eng->poke();
        }
        return false;
    }

    std::filesystem::path dir_;
    std::string key_;
    manual_clock clock;
    incident::tenant_settings tenant;
    engine::engine_options options;
    scripted_runners runners;
    std::unique_ptr<boost::asio::io_context> ioc;
    std::unique_ptr<store::store> db;
    std::unique_ptr<engine::engine> eng;
};

}  // namespace containd::testing
