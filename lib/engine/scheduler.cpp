#include "engine/scheduler.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "incident/planner.hpp"

namespace containd::engine {
namespace {

using incident::incident_status;
using incident::phase;
using incident::step_kind;
using incident::step_status;

bool finished(step_status s) { return s == step_status::succeeded || s == step_status::skipped; }
bool unfinished(step_status s) { return s == step_status::pending || s == step_status::running; }
bool is_check(const step_view& s) { return s.kind == step_kind::verify_signins; }
bool is_release(const step_view& s) { return s.kind == step_kind::release_block; }
bool is_read_back(const step_view& s) { return s.kind == step_kind::confirm_block; }
// Steps that stand outside stage order: checks (timed), the operator's release, and the block's
// read-back (it waits for the block only, and runs beside the revocations).
bool unordered(const step_view& s) { return is_check(s) || is_release(s) || is_read_back(s); }
bool is_evidence(const step_view& s) { return engine::is_evidence(s.kind); }
bool evidence_beside(const step_view& evidence, const step_view& s) {
    return runs_beside_evidence(evidence.kind, s.step_phase);
}

std::string label(const step_view& s) {
    return "step " + std::to_string(s.seq) + " (" + std::string(incident::to_string(s.kind)) +
           (s.target.empty() ? "" : " " + s.target) + ")";
}

// A block the break-glass lockout guard refused: it holds back nothing but itself.
bool refused_by_guard(const step_view& s) {
    return s.kind == step_kind::enable_emergency_policy && s.error.rfind(incident::lockout_guard_refusal, 0) == 0;
}

// Which steps can never run while the failures stand: the later steps of a failed step's
// account or app, everything after a failed subject-less step of the batch (but a block the
// lockout guard refused), and whatever depends on a dead or failed step.
std::set<int> dead_steps(const incident_view& inc) {
    std::set<int> dead;
    for (const auto& f : inc.steps) {
        if (f.status != step_status::failed || unordered(f) || refused_by_guard(f)) continue;
        const std::string fs = subject_of(f.kind, f.target);
        for (const auto& s : inc.steps) {
            if (s.batch != f.batch || s.stage <= f.stage || unordered(s) || !unfinished(s.status) ||
                evidence_beside(f, s))
                continue;
            if (fs.empty() || subject_of(s.kind, s.target) == fs) dead.insert(s.seq);
        }
    }
    bool grew = true;
    while (grew) {  // depends_on chains (in practice one link: revoke after its reset)
        grew = false;
        for (const auto& s : inc.steps) {
            if (!s.depends_on || dead.count(s.seq) || !unfinished(s.status)) continue;
            const step_view* dep = inc.find(*s.depends_on);
            if (dep && (dep->status == step_status::failed || dead.count(dep->seq))) grew = dead.insert(s.seq).second;
        }
    }
    return dead;
}

// True when t (a live, unfinished step) must finish before s may start.
bool holds_back(const step_view& t, const step_view& s, const incident_view& inc) {
    if (t.seq == s.seq || !unfinished(t.status)) return false;
    if (is_release(s)) return false;
    // Evidence starts once its batch's critical path is through: it is needed only before the
    // resets, and 1,000 accounts' evidence reads (and their commits) would slow the block.
    if (is_evidence(s) && on_critical_path(t.kind) && t.batch == s.batch) return true;
    if (is_check(s)) {
        if (!is_check(t) || !inc.contained_at) return false;
        return check_due(t, *inc.contained_at) <= check_due(s, *inc.contained_at) && t.seq < s.seq;
    }
    return !unordered(t) && t.batch == s.batch && t.stage < s.stage && !evidence_beside(t, s);
}

// The verdict of the latest-due check that ran, if any.
const step_view* latest_check(const incident_view& inc) {
    const step_view* last = nullptr;
    for (const auto& s : inc.steps) {
        if (!is_check(s) || s.status != step_status::succeeded) continue;
        if (!last) {
            last = &s;
            continue;
        }
        if (inc.contained_at) {
            const auto a = check_due(s, *inc.contained_at), b = check_due(*last, *inc.contained_at);
            if (a > b || (a == b && s.seq > last->seq)) last = &s;
        } else if (s.seq > last->seq) {
            last = &s;
        }
    }
    return last;
}

}  // namespace

step_view* incident_view::find(int seq) {
    for (auto& s : steps)
        if (s.seq == seq) return &s;
    return nullptr;
}

const step_view* incident_view::find(int seq) const {
    for (const auto& s : steps)
        if (s.seq == seq) return &s;
    return nullptr;
}

std::string describe_failure(const step_view& s) {
    if (s.kind == step_kind::resolve_account)
        return s.target + " did not resolve (" + s.error +
               "): it is not blocked, revoked or reset; the other accounts go ahead. Check the UPN and add the "
               "right account to this incident";
    return label(s) + " failed: " + (s.error.empty() ? "unknown error" : s.error);
}

// The offset decides, not not_before: a check waiting out a retry has its not_before moved to the
// retry time, and must still hold back the checks due after it (they read the same throttled log,
// and the latest-due verdict is the one that counts).
time_point check_due(const step_view& check, time_point contained_at) {
    if (check.offset_ms) return contained_at + milliseconds(*check.offset_ms);
    return check.not_before.value_or(contained_at);
}

decision schedule(const incident_view& inc, time_point now) {
    decision d;
    d.status = inc.status;
    d.current_phase = inc.current_phase;
    d.attention = inc.attention;

    // A cancelled incident runs nothing but the release an operator asked for.
    if (inc.status == incident_status::cancelled) {
        bool releasing = false;
        for (const auto& s : inc.steps) {
            if (!is_release(s) || !unfinished(s.status)) continue;
            releasing = true;
            if (s.dispatched || s.status != step_status::pending) continue;
            if (s.not_before && *s.not_before > now) {
                if (!d.wake_at || *s.not_before < *d.wake_at) d.wake_at = s.not_before;
                continue;
            }
            d.ready.push_back(s.seq);
        }
        d.current_phase = releasing                             ? phase::release
                          : inc.current_phase == phase::release ? phase::done
                                                                : inc.current_phase;
        d.done = !releasing;
        return d;
    }

    const std::set<int> dead = dead_steps(inc);
    auto live = [&](const step_view& s) { return unfinished(s.status) && !dead.count(s.seq); };

    // Batch 0's plan is provisional until its accounts are resolved (the evidence goes on beside).
    if (!inc.refined) {
        bool resolving = false;
        for (const auto& s : inc.steps)
            if (s.batch == 0 && s.kind == step_kind::resolve_account && live(s)) resolving = true;
        if (!resolving && !inc.steps.empty()) {
            d.refine = true;
            return d;
        }
    }
    // A later batch holds only its resolve (and evidence) steps until its accounts are resolved.
    {
        std::map<int, std::pair<bool, bool>> batches;  // batch -> (resolving, has later steps)
        for (const auto& s : inc.steps) {
            if (s.batch == 0) continue;
            auto& b = batches[s.batch];
            if (s.kind == step_kind::resolve_account)
                b.first = b.first || live(s);
            else if (s.step_phase != phase::resolve)
                b.second = true;
        }
        for (const auto& [batch, b] : batches)
            if (!b.first && !b.second) {
                d.refine_batch = batch;
                return d;
            }
    }

    std::vector<int> checks, others;
    for (const auto& s : inc.steps) {
        if (s.dispatched || s.status != step_status::pending || dead.count(s.seq)) continue;
        if (is_check(s) && !inc.contained_at) continue;  // a check is due only once there is a block
        if (s.depends_on) {
            const step_view* dep = inc.find(*s.depends_on);
            if (dep && !finished(dep->status)) continue;
        }
        bool held = false;
        for (const auto& t : inc.steps)
            if (!dead.count(t.seq) && holds_back(t, s, inc)) {
                held = true;
                break;
            }
        if (held) continue;
        std::optional<time_point> not_before = s.not_before;
        if (is_check(s) && !not_before) {
            not_before = check_due(s, *inc.contained_at);
            d.due_times.emplace_back(s.seq, *not_before);
        }
        if (not_before && *not_before > now) {
            if (!d.wake_at || *not_before < *d.wake_at) d.wake_at = not_before;
            continue;
        }
        (is_check(s) ? checks : others).push_back(s.seq);
    }
    // Overdue checks run in the order they were due.
    if (inc.contained_at)
        std::stable_sort(checks.begin(), checks.end(), [&](int a, int b) {
            return check_due(*inc.find(a), *inc.contained_at) < check_due(*inc.find(b), *inc.contained_at);
        });
    d.ready = checks;
    d.ready.insert(d.ready.end(), others.begin(), others.end());

    // What a human must know: failures (one item per account or app, each subject-less failure
    // on its own), then steps waiting for approval.
    std::vector<std::string> attention;
    std::set<std::string> reported;
    for (const auto& s : inc.steps) {
        if (s.status != step_status::failed) continue;
        const std::string subject = subject_of(s.kind, s.target);
        if (!subject.empty() && !reported.insert(subject).second) continue;
        attention.push_back(describe_failure(s));
    }
    const bool failures = !attention.empty();
    for (const auto& s : inc.steps)
        if (s.status == step_status::waiting_approval)
            attention.push_back("step " + std::to_string(s.seq) + " (" + std::string(incident::to_string(s.kind)) +
                                ") waits for an operator's approval");
    // What finished steps ask a human to confirm (methods a targeted cleanup kept), at once; it
    // does not change the status: containment does not wait for the user's answer.
    for (const auto& s : inc.steps)
        if (s.status == step_status::succeeded && !is_check(s))
            attention.insert(attention.end(), s.diagnosis.begin(), s.diagnosis.end());

    // The phase: where the earliest live work stands (evidence beside the critical path only
    // when nothing else is left; checks and release only when nothing at all is).
    const step_view* frontier = nullptr;
    for (const auto& s : inc.steps) {
        if (!live(s) || unordered(s)) continue;
        const bool better = !frontier || (is_evidence(*frontier) && !is_evidence(s)) ||
                            (is_evidence(*frontier) == is_evidence(s) && s.stage < frontier->stage);
        if (better) frontier = &s;
    }
    bool checks_left = false, release_left = false, read_back_left = false;
    for (const auto& s : inc.steps) {
        if (!live(s)) continue;
        if (is_check(s) && inc.contained_at) checks_left = true;  // without a block, none ever runs
        if (is_release(s)) release_left = true;
        if (is_read_back(s)) read_back_left = true;
    }

    if (frontier || checks_left || release_left || read_back_left) {
        d.current_phase = frontier       ? frontier->step_phase
                          : release_left ? phase::release
                          : checks_left  ? phase::verify
                                         : phase::block;
        d.status = failures                       ? incident_status::needs_attention
                   : (!frontier && !release_left) ? incident_status::verifying
                                                  : incident_status::running;
        // A check's "attention" (an attacker success after propagation, an unknown app or
        // account from an attacker IP...) is raised at once; the later checks still run.
        if (const step_view* last = latest_check(inc); last && last->verdict == "attention") {
            d.status = incident_status::needs_attention;
            for (const auto& item : last->diagnosis) attention.push_back(item);
        }
        d.attention = attention;
        return d;
    }

    // Nothing left to run: the verdict.
    d.done = true;
    d.current_phase = phase::done;
    d.status = failures ? incident_status::needs_attention : incident_status::contained;
    if (failures) {  // where it stands: the phase of the earliest failure
        const step_view* first = nullptr;
        for (const auto& s : inc.steps)
            if (s.status == step_status::failed && (!first || s.stage < first->stage)) first = &s;
        d.current_phase = first->step_phase;
    }
    if (const step_view* last = latest_check(inc); last && last->verdict != "contained") {
        d.status = incident_status::needs_attention;
        for (const auto& item : last->diagnosis) attention.push_back(item);
        if (last->diagnosis.empty())
            attention.push_back("the last verification check (" + last->target + ") did not confirm containment" +
                                (last->verdict.empty() ? std::string() : " (verdict: " + last->verdict + ")"));
    }
    d.attention = attention;
    return d;
}

}  // namespace containd::engine
