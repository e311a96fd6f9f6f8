#pragma once
// The invariants of RELIABILITY.md that can be read back from the database, for engine,
// integration and system tests alike.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/scheduler.hpp"
#include "store/store.hpp"

namespace containd::testing {

// I2 (plan order, nothing marked done twice, nothing skipped silently), timers once and in
// order, the audit chain intact, and I4 (integrity). Returns every violation found.
//
// Plan order as the scheduler (engine/scheduler.hpp) has it: a step starts only after every step
// of a lower stage of its batch has succeeded, except a step that had failed by then for another
// account or app (steps of one account or app fail alone). Verification checks and the release
// stand outside stage order (they follow the clock and the operator), and so does the block's
// read-back (it follows the block).
inline std::vector<std::string> check_invariants(store::store& db, const std::string& incident_id) {
    std::vector<std::string> out;
    const auto steps = db.steps(incident_id);
    std::map<int, const store::step_record*> by_seq;
    for (const auto& s : steps) by_seq[s.seq] = &s;
    auto unordered = [](const store::step_record& s) {
        return s.kind == incident::step_kind::verify_signins || s.kind == incident::step_kind::release_block ||
               s.kind == incident::step_kind::confirm_block;
    };

    std::map<int, int> succeeded_events;
    std::set<int> succeeded_so_far, failed_so_far;
    bool contained_recorded = false;  // checks run once the containment time is recorded
    for (const auto& e : db.events(incident_id, 0, 1000000)) {
        if (e.kind == "contained_at_recorded") contained_recorded = true;
        if (!e.step_seq) continue;
        const int seq = *e.step_seq;
        auto it = by_seq.find(seq);
        if (it == by_seq.end()) continue;  // a step replaced by the refined plan before it ran
        const auto& step = *it->second;
        if (e.kind == "step_succeeded") {
            ++succeeded_events[seq];
            succeeded_so_far.insert(seq);
        } else if (e.kind == "step_failed") {
            failed_so_far.insert(seq);
        } else if (e.kind == "step_retry_requested") {
            failed_so_far.erase(seq);
        } else if (e.kind == "step_started") {
            // Every blocking step of a lower stage of its batch must have succeeded before this
            // one started, or have failed for another account or app.
            const std::string subject = engine::subject_of(step.kind, step.target);
            if (step.kind == incident::step_kind::verify_signins) {
                // A check: once the containment time is recorded (the block took effect; its
                // read-back may still be re-running after a crash), and after the checks due
                // before it (each once, in order).
                if (!contained_recorded)
                    out.push_back("check " + std::to_string(seq) + " started before the containment time");
                for (const auto& other : steps) {
                    const bool earlier_check = other.kind == incident::step_kind::verify_signins &&
                                               other.seq < step.seq &&
                                               other.params.value("offset_ms", std::int64_t{0}) <=
                                                   step.params.value("offset_ms", std::int64_t{0});
                    if (earlier_check && !succeeded_so_far.count(other.seq) && !failed_so_far.count(other.seq))
                        out.push_back("check " + std::to_string(seq) + " started before step " +
                                      std::to_string(other.seq));
                }
            }
            for (const auto& other : steps) {
                if (unordered(step) || unordered(other)) continue;
                if (other.stage >= step.stage || other.requires_approval) continue;
                if (other.params.value("batch", 0) != step.params.value("batch", 0)) continue;
                if (succeeded_so_far.count(other.seq)) continue;
                if (engine::runs_beside_evidence(other.kind, step.step_phase)) continue;
                // Excused: a step of another account or app that had failed, or was held back by a
                // failure of its own account or app (it never runs while that failure stands).
                const std::string other_subject = engine::subject_of(other.kind, other.target);
                bool excused = false;
                if (!other_subject.empty() && other_subject != subject)
                    for (int f : failed_so_far) {
                        const auto& failed = *by_seq.at(f);
                        excused = excused || (failed.stage <= other.stage &&
                                              engine::subject_of(failed.kind, failed.target) == other_subject &&
                                              failed.params.value("batch", 0) == other.params.value("batch", 0));
                    }
                if (excused) continue;
                out.push_back("step " + std::to_string(seq) + " started before step " + std::to_string(other.seq) +
                              " of an earlier stage succeeded");
            }
            if (step.depends_on && !succeeded_so_far.count(*step.depends_on))
                out.push_back("step " + std::to_string(seq) + " started before its dependency " +
                              std::to_string(*step.depends_on));
        }
    }
    for (const auto& s : steps) {
        const int n = succeeded_events[s.seq];
        if (n > 1)
            out.push_back("step " + std::to_string(s.seq) + " recorded as succeeded " + std::to_string(n) + " times");
        if ((s.status == store::step_status::succeeded) != (n == 1))
            out.push_back("step " + std::to_string(s.seq) + " status disagrees with its events");
    }
    if (auto bad = db.verify_event_chain(incident_id)) out.push_back("event chain broken at " + std::to_string(*bad));
    if (auto integrity = db.integrity_check(); integrity != "ok") out.push_back("integrity: " + integrity);
    return out;
}

}  // namespace containd::testing
