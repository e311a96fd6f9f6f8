// Issue 10's verification scenarios (a)-(f) through the real containd binary: its built-in
// simulated tenant (config "simulator") on a clock `time_scale` times faster, the production
// verification rules (10-minute ingestion allowance, 15-minute propagation, 90-minute maximum
// token lifetime unless a scenario says otherwise), the +15/+30/+60 schedule, and the test as a
// REST client (GET /v1/incidents/{id}: status, attention, the verification checks). The same
// scenarios on the manual clock, with the reasoning spelled out, are in
// tests/integration/containment/verification_test.cpp; each scenario here is that test's: the
// walkthrough (config/scenarios/bec-walkthrough.json) without its attacker activity, plus the one
// attacker stream (and setting) the scenario is about, written to the test's directory.
//
// Ground truth (what the attacker really did, which the sign-in logs do not show) comes from the
// built-in simulator's /_sim/state, on the URL the daemon's ready line gives.
//
// Seeds: the built-in simulator's draws (ids, ingestion delays, lifetimes) come from the config's
// "simulator.seed": 20261204 unless CONTAIND_VERIFY_SEED says otherwise (the same variable that
// replays the in-process scenarios); each test prints it.
//
// Real time: at 240x (CONTAIND_VERIFY_TIME_SCALE) a simulated hour is 15 s; (a) waits for the +70
// confirmation check, (b) and (f) for one at the end of a residual window (about +90), (c) stops
// at +60 (the 24 h window is not waited out: the incident is cancelled), (d) and (e) end at +60.

#include <algorithm>
#include <functional>
#include <iostream>

#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using nlohmann::json;
using system_test::describe;
using system_test::mentions;
using system_test::operator_token;
using system_test::submitter_token;
using system_test::time_of;

// One attacker stream on `upn` from `ip` (Exchange Online in a browser, from Lagos, as the
// in-process scenarios start from), with `settings` on top.
json attacker(const std::string& name, const std::string& upn, const std::string& ip, const json& settings) {
    json s = {
        {"name", name},
        {"actor", "attacker"},
        {"kind", "user"},
        {"user", upn},
        {"ip", ip},
        {"clientAppUsed", "Browser"},
        {"interactive", true},
        {"app", {{"appId", "00000002-0000-0ff1-ce00-000000000000"}, {"displayName", "Office 365 Exchange Online"}}},
        {"location", {{"city", "Lagos"}, {"countryOrRegion", "NG"}}}};
    s.update(settings);
    return s;
}

bool contains_value(const json& list, const std::string& value) {
    return list.is_array() && std::find(list.begin(), list.end(), json(value)) != list.end();
}

// The checks that ran, in the order the API lists them (seq).
json ran_checks(const json& doc) {
    json out = json::array();
    for (const auto& c : doc.value("verification", json::array()))
        if (c.value("status", "") == "succeeded") out.push_back(c);
    return out;
}

const json* check_labelled(const json& checks, const std::string& label) {
    for (const auto& c : checks)
        if (c.value("check", "") == label) return &c;
    return nullptr;
}

// Every check has run (none pending) and the incident is final.
bool checks_done(const json& doc) {
    if (!system_test::is_final_status(doc.value("status", ""))) return false;
    const json& checks = doc.value("verification", json::array());
    return !checks.empty() && std::all_of(checks.begin(), checks.end(),
                                          [](const json& c) { return c.value("verdict", "pending") != "pending"; });
}

std::function<bool(const json&)> check_ran(const std::string& label) {
    return [label](const json& doc) {
        const json checks = ran_checks(doc);
        const json* c = check_labelled(checks, label);
        return c && c->value("verdict", "pending") != "pending";
    };
}

// No check said contained before `when`, nor before it settled the window through `horizon`,
// nor while a residual window it reported was still open.
void expect_never_contained_before(const json& doc, time_point when, time_point horizon) {
    for (const auto& c : ran_checks(doc)) {
        if (c.value("verdict", "") != "contained") continue;
        const auto ran = time_of(c, "ran_at"), settled = time_of(c, "settled_through");
        ASSERT_TRUE(ran && settled) << c.dump(2);
        EXPECT_GE(*ran, when) << c["check"] << " said contained too early\n" << describe(doc);
        EXPECT_GE(*settled, horizon) << c["check"] << " said contained before settling the horizon\n" << describe(doc);
        for (const auto& w : c["residual_windows"]) EXPECT_TRUE(w.value("ended", false)) << w.dump();
    }
}

void expect_no_expired_since(const json& doc) {
    for (const auto& c : ran_checks(doc))
        EXPECT_FALSE(mentions(c["diagnosis"], "expired since")) << c["check"] << "\n" << describe(doc);
}

}  // namespace

class VerificationSystem : public system_fixture {
protected:
    void SetUp() override {
        system_fixture::SetUp();
        prepare_builtin_simulator();
    }

    // Adds `streams` to the scenario, starts containd on it, submits the walkthrough's incident
    // (system_test::walkthrough_incident) and returns its id.
    std::string contain(const char* name, const std::vector<json>& streams) {
        for (const auto& s : streams) sim_scenario["activity"].push_back(s);
        if (!start_builtin_simulator(name)) return {};
        const auto created = api->post("/v1/incidents", submitter_token,
                                       system_test::walkthrough_incident(std::string("VERIFY-") + name));
        EXPECT_EQ(created.status, 201) << created.body;
        return created.status == 201 ? created.json().value("id", "") : std::string();
    }

    // Polls the incident until `done` holds; fails unless it does and the block was recorded.
    void await(const std::string& id, const std::function<bool(const json&)>& done, json& doc, time_point& contained) {
        ASSERT_FALSE(id.empty());
        doc = poll(id, done);
        ASSERT_TRUE(done(doc)) << describe(doc);
        const auto at = time_of(doc, "contained_at");
        ASSERT_TRUE(at) << describe(doc);
        contained = *at;
    }

    // The built-in simulator's ground truth: one activity stream, and every sign-in record.
    json ground_truth() { return sim_state(); }
    static json stream_truth(const json& state, const std::string& name) {
        for (const auto& a : state.value("_activity", json::array()))
            if (a.value("name", "") == name) return a;
        return nullptr;
    }
    // The simulator's first successful sign-in of `upn` from `ip` (the first token it issued
    // there), with its `_visible_at`; null when there is none.
    static json first_success(const json& state, const std::string& upn, const std::string& ip) {
        json first;
        for (const auto& s : state.value("signIns", json::array()))
            if (s.value("userPrincipalName", "") == upn && s.value("ipAddress", "") == ip &&
                s["status"].value("errorCode", -1) == 0 &&
                (first.is_null() || time_of(s, "createdDateTime") < time_of(first, "createdDateTime")))
                first = s;
        return first;
    }
};

// (a) A CAE-capable client cut minutes after the revocation; it comes back and is refused. The
// +15/+30/+60 checks cannot say contained (the window is not settled through +60); the +70
// confirmation check can, with the residual window observed to end.
TEST_F(VerificationSystem, a_cae_client_cut_is_contained_only_after_the_window_settles_through_60) {
    const std::string id = contain("a", {attacker("attacker: OWA (CAE)", "ap.clerk@contoso.com", "203.0.113.66",
                                                  {{"cae_capable", true}, {"start", "now-30m"}})});
    json doc;
    time_point contained;
    ASSERT_NO_FATAL_FAILURE(await(id, checks_done, doc, contained));
    EXPECT_EQ(doc["status"], "contained") << describe(doc);

    // Ground truth: the token stopped working within the CAE delay (5 min) of the account's
    // revocation (a few simulated seconds after the block here), plus a tick.
    const json truth = stream_truth(ground_truth(), "attacker: OWA (CAE)");
    const auto last_used = time_of(truth, "last_used");
    ASSERT_TRUE(last_used) << truth.dump();
    std::optional<time_point> revoked;
    for (const auto& a : doc["accounts"])
        if (a["upn"] == "ap.clerk@contoso.com") revoked = time_of(a, "revoked_at");
    ASSERT_TRUE(revoked);
    EXPECT_LT(*last_used, *revoked + minutes(8)) << truth.dump();

    const json checks = ran_checks(doc);
    ASSERT_GE(checks.size(), 4u) << describe(doc);
    for (const auto& c : checks) {
        if (!c.value("confirmation", false)) {
            EXPECT_EQ(c["verdict"], "verifying") << c["check"] << "\n" << describe(doc);
        }
    }
    const json& last = checks.back();
    EXPECT_TRUE(last.value("confirmation", false)) << describe(doc);
    EXPECT_EQ(last["verdict"], "contained") << describe(doc);
    EXPECT_EQ(last["check"], "+70m") << describe(doc);
    expect_never_contained_before(doc, contained + minutes(70), contained + minutes(60));
    // The residual window was observed to end: the client came back and was refused.
    bool refused = false;
    for (const auto& w : last["residual_windows"])
        if (w.value("subject", "") == "ap.clerk@contoso.com" && w.value("basis", "") == "refused") {
            refused = true;
            const auto ends = time_of(w, "ends_at");
            ASSERT_TRUE(ends) << w.dump();
            EXPECT_GT(*ends, *last_used) << w.dump();
        }
    EXPECT_TRUE(refused) << last.dump(2);
    EXPECT_FALSE(mentions(last["diagnosis"], "expired since")) << last.dump(2);
    EXPECT_TRUE(mentions(last["cannot_prove"], "not tokens being used")) << last.dump(2);
}

// (b) A non-CAE client whose 75-minute token was issued a minute before the simulator started
// (so just before containment): the attacker uses it past +60 without a single sign-in record.
// No check may say contained before the token's end.
TEST_F(VerificationSystem, a_non_cae_token_issued_before_containment_holds_the_verdict_until_it_ends) {
    const std::string name = "attacker: portal (non-CAE)";
    const std::string id = contain(
        "b",
        {attacker(name, "cfo.assistant@contoso.com", "203.0.113.66",
                  {{"app", {{"appId", "2b8e4f6a-1c3d-4e5f-9a7b-0c2d4e6f8a13"}, {"displayName", "ExpenseFlow Portal"}}},
                   {"cae_capable", false},
                   {"start", "now-1m"},
                   {"token_lifetime_minutes", 75}})});
    json doc;
    time_point contained;
    ASSERT_NO_FATAL_FAILURE(await(id, checks_done, doc, contained));

    // Ground truth: the token was issued before containment, the attacker really used it past
    // +60, and no record showed it.
    const json state = ground_truth();
    const json truth = stream_truth(state, name);
    const auto issued = time_of(first_success(state, "cfo.assistant@contoso.com", "203.0.113.66"), "createdDateTime");
    ASSERT_TRUE(issued) << truth.dump();
    EXPECT_LT(*issued, contained);
    const auto token_end = *issued + minutes(75);
    const auto last_used = time_of(truth, "last_used");
    ASSERT_TRUE(last_used) << truth.dump();
    EXPECT_GT(*last_used, contained + minutes(60)) << truth.dump();
    EXPECT_GT(truth.value("used_without_sign_in", 0), 20) << truth.dump();

    EXPECT_EQ(doc["status"], "contained") << describe(doc);
    expect_never_contained_before(doc, token_end, contained + minutes(60));
    expect_no_expired_since(doc);
    bool waited = false;
    for (const auto& c : ran_checks(doc)) {
        const auto ran = time_of(c, "ran_at");
        ASSERT_TRUE(ran);
        if (*ran >= contained + minutes(60) && *ran < token_end) {
            EXPECT_EQ(c["verdict"], "verifying") << c["check"] << "\n" << describe(doc);
            waited = waited || mentions(c["diagnosis"], "at the latest");
        }
    }
    EXPECT_TRUE(waited) << "a check between +60 and the token's end (" << format_rfc3339(token_end)
                        << ") should state the bound\n"
                        << describe(doc);
}

// (c) A 24 h token-lifetime policy, and the daemon told the tenant's maximum: by +60 the residual
// window is reported with its end, the incident is verifying with a confirmation check waiting
// for that end, and nothing says "expired since". The day is not waited out: the incident is
// cancelled (the in-process test follows it to the confirmation).
TEST_F(VerificationSystem, a_24h_token_policy_keeps_the_incident_verifying_with_the_window_reported) {
    sim_scenario["token_lifetime_policy_minutes"] = 1440;
    config["tenants"][0]["max_token_lifetime_s"] = 24 * 3600;
    const std::string id =
        contain("c", {attacker("attacker: IMAP (legacy, 24 h token)", "ap.clerk@contoso.com", "203.0.113.66",
                               {{"clientAppUsed", "IMAP4"}, {"interactive", false}, {"start", "now-5m"}})});
    // By +60: the +60 check ran, and a later confirmation check waits.
    const auto waiting = [](const json& doc) {
        if (!check_ran("+60m")(doc)) return false;
        const json& all = doc["verification"];
        return std::any_of(all.begin(), all.end(), [](const json& c) {
            return c.value("confirmation", false) && c.value("status", "") == "pending";
        });
    };
    json doc;
    time_point contained;
    ASSERT_NO_FATAL_FAILURE(await(id, waiting, doc, contained));
    const auto issued =
        time_of(first_success(ground_truth(), "ap.clerk@contoso.com", "203.0.113.66"), "createdDateTime");
    ASSERT_TRUE(issued);
    EXPECT_LT(*issued, contained);
    const auto window_end = *issued + std::chrono::hours(24);

    EXPECT_EQ(doc["status"], "verifying") << describe(doc);
    const json checks = ran_checks(doc);
    ASSERT_FALSE(checks.empty());
    const json& latest = checks.back();
    EXPECT_EQ(latest["verdict"], "verifying") << describe(doc);
    bool reported = false;
    for (const auto& w : latest["residual_windows"])
        if (w.value("subject", "") == "ap.clerk@contoso.com") {
            reported = true;
            EXPECT_EQ(w.value("basis", ""), "max_lifetime") << w.dump();
            EXPECT_FALSE(w.value("ended", true)) << w.dump();
            EXPECT_EQ(time_of(w, "ends_at"), window_end) << w.dump();
        }
    EXPECT_TRUE(reported) << latest.dump(2);
    // The confirmation check is asked for at the window's end (on the next whole minute after
    // containment) and waits as a pending check due then.
    const auto confirm_at = time_of(latest, "confirm_at");
    ASSERT_TRUE(confirm_at) << latest.dump(2);
    EXPECT_GE(*confirm_at, window_end);
    EXPECT_LT(*confirm_at, window_end + minutes(1));
    bool pending_confirmation = false;
    for (const auto& c : doc["verification"])
        if (c.value("confirmation", false) && c.value("status", "") == "pending")
            pending_confirmation = pending_confirmation || time_of(c, "due_at") == confirm_at;
    EXPECT_TRUE(pending_confirmation) << describe(doc);
    expect_no_expired_since(doc);

    const auto cancelled = api->post("/v1/incidents/" + id + "/cancel", operator_token,
                                     {{"reason", "system test: the 24 h window is not waited out"}});
    EXPECT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json().value("status", ""), "cancelled") << cancelled.body;
}

// (d) An IMAP client with an app password, from inside the IR named location the block
// excludes: it keeps obtaining tokens after the block and the password reset, its records 12
// minutes late. The first check that sees one says attention; none says contained; the incident
// needs attention with the path diagnosed.
TEST_F(VerificationSystem, an_imap_client_still_getting_tokens_with_late_logs_needs_attention) {
    const std::string id =
        contain("d", {attacker("attacker: IMAP with an app password", "ap.clerk@contoso.com", "198.51.100.77",
                               {{"clientAppUsed", "IMAP4"},
                                {"interactive", false},
                                {"credential", "app_password"},
                                {"token_lifetime_minutes", 10},
                                {"ingestion_delay_seconds", 720},
                                {"start", "now-20m"}})});
    json doc;
    time_point contained;
    ASSERT_NO_FATAL_FAILURE(await(id, checks_done, doc, contained));

    // Ground truth: successes after the propagation, recorded late.
    int late_successes = 0;
    for (const auto& s : ground_truth().value("signIns", json::array()))
        if (s.value("userPrincipalName", "") == "ap.clerk@contoso.com" && s["status"].value("errorCode", -1) == 0)
            if (const auto at = time_of(s, "createdDateTime"); at && *at > contained + minutes(16)) ++late_successes;
    EXPECT_GT(late_successes, 0);

    EXPECT_EQ(doc["status"], "needs_attention") << describe(doc);
    const json checks = ran_checks(doc);
    for (const auto& c : checks) EXPECT_NE(c["verdict"], "contained") << c["check"] << "\n" << describe(doc);
    const auto first =
        std::find_if(checks.begin(), checks.end(), [](const json& c) { return c["verdict"] == "attention"; });
    ASSERT_NE(first, checks.end()) << describe(doc);
    EXPECT_TRUE(contains_value((*first)["causes"], "legacy_protocol")) << first->dump(2);
    EXPECT_TRUE(contains_value((*first)["causes"], "excluded_location")) << first->dump(2);
    EXPECT_TRUE(mentions((*first)["diagnosis"], "a legacy protocol (IMAP4)")) << first->dump(2);
    EXPECT_TRUE(mentions(doc["attention"], "ap.clerk@contoso.com obtained")) << describe(doc);
}

// (e) The attacker registered a passwordless key before the SOC's compromise start; the targeted
// cleanup keeps it (and asks for confirmation with the user). From the IR named location the
// block excludes, the attacker gets a new token 20 minutes after the simulator started (about
// +20): attention at the first check that sees it (+30), at once, while the later checks run.
TEST_F(VerificationSystem, a_new_token_from_the_excluded_location_is_attention_at_the_first_check_that_sees_it) {
    for (auto& u : sim_scenario["users"])
        if (u.value("userPrincipalName", "") == "cfo.assistant@contoso.com")
            u["authentication_methods"].push_back(json::parse(R"({"@odata.type": "fido2",
                "id": "e9f8a7b6-0007-4c5d-8e9f-0a1b2c3d4e07", "displayName": "Security key", "model": "YubiKey 5C",
                "aaGuid": "cb69481e-8ff7-4039-93ec-0a2729a154a8", "createdDateTime": "2026-03-01T08:00:00Z",
                "registered_by": "attacker"})"));
    const std::string id =
        contain("e", {attacker("attacker: from the IR location", "cfo.assistant@contoso.com", "198.51.100.66",
                               {{"cae_capable", true}, {"start", "now+20m"}, {"ingestion_delay_seconds", 90}})});

    // Just after +30 (before +60): the first check that could see the new token's record says
    // attention (on an unloaded machine: +30, the record being visible from about +21), and the
    // incident needs attention at once. The comparison is with when the simulator made the
    // record visible, so a slow start-up that moves containment does not move the verdict.
    json at30, doc;
    time_point contained;
    ASSERT_NO_FATAL_FAILURE(await(id, check_ran("+30m"), at30, contained));
    ASSERT_FALSE(check_ran("+60m")(at30)) << "the +60 check ran before the test read +30\n" << describe(at30);
    const auto visible =
        time_of(first_success(ground_truth(), "cfo.assistant@contoso.com", "198.51.100.66"), "_visible_at");
    ASSERT_TRUE(visible) << "the attacker got no token from the IR location by +30\n" << describe(at30);
    const json early = ran_checks(at30);
    const auto first =
        std::find_if(early.begin(), early.end(), [](const json& c) { return c["verdict"] == "attention"; });
    ASSERT_NE(first, early.end()) << describe(at30);
    std::cout << "[ first sees ] " << (*first)["check"] << " (record visible at " << format_rfc3339(*visible) << ")"
              << std::endl;
    for (const auto& c : early) {
        const auto ran = time_of(c, "ran_at");
        ASSERT_TRUE(ran);
        if (*ran < *visible) {
            EXPECT_NE(c["verdict"], "attention") << c["check"] << " saw a record not yet visible\n" << describe(at30);
        } else if (*ran > *visible + minutes(1)) {
            EXPECT_EQ(c["verdict"], "attention") << c["check"] << " missed the visible record\n" << describe(at30);
        }
    }
    EXPECT_TRUE(contains_value((*first)["causes"], "excluded_location")) << first->dump(2);
    EXPECT_TRUE(contains_value((*first)["causes"], "new_token_after_revocation")) << first->dump(2);
    EXPECT_EQ(at30["status"], "needs_attention") << describe(at30);
    EXPECT_TRUE(
        mentions((*first)["confirm_with_user"], "cfo.assistant@contoso.com: the targeted cleanup kept the fido2"))
        << first->dump(2);

    // The checks go on; the +60 check sees it again and the incident ends needing attention.
    ASSERT_NO_FATAL_FAILURE(await(id, checks_done, doc, contained));
    const json checks = ran_checks(doc);
    EXPECT_EQ(checks.back()["check"], "+60m") << describe(doc);
    EXPECT_EQ(checks.back()["verdict"], "attention") << describe(doc);
    EXPECT_EQ(doc["status"], "needs_attention") << describe(doc);
    const auto ran = time_of(checks.back(), "ran_at");
    ASSERT_TRUE(ran);
    EXPECT_GT(*ran, contained + minutes(60) - seconds(1));
}

// (f) The attacker stops at the simulator's start (just before containment); its records,
// including the last token it was issued, arrive 8 minutes late. No check raises a false alarm;
// the token's bound and the settled window decide, and a confirmation check says contained.
TEST_F(VerificationSystem, late_records_alone_raise_no_alarm_and_end_contained_after_confirmation) {
    const std::string id =
        contain("f", {attacker("attacker: stops at once", "procurement.mgr@contoso.com", "203.0.113.71",
                               {{"cae_capable", true},
                                {"start", "now-30m"},
                                {"end", "now"},
                                {"token_lifetime_minutes", 10},
                                {"ingestion_delay_seconds", 480}})});
    json doc;
    time_point contained;
    ASSERT_NO_FATAL_FAILURE(await(id, checks_done, doc, contained));

    EXPECT_EQ(doc["status"], "contained") << describe(doc);
    const json checks = ran_checks(doc);
    for (const auto& c : checks) EXPECT_NE(c["verdict"], "attention") << c["check"] << "\n" << describe(doc);
    ASSERT_FALSE(checks.empty());
    EXPECT_TRUE(checks.back().value("confirmation", false)) << describe(doc);
    expect_never_contained_before(doc, contained + minutes(70), contained + minutes(60));
    // The last token (issued before containment, seen only through the late records) was the
    // residual window the verdict waited for.
    bool window = false;
    for (const auto& w : checks.back()["residual_windows"])
        window = window || w.value("subject", "") == "procurement.mgr@contoso.com";
    EXPECT_TRUE(window) << checks.back().dump(2);
}

}  // namespace containd::testing
