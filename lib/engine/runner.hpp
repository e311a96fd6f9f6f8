#pragma once
// The step-runner interface: one runner per step kind does the real work (Graph calls in the
// daemon, scripted behaviour in tests). Runners must be idempotent and reconcile on re-run: a
// step that was running when the daemon died runs again, and "already done" answers (404 on
// delete, unknown keyId) count as success.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "engine/retry_policy.hpp"
#include "incident/model.hpp"
#include "incident/planner.hpp"
#include "store/store.hpp"

namespace containd::engine {

// Everything a runner may read, and the store through which it records intents, secrets,
// evidence and account facts (each such write is committed before the call it precedes).
// Lives in the engine's step coroutine frame for the duration of one attempt.
struct step_context {
    store::store& db;
    const store::incident_record& incident;
    const incident::incident_request& request;
    const store::step_record& step;
    const incident::tenant_settings& tenant;
    const clock_source& clock;
    int attempt;
};

struct step_outcome {
    bool succeeded = false;
    nlohmann::json result = nlohmann::json::object();  // on success: what was done (never a secret)
    attempt_failure failure;                           // on failure
    bool permanent = false;  // the runner knows a retry cannot help (e.g. a 400 it understood)
    // On success: columns of the step's account (store::update_account) recorded in the same
    // commit as the outcome (a group's runner saves a commit of its own that way).
    nlohmann::json account_update = nlohmann::json::object();
    // A verification check that succeeded but could not settle the window may ask for a
    // confirmation check at this time (e.g. +70 min, or the end of a residual exposure window):
    // the engine appends it, in the same transaction as this step's result, and runs it then.
    std::optional<time_point> follow_up_check;

    static step_outcome success(nlohmann::json result = nlohmann::json::object()) {
        step_outcome o;
        o.succeeded = true;
        o.result = std::move(result);
        return o;
    }
    static step_outcome failed(int http_status, std::string message, std::optional<std::string> retry_after = {}) {
        step_outcome o;
        o.failure = {http_status, std::move(retry_after), std::move(message)};
        return o;
    }
    static step_outcome give_up(std::string message) {
        step_outcome o = failed(0, std::move(message));
        o.permanent = true;
        return o;
    }
};

class step_runner {
public:
    virtual ~step_runner() = default;
    // Runs one attempt. Called on the engine's executor; ctx outlives the returned awaitable.
    // Must honour cancellation (the engine cancels an attempt that exceeds its timeout).
    virtual boost::asio::awaitable<step_outcome> run(const step_context& ctx) = 0;

    // Steps of this kind that go to Graph together (one $batch): the engine hands run_group up
    // to this many ready steps of one incident, begins their attempts in one commit and records
    // their outcomes in one. 1: one step at a time, through run().
    virtual std::size_t group_size() const { return 1; }
    // One attempt of each step (same kind, same incident); the outcomes in the steps' order.
    virtual boost::asio::awaitable<std::vector<step_outcome>> run_group(std::vector<const step_context*> steps) {
        std::vector<step_outcome> out;
        for (const step_context* ctx : steps) out.push_back(co_await run(*ctx));
        co_return out;
    }
};

using runner_table = std::map<incident::step_kind, std::shared_ptr<step_runner>>;

}  // namespace containd::engine
