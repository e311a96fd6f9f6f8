#pragma once
// The engine: the driver of the pure scheduler (scheduler.hpp) on one Asio executor. It keeps an
// in-memory view of every unfinished incident, asks the scheduler what runs next, persists the
// answer (intent first), runs the steps, and feeds their outcomes back into the view. The rules
// of what may run when (stages, tiers, partial failure, timed checks) live in the scheduler.
//
// - Steps of one stage run concurrently (a global cap bounds how many attempts). A runner may
//   take ready steps of one kind in groups (group_size: the real resolve and revoke runners send
//   20 accounts in one $batch); a group's attempts begin in one commit and end in one.
// - The critical path (resolve, block, revoke: scheduler.hpp's on_critical_path) goes ahead of
//   the queue and has a cap of its own: no evidence or cleanup attempt holds back containment.
// - Intent before effect: a step is marked running (attempt counted, deadline fixed) and
//   committed before its runner starts; its outcome is committed after.
// - Failures go through the retry policy; the next attempt time (not_before) is persisted, so a
//   restart never shortens a wait. A step that gives up moves the incident to needs_attention;
//   only what depends on it stops (the same account or app), the rest goes on.
// - Verification checks are steps whose not_before is contained_at + offset: durable timers,
//   never delayed by other steps. After downtime overdue checks fire at once, each once, in order;
//   their lateness is recorded in the step result. A due check goes ahead of other ready steps.
// - Recovery: start() loads every unfinished incident; steps left running are run again.
// - The incident record and its parsed request are read once per incident and kept (refreshed
//   when the plan or the containment time changes), not re-read for every attempt.
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
#include "engine/scheduler.hpp"
#include "incident/planner.hpp"
#include "store/store.hpp"

namespace containd::engine {

struct engine_options {
    retry_settings retry;
    std::size_t max_concurrent_steps = 64;  // attempts in flight, and as many of the critical path
    duration max_timer_sleep = seconds(1);  // re-read the clock at least this often (clock steps)
    std::uint64_t seed = 0;                 // jitter; 0 draws one from the OS
};

enum class action_result { done, not_found, conflict };

// What the engine did, for observers (logs, notifications): every step start, success, retry and
// failure, and every status change. Called on the engine's executor after the change committed.
struct engine_event {
    enum class kind { step_started, step_succeeded, step_retry_scheduled, step_failed, status_changed };
    kind what = kind::status_changed;
    std::string incident_id;
    int seq = 0;  // step events
    incident::step_kind step = incident::step_kind::resolve_account;
    std::string target;
    int attempt = 0;
    std::string message;                                                    // the failure (never a secret)
    std::optional<time_point> not_before;                                   // step_retry_scheduled
    incident::incident_status status = incident::incident_status::running;  // status_changed
    incident::phase current_phase = incident::phase::resolve;
    std::vector<std::string> attention;
};
std::string_view to_string(engine_event::kind k);

class engine {
public:
    engine(boost::asio::any_io_executor executor, store::store& db, const clock_source& clock,
           std::map<std::string, incident::tenant_settings> tenants, runner_table runners, engine_options options = {});
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
    // Cancels: what was left is skipped. The block stays on unless release is true, in which case
    // the release step is appended and runs in the cancelled incident (when the block was on).
    struct cancel_result {
        action_result result = action_result::done;
        bool block_stays = false;  // the emergency block is on and nobody asked to release it
        bool releasing = false;    // the release step was appended
    };
    cancel_result cancel(const std::string& incident_id, const std::string& who, const std::string& reason = {},
                         bool release = false);
    // Appends the release_block step and runs it: from any state after the block (contained,
    // needs_attention, verifying, cancelled, tenant-wide); conflict before the block or when a
    // release is pending or done. On done, event_id is the "release_requested" event.
    struct release_result {
        action_result result = action_result::done;
        std::int64_t event_id = 0;
    };
    release_result release(const std::string& incident_id, const std::string& who, const std::string& reason = {});
    // Adds accounts or apps to a running (or contained) incident: merged is the request with
    // them (validated), accounts and apps what is new. Their resolve steps run at once, beside
    // what is under way; the rest of their plan follows from the directory facts, tiers in order.
    struct extend_result {
        action_result result = action_result::done;
        int batch = 0;
    };
    extend_result extend(const std::string& incident_id, const incident::incident_request& merged,
                         const std::vector<incident::account_request>& accounts,
                         const std::vector<incident::app_request>& apps, const std::string& who,
                         const std::string& reason);
    // The operator accepts the break-glass lockout risk after submission: the request is marked
    // overridden (audited), a block the guard refused runs again, a plan it refused is re-derived.
    // Conflict when already overridden or cancelled.
    action_result override_guard(const std::string& incident_id, const std::string& who, const std::string& reason);
    // Issues a Temporary Access Pass for one account of the incident now (an operator's
    // re-issue, or the first one at reveal time), valid lifetime_minutes (nullopt: the runners'
    // default, 60; the tenant's TAP policy decides what Graph accepts): an issue_tap step of its
    // own, run at once. Conflict for an account not in the incident, before the block, or when a
    // TAP is already being issued.
    action_result issue_tap(const std::string& incident_id, const std::string& upn, std::optional<int> lifetime_minutes,
                            const std::string& who, const std::string& reason, int* seq = nullptr);
    // Appends a verification check due at `at` (now for "re-verify now"; a confirmation check
    // for the verification runner's follow-up) and schedules it. Conflict before the block, or
    // when the incident is cancelled. Returns the check's seq in *seq.
    action_result schedule_check(const std::string& incident_id, time_point at, const std::string& who,
                                 const std::string& reason, int* seq = nullptr);

    // A tenant's settings as the engine plans with them (nullptr for an unknown tenant): the
    // submission's dry-run plan uses the same, so the two agree.
    const incident::tenant_settings* tenant(const std::string& name) const;
    // What the tenant's health check read of its IR named locations (their IP ranges): plans
    // made from now on warn of an attacker IP inside one.
    void set_ir_location_ranges(const std::string& tenant, std::vector<std::string> ranges);

    // True when no attempt is in flight or queued and nothing is due at the clock's now.
    bool idle() const;
    std::size_t in_flight() const;
    std::size_t tracked_incidents() const;
    // The earliest pending timer or backoff (for tests and the demo's progress display).
    std::optional<time_point> next_wakeup() const;

    // Called (on the executor) after each committed change of an incident: SSE and metrics.
    void on_change(std::function<void(const std::string& incident_id)> observer);
    // Called (on the executor) for every step event and status change; several may be added.
    void on_event(std::function<void(const engine_event&)> observer);

    struct counters {
        std::uint64_t attempts = 0, succeeded = 0, retries = 0, failed = 0, timeouts = 0;
        std::uint64_t record_reads = 0;  // incident records read for runners: once per incident, not per attempt
    };
    counters stats() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace containd::engine
