// The simulated tenant's sign-in logs and attacker model (issue 10): a sign-in record is a token
// being issued, not used; access-token lifetimes per client (default 60-90 min, a tenant policy);
// per-record ingestion delays drawn from the seed; and four conformance details an independent
// check found (a quoted date in a sign-in $filter, an unknown resource in the token scope,
// $select of every v1.0 user property, the default method while a TAP remains).

#include <algorithm>

#include "integration/sim/sim_fixture.hpp"

namespace containd::test {
namespace {

std::string user(const std::string& id) { return "/v1.0/users/" + id; }

// Sign-in records of the state dump for a user, optionally only successes.
std::vector<nlohmann::json> records_of(const nlohmann::json& state, const std::string& upn, bool successes_only) {
    std::vector<nlohmann::json> out;
    for (const auto& s : state["signIns"]) {
        if (!s["userPrincipalName"].is_string() || s["userPrincipalName"] != upn) continue;
        if (successes_only && s["status"].value("errorCode", -1) != 0) continue;
        out.push_back(s);
    }
    return out;
}

// Their createdDateTime, sorted.
std::vector<time_point> sorted_times(const std::vector<nlohmann::json>& records) {
    std::vector<time_point> times;
    for (const auto& s : records) times.push_back(*parse_rfc3339(s.value("createdDateTime", "")));
    std::sort(times.begin(), times.end());
    return times;
}

nlohmann::json activity_of(const nlohmann::json& state, const std::string& name_prefix) {
    for (const auto& a : state["_activity"])
        if (a.value("name", "").rfind(name_prefix, 0) == 0) return a;
    return nullptr;
}

}  // namespace

class SimLogs : public sim_fixture {};

// A held token is used without any sign-in record: the finance director's CAE client (75-minute
// tokens) is seen only when a token is issued, while the ground truth shows it in use between.
TEST_F(SimLogs, a_sign_in_is_a_token_issued_not_a_token_used) {
    clock.advance(std::chrono::hours(1));
    const auto state = sim->state();
    const auto issued = records_of(state, "finance.director@contoso.com", true);
    ASSERT_GE(issued.size(), 2u);
    const auto times = sorted_times(issued);
    for (std::size_t i = 1; i < times.size(); ++i)
        EXPECT_GE(times[i] - times[i - 1], minutes(75)) << "a record per token, not per use";
    const auto a = activity_of(state, "attacker: OWA as the finance director");
    ASSERT_TRUE(a.is_object()) << state["_activity"].dump();
    EXPECT_GT(a.value("used_without_sign_in", 0), 50);
}

// Records become visible after a delay drawn per record: most within 2 minutes, a tail up to
// 10, MFA-related ones possibly much later; the API shows a record only once visible.
TEST_F(SimLogs, ingestion_delays_are_drawn_per_record) {
    clock.advance(std::chrono::hours(8));
    const auto state = sim->state();
    std::vector<double> delays;
    for (const auto& s : state["signIns"]) {
        const auto at = parse_rfc3339(s.value("createdDateTime", ""));
        const auto visible = parse_rfc3339(s.value("_visible_at", ""));
        ASSERT_TRUE(at && visible) << s.dump();
        delays.push_back(std::chrono::duration<double>(*visible - *at).count());
    }
    ASSERT_GT(delays.size(), 60u);
    const auto fast = std::count_if(delays.begin(), delays.end(), [](double d) { return d <= 120; });
    EXPECT_GE(static_cast<double>(fast) / static_cast<double>(delays.size()), 0.7);
    EXPECT_GT(*std::max_element(delays.begin(), delays.end()), 120.0) << "no tail at all";
    EXPECT_LE(*std::max_element(delays.begin(), delays.end()), 7200.0);
    EXPECT_GE(*std::min_element(delays.begin(), delays.end()), 20.0);
    std::sort(delays.begin(), delays.end());
    EXPECT_LT(delays.front(), delays.back()) << "one delay for every record is not a draw";

    // The newest record: absent from the API until its visible time.
    const nlohmann::json* newest = nullptr;
    for (const auto& s : state["signIns"])
        if (!newest || s.value("_visible_at", "") > newest->value("_visible_at", "")) newest = &s;
    ASSERT_TRUE(newest);
    const std::string id = (*newest)["id"];
    const auto visible = *parse_rfc3339(newest->value("_visible_at", ""));
    token = client->token_with_secret(k_tenant_id, k_client_id, k_client_secret);  // hours passed
    if (visible > clock.now()) {
        EXPECT_EQ(get("/beta/auditLogs/signIns/" + id).status, 404);
        clock.set(visible);
    }
    EXPECT_EQ(get("/beta/auditLogs/signIns/" + id).status, 200);
}

// The same seed draws the same delays (replayable); another seed others.
TEST_F(SimLogs, the_seed_replays_the_draws) {
    clock.advance(minutes(30));
    const auto first = sim->state()["signIns"];
    sim.reset();
    clock.set(t0());
    start();
    clock.advance(minutes(30));
    const auto again = sim->state()["signIns"];
    ASSERT_EQ(first.size(), again.size());
    for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i]["_visible_at"], again[i]["_visible_at"]);
}

class SimTokenPolicy : public sim_fixture {
protected:
    nlohmann::json scenario() override {
        auto s = load_walkthrough();
        s["token_lifetime_policy_minutes"] = 1440;
        for (auto& a : s["activity"]) a.erase("token_lifetime_minutes");
        return s;
    }
};

// Under a 24 h token-lifetime policy a client gets one token for the day: one record in 6 hours.
TEST_F(SimTokenPolicy, a_tenant_policy_sets_the_lifetime_of_tokens_without_their_own) {
    clock.advance(std::chrono::hours(6));
    const auto state = sim->state();
    EXPECT_EQ(records_of(state, "cfo.assistant@contoso.com", true).size(), 1u);
    const auto a = activity_of(state, "attacker: third-party expense portal");
    ASSERT_TRUE(a.is_object());
    const auto expires = parse_rfc3339(a.value("token_expires", ""));
    ASSERT_TRUE(expires);
    EXPECT_GT(*expires, clock.now() + std::chrono::hours(12));
}

class SimDefaultLifetime : public sim_fixture {
protected:
    nlohmann::json scenario() override {
        auto s = load_walkthrough();
        for (auto& a : s["activity"]) a.erase("token_lifetime_minutes");
        return s;
    }
};

// Without a lifetime of its own or a policy, a token lives 60 to 90 minutes (drawn).
TEST_F(SimDefaultLifetime, default_lifetimes_are_drawn_between_60_and_90_minutes) {
    clock.advance(std::chrono::hours(8));
    const auto state = sim->state();
    const auto issued = records_of(state, "cfo.assistant@contoso.com", true);
    ASSERT_GE(issued.size(), 4u);
    const auto times = sorted_times(issued);
    std::set<std::int64_t> gaps;
    for (std::size_t i = 1; i < times.size(); ++i) {
        const auto gap = times[i] - times[i - 1];
        EXPECT_GE(gap, minutes(60));
        EXPECT_LE(gap, minutes(92));  // the next tick after expiry (2-minute ticks)
        gaps.insert(std::chrono::duration_cast<std::chrono::minutes>(gap).count());
    }
    EXPECT_GT(gaps.size(), 1u) << "every token the same lifetime is not a draw";
}

// ---- conformance details

class SimConformance : public sim_fixture {};

TEST_F(SimConformance, a_quoted_date_in_a_sign_in_filter_is_refused) {
    const auto quoted =
        get("/v1.0/auditLogs/signIns?$filter=" + url_encode("createdDateTime ge '2026-03-18T09:00:00Z'"));
    EXPECT_EQ(quoted.status, 400) << quoted.body;
    EXPECT_NE(quoted.body.find("Edm.DateTimeOffset"), std::string::npos) << quoted.body;
    const auto bare = get("/v1.0/auditLogs/signIns?$filter=" + url_encode("createdDateTime ge 2026-03-18T09:00:00Z"));
    EXPECT_EQ(bare.status, 200) << bare.body;
    const auto beta = get(
        "/beta/auditLogs/signIns?$filter=" +
        url_encode("signInEventTypes/any(t: t eq 'servicePrincipal') and createdDateTime ge '2026-03-18T09:00:00Z'"));
    EXPECT_EQ(beta.status, 400) << beta.body;
}

TEST_F(SimConformance, an_unknown_resource_in_the_scope_is_invalid_resource) {
    const std::string path = "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token";
    const auto r = client->request("POST", path,
                                   form_encode({{"grant_type", "client_credentials"},
                                                {"client_id", k_client_id},
                                                {"client_secret", k_client_secret},
                                                {"scope", "https://graph.contoso.example/.default"}}),
                                   {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(r.status, 400) << r.body;
    const auto j = r.json();
    EXPECT_EQ(j["error"], "invalid_resource");
    ASSERT_TRUE(j["error_codes"].is_array());
    EXPECT_EQ(j["error_codes"][0], 500011);
    EXPECT_NE(j["error_description"].get<std::string>().find("AADSTS500011"), std::string::npos);
}

TEST_F(SimConformance, every_v1_user_property_may_be_selected) {
    const auto r = get(user(k_clerk_id) + "?$select=print,serviceProvisioningErrors,identityParentId,displayName");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["displayName"], "Jamie Chen");
    EXPECT_EQ(get(user(k_clerk_id) + "?$select=notAProperty").status, 400);
}

TEST_F(SimConformance, the_default_method_stays_while_a_temporary_access_pass_remains) {
    const std::string base = user(k_clerk_id) + "/authentication/";
    ASSERT_EQ(del(base + "phoneMethods/3179e48a-750b-4051-897c-87b9720928f7").status, 204);
    const auto tap = post(base + "temporaryAccessPassMethods", {{"lifetimeInMinutes", 60}});
    ASSERT_EQ(tap.status, 201) << tap.body;
    const auto methods = get(base + "methods").json()["value"];
    std::string default_path;
    for (const auto& m : methods)
        if (m.value("@odata.type", "") == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
            default_path = base + "microsoftAuthenticatorMethods/" + m["id"].get<std::string>();
    ASSERT_FALSE(default_path.empty()) << methods.dump();
    const auto refused = del(default_path);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_NE(refused.body.find("default method"), std::string::npos);
    // Once the TAP is gone, the default can go.
    ASSERT_EQ(del(base + "temporaryAccessPassMethods/" + tap.json()["id"].get<std::string>()).status, 204);
    EXPECT_EQ(del(default_path).status, 204);
}

}  // namespace containd::test
