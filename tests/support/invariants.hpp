#pragma once
// The invariants of RELIABILITY.md that can be read back from the database, for engine,
// integration and system tests alike.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace containd::testing {

// I2 (plan order, nothing marked done twice, nothing skipped silently), timers once and in
// order, the audit chain intact, and I4 (integrity). Returns every violation found.
inline std::vector<std::string> check_invariants(store::store& db, const std::string& incident_id) {
    std::vector<std::string> out;
    const auto steps = db.steps(incident_id);
    std::map<int, const store::step_record*> by_seq;
    for (const auto& s : steps) by_seq[s.seq] = &s;

    std::map<int, int> succeeded_events;
    std::set<int> succeeded_so_far;
    for (const auto& e : db.events(incident_id, 0, 1000000)) {
        if (!e.step_seq) continue;
        const int seq = *e.step_seq;
        auto it = by_seq.find(seq);
        if (it == by_seq.end()) continue;  // a step replaced by the refined plan before it ran
        const auto& step = *it->second;
        if (e.kind == "step_succeeded") {
            ++succeeded_events[seq];
            succeeded_so_far.insert(seq);
        } else if (e.kind == "step_started") {
            // Every blocking step of a lower stage must have succeeded before this one started.
            for (const auto& other : steps) {
                if (other.stage >= step.stage || other.requires_approval) continue;
                if (!succeeded_so_far.count(other.seq))
                    out.push_back("step " + std::to_string(seq) + " started before step " +
                                  std::to_string(other.seq) + " of an earlier stage succeeded");
            }
            if (step.depends_on && !succeeded_so_far.count(*step.depends_on))
                out.push_back("step " + std::to_string(seq) + " started before its dependency " +
                              std::to_string(*step.depends_on));
        }
    }
    for (const auto& s : steps) {
        const int n = succeeded_events[s.seq];
        if (n > 1) out.push_back("step " + std::to_string(s.seq) + " recorded as succeeded " + std::to_string(n) + " times");
        if ((s.status == store::step_status::succeeded) != (n == 1))
            out.push_back("step " + std::to_string(s.seq) + " status disagrees with its events");
    }
    if (auto bad = db.verify_event_chain(incident_id)) out.push_back("event chain broken at " + std::to_string(*bad));
    if (auto integrity = db.integrity_check(); integrity != "ok") out.push_back("integrity: " + integrity);
    return out;
}

}  // namespace containd::testing
