#pragma once
// Checks of a run under the simulator's seeded faults, from the simulator's journal and the
// store's events (RELIABILITY.md "throttling", "hangs"): which requests the simulator faulted
// (replayed from the rules and the seed), that no request was retried before the Retry-After it
// was given, and that no step ever had two attempts in flight. Shared by the engine-level
// scenario (tests/integration/containment/scenarios_test) and the system-level chaos soak
// (tests/system/chaos_soak_test), which reads the same journal as JSON (journal_from_json).

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/time.hpp"
#include "graph/odata.hpp"
#include "sim/simulator.hpp"
#include "store/store.hpp"

namespace containd::testing {

// No step has two attempts in flight: per step, every step_started is followed by an outcome
// (succeeded, retry scheduled, failed, cancelled) before the next step_started, and a step that
// is not running ends closed. `restarts`: when the daemon stopped (ascending); an attempt in flight
// then ended with its process (the engine re-runs it after the start).
inline std::vector<std::string> overlapping_attempts(store::store& db, const std::string& id,
                                                     const std::vector<time_point>& restarts = {}) {
    static const std::set<std::string> outcomes = {"step_succeeded", "step_retry_scheduled", "step_failed",
                                                   "step_cancelled", "step_skipped"};
    std::vector<std::string> out;
    std::map<int, bool> open;
    std::size_t next_restart = 0;
    for (const auto& e : db.events(id, 0, 1000000)) {
        for (; next_restart < restarts.size() && e.at >= restarts[next_restart]; ++next_restart) open.clear();
        if (!e.step_seq) continue;
        const int seq = *e.step_seq;
        if (e.kind == "step_started") {
            if (open[seq])
                out.push_back("step " + std::to_string(seq) + " started again (event " + std::to_string(e.id) +
                              ") while an attempt was in flight");
            open[seq] = true;
        } else if (outcomes.count(e.kind)) {
            open[seq] = false;
        }
    }
    for (const auto& s : db.steps(id))
        if (open[s.seq] && s.status != store::step_status::running)
            out.push_back("step " + std::to_string(s.seq) + " has an attempt without an outcome");
    return out;
}

// The simulator's journal as GET /_sim/journal serves it.
inline std::vector<sim::journal_entry> journal_from_json(const nlohmann::json& entries) {
    std::vector<sim::journal_entry> out;
    for (const auto& e : entries) {
        sim::journal_entry j{};
        j.seq = e.value("seq", std::int64_t{0});
        j.at = parse_rfc3339(e.value("at", "")).value_or(time_point{});
        j.method = e.value("method", "");
        j.path = e.value("path", "");
        j.query = e.value("query", "");
        j.body = e.value("body", "");
        j.status = e.value("status", 0);
        j.client_id = e.value("client_id", "");
        out.push_back(std::move(j));
    }
    return out;
}

// Recomputes, from the rules and the seed, which journal entries the simulator faulted: it decides
// in journal order, trying the rules in order, one draw per probabilistic rule that matches
// (simulator.cpp, handle()). Returns the fault kind per journal index ("" when none).
inline std::vector<std::string> replay_faults(const std::vector<sim::journal_entry>& journal,
                                              const std::vector<sim::fault_rule>& rules, std::uint64_t seed) {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
    std::vector<std::regex> res;
    for (const auto& r : rules) res.emplace_back(r.path_regex, std::regex::ECMAScript);
    std::vector<int> matched(rules.size(), 0);
    std::vector<std::string> out;
    for (const auto& e : journal) {
        std::string fault;
        for (std::size_t k = 0; k < rules.size(); ++k) {
            const auto& r = rules[k];
            // A $batch item is faulted like a request, but never with a transport fault.
            if (e.in_batch && (r.kind == "reset" || r.kind == "hang" || r.kind == "slow_body")) continue;
            if (!r.method.empty() && r.method != e.method) continue;
            if (!std::regex_search(e.path, res[k])) continue;
            bool fire = false;
            if (r.count >= 0)
                fire = matched[k] < r.count;
            else
                fire = std::uniform_real_distribution<double>(0.0, 1.0)(rng) < r.rate;
            ++matched[k];
            if (fire) {
                fault = r.kind;
                break;
            }
        }
        out.push_back(fault);
    }
    return out;
}

// Each step's attempts as [started, outcome] on the injected clock, from the store's events, and
// the names its requests carry (its target, and the account's object id).
struct attempt_window {
    time_point start;
    time_point end = time_point::max();
    std::string retry_error;  // the error of its step_retry_scheduled, if it ended so
};
struct step_attempts {
    std::vector<std::string> names;
    std::vector<attempt_window> attempts;
};
// Keyed by label_prefix + seq ("step 7", or "<incident id> step 7" for several incidents).
using attempt_map = std::map<std::string, step_attempts>;

inline void add_attempt_windows(store::store& db, const std::string& id, const std::string& label_prefix,
                                attempt_map& out, const std::vector<time_point>& restarts = {}) {
    std::map<std::string, std::string> object_ids;
    for (const auto& a : db.accounts(id))
        if (a.object_id) object_ids[a.upn] = *a.object_id;
    auto label = [&](int seq) { return label_prefix + "step " + std::to_string(seq); };
    for (const auto& s : db.steps(id)) {
        auto& names = out[label(s.seq)].names;
        if (!s.target.empty()) names.push_back(s.target);
        if (auto it = object_ids.find(s.target); it != object_ids.end()) names.push_back(it->second);
    }
    std::size_t next_restart = 0;
    for (const auto& e : db.events(id, 0, 1000000)) {
        for (; next_restart < restarts.size() && e.at >= restarts[next_restart]; ++next_restart)
            for (auto& [_, s] : out)  // attempts in flight ended with the process
                if (!s.attempts.empty() && s.attempts.back().end == time_point::max() &&
                    s.attempts.back().start < restarts[next_restart])
                    s.attempts.back().end = restarts[next_restart];
        if (!e.step_seq) continue;
        auto& list = out[label(*e.step_seq)].attempts;
        if (e.kind == "step_started") {
            list.push_back({e.at, time_point::max(), {}});
        } else if ((e.kind == "step_succeeded" || e.kind == "step_retry_scheduled" || e.kind == "step_failed") &&
                   !list.empty()) {
            list.back().end = e.at;
            if (e.kind == "step_retry_scheduled") list.back().retry_error = e.data.value("error", "");
        }
    }
}

inline attempt_map attempt_windows(store::store& db, const std::string& id) {
    attempt_map out;
    add_attempt_windows(db, id, "", out);
    return out;
}

// The attempts that ended by reporting this 429 (the engine's retry error quotes its Retry-After
// verbatim): the attempt was running when it was answered and its retry error carries the value.
// Returns (step label, attempt index) pairs.
inline std::vector<std::pair<std::string, std::size_t>> claimants(const attempt_map& steps, time_point answered,
                                                                  const std::string& retry_after_text) {
    std::vector<std::pair<std::string, std::size_t>> out;
    const std::string quoted = "HTTP 429";
    const std::string header = "(Retry-After: " + retry_after_text + ")";
    for (const auto& [label, s] : steps)
        for (std::size_t a = 0; a < s.attempts.size(); ++a) {
            const auto& w = s.attempts[a];
            if (answered < w.start || answered > w.end) continue;
            if (w.retry_error.find(quoted) != std::string::npos && w.retry_error.find(header) != std::string::npos)
                out.emplace_back(label, a);
        }
    return out;
}

// True when `second` may be the retry of `first`: some step whose requests name what `first`
// names (its target in the path or query) had an attempt running when `first` was answered and a
// later attempt running when `second` was sent.
inline bool a_later_attempt(const attempt_map& steps, const sim::journal_entry& first,
                            const sim::journal_entry& second) {
    const std::string request = graph::odata::percent_decode(first.path + "?" + first.query).value_or("");
    for (const auto& [_, s] : steps) {
        if (std::none_of(s.names.begin(), s.names.end(),
                         [&](const std::string& n) { return request.find(n) != std::string::npos; }))
            continue;
        const auto& list = s.attempts;
        for (std::size_t a = 0; a < list.size(); ++a) {
            if (first.at < list[a].start || first.at > list[a].end) continue;
            for (std::size_t b = a + 1; b < list.size(); ++b)
                if (second.at >= list[b].start && second.at <= list[b].end) return true;
        }
    }
    return false;
}

// No request repeated before its Retry-After: for every 429 in the journal (a fault's, by kind, or
// the simulator's reports throttle, replayed from its sliding window), the step that reported it
// started its next attempt no earlier than advised; a 429 no step claimed is matched to the same
// request sent later, which must be no earlier than advised unless another step sent it.
struct retry_after_report {
    int faulted = 0, throttled = 0, checked = 0, concurrent = 0;
    int ambiguous = 0;  // 429s of a request several incidents send alike (a shared policy): not attributable
    std::map<std::string, int> by_kind;
    std::vector<std::string> violations;
};

inline retry_after_report check_retry_after(const std::vector<sim::journal_entry>& journal,
                                            const std::vector<std::string>& faults, const attempt_map& attempts,
                                            std::size_t reports_limit, duration reports_window) {
    retry_after_report out;
    std::map<std::string, std::deque<time_point>> window;
    for (std::size_t i = 0; i < journal.size(); ++i) {
        const auto& e = journal[i];
        std::optional<time_point> retry_at;
        std::string retry_after_text;  // the header's value
        const std::string fault = i < faults.size() ? faults[i] : std::string();
        if (!fault.empty()) {
            ++out.faulted;
            ++out.by_kind[fault];
            if (fault.rfind("429", 0) == 0) {
                if (e.status != 429)
                    out.violations.push_back("the fault replay disagrees with the simulator at journal seq " +
                                             std::to_string(e.seq));
                if (fault == "429_seconds") retry_at = e.at + seconds(2), retry_after_text = "2";
                if (fault == "429_decimal") retry_at = e.at + milliseconds(1500), retry_after_text = "1.5";
                if (fault == "429_http_date") {
                    retry_after_text = format_http_date(e.at + seconds(3));
                    retry_at = parse_http_date(retry_after_text);
                }
            }
        } else if ((e.path.rfind("/v1.0/auditLogs", 0) == 0 || e.path.rfind("/beta/auditLogs", 0) == 0) &&
                   e.status != 401) {
            auto& q = window["reports/" + e.client_id];
            while (!q.empty() && q.front() <= e.at - reports_window) q.pop_front();
            // The journal's times are in milliseconds: at the window's edge the replay cannot tell.
            if (q.size() >= reports_limit && e.status != 429 && q.front() + reports_window - e.at <= milliseconds(2)) {
                q.pop_front();
                q.push_back(e.at);
                continue;
            }
            if (q.size() >= reports_limit) {
                if (e.status != 429)
                    out.violations.push_back("the throttle replay disagrees at journal seq " + std::to_string(e.seq));
                const auto wait_ms =
                    std::chrono::duration_cast<std::chrono::milliseconds>(q.front() + reports_window - e.at).count();
                const long long whole = std::max<long long>(1, (wait_ms + 999) / 1000);
                retry_at = e.at + seconds(whole);
                retry_after_text = std::to_string(whole);
                ++out.throttled;
            } else {
                q.push_back(e.at);
            }
        }
        if (!retry_at) continue;
        // Which later request is this one's retry? The same method and path (for a filtered
        // collection, auditLogs?$filter=..., the path names no target, so the query too), sent by
        // a later attempt of a step about that target that was running when the 429 came (the
        // Graph client makes one attempt per call; the engine owns retries). The same request
        // sent meanwhile by another step is not a retry.
        // When the step that got it reported it (its retry error quotes the Retry-After), its
        // next attempt must not start before the Retry-After: whatever it sends first.
        const auto owners = claimants(attempts, e.at, retry_after_text);
        for (const auto& [label, a] : owners) {
            const auto& list = attempts.at(label).attempts;
            if (a + 1 >= list.size()) continue;
            ++out.checked;
            if (list[a + 1].start < *retry_at)
                out.violations.push_back(
                    label + " got " + e.method + " " + e.path + " answered 429 (Retry-After: " + retry_after_text +
                    ") at " + format_rfc3339(e.at) + " and started again at " + format_rfc3339(list[a + 1].start));
        }
        if (!owners.empty()) continue;
        // Otherwise (a step that read several things and reported another failure), find the
        // request's retry in the journal.
        // With several incidents (labels "<id> step N"), a request that steps of more than one
        // incident send alike cannot be attributed to one of them: not judged.
        {
            const std::string request = graph::odata::percent_decode(e.path + "?" + e.query).value_or("");
            std::set<std::string> senders;
            for (const auto& [label, s] : attempts) {
                const auto cut = label.rfind("step ");
                if (cut == std::string::npos || cut == 0) continue;
                if (std::any_of(s.names.begin(), s.names.end(),
                                [&](const std::string& n) { return request.find(n) != std::string::npos; }))
                    senders.insert(label.substr(0, cut));
            }
            if (senders.size() > 1) {
                ++out.ambiguous;
                continue;
            }
        }
        const bool filtered = e.query.find("$filter") != std::string::npos;
        for (std::size_t k = i + 1; k < journal.size(); ++k) {
            const auto& next = journal[k];
            if (next.method != e.method || next.path != e.path || (filtered && next.query != e.query)) continue;
            if (next.at >= *retry_at) {
                ++out.checked;
                break;
            }
            if (!a_later_attempt(attempts, e, next)) {
                ++out.concurrent;
                continue;
            }
            out.violations.push_back(
                e.method + " " + e.path + " answered 429 (" + (fault.empty() ? "throttle" : fault) + ") at " +
                format_rfc3339(e.at) + " was retried at " + format_rfc3339(next.at) + ", before its Retry-After " +
                format_rfc3339(*retry_at) + "\n  first:  ?" + e.query + "\n  second: ?" + next.query);
            break;
        }
    }
    return out;
}

}  // namespace containd::testing
