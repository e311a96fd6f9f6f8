#pragma once
// The engine: runs every incident's durable plan on one Asio executor.
//
// - Stages run in order; steps of one stage run concurrently (a global cap bounds how many);
//   depends_on orders a step after another (revoke right after its reset).
// - Intent before effect: a step is marked running (attempt counted, deadline fixed) and
//   committed before its runner starts; its outcome is committed after.
// - Failures go through the retry policy; the next attempt time (not_before) is persisted, so a
//   restart never shortens a wait. A step that gives up moves the incident to needs_attention
//   and nothing after it runs.
// - Verification checks are steps whose not_before is contained_at + offset: durable timers.
//   After downtime overdue checks fire at once, each once, in order (each has its own stage);
//   their lateness is recorded in the step result. A due check is dispatched ahead of other ready
//   steps (it is time-critical; they are as-soon-as-possible). A check's "attention" verdict
//   moves the incident to needs_attention at once while later checks still run; when the last
//   check says "verifying" (window not settled, residual window open) the engine appends the
//   confirmation check it asked for (confirm_at), the way release appends release_block.
// - Recovery: start() loads every unfinished incident; steps left running are run again.
//
// Threading: everything runs on the executor given at construction (one thread). The clock is
// injected; with a manual clock, call poke() after moving it.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/clock.hpp"
#include "engine/retry_policy.hpp"
#include "engine/runner.hpp"
#include "incident/planner.hpp"
#include "store/store.hpp"

namespace containd::engine {

struct engine_options {
    retry_settings retry;
    std::size_t max_concurrent_steps = 64;
    duration max_timer_sleep = seconds(1);  // re-read the clock at least this often (clock steps)
    std::uint64_t seed = 0;                 // jitter; 0 draws one from the OS
};

enum class action_result { done, not_found, conflict };

class engine {
public:
    engine(boost::asio::any_io_executor executor, store::store& db, const clock_source& clock,
           std::map<std::string, incident::tenant_settings> tenants, runner_table runners,
           engine_options options = {});
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Recovery at start-up: schedules every unfinished incident. Returns how many.
    std::size_t start();
    // Starts a newly committed incident.
    void submit(const std::string& incident_id);
    // Re-evaluates every timer against the clock (call after a manual clock moved).
    void poke();
    // Stops dispatching; in-flight attempts are cancelled and will re-run after a restart.
    void stop();

    // Operator actions (API). They persist first, then act.
    action_result approve(const std::string& incident_id, int seq, const std::string& who);
    action_result retry(const std::string& incident_id, int seq, const std::string& who);
    action_result cancel(const std::string& incident_id, const std::string& who);
    // Appends the release_block step to a contained incident and runs it; conflict unless
    // contained and not released before. On done, event_id is the "release_requested" event.
    struct release_result {
        action_result result = action_result::done;
        std::int64_t event_id = 0;
    };
    release_result release(const std::string& incident_id, const std::string& who);

    // True when no attempt is in flight or queued and nothing is due at the clock's now.
    bool idle() const;
    std::size_t in_flight() const;
    std::size_t tracked_incidents() const;
    // The earliest pending timer or backoff (for tests and the demo's progress display).
    std::optional<time_point> next_wakeup() const;

    // Called (on the executor) after each committed change of an incident: SSE and metrics.
    void on_change(std::function<void(const std::string& incident_id)> observer);

    struct counters {
        std::uint64_t attempts = 0, succeeded = 0, retries = 0, failed = 0, timeouts = 0;
    };
    counters stats() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::engine
