#pragma once
// The scheduler: pure. An in-memory view of one incident and the time in; what runs next, when
// to wake up, and the incident's status, phase and attention list out. No SQL, no sockets, no
// clock: the engine (engine.cpp) is the driver that keeps the view, persists the decision, runs
// the steps and feeds their outcomes back. Every rule of "what may run when" lives here.
//
// The rules:
// - Steps run by stage within their batch (batch 0: the submitted plan; each "add accounts or
//   apps" appends a batch). A step waits for the unfinished steps of lower stages of its batch
//   (tier order: a tier does not start before the previous one is done) and for its depends_on.
// - A failed step holds back only what it concerns: the later steps of the same account or app
//   (its subject). A failed step without a subject (the block) holds back the rest of its batch,
//   except a block the break-glass lockout guard refused (incident::lockout_guard_refusal): the
//   guard holds back only the block, never the resets. Steps held back by a failure are dead:
//   they never run and never hold back anyone else.
// - Verification checks wait for nothing but the containment time and earlier-due checks still
//   to run: a failed or retrying step never delays a due check. A due check is dispatched first.
// - release_block waits for nothing (an operator asked for it after the block).
// - confirm_block (the block's read-back) waits for the block only, and holds back nothing.
// - A cancelled incident runs only its release step, if an operator asked for one.
// - Evidence capture never delays containment (DOMAIN.md §1-§2): it starts once its batch's
//   critical path (resolve, block, revoke) is through, holds back the steps that destroy what it
//   captures (every phase after the revocation), and its failure stops only its own subject.
// - Until batch 0's accounts are resolved the plan is provisional: `refine` asks the driver
//   to re-derive it from the directory facts (tiers) before anything else runs. A later batch
//   with only resolve and evidence steps asks for `refine_batch` once its accounts are resolved.
// - Status: needs_attention as soon as a step failed (the rest goes on); verifying while only
//   checks are left; at the end the latest-due check's verdict (contained or attention).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "incident/model.hpp"
#include "incident/status.hpp"

namespace containd::engine {

struct step_view {
    int seq = 0;
    int stage = 0;
    int batch = 0;
    incident::phase step_phase = incident::phase::resolve;
    incident::step_kind kind = incident::step_kind::resolve_account;
    std::string target;
    std::optional<int> depends_on;
    incident::step_status status = incident::step_status::pending;
    std::optional<time_point> not_before;
    std::optional<std::int64_t> offset_ms;  // verification checks: due at contained_at + offset
    std::string error;                      // the last failure, for the attention list
    // Verification checks that succeeded: "contained", "attention" (or another word a check may
    // use, such as "pending": not settled yet).
    std::string verdict;
    // What a succeeded step's result asks of a human (its "attention" items): a check's
    // diagnosis, or a cleanup's kept methods to confirm with the user.
    std::vector<std::string> diagnosis;
    bool dispatched = false;  // queued or in flight in this process
};

struct incident_view {
    std::string id;
    incident::incident_status status = incident::incident_status::running;
    incident::phase current_phase = incident::phase::resolve;
    std::optional<time_point> contained_at;
    bool refined = false;                // batch 0's plan was re-derived from directory facts
    std::vector<std::string> attention;  // as last published (kept as is for a cancelled incident)
    std::vector<step_view> steps;        // in seq order

    step_view* find(int seq);
    const step_view* find(int seq) const;
};

struct decision {
    std::vector<int> ready;  // dispatch in this order: due checks first
    // Checks whose due time became known (contained_at + offset): the driver persists them.
    std::vector<std::pair<int, time_point>> due_times;
    std::optional<time_point> wake_at;  // the earliest future not_before of a step that may run
    bool refine = false;                // batch 0's accounts are resolved: re-plan it first
    std::optional<int> refine_batch;    // a later batch's accounts are resolved: plan the rest
    incident::incident_status status = incident::incident_status::running;
    incident::phase current_phase = incident::phase::resolve;
    std::vector<std::string> attention;
    bool done = false;  // nothing will run again until an operator acts: stop tracking
};

// The account or app a step concerns ("" for steps of the whole incident: block, checks, ...).
// Inline: the invariant checks of the system tests use it without linking the scheduler.
inline std::string subject_of(incident::step_kind kind, const std::string& target) {
    using incident::step_kind;
    switch (kind) {
    case step_kind::resolve_account:
    case step_kind::capture_account_evidence:
    case step_kind::revoke_sessions:
    case step_kind::reset_password:
    case step_kind::revoke_after_reset:
    case step_kind::cleanup_methods:
    case step_kind::issue_tap:
    case step_kind::remove_inbox_rules: return "account " + target;
    case step_kind::capture_app_evidence:
    case step_kind::remove_app_credentials:
    case step_kind::disable_service_principal:
    case step_kind::remove_app_grants:
    case step_kind::delete_application: return "app " + target;
    default: return {};
    }
}

// The critical path: who the accounts are, the block, the revocations (DOMAIN.md §1-§2). The
// engine dispatches these ahead of any other ready step, under a cap of their own.
inline bool on_critical_path(incident::step_kind kind) {
    using incident::step_kind;
    return kind == step_kind::resolve_account || kind == step_kind::enable_emergency_policy ||
           kind == step_kind::revoke_sessions;
}

// Evidence capture runs beside the critical path: it never holds back (nor, failing, stops) the
// block or the revocation, only the later phases that destroy what it captures. Inline, like
// subject_of, for the system tests' invariant checks.
inline bool is_evidence(incident::step_kind kind) {
    using incident::step_kind;
    return kind == step_kind::capture_account_evidence || kind == step_kind::capture_app_evidence ||
           kind == step_kind::capture_policy_evidence;
}
inline bool runs_beside_evidence(incident::step_kind evidence, incident::phase p) {
    return is_evidence(evidence) && (p == incident::phase::block || p == incident::phase::revoke);
}

// The attention item for a failed step (unresolved accounts get their own wording).
std::string describe_failure(const step_view& s);

decision schedule(const incident_view& incident, time_point now);

// The time a check is due, given the containment time.
time_point check_due(const step_view& check, time_point contained_at);

}  // namespace containd::engine
