// The report module against a real store: incidents planned by the real planner, steps driven
// through the store's own calls, then every view checked field by field against API.md.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "core/time.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"
#include "report/report.hpp"
#include "store/store.hpp"
#include "support/contoso.hpp"
#include "verify/verify.hpp"

using namespace containd;
using incident::step_kind;
using nlohmann::json;
using store::incident_status;
using store::step_status;

namespace {

const std::string director = "finance.director@contoso.com";
const std::string clerk = "ap.clerk@contoso.com";
const std::string app_id = "3f1b2a9c-8d7e-4c6b-a5f4-e3d2c1b0a987";
const std::string attacker_ip = "203.0.113.66";
// Sealed plaintexts: none of them may ever appear in a view or a report.
const std::string director_password = "Zq!7rT#pL2@vW9$kN4%mX8&c";
const std::string clerk_password = "Hh(3)Jj*5Kk^7Ll+9Mm=1Nn?";
const std::string director_tap = "TAP-SECRET-Qw8Er5Ty2Ui9";

time_point at(const char* text) { return *parse_rfc3339(text); }

incident::tenant_settings contoso() { return containd::testing::contoso_settings(); }

json submission(const std::string& title = "BEC in finance", bool delete_app = true,
                const std::string& ref = "SENTINEL-4711") {
    return {{"tenant", "contoso"},
            {"external_ref", ref},
            {"title", title},
            {"compromise_start", "2026-03-12T00:00:00Z"},
            {"accounts", {{{"upn", director}}, {{"upn", clerk}}}},
            {"attacker_ips", {attacker_ip}},
            {"malicious_apps", {{{"app_id", app_id}, {"delete_application", delete_app}}}}};
}

class report_fixture : public ::testing::Test {
protected:
    report_fixture() : clock(at("2026-03-12T09:00:00Z")), db(":memory:", clock, store::vault(std::string(32, 'k'))) {}

    // Plans with directory facts (the director holds an admin role, the clerk is synced) and
    // commits, as the API does after the resolve phase has refined the plan.
    std::string create(const json& body = submission()) {
        auto parsed = incident::parse_submission(body, clock.now());
        auto& request = std::get<incident::incident_request>(parsed);
        std::map<std::string, incident::directory_facts> facts;
        facts[director] = {"obj-director", {"Exchange Administrator"}, false, false};
        facts[clerk] = {"obj-clerk", {}, true, false};
        auto planned = incident::make_plan(request, contoso(), facts);
        store::new_incident in{"inc-" + std::to_string(++counter),
                               "contoso",
                               request.external_ref,
                               std::nullopt,
                               incident::to_json(request),
                               std::get<incident::plan>(planned)};
        auto result = db.create_incident(in);
        return std::get<store::created>(result).id;
    }

    store::step_record find(const std::string& id, step_kind kind, const std::string& target = {}) {
        for (const auto& s : db.steps(id))
            if (s.kind == kind && (target.empty() || s.target == target)) return s;
        ADD_FAILURE() << "no step " << incident::to_string(kind) << " " << target;
        return {};
    }

    report::snapshot snap(const std::string& id) {
        auto s = report::load_snapshot(db, id);
        EXPECT_TRUE(s.has_value());
        return s ? *s : report::snapshot{};
    }

    // One step from start to success, a second after the previous one.
    void run(const std::string& id, const store::step_record& s, const json& result) {
        clock.advance(seconds(1));
        db.begin_attempt(id, s.seq, clock.now() + minutes(5));
        clock.advance(seconds(1));
        db.complete_step(id, s.seq, result);
    }

    // What the runners record for each kind of step, without Graph.
    void run_as_runner(const std::string& id, const store::step_record& s) {
        const std::string now_text = format_rfc3339(clock.now() + seconds(2));
        switch (s.kind) {
        case step_kind::resolve_account:
            run(id, s, {{"object_id", s.target == director ? "obj-director" : "obj-clerk"}});
            db.update_account(id, s.target, {{"object_id", s.target == director ? "obj-director" : "obj-clerk"}});
            break;
        case step_kind::capture_account_evidence:
            db.add_evidence(id, s.seq, "account", s.target,
                            {{"authentication_methods", json::array({{{"id", "m1"}}, {{"id", "m2"}}, {{"id", "m3"}}})},
                             {"inbox_rules", json::array({{{"id", "r1"}, {"forwardTo", "x@evil.example"}}})},
                             {"sign_ins", {{"unavailable", "403 Forbidden"}}}});
            run(id, s, {{"methods", 3}});
            break;
        case step_kind::capture_app_evidence:
            db.add_evidence(id, s.seq, "application", s.target,
                            {{"app_id", s.target}, {"application", {{"displayName", "Document Sync Pro"}}}});
            run(id, s, {{"application_found", true}});
            break;
        case step_kind::enable_emergency_policy:
            clock.advance(seconds(1));
            db.begin_attempt(id, s.seq, clock.now() + minutes(5));
            clock.advance(seconds(1));
            contained_at = clock.now();
            db.set_contained_at(id, contained_at);
            db.complete_step(id, s.seq, {{"state", "enabled"}});
            break;
        case step_kind::revoke_sessions:
            run(id, s, {{"revoked_at", now_text}});
            db.update_account(id, s.target, {{"revoked_at", now_text}});
            break;
        case step_kind::reset_password: {
            const std::string name = "password:" + s.target;
            db.put_secret_once(id, name, s.target == director ? director_password : clerk_password);
            run(id, s, {{"password_reset_at", now_text}, {"secret", name}, {"force_change", true}});
            db.update_account(id, s.target, {{"password_reset_at", now_text}});
            break;
        }
        case step_kind::cleanup_methods:
            run(id, s,
                {{"mode", "complete"},
                 {"removed", {"m1", "m2"}},
                 {"kept", json::array({{{"id", "m3"}, {"type", "fido2"}}})}});
            db.update_account(id, s.target, {{"methods_removed", {"m1", "m2"}}});
            break;
        case step_kind::issue_tap:
            db.put_secret(id, "tap:" + s.target, director_tap);
            run(id, s, {{"tap_id", "tap-1"}, {"secret", "tap:" + s.target}, {"tap_issued_at", now_text}});
            db.update_account(id, s.target, {{"tap_issued_at", now_text}});
            break;
        default: run(id, s, {{"done", true}}); break;
        }
    }

    // Runs every step before verification, leaving approval-gated steps waiting; then issues the
    // TAP of each account the plan gives one, as a first reveal does (not revealed yet).
    void contain(const std::string& id) {
        for (const auto& s : db.steps(id)) {
            if (s.kind == step_kind::verify_signins || s.status == step_status::waiting_approval) continue;
            run_as_runner(id, s);
        }
        const auto planned = db.get_incident(id)->plan;
        for (const auto& a : planned["accounts"]) {
            if (!a.value("tap", false)) continue;
            incident::planned_step tap;
            tap.step_phase = incident::phase::methods;
            tap.kind = step_kind::issue_tap;
            tap.target = a["upn"];
            const int seq = db.append_steps(id, {tap}, "tap_requested", {{"upn", tap.target}}).front();
            run_as_runner(id, *db.step(id, seq));
        }
    }

    // A verification check decided by the real lib/verify over the given sign-ins.
    json check(const std::string& id, const store::step_record& s, const std::vector<verify::signin>& signins,
               bool final_check) {
        verify::check_context c;
        c.contained_at = contained_at;
        c.offset = milliseconds(s.params["offset_ms"].get<std::int64_t>());
        // A final check here stands for the one that settled the window through +60 (a check
        // at +60 has settled it only through +50; the daemon confirms at +70).
        c.now = contained_at + c.offset + (final_check ? c.allowance : duration::zero());
        c.upns = {director, clerk};
        c.app_ids = {app_id};
        c.attacker_ips = {attacker_ip};
        json out = verify::to_json(verify::analyse(c, signins));
        out["sign_ins_read"] = signins.size();
        out["final"] = final_check;
        clock.set(contained_at + c.offset);
        db.begin_attempt(id, s.seq, clock.now() + minutes(5));
        clock.advance(seconds(3));
        db.complete_step(id, s.seq, out);
        return out;
    }

    verify::signin blocked_attempt(minutes after) {
        verify::signin s;
        s.at = contained_at + after;
        s.upn = clerk;
        s.app_id = "00000002-0000-0ff1-ce00-000000000000";
        s.ip = attacker_ip;
        s.error_code = 53003;
        s.ca_status = "failure";
        return s;
    }

    // Every output the module can produce for an incident.
    std::vector<std::string> all_outputs(const std::string& id) {
        const auto s = snap(id);
        const json r = report::build_report(s);
        std::vector<std::string> out = {report::incident_view(s).dump(), report::incident_summary(s.incident).dump(),
                                        r.dump(), report::render_markdown(r), report::render_html(r)};
        for (const auto& e : s.events) out.push_back(report::event_view(e).dump());
        return out;
    }

    manual_clock clock;
    store::store db;
    time_point contained_at{};
    int counter = 0;
};

const json* find_by(const json& arr, const char* key, const std::string& value) {
    for (const auto& x : arr)
        if (x.contains(key) && x[key] == value) return &x;
    return nullptr;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_F(report_fixture, unknown_incident_has_no_snapshot) {
    EXPECT_FALSE(report::load_snapshot(db, "no-such-incident").has_value());
}

TEST_F(report_fixture, incident_view_of_a_new_incident_matches_the_api_shape) {
    const auto id = create();
    const json v = report::incident_view(snap(id));
    EXPECT_EQ(v["id"], id);
    EXPECT_EQ(v["tenant"], "contoso");
    EXPECT_EQ(v["external_ref"], "SENTINEL-4711");
    EXPECT_EQ(v["status"], "running");
    EXPECT_EQ(v["phase"], "resolve");
    EXPECT_EQ(v["created_at"], "2026-03-12T09:00:00.000Z");
    EXPECT_TRUE(v["contained_at"].is_null());
    ASSERT_TRUE(v["attention"].is_array());
    EXPECT_TRUE(v["attention"].empty());

    ASSERT_EQ(v["accounts"].size(), 2u);
    const json* d = find_by(v["accounts"], "upn", director);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ((*d)["tier"], "privileged");
    EXPECT_TRUE(contains((*d)["tier_reason"].get<std::string>(), "Exchange Administrator")) << (*d)["tier_reason"];
    EXPECT_TRUE((*d)["revoked_at"].is_null());
    EXPECT_TRUE((*d)["password_reset_at"].is_null());
    EXPECT_TRUE((*d)["tap_issued_at"].is_null());
    EXPECT_EQ((*d)["methods_removed"], json::array());
    EXPECT_EQ((*find_by(v["accounts"], "upn", clerk))["synced"], true);

    ASSERT_FALSE(v["steps"].empty());
    int expected_seq = 1;
    for (const auto& s : v["steps"]) {
        EXPECT_EQ(s["seq"], expected_seq++);
        for (const char* key : {"phase", "kind", "target", "status"}) EXPECT_TRUE(s[key].is_string()) << key;
        EXPECT_TRUE(incident::phase_from_string(s["phase"].get<std::string>())) << s["phase"];
        EXPECT_TRUE(incident::step_kind_from_string(s["kind"].get<std::string>())) << s["kind"];
        EXPECT_EQ(s["attempts"], 0);
        EXPECT_TRUE(s["started_at"].is_null());
        EXPECT_TRUE(s["finished_at"].is_null());
        EXPECT_TRUE(s["error"].is_null());
        EXPECT_EQ(s["status"], s["kind"] == "delete_application" ? "waiting_approval" : "pending");
    }

    ASSERT_EQ(v["verification"].size(), 3u);
    const std::vector<std::string> labels = {"+15m", "+30m", "+60m"};
    for (std::size_t i = 0; i < 3; ++i) {
        const json& c = v["verification"][i];
        EXPECT_EQ(c["check"], labels[i]);
        EXPECT_EQ(c["verdict"], "pending");
        EXPECT_TRUE(c["due_at"].is_null()) << "no containment time yet";
        EXPECT_TRUE(c["ran_at"].is_null());
        EXPECT_EQ(c["findings"], json::array());
        EXPECT_EQ(c["diagnosis"], json::array());
    }
}

TEST_F(report_fixture, incident_view_after_containment_has_exact_times_attempts_and_errors) {
    const auto id = create();
    // The first resolve step fails once transiently, then succeeds: two attempts, no error left.
    const auto resolve = find(id, step_kind::resolve_account, director);
    db.begin_attempt(id, resolve.seq, clock.now() + minutes(5));
    db.schedule_retry(id, resolve.seq, clock.now() + seconds(2), "HTTP 503 from Graph");
    contain(id);
    db.set_incident_state(id, incident_status::verifying, incident::phase::verify, {});

    const auto s = snap(id);
    const json v = report::incident_view(s);
    EXPECT_EQ(v["status"], "verifying");
    EXPECT_EQ(v["phase"], "verify");
    EXPECT_EQ(v["contained_at"], format_rfc3339(contained_at));

    const json& r = v["steps"][static_cast<std::size_t>(resolve.seq - 1)];
    EXPECT_EQ(r["seq"], resolve.seq);
    EXPECT_EQ(r["status"], "succeeded");
    EXPECT_EQ(r["attempts"], 2);
    EXPECT_TRUE(r["error"].is_null());
    const auto stored = *db.step(id, resolve.seq);
    EXPECT_EQ(r["started_at"], format_rfc3339(*stored.started_at));
    EXPECT_EQ(r["finished_at"], format_rfc3339(*stored.finished_at));

    const json* d = find_by(v["accounts"], "upn", director);
    ASSERT_NE(d, nullptr);
    const auto records = db.accounts(id);
    const auto rec = *std::find_if(records.begin(), records.end(), [](const auto& a) { return a.upn == director; });
    EXPECT_EQ((*d)["object_id"], "obj-director");
    EXPECT_EQ((*d)["revoked_at"], format_rfc3339(*rec.revoked_at));
    EXPECT_EQ((*d)["password_reset_at"], format_rfc3339(*rec.password_reset_at));
    EXPECT_EQ((*d)["tap_issued_at"], format_rfc3339(*rec.tap_issued_at));
    EXPECT_EQ((*d)["methods_removed"], json({"m1", "m2"}));
    EXPECT_TRUE(parse_rfc3339((*d)["revoked_at"].get<std::string>()).has_value());

    // A failed step keeps its error as a string.
    const auto del = find(id, step_kind::delete_application);
    ASSERT_TRUE(db.approve_step(id, del.seq, "operator@contoso.com"));
    db.begin_attempt(id, del.seq, clock.now() + minutes(5));
    db.fail_step(id, del.seq, "HTTP 403: Authorization_RequestDenied");
    const json after = report::incident_view(snap(id));
    const json& f = after["steps"][static_cast<std::size_t>(del.seq - 1)];
    EXPECT_EQ(f["status"], "failed");
    EXPECT_EQ(f["error"], "HTTP 403: Authorization_RequestDenied");
    EXPECT_EQ(f["approved_by"], "operator@contoso.com");
    EXPECT_EQ(f["attempts"], 1);
}

TEST_F(report_fixture, verification_entries_come_from_the_checks_results) {
    const auto id = create();
    contain(id);
    const auto c15 = find(id, step_kind::verify_signins, "+15m");
    const json result = check(id, c15, {blocked_attempt(minutes(5)), blocked_attempt(minutes(6))}, false);
    ASSERT_EQ(result["verdict"], "verifying") << "a +15 check has settled the window only through +5";

    const json v = report::incident_view(snap(id));
    ASSERT_EQ(v["verification"].size(), 3u);
    const json& first = v["verification"][0];
    EXPECT_EQ(first["check"], "+15m");
    EXPECT_EQ(first["due_at"], format_rfc3339(contained_at + minutes(15)));
    EXPECT_EQ(first["ran_at"], format_rfc3339(*db.step(id, c15.seq)->finished_at));
    EXPECT_EQ(first["ran_at"], format_rfc3339(contained_at + minutes(15) + seconds(3)));
    EXPECT_EQ(first["verdict"], "verifying");
    EXPECT_EQ(first["settled_through"], format_rfc3339(contained_at + minutes(5)));
    EXPECT_FALSE(first["confirmation"]);
    EXPECT_TRUE(first["residual_windows"].is_array());
    EXPECT_FALSE(first["cannot_prove"].empty());
    ASSERT_EQ(first["findings"].size(), 1u);
    const json& finding = first["findings"][0];
    EXPECT_EQ(finding["upn"], clerk);
    EXPECT_EQ(finding["ip"], attacker_ip);
    EXPECT_EQ(finding["successes"], 0);
    EXPECT_EQ(finding["failures"], 2);
    EXPECT_EQ(finding["fail_codes"], json({"53003"}));
    EXPECT_EQ(first["diagnosis"], result["diagnosis"]);
    EXPECT_FALSE(first["diagnosis"].empty());

    // Later checks: due at their own offsets, not yet run.
    EXPECT_EQ(v["verification"][1]["check"], "+30m");
    EXPECT_EQ(v["verification"][1]["due_at"], format_rfc3339(contained_at + minutes(30)));
    EXPECT_EQ(v["verification"][1]["verdict"], "pending");
    EXPECT_TRUE(v["verification"][1]["ran_at"].is_null());
    EXPECT_EQ(v["verification"][2]["due_at"], format_rfc3339(contained_at + minutes(60)));

    // A check that failed to read the logs is still pending, with its error.
    const auto c30 = find(id, step_kind::verify_signins, "+30m");
    db.begin_attempt(id, c30.seq, clock.now() + minutes(5));
    db.fail_step(id, c30.seq, "reading sign-in logs: HTTP 403");
    const json again = report::incident_view(snap(id));
    EXPECT_EQ(again["verification"][1]["verdict"], "pending");
    EXPECT_EQ(again["verification"][1]["status"], "failed");
    EXPECT_EQ(again["verification"][1]["error"], "reading sign-in logs: HTTP 403");
}

TEST_F(report_fixture, report_lists_every_event_in_order_with_its_step_and_account) {
    const auto id = create();
    contain(id);
    const auto s = snap(id);
    const json r = report::build_report(s);
    ASSERT_EQ(r["timeline"].size(), s.events.size());
    ASSERT_GT(s.events.size(), 20u);
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        const json& t = r["timeline"][i];
        EXPECT_EQ(t["id"], s.events[i].id);
        EXPECT_EQ(t["at"], format_rfc3339(s.events[i].at));
        EXPECT_EQ(t["kind"], s.events[i].kind);
        if (s.events[i].step_seq) {
            EXPECT_EQ(t["step"], *s.events[i].step_seq);
        } else {
            EXPECT_TRUE(t["step"].is_null());
        }
        EXPECT_FALSE(t["summary"].get<std::string>().empty());
    }
    EXPECT_EQ(r["timeline"][0]["kind"], "accepted");
    // A revoke step's events name its account and kind.
    const auto revoke = find(id, step_kind::revoke_sessions, clerk);
    bool seen = false;
    for (const auto& t : r["timeline"])
        if (t["kind"] == "step_succeeded" && t["step"] == revoke.seq) {
            seen = true;
            EXPECT_EQ(t["account"], clerk);
            EXPECT_EQ(t["target"], clerk);
            EXPECT_EQ(t["step_kind"], "revoke_sessions");
            EXPECT_EQ(t["phase"], "revoke");
        }
    EXPECT_TRUE(seen);
    // Sealing a credential is on the timeline with the account, never with the secret.
    const json* sealed = find_by(r["timeline"], "kind", "secret_stored");
    ASSERT_NE(sealed, nullptr);
    EXPECT_TRUE((*sealed)["account"] == director || (*sealed)["account"] == clerk);
}

TEST_F(report_fixture, accounts_report_tier_times_methods_and_credentials_sealed_then_revealed) {
    const auto id = create();
    contain(id);
    json r = report::build_report(snap(id));
    const json* d = find_by(r["accounts"], "upn", director);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ((*d)["tier"], "privileged");
    EXPECT_EQ((*d)["method_cleanup"], "complete");
    EXPECT_EQ((*d)["methods_removed"], json({"m1", "m2"}));
    EXPECT_EQ((*d)["methods_kept"].size(), 1u);
    EXPECT_EQ((*d)["outcome"], "done");
    ASSERT_EQ((*d)["credentials"].size(), 2u);
    const json* pw = find_by((*d)["credentials"], "type", "password");
    ASSERT_NE(pw, nullptr);
    EXPECT_EQ((*pw)["name"], "password:" + director);
    EXPECT_EQ((*pw)["state"], "sealed");
    EXPECT_TRUE((*pw)["revealed_at"].is_null());
    EXPECT_TRUE(parse_rfc3339((*pw)["sealed_at"].get<std::string>()).has_value());
    EXPECT_EQ(r["summary"]["credentials_sealed"], 3);
    EXPECT_EQ(r["summary"]["credentials_revealed"], 0);

    clock.advance(minutes(2));
    const time_point reveal_time = clock.now();
    const auto revealed = db.reveal_secret(id, "password:" + director, "operator@contoso.com");
    ASSERT_EQ(revealed.status, store::reveal_status::revealed);
    r = report::build_report(snap(id));
    d = find_by(r["accounts"], "upn", director);
    pw = find_by((*d)["credentials"], "type", "password");
    EXPECT_EQ((*pw)["state"], "revealed");
    EXPECT_EQ((*pw)["revealed_at"], format_rfc3339(reveal_time));
    EXPECT_EQ((*pw)["revealed_by"], "operator@contoso.com");
    EXPECT_EQ(r["summary"]["credentials_revealed"], 1);
    // Handing over is no longer recommended for what was revealed.
    const json* deliver = find_by(r["recommendations"], "id", "deliver_passwords");
    ASSERT_NE(deliver, nullptr);
    EXPECT_EQ(deliver->at("subjects"), json({clerk}));
}

TEST_F(report_fixture, evidence_is_complete_in_json_and_counted_in_markdown) {
    const auto id = create();
    contain(id);
    const json r = report::build_report(snap(id));
    ASSERT_EQ(r["evidence"].size(), 3u);  // two accounts and the app
    const json* e = find_by(r["evidence"], "target", clerk);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ((*e)["kind"], "account");
    EXPECT_TRUE(parse_rfc3339((*e)["captured_at"].get<std::string>()).has_value());
    EXPECT_EQ((*e)["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ((*e)["counts"]["authentication_methods"], 3);
    EXPECT_EQ((*e)["counts"]["inbox_rules"], 1);
    EXPECT_EQ((*e)["unavailable"]["sign_ins"], "403 Forbidden");
    EXPECT_EQ((*e)["content"]["inbox_rules"][0]["forwardTo"], "x@evil.example");

    const std::string md = report::render_markdown(r);
    EXPECT_TRUE(contains(md, "authentication_methods: 3, inbox_rules: 1, sign_ins: unavailable (403 Forbidden)")) << md;
    EXPECT_FALSE(contains(md, "x@evil.example")) << "evidence content stays out of the Markdown";
}

TEST_F(report_fixture, failed_steps_approvals_and_attention_diagnoses_need_a_human) {
    const auto id = create();
    contain(id);
    // +60m: the attacker still signs in successfully: persistence, the verdict is attention.
    const auto c60 = find(id, step_kind::verify_signins, "+60m");
    verify::signin success = blocked_attempt(minutes(70));
    success.error_code = 0;
    success.ca_status = "success";
    clock.set(contained_at + minutes(75));
    const json result = check(id, c60, {success}, true);
    ASSERT_EQ(result["verdict"], "attention");
    const auto rule = find(id, step_kind::remove_inbox_rules, clerk);
    db.begin_attempt(id, rule.seq, clock.now() + minutes(5));
    db.fail_step(id, rule.seq, "HTTP 403: ErrorAccessDenied");
    std::vector<std::string> attention = result["diagnosis"].get<std::vector<std::string>>();
    attention.push_back("an operator note that is not derived from a step");
    db.set_incident_state(id, incident_status::needs_attention, incident::phase::done, attention);

    const json r = report::build_report(snap(id));
    const json& needs = r["needs_human"];
    const json* failed = find_by(needs, "source", "failed_step");
    ASSERT_NE(failed, nullptr);
    EXPECT_EQ((*failed)["step"], rule.seq);
    EXPECT_TRUE(contains((*failed)["text"].get<std::string>(), "HTTP 403: ErrorAccessDenied"));
    const json* approval = find_by(needs, "source", "approval");
    ASSERT_NE(approval, nullptr);
    EXPECT_EQ((*approval)["step"], find(id, step_kind::delete_application).seq);
    for (const auto& d : result["diagnosis"]) {
        const json* diag = find_by(needs, "text", d.get<std::string>());
        ASSERT_NE(diag, nullptr) << d;
        EXPECT_EQ((*diag)["source"], "diagnosis") << "attributed to the check, not repeated from attention";
        EXPECT_EQ((*diag)["step"], c60.seq);
    }
    EXPECT_NE(find_by(needs, "text", "an operator note that is not derived from a step"), nullptr);
    std::set<std::string> texts;
    for (const auto& n : needs) EXPECT_TRUE(texts.insert(n["text"].get<std::string>()).second) << "duplicate " << n;

    EXPECT_EQ(r["summary"]["verdict"], "attention");
    EXPECT_NE(find_by(r["recommendations"], "id", "retry_failed_steps"), nullptr);
    EXPECT_NE(find_by(r["recommendations"], "id", "hunt_persistence"), nullptr);
    EXPECT_NE(find_by(r["recommendations"], "id", "keep_block"), nullptr);
    EXPECT_EQ(find_by(r["recommendations"], "id", "release_block"), nullptr);

    const std::string md = report::render_markdown(r);
    EXPECT_TRUE(contains(md, "## Needs a human (" + std::to_string(needs.size()) + ")")) << md;
    EXPECT_TRUE(contains(md, "Failed: step " + std::to_string(rule.seq))) << md;
}

TEST_F(report_fixture, in_tap_mode_nobody_is_asked_to_phone_a_password) {
    auto body = submission("BEC in finance", false, "SENTINEL-4790");
    body["options"] = {{"credential_delivery", "tap"}};
    const auto id = create(body);
    contain(id);
    const json r = report::build_report(snap(id));
    const json& recs = r["recommendations"];
    EXPECT_EQ(find_by(recs, "id", "deliver_passwords"), nullptr) << recs.dump();
    const json* taps = find_by(recs, "id", "deliver_taps");
    ASSERT_NE(taps, nullptr);
    EXPECT_EQ(taps->at("subjects"), json({clerk, director}));
    const std::string text = taps->at("text").get<std::string>();
    EXPECT_TRUE(contains(text, "nobody is given")) << text;
    EXPECT_FALSE(contains(text, "60 minutes")) << "the lifetime is chosen at issue, not fixed";
}

TEST_F(report_fixture, recommendations_follow_the_facts) {
    const auto id = create();
    contain(id);
    for (const char* label : {"+15m", "+30m", "+60m"})
        check(id, find(id, step_kind::verify_signins, label), {blocked_attempt(minutes(1))},
              std::string(label) == "+60m");
    const json r = report::build_report(snap(id));
    const json& recs = r["recommendations"];
    EXPECT_EQ(r["summary"]["verdict"], "contained");

    const json* onprem = find_by(recs, "id", "reset_on_premises");
    ASSERT_NE(onprem, nullptr) << "the clerk is synced from on-premises AD";
    EXPECT_EQ(onprem->at("subjects"), json({clerk}));
    const json* taps = find_by(recs, "id", "deliver_taps");
    ASSERT_NE(taps, nullptr);
    EXPECT_EQ(taps->at("subjects"), json({director}));
    EXPECT_TRUE(contains(taps->at("text").get<std::string>(), "out of band"));
    const json* del = find_by(recs, "id", "approve_app_deletion");
    ASSERT_NE(del, nullptr);
    EXPECT_EQ(del->at("subjects"), json({app_id}));
    EXPECT_NE(find_by(recs, "id", "review_mailboxes"), nullptr);
    EXPECT_NE(find_by(recs, "id", "rotate_exposed"), nullptr);
    const json* mfa = find_by(recs, "id", "phishing_resistant_mfa");
    ASSERT_NE(mfa, nullptr);
    EXPECT_EQ(mfa->at("subjects"), json({director}));
    const json* release = find_by(recs, "id", "release_block");
    ASSERT_NE(release, nullptr) << "verification passed";
    EXPECT_TRUE(contains(release->at("text").get<std::string>(), "+60m"));
    EXPECT_EQ(recs.back()["id"], "release_block") << "the block comes off last";
    EXPECT_EQ(find_by(recs, "id", "keep_block"), nullptr);
    EXPECT_EQ(find_by(recs, "id", "fix_ir_exclusion"), nullptr);

    // Without the app deletion nothing asks for that approval.
    const auto other = create(submission("Other", false, "SENTINEL-4712"));
    const json r2 = report::build_report(snap(other));
    EXPECT_EQ(find_by(r2["recommendations"], "id", "approve_app_deletion"), nullptr);
    EXPECT_NE(find_by(r2["recommendations"], "id", "keep_block"), nullptr) << "nothing verified yet";
}

TEST_F(report_fixture, markdown_has_the_timeline_with_exact_times_and_every_account) {
    const auto id = create();
    contain(id);
    check(id, find(id, step_kind::verify_signins, "+15m"), {blocked_attempt(minutes(2))}, false);
    const auto s = snap(id);
    const std::string md = report::render_markdown(report::build_report(s));
    EXPECT_EQ(md.rfind("# Containment report: BEC in finance\n", 0), 0u) << md.substr(0, 200);
    EXPECT_TRUE(contains(md, "## Timeline (" + std::to_string(s.events.size()) + " events, UTC)"));
    for (const auto& e : s.events)
        EXPECT_TRUE(contains(md, "| " + format_rfc3339(e.at) + " | " + e.kind + " |")) << e.kind;
    for (const auto& a : s.accounts) {
        EXPECT_TRUE(contains(md, "| " + a.upn + " |")) << a.upn;
        EXPECT_TRUE(contains(md, format_rfc3339(*a.revoked_at))) << a.upn;
        EXPECT_TRUE(contains(md, format_rfc3339(*a.password_reset_at))) << a.upn;
    }
    EXPECT_TRUE(contains(md, "Contained (block in force):** " + format_rfc3339(contained_at)));
    EXPECT_TRUE(contains(md, "## Verification (3 checks)"));
    EXPECT_TRUE(contains(md, "| +15m | " + format_rfc3339(contained_at + minutes(15))));
    EXPECT_TRUE(contains(md, "## Recommendations"));
    // Every table row has as many cells as its header.
    std::size_t header_pipes = 0;
    std::istringstream lines(md);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] != '|') {
            header_pipes = 0;
            continue;
        }
        std::size_t pipes = 0;
        for (std::size_t i = 0; i < line.size(); ++i)
            if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++pipes;
        if (header_pipes == 0) header_pipes = pipes;
        EXPECT_EQ(pipes, header_pipes) << line;
    }
}

TEST_F(report_fixture, markdown_escapes_text_that_would_break_a_table_or_inject_markup) {
    const auto id = create(submission("a | b # not a heading <img src=x onerror=alert(1)> [link](javascript:x)"));
    const auto s = find(id, step_kind::resolve_account, clerk);
    db.begin_attempt(id, s.seq, clock.now() + minutes(5));
    db.fail_step(id, s.seq, "first line | cell\n## second line");
    const std::string md = report::render_markdown(report::build_report(snap(id)));
    EXPECT_TRUE(contains(md,
                         "# Containment report: a \\| b # not a heading \\<img src=x onerror=alert(1)\\> "
                         "\\[link\\](javascript:x)\n"))
        << md;
    for (std::size_t i = 0; i < md.size(); ++i)
        if (md[i] == '<' || md[i] == '>') {
            EXPECT_TRUE(i > 0 && md[i - 1] == '\\') << "raw angle bracket at " << i;
        }
    EXPECT_TRUE(contains(md, "| first line \\| cell ## second line |"))
        << "the newline is gone, so ## cannot start a heading";
    EXPECT_FALSE(contains(md, "\n## second line"));
}

TEST_F(report_fixture, html_is_self_contained_and_escapes_every_text) {
    const auto id = create(submission("<script>alert('x')</script> & \"BEC\""));
    contain(id);
    const std::string html = report::render_html(report::build_report(snap(id)));
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_FALSE(contains(html, "<script")) << "no script at all, and the title's is escaped";
    EXPECT_TRUE(contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;BEC&quot;"));
    EXPECT_TRUE(contains(html, "<title>Containment report: &lt;script&gt;"));
    EXPECT_TRUE(contains(html, "<style>"));
    EXPECT_FALSE(contains(html, "<link")) << "no external stylesheet";
    EXPECT_FALSE(contains(html, "src=")) << "nothing loaded from elsewhere";
    EXPECT_FALSE(contains(html, "http://"));
    EXPECT_FALSE(contains(html, "https://"));
    EXPECT_TRUE(contains(html, clerk));
    EXPECT_TRUE(contains(html, "</html>"));
}

TEST_F(report_fixture, no_secret_plaintext_appears_in_any_view_or_report) {
    const auto id = create();
    contain(id);
    for (const auto& out : all_outputs(id)) {
        for (const auto* secret : {&director_password, &clerk_password, &director_tap}) {
            EXPECT_FALSE(contains(out, *secret)) << "a sealed secret leaked";
            EXPECT_FALSE(contains(out, json(*secret).dump().substr(1, secret->size()))) << "escaped form leaked";
        }
    }
    // Revealing hands the plaintext to the caller only; the outputs still never hold it.
    const auto revealed = db.reveal_secret(id, "password:" + clerk, "operator@contoso.com");
    ASSERT_EQ(revealed.status, store::reveal_status::revealed);
    ASSERT_EQ(revealed.plaintext, clerk_password);
    for (const auto& out : all_outputs(id)) {
        EXPECT_FALSE(contains(out, clerk_password));
        EXPECT_FALSE(contains(out, director_password));
        EXPECT_FALSE(contains(out, director_tap));
    }
}

TEST_F(report_fixture, summary_row_is_what_lists_show) {
    const auto id = create();
    contain(id);
    db.set_incident_state(id, incident_status::verifying, incident::phase::verify, {"watch this"});
    const json row = report::incident_summary(*db.get_incident(id));
    EXPECT_EQ(row["id"], id);
    EXPECT_EQ(row["tenant"], "contoso");
    EXPECT_EQ(row["external_ref"], "SENTINEL-4711");
    EXPECT_EQ(row["title"], "BEC in finance");
    EXPECT_EQ(row["status"], "verifying");
    EXPECT_EQ(row["phase"], "verify");
    EXPECT_EQ(row["created_at"], "2026-03-12T09:00:00.000Z");
    EXPECT_EQ(row["updated_at"], format_rfc3339(clock.now()));
    EXPECT_EQ(row["contained_at"], format_rfc3339(contained_at));
    EXPECT_EQ(row["account_count"], 2);
    EXPECT_EQ(row["upns"], json({director, clerk}));  // searchable by account (the dashboard)
    EXPECT_EQ(row["attention"], json({"watch this"}));
    EXPECT_FALSE(row.contains("steps"));
}

TEST_F(report_fixture, event_view_carries_the_chain) {
    const auto id = create();
    const auto first = find(id, step_kind::resolve_account, director);
    run(id, first, {{"object_id", "obj-director"}});
    const auto s = snap(id);
    ASSERT_GE(s.events.size(), 3u);
    const json accepted = report::event_view(s.events[0]);
    EXPECT_EQ(accepted["id"], s.events[0].id);
    EXPECT_EQ(accepted["at"], "2026-03-12T09:00:00.000Z");
    EXPECT_EQ(accepted["kind"], "accepted");
    EXPECT_TRUE(accepted["step"].is_null());
    EXPECT_EQ(accepted["prev_hash"], "");
    const json started = report::event_view(s.events[1]);
    EXPECT_EQ(started["kind"], "step_started");
    EXPECT_EQ(started["step"], first.seq);
    EXPECT_EQ(started["data"]["attempt"], 1);
    EXPECT_EQ(started["prev_hash"], accepted["hash"]);
}

TEST_F(report_fixture, snapshot_reads_every_event_beyond_one_page) {
    const auto id = create();
    for (int i = 0; i < 1500; ++i) db.append_event(id, "note", std::nullopt, {{"i", i}});
    const auto s = snap(id);
    ASSERT_EQ(s.events.size(), 1501u);
    EXPECT_EQ(s.events.back().data["i"], 1499);
    for (std::size_t i = 1; i < s.events.size(); ++i) EXPECT_LT(s.events[i - 1].id, s.events[i].id);
    EXPECT_EQ(report::build_report(s)["timeline"].size(), 1501u);
}

TEST_F(report_fixture, renderers_tolerate_a_partial_document) {
    EXPECT_NO_THROW(report::render_markdown(json::object()));
    EXPECT_NO_THROW(report::render_html(json::object()));
    EXPECT_NO_THROW(report::render_markdown(json{{"incident", {{"title", 42}}}, {"accounts", json::array({1, "x"})}}));
    EXPECT_TRUE(contains(report::render_markdown(json::object()), "Nothing needs a human right now."));
}

TEST_F(report_fixture, timeline_says_what_each_step_did) {
    const auto id = create();
    contain(id);
    const json r = report::build_report(snap(id));
    const auto cleanup = find(id, step_kind::cleanup_methods, director);
    std::string cleanup_summary, contained_summary;
    for (const auto& t : r["timeline"]) {
        if (t["kind"] == "step_succeeded" && t["step"] == cleanup.seq) cleanup_summary = t["summary"];
        if (t["kind"] == "contained_at_recorded") contained_summary = t["summary"];
    }
    EXPECT_EQ(cleanup_summary, "cleanup_methods succeeded: complete, removed 2, kept 1");
    EXPECT_EQ(contained_summary, "emergency block in force; containment time " + format_rfc3339(contained_at));
}

TEST_F(report_fixture, markdown_keeps_block_markers_at_the_start_of_text_literal) {
    db.set_incident_state(create(), incident_status::needs_attention, incident::phase::block,
                          {"# fake heading", "- fake item", "1. fake number", "+15m stays as it is"});
    const auto s = snap("inc-1");
    const std::string md = report::render_markdown(report::build_report(s));
    EXPECT_TRUE(contains(md, "- Attention: # fake heading\n")) << "not at the start of the item's text";
    EXPECT_TRUE(contains(md, "- Attention: +15m stays as it is\n"));
    const std::string first = report::render_markdown(
        json{{"recommendations", {{{"text", "# heading"}}, {{"text", "- item"}}, {{"text", "2. two"}}}}});
    EXPECT_TRUE(contains(first, "1. \\# heading\n")) << first;
    EXPECT_TRUE(contains(first, "2. \\- item\n")) << first;
    EXPECT_TRUE(contains(first, "3. 2\\. two\n")) << first;
}

TEST_F(report_fixture, secret_bearing_fields_in_evidence_or_events_are_redacted) {
    const auto id = create();
    const auto s = find(id, step_kind::capture_app_evidence);
    json content = json::object();
    content["application"]["passwordCredentials"] =
        json::array({{{"keyId", "k1"}, {"secretText", "LEAKED-SECRET-TEXT"}, {"hint", "abc"}}});
    content["methods"] = json::array({{{"temporaryAccessPass", "LEAKED-TAP-VALUE"}, {"id", "t1"}}});
    db.add_evidence(id, s.seq, "application", app_id, content);
    db.append_event(id, "note", std::nullopt, {{"Password", "LEAKED-PASSWORD"}, {"secret", "password:" + clerk}});
    for (const auto& out : all_outputs(id)) {
        EXPECT_FALSE(contains(out, "LEAKED-SECRET-TEXT"));
        EXPECT_FALSE(contains(out, "LEAKED-TAP-VALUE"));
        EXPECT_FALSE(contains(out, "LEAKED-PASSWORD"));
    }
    const json r = report::build_report(snap(id));
    const json* e = find_by(r["evidence"], "kind", "application");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ((*e)["content"]["application"]["passwordCredentials"][0]["hint"], "abc") << "the rest is kept";
    EXPECT_EQ((*e)["content"]["application"]["passwordCredentials"][0]["secretText"], "[redacted]");
    EXPECT_EQ(r["timeline"].back()["data"]["secret"], "password:" + clerk) << "a credential's name is not a secret";
}

TEST_F(report_fixture, another_writer_s_change_to_the_block_is_on_the_timeline_and_counted_for_viewers) {
    const auto id = create();
    contain(id);
    db.append_event(id, "block_drift", std::nullopt,
                    {{"policy_id", "p1"}, {"differences", {"user u1 is not included"}}, {"found_by", "read-back"}});
    const json r = report::build_report(snap(id));
    std::string summary;
    json drift;
    for (const auto& t : r["timeline"])
        if (t["kind"] == "block_drift") {
            summary = t["summary"];
            drift = t;
        }
    EXPECT_EQ(summary,
              "the emergency policy was changed by someone else (found by the read-back): user u1 is not included");
    const json viewer = report::viewer_event_view(drift);
    EXPECT_EQ(viewer["data"].value("differences_count", 0), 1) << viewer.dump();
    EXPECT_FALSE(viewer["data"].contains("differences")) << "a viewer sees how many, not which accounts";
}
