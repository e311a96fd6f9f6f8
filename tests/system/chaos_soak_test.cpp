// Upstream chaos soak (issue 6 item 4) on the real binaries: containd against containd-sim with
// seeded faults on every endpoint (429 in its four shapes, 500/503/504, connection resets, one
// hang) at 20-30 % of all requests, on top of the tenant's own throttling (the reports window,
// Conditional Access protection), while N incidents of the seeds' walkthrough run. One more
// incident meets an upstream that fails one of its steps forever, so its retry budget (the step
// deadline) runs out. Then the daemon is stopped, the faults are switched off, the daemon is
// started again and every incident must finish (contained, needs_attention or cancelled).
//
// Checked afterwards, from the simulator's journal (faults replayed from the rules and the seed)
// and the database the daemon left:
// - no request before its Retry-After (tests/support/fault_checks.hpp, as the engine-level
//   scenario does it, here for every incident at once and across the restart);
// - never two attempts of one step in flight;
// - the exhausted step is failed and its incident needs_attention; no later step ran, none was
//   skipped, nothing about that account after it reached the tenant (I2);
// - I2/I4 for every incident (invariants.hpp) and I3 after the fault-free phase.
//
// Quick tier (CI): 8 incidents, about 25 % faults, about two minutes. Soak tier:
// CONTAIND_CHAOS_INCIDENTS=50 (and CONTAIND_CHAOS_RATE, CONTAIND_CHAOS_SEED to replay a run).

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/clock.hpp"
#include "store/vault.hpp"
#include "support/fault_checks.hpp"
#include "support/invariants.hpp"
#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using namespace system_test;
using nlohmann::json;
using std::chrono::steady_clock;

constexpr const char* hr_partner_id = "0b1e7c6a-3f2d-4e51-9a8b-1c2d3e4f5a08";

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v ? std::max(1, std::atoi(v)) : fallback;
}

json rules_json(const std::vector<sim::fault_rule>& rules) {
    json out = json::array();
    for (const auto& r : rules)
        out.push_back({{"path_regex", r.path_regex},
                       {"method", r.method},
                       {"kind", r.kind},
                       {"rate", r.rate},
                       {"count", r.count}});
    return {{"rules", out}};
}

class ChaosSoak : public system_fixture {};

TEST_F(ChaosSoak, under_seeded_faults_and_throttling_every_incident_finishes_and_retry_after_holds) {
    std::uint64_t seed = std::random_device{}();
    if (const char* s = std::getenv("CONTAIND_CHAOS_SEED")) seed = std::stoull(s);
    const int incidents = env_int("CONTAIND_CHAOS_INCIDENTS", 8);
    double total_rate = 0.25;
    if (const char* r = std::getenv("CONTAIND_CHAOS_RATE")) total_rate = std::clamp(std::atof(r), 0.0, 0.9);
    std::cout << "[ chaos ] seed " << seed << " (CONTAIND_CHAOS_SEED replays), " << incidents
              << " incidents, faults on " << total_rate * 100 << " % of requests" << std::endl;
    RecordProperty("chaos_seed", std::to_string(seed));

    // The seeds' tenant without the attacker's activity (the verdicts are not the point here),
    // plus one standard user per incident, so that every incident's requests name its own
    // account and each 429 can be told apart.
    json scenario = json::parse(read_file(CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json"));
    scenario["activity"] = json::array();
    std::vector<std::string> upns;
    for (int i = 0; i < incidents; ++i) {
        char id[64], method[64];
        std::snprintf(id, sizeof id, "5a0c0000-0000-4000-8000-%012d", i);
        std::snprintf(method, sizeof method, "5a0c0000-0000-4000-9000-%012d", i);
        upns.push_back("soak.user" + std::to_string(i) + "@contoso.com");
        scenario["users"].push_back({{"id", id},
                                     {"userPrincipalName", upns.back()},
                                     {"displayName", "Soak User " + std::to_string(i)},
                                     {"jobTitle", "Clerk"},
                                     {"createdDateTime", "2021-01-01T08:00:00Z"},
                                     {"authentication_methods",
                                      {{{"@odata.type", "microsoftAuthenticator"},
                                        {"id", method},
                                        {"displayName", "Phone"},
                                        {"createdDateTime", "2021-01-01T08:00:00Z"},
                                        {"default", true}}}}});
    }
    std::ofstream(dir / "scenario.json") << scenario.dump(2);
    start_sim({"--seed", std::to_string(seed)}, {}, (dir / "scenario.json").string());

    // The rules, tried in order: hr.partner's session revocation always fails (its retry budget
    // runs out); one hang on a read (the attempt timeout ends it); then every kind at a rate such
    // that about total_rate of all requests fault (first rule that fires wins: 8 draws).
    std::vector<sim::fault_rule> rules;
    rules.push_back({"/users/" + std::string(hr_partner_id) + "/revokeSignInSessions$", "POST", "503", 1.0, -1});
    rules.push_back({"^/v1\\.0/users/[^/]+/authentication/methods$", "GET", "hang", 0, 1});
    const double per_kind = 1.0 - std::pow(1.0 - total_rate, 1.0 / 8);
    for (const char* kind : {"429_seconds", "429_decimal", "429_http_date", "429_none", "500", "503", "504", "reset"})
        rules.push_back({".", "", kind, per_kind, -1});
    ASSERT_EQ(sim_request("POST", "/_sim/faults", rules_json(rules).dump()).status, 204);

    // The reports class (sign-in logs) is paced to 5 per 10 s: about 4 reads per incident.
    const int step_deadline_s = std::max(60, 8 * incidents);
    config["engine"]["attempt_timeout_s"] = 20;
    config["engine"]["step_deadline_s"] = step_deadline_s;
    start_daemon();

    // The fault phase: the incidents arrive over a few seconds; the exhausted one first.
    const auto started = steady_clock::now();
    auto hr = seeds_incident("CHAOS-HR");
    hr["accounts"] = {{{"upn", "hr.partner@contoso.com"}}};
    hr["malicious_apps"] = json::array();
    auto made = api->post("/v1/incidents", submitter_token, hr);
    ASSERT_EQ(made.status, 201) << made.body;
    const std::string hr_id = made.json()["id"];
    std::vector<std::string> ids;
    for (int i = 0; i < incidents; ++i) {
        auto body = seeds_incident("CHAOS-" + std::to_string(i));
        body["accounts"] = {{{"upn", upns[static_cast<std::size_t>(i)]}}};
        body["malicious_apps"] = json::array();
        auto r = api->post("/v1/incidents", submitter_token, body);
        ASSERT_EQ(r.status, 201) << r.body;
        ids.push_back(r.json()["id"]);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    // Until the exhausted step has used its budget (its deadline, plus a margin), and at least
    // as long as it takes the others to meet a good share of faults.
    // (Its revocation starts once the block is on, which the faults delay too.)
    ASSERT_EQ(wait_final(hr_id, std::chrono::seconds(3 * step_deadline_s + 60)), "needs_attention")
        << "the exhausted incident did not end within the fault phase (seed " << seed << ")";
    while (steady_clock::now() - started < std::chrono::seconds(step_deadline_s + 5))
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int final_in_fault_phase = 0;
    for (const auto& id : ids) final_in_fault_phase += is_final_status(incident(id).value("status", "")) ? 1 : 0;

    // The daemon stops (in-flight attempts are re-run after the start); the faults end.
    ASSERT_EQ(daemon->terminate(), 0);
    daemon.reset();
    const time_point stopped_at = std::chrono::system_clock::now();
    const auto faulted_journal = journal_from_json(sim_journal());
    const std::size_t switch_index = faulted_journal.size();
    ASSERT_EQ(sim_request("POST", "/_sim/faults", R"({"rules":[]})").status, 204);
    const auto fault_phase = steady_clock::now() - started;

    start_daemon();
    std::map<std::string, int> outcome;
    for (const auto& id : ids) {
        const std::string status = wait_final(id, std::chrono::seconds(180));
        ++outcome[status];
        EXPECT_NE(status, "timeout") << id << "\n" << incident(id).dump(2);
    }
    ++outcome[incident(hr_id).value("status", "")];
    ASSERT_EQ(daemon->terminate(), 0);
    daemon.reset();
    const auto total = steady_clock::now() - started;

    // ------------------------------------------------------------ the checks
    const json journal_json = sim_journal();
    std::ofstream(dir / "journal.json") << journal_json.dump();
    const auto journal = journal_from_json(journal_json);
    auto faults =
        replay_faults(std::vector<sim::journal_entry>(journal.begin(), journal.begin() + switch_index), rules, seed);
    faults.resize(journal.size());  // nothing faulted once the rules were cleared

    manual_clock clock(std::chrono::system_clock::now());
    store::store db((dir / "containd.db").string(), clock, store::vault::from_key_file((dir / "vault.key").string()));
    EXPECT_EQ(db.integrity_check(), "ok");
    std::vector<std::string> all = ids;
    all.push_back(hr_id);
    attempt_map attempts;
    const std::vector<time_point> restarts = {stopped_at};
    int failed_steps = 0, attempts_total = 0;
    for (const auto& id : all) {
        const auto violations = check_invariants(db, id);
        EXPECT_TRUE(violations.empty()) << id << ": " << ::testing::PrintToString(violations);
        const auto overlaps = overlapping_attempts(db, id, restarts);
        EXPECT_TRUE(overlaps.empty()) << id << ": " << ::testing::PrintToString(overlaps);
        add_attempt_windows(db, id, id + " ", attempts, restarts);
        const auto rec = db.get_incident(id);
        ASSERT_TRUE(rec);
        for (const auto& s : db.steps(id)) {
            attempts_total += s.attempt;
            EXPECT_NE(s.status, store::step_status::skipped)
                << id << " step " << s.seq << " skipped (seed " << seed << ")";
            if (s.status == store::step_status::failed) {
                ++failed_steps;
                EXPECT_EQ(rec->status, store::incident_status::needs_attention)
                    << id << " has failed step " << s.seq << " but is " << store::to_string(rec->status);
            }
            // Containment steps end succeeded, or failed with the incident needing a human.
            if (s.kind != incident::step_kind::verify_signins && rec->status == store::incident_status::contained) {
                EXPECT_EQ(s.status, store::step_status::succeeded) << id << " step " << s.seq << ": " << s.error;
            }
        }
    }

    // A retry budget that ran out: the step is failed at its deadline, its incident needs
    // attention, and no later step of what it concerns ever started (none skipped: I2). What it
    // concerns (issue 11): its own account or app; the rest of its batch for a step of the whole
    // incident such as the block. Verification checks run whatever failed.
    int exhausted = 0;
    for (const auto& id : all) {
        const auto steps = db.steps(id);
        for (const auto& f : steps) {
            // The block's read-back holds nothing back (issue 12), like a check.
            if (f.status != store::step_status::failed || f.kind == incident::step_kind::verify_signins ||
                f.kind == incident::step_kind::confirm_block)
                continue;
            ++exhausted;
            EXPECT_NE(f.error.find("deadline"), std::string::npos) << id << " step " << f.seq << ": " << f.error;
            const std::string failed_subject = engine::subject_of(f.kind, f.target);
            for (const auto& s : steps)
                if (s.stage > f.stage && s.params.value("batch", 0) == f.params.value("batch", 0) &&
                    s.kind != incident::step_kind::verify_signins && s.kind != incident::step_kind::release_block &&
                    s.kind != incident::step_kind::confirm_block &&
                    !engine::runs_beside_evidence(f.kind, s.step_phase) &&  // evidence never stops containment
                    (failed_subject.empty() || engine::subject_of(s.kind, s.target) == failed_subject)) {
                    EXPECT_EQ(s.status, store::step_status::pending)
                        << id << " step " << s.seq << " ran after failed step " << f.seq;
                    EXPECT_EQ(s.attempt, 0) << id << " step " << s.seq;
                }
        }
    }
    // hr.partner's revocation always failed: its incident needs attention, its password was never
    // reset, and (when the revocation was reached) one request per attempt, none after the budget.
    const store::step_record* revoke = nullptr;
    const auto hr_steps = db.steps(hr_id);
    for (const auto& s : hr_steps)
        if (s.kind == incident::step_kind::revoke_sessions) revoke = &s;
    ASSERT_NE(revoke, nullptr);
    EXPECT_NE(revoke->status, store::step_status::succeeded);
    int hr_revokes = 0, hr_resets = 0;
    for (const auto& e : journal) {
        if (e.path.find(hr_partner_id) == std::string::npos && e.path.find("hr.partner") == std::string::npos) continue;
        if (e.path.find("/revokeSignInSessions") != std::string::npos) ++hr_revokes;
        if (e.method == "PATCH" && e.body.find("passwordProfile") != std::string::npos) ++hr_resets;
    }
    EXPECT_EQ(hr_resets, 0) << "hr.partner's password was reset although its revocation never succeeded";
    if (revoke->attempt > 0) {
        EXPECT_EQ(revoke->status, store::step_status::failed);
        EXPECT_EQ(hr_revokes, revoke->attempt) << "one request per attempt, none after the budget ran out";
    }

    // No request before its Retry-After, across every incident and the restart.
    const json& th = scenario["throttling"]["reports"];
    const auto report =
        check_retry_after(journal, faults, attempts, th.value("limit", 5), seconds(th.value("window_seconds", 10)));
    for (const auto& v : report.violations) ADD_FAILURE() << v << " (seed " << seed << ")";

    int fault_phase_requests = static_cast<int>(switch_index);
    std::cout << "[ chaos ] " << journal.size() << " requests (" << fault_phase_requests << " in the fault phase of "
              << std::chrono::duration_cast<std::chrono::seconds>(fault_phase).count() << " s), " << report.faulted
              << " faulted (" << (fault_phase_requests ? 100 * report.faulted / fault_phase_requests : 0) << " %), "
              << report.throttled << " throttled by the reports window, " << report.ambiguous
              << " 429s of shared requests not attributable;";
    for (const auto& [kind, n] : report.by_kind) std::cout << " " << kind << "=" << n;
    std::cout << "\n[ chaos ] " << report.checked << " retries checked against their Retry-After, " << attempts_total
              << " attempts, " << failed_steps << " failed steps (" << exhausted
              << " budgets ran out, hr.partner's revocation " << revoke->attempt << " attempts); "
              << final_in_fault_phase << "/" << incidents << " final during the faults; outcome:";
    for (const auto& [status, n] : outcome) std::cout << " " << status << "=" << n;
    std::cout << "; " << std::chrono::duration_cast<std::chrono::seconds>(total).count() << " s in all" << std::endl;
    EXPECT_GT(report.faulted, fault_phase_requests / 10) << "the fault phase faulted too little to prove anything";
    EXPECT_GT(report.checked, 0);
}

}  // namespace
}  // namespace containd::testing
