// Issue 10: a verdict the IR lead can trust. The engine with the real Graph runners and the real
// verification runner against the simulated tenant on loopback (TLS, client credentials), on
// the manual clock, with the simulator's realistic behaviour: a sign-in record is a token being
// issued (not used), token lifetimes per client, CAE cuts, legacy clients, per-record ingestion
// delays. Each scenario keeps only the attacker activity it is about, and asserts from the
// simulator's ground truth (what the attacker really did) and from the checks the daemon ran.
//
//   (a) a CAE client cut: contained only once a check settled the window through +60 and the
//       residual window ended;
//   (b) a non-CAE token issued just before containment (75 min): never contained before it ends;
//   (c) a 24 h token-lifetime policy: never "expired since", the residual window reported, the
//       incident verifying (a confirmation check at the window's end) until it ends;
//   (d) an IMAP-style client still obtaining tokens, its records arriving 12 min late:
//       needs_attention, no check ever says contained;
//   (e) a new token after the block from the excluded IR location: attention at the first check
//       that sees it, while the checks go on;
//   (f) records only late (attacker stopped at once, records 8 min late): no false alarm,
//       contained after a confirmation check.
// Seeds: CONTAIND_VERIFY_SEED (printed) seeds the simulator (ids, ingestion delays, lifetimes).

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "support/invariants.hpp"
#include "support/live_tenant.hpp"
#include "support/walkthrough.hpp"

using namespace containd;
using namespace containd::testing;
using store::incident_status;
using store::step_status;

namespace {

std::uint64_t seed_for(const char* scenario) {
    std::uint64_t seed = 20261204;
    if (const char* env = std::getenv("CONTAIND_VERIFY_SEED")) seed = std::strtoull(env, nullptr, 10);
    std::cout << "[ seed       ] " << scenario << ": " << seed << " (replay: CONTAIND_VERIFY_SEED=" << seed << ")"
              << std::endl;
    return seed;
}

// The walkthrough without its attacker activity (the IR team and normal work stay), plus `extra`.
live_options scenario_with(const char* name, std::vector<nlohmann::json> extra) {
    auto o = walkthrough_options();
    o.seed = seed_for(name);
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& a : o.scenario["activity"])
        if (a.value("actor", "") != "attacker") kept.push_back(a);
    for (auto& a : extra) kept.push_back(std::move(a));
    o.scenario["activity"] = kept;
    return o;
}

nlohmann::json user_stream(const std::string& name, const std::string& upn, const std::string& ip) {
    return {{"name", name},
            {"actor", "attacker"},
            {"kind", "user"},
            {"user", upn},
            {"ip", ip},
            {"app", {{"appId", "00000002-0000-0ff1-ce00-000000000000"}, {"displayName", "Office 365 Exchange Online"}}},
            {"clientAppUsed", "Browser"},
            {"interactive", true},
            {"location", {{"city", "Lagos"}, {"countryOrRegion", "NG"}}}};
}

struct check_run {
    int seq;
    std::string label;
    bool confirmation;
    time_point ran_at;
    nlohmann::json result;
};

std::vector<check_run> checks_of(store::store& db, const std::string& id) {
    std::vector<check_run> out;
    for (const auto& s : db.steps(id))
        if (s.kind == incident::step_kind::verify_signins && s.status == step_status::succeeded && s.finished_at)
            out.push_back({s.seq, s.target, s.params.value("confirmation", false), *s.finished_at, s.result});
    return out;
}

std::string describe(const std::vector<check_run>& checks) {
    std::string out;
    for (const auto& c : checks) {
        out += "\n  " + c.label + (c.confirmation ? " (confirmation)" : "") + " ran " + format_rfc3339(c.ran_at) +
               ": " + c.result.value("verdict", "?") + ", settled through " + c.result.value("settled_through", "?");
        for (const auto& d : c.result.value("diagnosis", std::vector<std::string>{})) out += "\n      " + d;
    }
    return out;
}

bool any_line(const nlohmann::json& result, const char* field, const std::string& text) {
    for (const auto& d : result.value(field, std::vector<std::string>{}))
        if (d.find(text) != std::string::npos) return true;
    return false;
}

bool has_cause(const nlohmann::json& result, const std::string& cause) {
    for (const auto& c : result.value("causes", std::vector<std::string>{}))
        if (c == cause) return true;
    return false;
}

// The simulator's ground truth for one activity stream.
nlohmann::json activity(sim::simulator& s, const std::string& name) {
    const auto state = s.state();
    for (const auto& a : state["_activity"])
        if (a.value("name", "") == name) return a;
    return nullptr;
}

std::optional<time_point> time_of(const nlohmann::json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
    return parse_rfc3339(j[key].get<std::string>());
}

// Submits the walkthrough incident and drives the engine (to idle, or until `until`).
std::string run(live_tenant& t, const nlohmann::json& incident, std::optional<time_point> until = std::nullopt) {
    t.open();
    const auto id = t.submit(incident);
    EXPECT_TRUE(t.drive(until)) << "the engine did not settle";
    const auto violations = check_invariants(*t.db, id);
    EXPECT_TRUE(violations.empty()) << ::testing::PrintToString(violations);
    return id;
}

// No check said "contained" before `when`, and none said it while the window it settled ended
// before the horizon.
void expect_never_contained_before(const std::vector<check_run>& checks, time_point when, time_point horizon) {
    for (const auto& c : checks) {
        if (c.result.value("verdict", "") != "contained") continue;
        EXPECT_GE(c.ran_at, when) << c.label << " said contained too early" << describe(checks);
        const auto settled = time_of(c.result, "settled_through");
        ASSERT_TRUE(settled);
        EXPECT_GE(*settled, horizon) << c.label << " said contained before settling the horizon";
        for (const auto& w : c.result["residual_windows"]) {
            EXPECT_TRUE(w.value("ended", false)) << w.dump();
        }
    }
}

}  // namespace

class Verification : public ::testing::Test {};

// (a) A CAE-capable client: cut minutes after the revocation; its client comes back and is
// refused. The +15/+30/+60 checks cannot say contained (the window is not settled through +60);
// a confirmation check at +70 can.
TEST_F(Verification, a_cae_client_cut_is_contained_only_after_the_window_settles_through_60) {
    auto stream = user_stream("attacker: OWA (CAE)", "ap.clerk@contoso.com", "203.0.113.66");
    stream["cae_capable"] = true;
    stream["start"] = "now-30m";
    live_tenant t(scenario_with("a", {stream}));
    const auto id = run(t, seeds_incident());
    const auto incident = *t.db->get_incident(id);
    ASSERT_TRUE(incident.contained_at);
    const auto contained = *incident.contained_at;
    const auto checks = checks_of(*t.db, id);

    EXPECT_EQ(incident.status, incident_status::contained) << describe(checks);
    // Ground truth: the attacker's token stopped working within the CAE delay (5 min) plus a tick.
    const auto truth = activity(*t.simulator, "attacker: OWA (CAE)");
    const auto last_used = time_of(truth, "last_used");
    ASSERT_TRUE(last_used);
    EXPECT_LT(*last_used, contained + minutes(8));

    ASSERT_GE(checks.size(), 4u) << describe(checks);
    for (const auto& c : checks) {
        if (!c.confirmation) {
            EXPECT_EQ(c.result.value("verdict", ""), "verifying") << c.label << describe(checks);
        }
    }
    const auto& last = checks.back();
    EXPECT_TRUE(last.confirmation);
    EXPECT_EQ(last.result.value("verdict", ""), "contained") << describe(checks);
    EXPECT_EQ(last.label, "+70m");
    expect_never_contained_before(checks, contained + minutes(70), contained + minutes(60));
    // Its residual window was observed to end: the client came back and was refused.
    bool refused = false;
    for (const auto& w : last.result["residual_windows"])
        if (w.value("subject", "") == "ap.clerk@contoso.com" && w.value("basis", "") == "refused") {
            refused = true;
            const auto ends = time_of(w, "ends_at");
            ASSERT_TRUE(ends);
            EXPECT_GT(*ends, *last_used);
        }
    EXPECT_TRUE(refused) << last.result.dump(2);
    EXPECT_FALSE(any_line(last.result, "diagnosis", "expired since"));
    EXPECT_TRUE(any_line(last.result, "cannot_prove", "not tokens being used"));
}

// (b) A non-CAE client whose 75-minute token was issued a minute before containment: the
// attacker uses it until +74 without a single sign-in record. No check may say contained
// before the token's end.
TEST_F(Verification, a_non_cae_token_issued_before_containment_holds_the_verdict_until_it_ends) {
    auto stream = user_stream("attacker: portal (non-CAE)", "cfo.assistant@contoso.com", "203.0.113.66");
    stream["app"] = {{"appId", "2b8e4f6a-1c3d-4e5f-9a7b-0c2d4e6f8a13"}, {"displayName", "ExpenseFlow Portal"}};
    stream["cae_capable"] = false;
    stream["start"] = "now-1m";
    stream["token_lifetime_minutes"] = 75;
    live_tenant t(scenario_with("b", {stream}));
    const auto token_end = t.clock.now() - minutes(1) + minutes(75);
    const auto id = run(t, seeds_incident());
    const auto incident = *t.db->get_incident(id);
    const auto contained = *incident.contained_at;
    const auto checks = checks_of(*t.db, id);

    // Ground truth: the attacker really used the token past +60, and no record showed it.
    const auto truth = activity(*t.simulator, "attacker: portal (non-CAE)");
    const auto last_used = time_of(truth, "last_used");
    ASSERT_TRUE(last_used);
    EXPECT_GT(*last_used, contained + minutes(60));
    EXPECT_GT(truth.value("used_without_sign_in", 0), 20);

    EXPECT_EQ(incident.status, incident_status::contained) << describe(checks);
    expect_never_contained_before(checks, token_end, contained + minutes(60));
    bool waited = false;
    for (const auto& c : checks) {
        EXPECT_FALSE(any_line(c.result, "diagnosis", "expired since")) << c.label;
        if (c.ran_at >= contained + minutes(60) && c.ran_at < token_end) {
            EXPECT_EQ(c.result.value("verdict", ""), "verifying") << c.label << describe(checks);
            waited = waited || any_line(c.result, "diagnosis", "at the latest");
        }
    }
    EXPECT_TRUE(waited) << "a check between +60 and the token's end should state the bound" << describe(checks);
}

// (c) A 24 h token-lifetime policy (the daemon is told the tenant's maximum): the residual window
// is reported with its end, the incident stays verifying with a confirmation check scheduled at
// that end, and nothing ever says "expired since". Past the end, the attacker's client is refused.
TEST_F(Verification, a_24h_token_policy_keeps_the_incident_verifying_with_the_window_reported) {
    auto stream = user_stream("attacker: IMAP (legacy, 24 h token)", "ap.clerk@contoso.com", "203.0.113.66");
    stream["clientAppUsed"] = "IMAP4";
    stream["interactive"] = false;
    stream["start"] = "now-5m";
    auto options = scenario_with("c", {stream});
    options.scenario["token_lifetime_policy_minutes"] = 1440;
    options.tenant.max_token_lifetime = std::chrono::hours(24);
    live_tenant t(options);
    const auto token_issued = t.clock.now() - minutes(5);
    const auto id = run(t, seeds_incident(), t.clock.now() + std::chrono::hours(3));
    const auto incident = *t.db->get_incident(id);
    const auto contained = *incident.contained_at;
    auto checks = checks_of(*t.db, id);

    EXPECT_EQ(incident.status, incident_status::verifying) << describe(checks);
    ASSERT_FALSE(checks.empty());
    const auto& latest = checks.back();
    EXPECT_EQ(latest.result.value("verdict", ""), "verifying") << describe(checks);
    bool reported = false;
    for (const auto& w : latest.result["residual_windows"])
        if (w.value("subject", "") == "ap.clerk@contoso.com") {
            reported = true;
            EXPECT_EQ(w.value("basis", ""), "max_lifetime");
            EXPECT_FALSE(w.value("ended", true));
            EXPECT_EQ(time_of(w, "ends_at"), token_issued + std::chrono::hours(24));
        }
    EXPECT_TRUE(reported) << latest.result.dump(2);
    // The confirmation check is asked for at the window's end (on the next whole minute after
    // containment), and it is a durable step waiting for that time.
    const auto window_end = token_issued + std::chrono::hours(24);
    const auto confirm_at = time_of(latest.result, "confirm_at");
    ASSERT_TRUE(confirm_at);
    EXPECT_GE(*confirm_at, window_end);
    EXPECT_LT(*confirm_at, window_end + minutes(1));
    bool pending_confirmation = false;
    for (const auto& s : t.db->steps(id))
        if (s.kind == incident::step_kind::verify_signins && s.status == step_status::pending &&
            s.params.value("confirmation", false) && s.not_before == *confirm_at)
            pending_confirmation = true;
    EXPECT_TRUE(pending_confirmation);
    for (const auto& c : checks) {
        EXPECT_FALSE(any_line(c.result, "diagnosis", "expired since")) << c.label;
    }

    // A day later the token has ended: the attacker's client is refused; the verdict follows.
    ASSERT_TRUE(t.drive());
    checks = checks_of(*t.db, id);
    EXPECT_EQ(t.db->get_incident(id)->status, incident_status::contained) << describe(checks);
    expect_never_contained_before(checks, token_issued + std::chrono::hours(24), contained + minutes(60));
    for (const auto& c : checks) {
        EXPECT_FALSE(any_line(c.result, "diagnosis", "expired since")) << c.label;
    }
}

// (d) An IMAP client with an app password, connecting from inside the IR named location the
// block excludes: it keeps obtaining new tokens after the block and the password reset, and its
// records arrive 12 minutes late. The first check that sees one says attention; none ever says
// contained; the incident needs attention with the path diagnosed.
TEST_F(Verification, an_imap_client_still_getting_tokens_with_late_logs_needs_attention) {
    auto stream = user_stream("attacker: IMAP with an app password", "ap.clerk@contoso.com", "198.51.100.77");
    stream["clientAppUsed"] = "IMAP4";
    stream["interactive"] = false;
    stream["credential"] = "app_password";
    stream["token_lifetime_minutes"] = 10;
    stream["ingestion_delay_seconds"] = 720;
    stream["start"] = "now-20m";
    live_tenant t(scenario_with("d", {stream}));
    const auto id = run(t, seeds_incident());
    const auto incident = *t.db->get_incident(id);
    const auto contained = *incident.contained_at;
    const auto checks = checks_of(*t.db, id);

    // Ground truth: successes after the propagation, recorded late.
    int late_successes = 0;
    const auto state = t.simulator->state();
    for (const auto& s : state["signIns"])
        if (s.value("userPrincipalName", "") == "ap.clerk@contoso.com" && s["status"].value("errorCode", -1) == 0) {
            const auto at = parse_rfc3339(s.value("createdDateTime", ""));
            if (at && *at > contained + minutes(16)) ++late_successes;
        }
    EXPECT_GT(late_successes, 0);

    EXPECT_EQ(incident.status, incident_status::needs_attention) << describe(checks);
    for (const auto& c : checks) {
        EXPECT_NE(c.result.value("verdict", ""), "contained") << c.label << describe(checks);
    }
    const check_run* first = nullptr;
    for (const auto& c : checks)
        if (!first && c.result.value("verdict", "") == "attention") first = &c;
    ASSERT_TRUE(first) << describe(checks);
    EXPECT_TRUE(has_cause(first->result, "legacy_protocol")) << first->result.dump(2);
    EXPECT_TRUE(has_cause(first->result, "excluded_location"));
    EXPECT_TRUE(any_line(first->result, "attention", "a legacy protocol (IMAP4)"));
    bool named = false;
    for (const auto& a : incident.attention)
        named = named || a.find("ap.clerk@contoso.com obtained") != std::string::npos;
    EXPECT_TRUE(named) << ::testing::PrintToString(incident.attention);
}

// (e) The attacker registered a passwordless key before the SOC's compromise start; the targeted
// cleanup keeps it (and asks for confirmation with the user). From the IR named location the
// block excludes, the attacker gets a new token at +20: attention at the first check that sees
// it (+30), at once, while later checks still run.
TEST_F(Verification, a_new_token_from_the_excluded_location_is_attention_at_the_first_check_that_sees_it) {
    auto options = scenario_with("e", {});
    for (auto& u : options.scenario["users"])
        if (u.value("userPrincipalName", "") == "cfo.assistant@contoso.com")
            u["authentication_methods"].push_back({{"@odata.type", "fido2"},
                                                   {"id", "e9f8a7b6-0007-4c5d-8e9f-0a1b2c3d4e07"},
                                                   {"displayName", "Security key"},
                                                   {"model", "YubiKey 5C"},
                                                   {"aaGuid", "cb69481e-8ff7-4039-93ec-0a2729a154a8"},
                                                   {"createdDateTime", "2026-03-01T08:00:00Z"},
                                                   {"registered_by", "attacker"}});
    auto stream = user_stream("attacker: from the IR location", "cfo.assistant@contoso.com", "198.51.100.66");
    stream["cae_capable"] = true;
    stream["start"] = "now+20m";
    stream["ingestion_delay_seconds"] = 90;
    options.scenario["activity"].push_back(stream);
    live_tenant t(options);
    const auto start = t.clock.now();
    const auto id = run(t, seeds_incident(), start + minutes(31));
    const auto contained = *t.db->get_incident(id)->contained_at;
    auto checks = checks_of(*t.db, id);

    ASSERT_EQ(checks.size(), 2u) << describe(checks);
    EXPECT_NE(checks[0].result.value("verdict", ""), "attention") << describe(checks);
    EXPECT_EQ(checks[1].label, "+30m");
    EXPECT_EQ(checks[1].result.value("verdict", ""), "attention") << describe(checks);
    EXPECT_TRUE(has_cause(checks[1].result, "excluded_location"));
    EXPECT_TRUE(has_cause(checks[1].result, "new_token_after_revocation"));
    // At once: the incident needs attention now, not at +60; the kept key is there to confirm.
    const auto now = *t.db->get_incident(id);
    EXPECT_EQ(now.status, incident_status::needs_attention);
    EXPECT_TRUE(any_line(checks[1].result, "confirm_with_user",
                         "cfo.assistant@contoso.com: the targeted cleanup kept the fido2"))
        << checks[1].result.dump(2);

    // The checks go on; the +60 check sees it again and the incident ends needing attention.
    ASSERT_TRUE(t.drive());
    checks = checks_of(*t.db, id);
    EXPECT_EQ(checks.back().label, "+60m");
    EXPECT_EQ(checks.back().result.value("verdict", ""), "attention");
    EXPECT_EQ(t.db->get_incident(id)->status, incident_status::needs_attention);
    EXPECT_GT(checks.back().ran_at, contained + minutes(60) - seconds(1));
}

// (f) The attacker stops at containment; its records (including the last token it was issued)
// arrive 8 minutes late. No check raises a false alarm; the token's bound and the settled
// window decide, and a confirmation check says contained.
TEST_F(Verification, late_records_alone_raise_no_alarm_and_end_contained_after_confirmation) {
    auto stream = user_stream("attacker: stops at once", "procurement.mgr@contoso.com", "203.0.113.71");
    stream["cae_capable"] = true;
    stream["start"] = "now-30m";
    stream["end"] = "now";
    stream["token_lifetime_minutes"] = 10;
    stream["ingestion_delay_seconds"] = 480;
    live_tenant t(scenario_with("f", {stream}));
    const auto id = run(t, seeds_incident());
    const auto incident = *t.db->get_incident(id);
    const auto contained = *incident.contained_at;
    const auto checks = checks_of(*t.db, id);

    EXPECT_EQ(incident.status, incident_status::contained) << describe(checks);
    for (const auto& c : checks) {
        EXPECT_NE(c.result.value("verdict", ""), "attention") << c.label << describe(checks);
    }
    ASSERT_FALSE(checks.empty());
    EXPECT_TRUE(checks.back().confirmation) << describe(checks);
    expect_never_contained_before(checks, contained + minutes(70), contained + minutes(60));
    // The last token (issued before containment, seen only through the late records) was the
    // residual window that the verdict waited for.
    bool window = false;
    for (const auto& w : checks.back().result["residual_windows"])
        window = window || w.value("subject", "") == "procurement.mgr@contoso.com";
    EXPECT_TRUE(window) << checks.back().result.dump(2);
}
