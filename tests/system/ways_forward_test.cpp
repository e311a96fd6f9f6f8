// Issue 11, "no dead ends", through the real containd binary: its built-in simulated tenant
// (config "simulator": the walkthrough, config/scenarios/bec-walkthrough.json, without its
// attacker activity) on a clock `time_scale` times faster, and the test as a REST client of the
// daemon. What the tenant really holds (the emergency policy, each user's password change and
// session revocation) and the order it was asked things in come from the built-in simulator's
// /_sim/state and /_sim/journal, on the URL the daemon's ready line gives. The same ways forward
// on the manual clock, in-process, are tests/integration/containment/ways_forward_test.cpp.
//
//   1. an unknown UPN among five: the four are blocked, reset and revoked; one attention item
//      names it (the others are the methods the targeted cleanups kept, to confirm);
//   2. a method cleanup failing for 30 minutes: the +15 and +30 checks run on time;
//   3. release from needs_attention, from cancelled, and of a tenant-wide incident: the policy
//      is back to its snapshot from before the incident;
//   4. accounts added to a running incident: blocked, revoked, reset, the privileged one first;
//   5. the same external_ref: a different body is 409 pointing at the incident, the same is 200;
//   6. both break-glass accounts compromised: the guard holds back the block only, the
//      break-glass resets go first, and the operator's override turns the block on.
//
// Seeds and time scale as in verification_test.cpp (CONTAIND_VERIFY_SEED,
// CONTAIND_VERIFY_TIME_SCALE); each test prints them. Real time at 240x: a simulated hour is
// 15 s; (2) stops once the cleanup has failed for 30 minutes (about 8 s), the others once what
// they assert is shown (under a second each).

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

using nlohmann::json;
using namespace system_test;

const std::vector<std::string> finance_accounts = {"finance.director@contoso.com", "ap.clerk@contoso.com",
                                                   "procurement.mgr@contoso.com", "cfo.assistant@contoso.com"};

std::vector<std::string> sorted(const json& list) {
    std::vector<std::string> out;
    if (list.is_array())
        for (const auto& v : list)
            if (v.is_string()) out.push_back(v.get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
}

// The array at `key` of a document (an empty one when absent), by reference: pointers into it
// stay valid as long as the document.
const json& list_at(const json& doc, const char* key) {
    static const json empty = json::array();
    const auto it = doc.find(key);
    return it != doc.end() && it->is_array() ? *it : empty;
}

const json* find_by(const json& list, const char* key, const std::string& value) {
    if (!list.is_array()) return nullptr;
    for (const auto& item : list)
        if (item.value(key, "") == value) return &item;
    return nullptr;
}

const json* step_of(const json& doc, const std::string& kind, const std::string& target) {
    for (const auto& s : list_at(doc, "steps"))
        if (s.value("kind", "") == kind && s.value("target", "") == target) return &s;
    return nullptr;
}

bool has_status(const json* step, const std::string& status) { return step && step->value("status", "") == status; }

// The block is on and no step but a verification check is left to run.
bool containment_over(const json& doc) {
    if (!time_of(doc, "contained_at")) return false;
    const json& steps = list_at(doc, "steps");
    return std::none_of(steps.begin(), steps.end(), [](const json& s) {
        const std::string status = s.value("status", "");
        return s.value("kind", "") != "verify_signins" && (status == "pending" || status == "running");
    });
}

// The release the operator asked for is done.
bool released(const json& doc) {
    const json& steps = list_at(doc, "steps");
    return std::any_of(steps.begin(), steps.end(), [](const json& s) {
        return s.value("kind", "") == "release_block" && s.value("status", "") == "succeeded";
    });
}

// The verification check with this label, as GET /v1/incidents/{id} lists it; nullptr if none.
const json* check_of(const json& doc, const std::string& label) {
    return find_by(list_at(doc, "verification"), "check", label);
}

// The parts of the emergency policy that a release puts back (DOMAIN.md §9: name, state,
// exclusions), and whom it blocks.
json restorable(const json& policy) {
    const json conditions = policy.value("conditions", json::object());
    const json users = conditions.value("users", json::object());
    const json locations = conditions.value("locations", json::object());
    return {{"displayName", policy.value("displayName", "")},
            {"state", policy.value("state", "")},
            {"includeUsers", sorted(users.value("includeUsers", json::array()))},
            {"excludeUsers", sorted(users.value("excludeUsers", json::array()))},
            {"excludeLocations", sorted(locations.value("excludeLocations", json::array()))}};
}

// Index in the journal of the first successful request with this method whose path ends with
// `path_end` (and whose body contains `body_contains`), from `from`; -1 when there is none.
long first_request(const json& journal, const std::string& method, const std::string& path_end,
                   const std::string& body_contains = "", std::size_t from = 0) {
    for (std::size_t i = from; i < journal.size(); ++i) {
        const json& e = journal[i];
        const std::string path = e.value("path", "");
        if (e.value("method", "") == method && e.value("status", 0) < 300 && path.size() >= path_end.size() &&
            path.compare(path.size() - path_end.size(), path_end.size(), path_end) == 0 &&
            e.value("body", "").find(body_contains) != std::string::npos)
            return static_cast<long>(i);
    }
    return -1;
}

long reset_of(const json& journal, const std::string& object_id, std::size_t from = 0) {
    return first_request(journal, "PATCH", "/users/" + object_id, "passwordProfile", from);
}

long revoke_of(const json& journal, const std::string& object_id, std::size_t from = 0) {
    return first_request(journal, "POST", "/users/" + object_id + "/revokeSignInSessions", "", from);
}

}  // namespace

class WaysForwardSystem : public system_fixture {
protected:
    void SetUp() override {
        system_fixture::SetUp();
        prepare_builtin_simulator();
    }

    std::string submit(const json& submission) {
        const auto created = api->post("/v1/incidents", submitter_token, submission);
        EXPECT_EQ(created.status, 201) << created.body;
        return created.status == 201 ? created.json().value("id", "") : std::string();
    }

    // The emergency policy as the simulated tenant holds it now.
    json emergency_policy() { return emergency_policy(sim_state()); }
    json emergency_policy(const json& state) {
        const json* p = find_by(list_at(state, "conditionalAccessPolicies"), "id",
                                config["tenants"][0].value("emergency_policy_id", ""));
        EXPECT_TRUE(p) << "no emergency policy in the simulated tenant";
        return p ? *p : json::object();
    }

    static std::string object_id(const json& state, const std::string& upn) {
        const json* u = find_by(list_at(state, "users"), "userPrincipalName", upn);
        return u ? u->value("id", "") : std::string();
    }

    // What the tenant did to this user: its password was changed at or after `since`, and its
    // sessions revoked after that change.
    static void expect_reset_and_revoked(const json& state, const std::string& upn, time_point since) {
        const json* u = find_by(list_at(state, "users"), "userPrincipalName", upn);
        ASSERT_TRUE(u) << upn;
        const auto changed = time_of((*u)["_sim"], "password_changed");
        const auto revoked = time_of((*u)["_sim"], "sessions_valid_from");
        ASSERT_TRUE(changed) << upn << " was not reset: " << (*u)["_sim"].dump();
        ASSERT_TRUE(revoked) << upn << " was not revoked: " << (*u)["_sim"].dump();
        EXPECT_GE(*changed, since) << upn;
        EXPECT_GE(*revoked, *changed) << upn << ": no revocation after the reset";
    }

    // The operator releases the block with a reason; waits for the release step.
    json release(const std::string& id) {
        const std::string path = "/v1/incidents/" + id + "/release";
        const auto without = api->post(path, operator_token, json::object());
        EXPECT_EQ(without.status, 400) << "a release needs a reason: " << without.body;
        const auto r = api->post(path, operator_token, {{"reason", "system test: the accounts are reset"}});
        EXPECT_EQ(r.status, 202) << r.body;
        const json doc = poll(id, released, std::chrono::seconds(60));
        EXPECT_TRUE(released(doc)) << doc["steps"].dump(2);
        return doc;
    }
};

// 1. One UPN among five does not exist. It is one attention item with its reason; the other four
//    are blocked, revoked and reset as if it were not there.
TEST_F(WaysForwardSystem, an_unknown_upn_among_five_leaves_four_contained_and_one_attention_item) {
    ASSERT_TRUE(start_builtin_simulator("unknown_upn"));
    json submission = walkthrough_incident("WAYS-UNKNOWN");
    submission["accounts"].push_back({{"upn", "no.such.person@contoso.com"}});
    const std::string id = submit(submission);
    ASSERT_FALSE(id.empty());
    const json doc = poll(id, containment_over, std::chrono::seconds(60));
    ASSERT_TRUE(containment_over(doc)) << describe(doc) << doc["steps"].dump(2);

    EXPECT_EQ(doc["status"], "needs_attention") << describe(doc);
    // One item for the unknown account, first; the others can only be the methods the targeted
    // cleanups kept, to confirm with their users.
    std::vector<std::string> others;
    for (const auto& item : list_at(doc, "attention"))
        if (item.get<std::string>().find("confirm with the user that it is theirs") == std::string::npos)
            others.push_back(item.get<std::string>());
    ASSERT_EQ(others.size(), 1u) << describe(doc);
    EXPECT_NE(others[0].find("no.such.person@contoso.com did not resolve"), std::string::npos) << others[0];
    EXPECT_EQ(doc["attention"][0], others[0]) << "the failure comes first";

    const json state = sim_state();
    const json policy = emergency_policy(state);
    EXPECT_EQ(policy["state"], "enabled") << policy.dump(2);
    std::vector<std::string> four;
    for (const auto& upn : finance_accounts) four.push_back(object_id(state, upn));
    std::sort(four.begin(), four.end());
    EXPECT_EQ(sorted(policy["conditions"]["users"]["includeUsers"]), four) << policy.dump(2);
    const auto contained = time_of(doc, "contained_at");
    for (const auto& upn : finance_accounts) expect_reset_and_revoked(state, upn, *contained);
    // Nothing was planned for the fifth beyond its resolve (and evidence capture).
    for (const auto& s : doc["steps"])
        if (s.value("target", "") == "no.such.person@contoso.com") {
            EXPECT_TRUE(s["kind"] == "resolve_account" || s["kind"] == "capture_account_evidence") << s.dump();
        }
    EXPECT_TRUE(has_status(step_of(doc, "resolve_account", "no.such.person@contoso.com"), "failed"));
}

// 2. Every DELETE of an authentication method fails (503) from before submission: the method
//    cleanups keep failing and retrying (a 40-minute step deadline), and the +15 and +30 checks
//    still start when due. Stops once the privileged account's cleanup has been failing for 30
//    minutes (the journal shows a 503 answered to it then).
TEST_F(WaysForwardSystem, a_cleanup_failing_for_30_minutes_never_delays_the_checks) {
    config["engine"]["step_deadline_s"] = 2400;
    ASSERT_TRUE(start_builtin_simulator("cleanup_failing"));
    const json rules = {{"rules",
                         {{{"path_regex", "/authentication/[A-Za-z0-9]+Methods/"},
                           {"method", "DELETE"},
                           {"kind", "503"},
                           {"rate", 1.0}}}}};
    const auto faulted = sim_request("POST", "/_sim/faults", rules.dump());
    ASSERT_EQ(faulted.status, 204) << faulted.body;
    const std::string id = submit(walkthrough_incident("WAYS-CLEANUP"));
    ASSERT_FALSE(id.empty());
    const auto cleanup_started = [](const json& doc) {
        const json* cleanup = step_of(doc, "cleanup_methods", "finance.director@contoso.com");
        return cleanup ? time_of(*cleanup, "started_at") : std::nullopt;
    };
    json doc = poll(
        id, [&](const json& d) { return cleanup_started(d).has_value(); }, std::chrono::seconds(60));
    const auto started = cleanup_started(doc);
    ASSERT_TRUE(started) << describe(doc) << doc["steps"].dump(2);

    // 30 minutes later its DELETEs are still answered 503.
    const auto failing_for_30_minutes = [&] {
        const json journal = sim_journal();
        return std::any_of(journal.begin(), journal.end(), [&](const json& e) {
            return e.value("method", "") == "DELETE" && e.value("status", 0) == 503 &&
                   time_of(e, "at") >= *started + minutes(30);
        });
    };
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!failing_for_30_minutes() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(failing_for_30_minutes()) << "no DELETE failed 30 minutes after the cleanup started";
    doc = incident(id);
    const json* cleanup = step_of(doc, "cleanup_methods", "finance.director@contoso.com");
    ASSERT_TRUE(cleanup);
    EXPECT_TRUE((*cleanup)["status"] == "pending" || (*cleanup)["status"] == "running")
        << "retrying, neither done nor given up: " << cleanup->dump();
    EXPECT_GE(cleanup->value("attempts", 0), 5) << cleanup->dump();
    EXPECT_NE(cleanup->value("error", json("")).dump().find("503"), std::string::npos) << cleanup->dump();

    // Both checks started when due, while the cleanup was failing. The daemon re-reads a scaled
    // clock every 0.1 s of real time (24 simulated seconds at 240x), so a due check starts up to
    // that late; the allowance is 0.5 s of real time (2 simulated minutes at 240x), and the
    // check's own run as long again.
    const auto allowance =
        std::chrono::duration_cast<duration>(std::chrono::duration<double>(0.5 * simulated_time_scale()));
    for (const char* label : {"+15m", "+30m"}) {
        const json* check = check_of(doc, label);
        ASSERT_TRUE(check) << label << "\n" << describe(doc);
        EXPECT_EQ((*check)["status"], "succeeded") << label << "\n" << describe(doc);
        const json* step = nullptr;
        for (const auto& s : list_at(doc, "steps"))
            if (s.value("seq", 0) == check->value("seq", -1)) step = &s;
        const auto due = time_of(*check, "due_at");
        ASSERT_TRUE(due && step) << check->dump();
        const auto check_started = time_of(*step, "started_at");
        const auto ran = time_of(*check, "ran_at");
        ASSERT_TRUE(check_started && ran) << step->dump();
        std::cout << "[ " << label << " check ] due " << format_rfc3339(*due) << ", started "
                  << format_rfc3339(*check_started) << ", ran " << format_rfc3339(*ran) << std::endl;
        EXPECT_GE(*check_started, *due) << label;
        EXPECT_LE(*check_started, *due + allowance) << label << " started late";
        EXPECT_LE(*ran, *due + 2 * allowance) << label << " ran late";
        EXPECT_LT(*started, *due) << "the cleanup was not failing yet at " << label;
    }
}

// 3a. An unknown UPN leaves the incident needing attention after the block; the operator
//     releases it (a reason is mandatory): the policy is back to its snapshot from before.
TEST_F(WaysForwardSystem, release_from_needs_attention_restores_the_policy) {
    ASSERT_TRUE(start_builtin_simulator("release_needs_attention"));
    const json before = emergency_policy();
    json submission = walkthrough_incident("WAYS-RELEASE-ATTENTION");
    submission["accounts"].push_back({{"upn", "no.such.person@contoso.com"}});
    const std::string id = submit(submission);
    ASSERT_FALSE(id.empty());
    const json doc = poll(id, containment_over, std::chrono::seconds(60));
    ASSERT_TRUE(containment_over(doc)) << describe(doc);
    ASSERT_EQ(doc["status"], "needs_attention") << describe(doc);
    ASSERT_EQ(emergency_policy()["state"], "enabled");

    const json after = release(id);
    EXPECT_EQ(restorable(emergency_policy()), restorable(before)) << "before:\n" << before.dump(2);
    EXPECT_EQ(after["status"], "needs_attention") << describe(after);
}

// 3b. Cancelled after the block without a release: the block stays on until the operator
//     releases it; then the policy is back to its snapshot.
TEST_F(WaysForwardSystem, release_from_cancelled_restores_the_policy) {
    ASSERT_TRUE(start_builtin_simulator("release_cancelled"));
    const json before = emergency_policy();
    const std::string id = submit(walkthrough_incident("WAYS-RELEASE-CANCELLED"));
    ASSERT_FALSE(id.empty());
    const json blocked = poll(
        id, [](const json& d) { return time_of(d, "contained_at").has_value(); }, std::chrono::seconds(60));
    ASSERT_TRUE(time_of(blocked, "contained_at")) << describe(blocked);

    const auto cancelled =
        api->post("/v1/incidents/" + id + "/cancel", operator_token, {{"reason", "system test: a duplicate"}});
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json().value("status", ""), "cancelled") << cancelled.body;
    EXPECT_EQ(cancelled.json().value("block", "").rfind("stays on", 0), 0u) << cancelled.body;
    EXPECT_EQ(emergency_policy()["state"], "enabled") << "a cancel alone leaves the block on";

    const json after = release(id);
    EXPECT_EQ(restorable(emergency_policy()), restorable(before)) << "before:\n" << before.dump(2);
    EXPECT_EQ(after["status"], "cancelled");
}

// 3c. A tenant-wide incident needs its explicit confirmation; its block covers all users but the
//     break-glass accounts; the release puts the policy back to its snapshot.
TEST_F(WaysForwardSystem, release_of_a_tenant_wide_incident_restores_the_policy) {
    ASSERT_TRUE(start_builtin_simulator("release_tenant_wide"));
    const json before = emergency_policy();
    json submission = walkthrough_incident("WAYS-RELEASE-TENANT");
    submission["scope"] = "tenant";
    const auto unconfirmed = api->post("/v1/incidents", submitter_token, submission);
    EXPECT_EQ(unconfirmed.status, 400) << unconfirmed.body;
    EXPECT_NE(unconfirmed.body.find("confirm_tenant_wide"), std::string::npos) << unconfirmed.body;
    submission["confirm_tenant_wide"] = true;
    const std::string id = submit(submission);
    ASSERT_FALSE(id.empty());
    const json blocked = poll(
        id, [](const json& d) { return time_of(d, "contained_at").has_value(); }, std::chrono::seconds(60));
    ASSERT_TRUE(time_of(blocked, "contained_at")) << describe(blocked);
    const json on = emergency_policy();
    EXPECT_EQ(on["state"], "enabled");
    EXPECT_EQ(on["conditions"]["users"]["includeUsers"], json::array({"All"})) << on.dump(2);

    release(id);
    EXPECT_EQ(restorable(emergency_policy()), restorable(before)) << "before:\n" << before.dump(2);
}

// 4. Two accounts found later are added to the running incident: both are blocked, revoked and
//    reset, the privileged one (declared so) before the standard one; the first two are not
//    reset again.
TEST_F(WaysForwardSystem, accounts_added_to_a_running_incident_are_blocked_revoked_and_reset_in_tier_order) {
    ASSERT_TRUE(start_builtin_simulator("add_accounts"));
    json submission = walkthrough_incident("WAYS-ADD");
    submission["accounts"] =
        json::array({{{"upn", "finance.director@contoso.com"}}, {{"upn", "ap.clerk@contoso.com"}}});
    const std::string id = submit(submission);
    ASSERT_FALSE(id.empty());
    json doc = poll(id, containment_over, std::chrono::seconds(60));
    ASSERT_TRUE(containment_over(doc)) << describe(doc);
    const std::size_t before = sim_journal().size();

    const auto added = api->post(
        "/v1/incidents/" + id + "/accounts", operator_token,
        {{"accounts",
          {{{"upn", "cfo.assistant@contoso.com"}}, {{"upn", "procurement.mgr@contoso.com"}, {"tier", "privileged"}}}},
         {"reason", "found in the mail trace"}});
    ASSERT_EQ(added.status, 202) << added.body;
    EXPECT_EQ(added.json()["accounts"], json::array({"cfo.assistant@contoso.com", "procurement.mgr@contoso.com"}));
    const auto new_ones_done = [](const json& d) {
        for (const char* upn : {"cfo.assistant@contoso.com", "procurement.mgr@contoso.com"})
            if (!has_status(step_of(d, "revoke_after_reset", upn), "succeeded")) return false;
        return containment_over(d);
    };
    doc = poll(id, new_ones_done, std::chrono::seconds(60));
    ASSERT_TRUE(new_ones_done(doc)) << describe(doc) << doc["steps"].dump(2);

    const json state = sim_state();
    const json policy = emergency_policy(state);
    EXPECT_EQ(policy["state"], "enabled");
    std::vector<std::string> four;
    for (const auto& upn : finance_accounts) four.push_back(object_id(state, upn));
    std::sort(four.begin(), four.end());
    EXPECT_EQ(sorted(policy["conditions"]["users"]["includeUsers"]), four) << policy.dump(2);
    const auto contained = time_of(doc, "contained_at");
    for (const char* upn : {"cfo.assistant@contoso.com", "procurement.mgr@contoso.com"})
        expect_reset_and_revoked(state, upn, *contained);

    // The order the tenant was asked in: the block with them, then the privileged reset and its
    // revocation, then the standard reset and its revocation.
    const json journal = sim_journal();
    const std::string priv = object_id(state, "procurement.mgr@contoso.com");
    const std::string standard = object_id(state, "cfo.assistant@contoso.com");
    const long block = first_request(journal, "PATCH",
                                     "/policies/" + config["tenants"][0].value("emergency_policy_id", ""), "", before);
    const long priv_reset = reset_of(journal, priv, before);
    const long priv_revoke = priv_reset < 0 ? -1 : revoke_of(journal, priv, static_cast<std::size_t>(priv_reset));
    const long std_reset = reset_of(journal, standard, before);
    const long std_revoke = std_reset < 0 ? -1 : revoke_of(journal, standard, static_cast<std::size_t>(std_reset));
    ASSERT_GE(block, 0);
    ASSERT_GE(priv_revoke, 0);
    ASSERT_GE(std_revoke, 0);
    EXPECT_LT(block, priv_reset) << "blocked before the resets";
    EXPECT_LT(priv_revoke, std_reset) << "the standard tier started before the privileged one was done";
    EXPECT_LT(reset_of(journal, object_id(state, "finance.director@contoso.com"), before), 0)
        << "the first accounts are not reset again";
}

// 5. The SIEM sends the same external_ref again: with a different body it is 409 problem+json
//    naming the incident and where to add accounts (nothing stored); with the same body, 200 and
//    the same incident.
TEST_F(WaysForwardSystem, the_same_external_ref_is_409_with_another_body_and_200_with_the_same) {
    ASSERT_TRUE(start_builtin_simulator("external_ref"));
    const json submission = walkthrough_incident("WAYS-REF");
    const std::string id = submit(submission);
    ASSERT_FALSE(id.empty());

    json other = submission;
    other["accounts"].push_back({{"upn", "hr.partner@contoso.com"}});
    const auto conflict = api->post("/v1/incidents", submitter_token, other);
    EXPECT_EQ(conflict.status, 409) << conflict.body;
    EXPECT_EQ(conflict.header("content-type").rfind("application/problem+json", 0), 0u)
        << conflict.header("content-type");
    const json problem = conflict.json();
    EXPECT_EQ(problem.value("status", 0), 409) << conflict.body;
    EXPECT_EQ(problem.value("incident_id", ""), id) << conflict.body;
    EXPECT_EQ(problem.value("add_accounts", ""), "/v1/incidents/" + id + "/accounts") << conflict.body;
    EXPECT_NE(problem.value("detail", "").find(id), std::string::npos) << conflict.body;
    EXPECT_EQ(conflict.header("location"), "/v1/incidents/" + id);

    const auto again = api->post("/v1/incidents", submitter_token, submission);
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.json().value("id", ""), id) << again.body;
    const json list = api->get("/v1/incidents", operator_token).json();
    EXPECT_EQ(list["incidents"].size(), 1u) << list.dump(2);
    // The account of the refused body was not added to the incident.
    EXPECT_FALSE(step_of(incident(id), "resolve_account", "hr.partner@contoso.com"));
}

// 6. Both break-glass accounts are compromised: no spare would stay excluded, so the guard
//    refuses the block (and says why), but never their resets: theirs go first, before any other
//    tier. The operator's override (with a reason, audited) then turns the block on.
TEST_F(WaysForwardSystem, with_no_spare_break_glass_the_guard_holds_back_only_the_block_until_overridden) {
    ASSERT_TRUE(start_builtin_simulator("break_glass"));
    const json before = emergency_policy();
    json submission = walkthrough_incident("WAYS-BREAKGLASS");
    for (const char* upn : {"breakglass2@contoso.com", "breakglass1@contoso.com"})
        submission["accounts"].insert(submission["accounts"].begin(), json{{"upn", upn}, {"tier", "break_glass"}});
    const std::string id = submit(submission);
    ASSERT_FALSE(id.empty());
    const auto refused_and_reset = [](const json& d) {
        for (const char* upn : {"breakglass1@contoso.com", "breakglass2@contoso.com"})
            if (!has_status(step_of(d, "revoke_after_reset", upn), "succeeded")) return false;
        const json& steps = list_at(d, "steps");
        return std::any_of(steps.begin(), steps.end(), [](const json& s) {
            return s.value("kind", "") == "enable_emergency_policy" && s.value("status", "") == "failed";
        });
    };
    json doc = poll(id, refused_and_reset, std::chrono::seconds(60));
    ASSERT_TRUE(refused_and_reset(doc)) << describe(doc) << doc["steps"].dump(2);
    EXPECT_FALSE(time_of(doc, "contained_at")) << describe(doc);
    EXPECT_EQ(doc["status"], "needs_attention") << describe(doc);
    EXPECT_TRUE(mentions(doc["attention"], "the break-glass lockout guard refused the block")) << describe(doc);
    EXPECT_TRUE(mentions(doc["attention"], "/override-guard")) << describe(doc);
    EXPECT_EQ(restorable(emergency_policy()), restorable(before)) << "the guard let the block through";

    // The break-glass accounts' resets (each followed by its revocation) came before any other
    // tier's reset.
    const json state = sim_state();
    const json journal = sim_journal();
    long last_break_glass = -1;
    for (const char* upn : {"breakglass1@contoso.com", "breakglass2@contoso.com"}) {
        const long reset = reset_of(journal, object_id(state, upn));
        ASSERT_GE(reset, 0) << upn << " was not reset";
        const long revoke = revoke_of(journal, object_id(state, upn), static_cast<std::size_t>(reset));
        ASSERT_GE(revoke, 0) << upn << " was not revoked after its reset";
        last_break_glass = std::max(last_break_glass, revoke);
    }
    for (const auto& upn : finance_accounts) {
        const long reset = reset_of(journal, object_id(state, upn));
        if (reset >= 0) {
            EXPECT_GT(reset, last_break_glass) << upn << " was reset before the break-glass tier was done";
        }
    }
    EXPECT_GE(reset_of(journal, object_id(state, "finance.director@contoso.com")), 0)
        << "the guard held back the other tiers too";

    // The override needs a reason; then the block goes on, with no break-glass exclusion left.
    const std::string path = "/v1/incidents/" + id + "/override-guard";
    EXPECT_EQ(api->post(path, operator_token, json::object()).status, 400);
    const auto overridden = api->post(path, operator_token, {{"reason", "system test: accept the lockout risk"}});
    ASSERT_EQ(overridden.status, 200) << overridden.body;
    doc = poll(
        id, [](const json& d) { return time_of(d, "contained_at").has_value(); }, std::chrono::seconds(60));
    ASSERT_TRUE(time_of(doc, "contained_at")) << describe(doc) << doc["steps"].dump(2);
    const json policy = emergency_policy();
    EXPECT_EQ(policy["state"], "enabled") << policy.dump(2);
    const auto included = sorted(policy["conditions"]["users"]["includeUsers"]);
    for (const char* upn : {"breakglass1@contoso.com", "breakglass2@contoso.com", "finance.director@contoso.com"})
        EXPECT_TRUE(std::binary_search(included.begin(), included.end(), object_id(state, upn))) << upn;
    EXPECT_TRUE(sorted(policy["conditions"]["users"]["excludeUsers"]).empty()) << policy.dump(2);
    const json events = api->get("/v1/incidents/" + id + "/events", operator_token).json()["events"];
    const json* audited = find_by(events, "kind", "guard_overridden");
    ASSERT_TRUE(audited) << events.dump(2);
    EXPECT_EQ((*audited)["data"].value("by", ""), "ir-lead");
    EXPECT_EQ((*audited)["data"].value("reason", ""), "system test: accept the lockout risk");
}

}  // namespace containd::testing
