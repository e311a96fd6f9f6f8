#include <gtest/gtest.h>

#include "core/time.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"

using namespace containd;
using namespace containd::incident;

namespace {

const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");

tenant_settings contoso() {
    tenant_settings t;
    t.name = "contoso";
    t.emergency_policy_id = "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60";
    t.ir_named_locations = {"6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51"};
    t.break_glass_upns = {"breakglass1@contoso.com", "breakglass2@contoso.com"};
    return t;
}

incident_request request(std::vector<nlohmann::json> accounts, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json body = {{"compromise_start", "2026-03-12T00:00:00Z"}, {"accounts", accounts}};
    body.update(extra);
    auto r = parse_submission(body, now);
    return std::get<incident_request>(r);
}

plan planned(const incident_request& r, const std::map<std::string, directory_facts>& facts = {},
             const tenant_settings& t = contoso()) {
    auto p = make_plan(r, t, facts);
    if (auto* refused = std::get_if<refusal>(&p)) ADD_FAILURE() << refused->reasons.front();
    return std::get<plan>(p);
}

const planned_account& account(const plan& p, const std::string& upn) {
    for (const auto& a : p.accounts)
        if (a.upn == upn) return a;
    throw std::runtime_error("no account " + upn);
}

std::vector<const planned_step*> of_kind(const plan& p, step_kind k) {
    std::vector<const planned_step*> out;
    for (const auto& s : p.steps)
        if (s.kind == k) out.push_back(&s);
    return out;
}

}  // namespace

TEST(Planner, an_admin_role_raises_a_standard_account_to_privileged_with_the_reason) {
    auto r =
        request({{{"upn", "finance.director@contoso.com"}, {"tier", "standard"}}, {{"upn", "ap.clerk@contoso.com"}}});
    directory_facts fd;
    fd.admin_roles = {"Exchange Administrator"};
    const auto p = planned(r, {{"finance.director@contoso.com", fd}});
    EXPECT_EQ(account(p, "finance.director@contoso.com").assigned_tier, tier::privileged);
    EXPECT_EQ(account(p, "finance.director@contoso.com").tier_reason, "holds Exchange Administrator");
    EXPECT_EQ(account(p, "ap.clerk@contoso.com").assigned_tier, tier::standard);
    EXPECT_EQ(account(p, "ap.clerk@contoso.com").tier_reason, "default");
}

TEST(Planner, a_configured_break_glass_account_is_break_glass_and_never_lowered) {
    auto r = request({{{"upn", "breakglass1@contoso.com"}, {"tier", "standard"}},
                      {{"upn", "svc.backup@contoso.com"}, {"tier", "service"}},
                      {{"upn", "declared.bg@contoso.com"}, {"tier", "break_glass"}}});
    directory_facts admin;
    admin.admin_roles = {"Global Administrator"};
    const auto p = planned(r, {{"svc.backup@contoso.com", admin}, {"declared.bg@contoso.com", {}}});
    EXPECT_EQ(account(p, "breakglass1@contoso.com").assigned_tier, tier::break_glass);
    EXPECT_EQ(account(p, "breakglass1@contoso.com").tier_reason, "configured break-glass account");
    EXPECT_EQ(account(p, "svc.backup@contoso.com").assigned_tier, tier::service) << "an admin role never lowers";
    EXPECT_EQ(account(p, "declared.bg@contoso.com").assigned_tier, tier::break_glass);
}

TEST(Planner, resets_go_tier_by_tier_each_followed_by_a_revocation) {
    auto r = request({{{"upn", "ap.clerk@contoso.com"}},
                      {{"upn", "finance.director@contoso.com"}, {"tier", "privileged"}},
                      {{"upn", "breakglass1@contoso.com"}}});
    const auto p = planned(r);
    const auto resets = of_kind(p, step_kind::reset_password);
    ASSERT_EQ(resets.size(), 3u);
    EXPECT_EQ(resets[0]->target, "breakglass1@contoso.com");
    EXPECT_EQ(resets[1]->target, "finance.director@contoso.com");
    EXPECT_EQ(resets[2]->target, "ap.clerk@contoso.com");
    EXPECT_LT(resets[0]->stage, resets[1]->stage);
    EXPECT_LT(resets[1]->stage, resets[2]->stage);
    for (const auto* reset : resets) {
        const auto revokes = of_kind(p, step_kind::revoke_after_reset);
        const auto it = std::find_if(revokes.begin(), revokes.end(),
                                     [&](const planned_step* s) { return s->depends_on == reset->seq; });
        ASSERT_NE(it, revokes.end()) << reset->target;
        EXPECT_EQ((*it)->target, reset->target);
        EXPECT_EQ((*it)->stage, reset->stage);
    }
    for (std::size_t i = 1; i < p.steps.size(); ++i) EXPECT_LE(p.steps[i - 1].stage, p.steps[i].stage);
}

TEST(Planner, phases_run_in_order_and_each_check_is_its_own_stage) {
    const auto p = planned(request({{{"upn", "ap.clerk@contoso.com"}}},
                                   {{"malicious_apps", {{{"app_id", "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34"}}}}}));
    phase last = phase::resolve;
    for (const auto& s : p.steps) {
        EXPECT_GE(static_cast<int>(s.step_phase), static_cast<int>(last));
        last = s.step_phase;
    }
    const auto checks = of_kind(p, step_kind::verify_signins);
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_EQ(checks[0]->target, "+15m");
    EXPECT_EQ(checks[2]->target, "+60m");
    EXPECT_EQ(checks[1]->params["offset_ms"], 30 * 60 * 1000);
    EXPECT_LT(checks[0]->stage, checks[1]->stage);
    EXPECT_LT(checks[1]->stage, checks[2]->stage);
    EXPECT_EQ(of_kind(p, step_kind::remove_app_credentials).size(), 1u);
    EXPECT_EQ(of_kind(p, step_kind::disable_service_principal).size(), 1u);
    EXPECT_EQ(of_kind(p, step_kind::remove_app_grants).size(), 1u);
    EXPECT_TRUE(of_kind(p, step_kind::delete_application).empty());
}

TEST(Planner, the_policy_never_excludes_a_compromised_break_glass_account) {
    const auto p = planned(request({{{"upn", "breakglass1@contoso.com"}}, {{"upn", "ap.clerk@contoso.com"}}}));
    EXPECT_EQ(p.scope.exclude_users, std::vector<std::string>{"breakglass2@contoso.com"});
    EXPECT_EQ(p.scope.include_users, (std::vector<std::string>{"breakglass1@contoso.com", "ap.clerk@contoso.com"}));
    EXPECT_EQ(p.scope.exclude_locations, contoso().ir_named_locations);
    EXPECT_EQ(of_kind(p, step_kind::reset_password).front()->target, "breakglass1@contoso.com");
}

// DOMAIN.md §9: the guard holds back only the block (its step refuses until an operator
// overrides it), never the resets: the plan is made, with the block, and a warning.
TEST(Planner, with_no_uncompromised_break_glass_account_the_plan_warns_and_still_resets_them_first) {
    auto r = request({{{"upn", "ap.clerk@contoso.com"}},
                      {{"upn", "breakglass1@contoso.com"}},
                      {{"upn", "breakglass2@contoso.com"}}});
    const auto p = planned(r);
    EXPECT_TRUE(p.scope.exclude_users.empty());
    ASSERT_EQ(p.warnings.size(), 1u);
    EXPECT_NE(p.warnings.front().find("lock the IR team out"), std::string::npos) << p.warnings.front();
    EXPECT_NE(p.warnings.front().find("waits for an operator's override"), std::string::npos) << p.warnings.front();
    EXPECT_EQ(of_kind(p, step_kind::enable_emergency_policy).size(), 1u);
    const auto resets = of_kind(p, step_kind::reset_password);
    ASSERT_EQ(resets.size(), 3u);
    EXPECT_EQ(resets[0]->target, "breakglass1@contoso.com");
    EXPECT_EQ(resets[1]->target, "breakglass2@contoso.com");
    EXPECT_LT(resets[1]->stage, resets[2]->stage) << "the break-glass tier before the others";

    tenant_settings none = contoso();
    none.break_glass_upns.clear();
    const auto unguarded = planned(request({{{"upn", "ap.clerk@contoso.com"}}}), {}, none);
    ASSERT_EQ(unguarded.warnings.size(), 1u);
    EXPECT_NE(unguarded.warnings.front().find("no break-glass account is configured"), std::string::npos);

    auto overridden = request({{{"upn", "breakglass1@contoso.com"}}, {{"upn", "breakglass2@contoso.com"}}},
                              {{"options", {{"override_lockout_guard", true}}}});
    const auto o = planned(overridden);
    ASSERT_FALSE(o.warnings.empty());
    EXPECT_NE(o.warnings.front().find("overridden"), std::string::npos);
    EXPECT_TRUE(o.scope.exclude_users.empty());
}

// The tenant-wide confirmation is still a refusal: nothing is planned without it.
TEST(Planner, refuses_an_unconfirmed_tenant_wide_block) {
    incident_request r = request({{{"upn", "ap.clerk@contoso.com"}}});
    r.scope = scope_kind::tenant;
    r.confirm_tenant_wide = false;
    const auto refused = make_plan(r, contoso(), {});
    ASSERT_TRUE(std::holds_alternative<refusal>(refused));
    EXPECT_NE(std::get<refusal>(refused).reasons.front().find("confirm_tenant_wide"), std::string::npos);
}

TEST(Planner, complete_cleanup_for_privileged_targeted_for_standard_with_taps) {
    auto r = request({{{"upn", "finance.director@contoso.com"}, {"tier", "privileged"}},
                      {{"upn", "ap.clerk@contoso.com"}, {"known_methods", {"m-1"}}}});
    const auto p = planned(r);
    const auto cleanups = of_kind(p, step_kind::cleanup_methods);
    ASSERT_EQ(cleanups.size(), 2u);
    EXPECT_EQ(cleanups[0]->params["mode"], "complete");
    EXPECT_EQ(cleanups[1]->params["mode"], "targeted");
    EXPECT_EQ(cleanups[1]->params["known_methods"], nlohmann::json::array({"m-1"}));
    EXPECT_TRUE(account(p, "finance.director@contoso.com").tap) << "a TAP after a complete reset";
    EXPECT_FALSE(account(p, "ap.clerk@contoso.com").tap) << "none for a targeted cleanup with passwords";
    EXPECT_TRUE(of_kind(p, step_kind::issue_tap).empty()) << "a TAP is issued at reveal, not at containment";
    EXPECT_EQ(to_json(p)["accounts"][0]["tap"], true);

    const auto all_complete =
        planned(request({{{"upn", "ap.clerk@contoso.com"}}}, {{"options", {{"method_cleanup", "complete"}}}}));
    EXPECT_EQ(of_kind(all_complete, step_kind::cleanup_methods)[0]->params["mode"], "complete");
}

TEST(Planner, more_than_ten_accounts_get_temporary_access_passes) {
    std::vector<nlohmann::json> accounts;
    for (int i = 0; i < 11; ++i) accounts.push_back({{"upn", "user" + std::to_string(i) + "@contoso.com"}});
    const auto p = planned(request(accounts));
    EXPECT_EQ(p.delivery, credential_delivery::tap);
    for (const auto& a : p.accounts) EXPECT_TRUE(a.tap) << a.upn;
    EXPECT_TRUE(of_kind(p, step_kind::issue_tap).empty()) << "issued at reveal";
    accounts.pop_back();
    EXPECT_EQ(planned(request(accounts)).delivery, credential_delivery::password);
}

TEST(Planner, deleting_an_application_waits_for_approval) {
    const auto p = planned(request(
        {{{"upn", "ap.clerk@contoso.com"}}},
        {{"malicious_apps", {{{"app_id", "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34"}, {"delete_application", true}}}}}));
    const auto deletes = of_kind(p, step_kind::delete_application);
    ASSERT_EQ(deletes.size(), 1u);
    EXPECT_TRUE(deletes[0]->requires_approval);
}

TEST(Planner, warns_about_synced_accounts_and_lists_permissions) {
    directory_facts synced;
    synced.on_premises_sync = true;
    const auto p =
        planned(request({{{"upn", "procurement.mgr@contoso.com"}}}), {{"procurement.mgr@contoso.com", synced}});
    ASSERT_EQ(p.warnings.size(), 1u);
    EXPECT_NE(p.warnings[0].find("on-premises"), std::string::npos);
    EXPECT_NE(std::find(p.permissions.begin(), p.permissions.end(), "Policy.ReadWrite.ConditionalAccess"),
              p.permissions.end());
    EXPECT_TRUE(std::is_sorted(p.permissions.begin(), p.permissions.end()));
}

TEST(Planner, warns_when_an_attacker_ip_lies_inside_an_excluded_ir_named_location) {
    auto t = contoso();
    t.ir_location_ranges = {"203.0.113.0/24", "2001:db8:1::/48"};
    const auto r = request({{{"upn", "ap.clerk@contoso.com"}}},
                           {{"attacker_ips", {"198.51.100.7", "203.0.113.9", "2001:db8:1::5", "2001:db8:2::5"}}});
    const auto p = planned(r, {}, t);
    ASSERT_EQ(p.warnings.size(), 2u) << p.warnings.front();
    EXPECT_NE(p.warnings[0].find("attacker IP 203.0.113.9 lies inside an IR named location"), std::string::npos)
        << p.warnings[0];
    EXPECT_NE(p.warnings[1].find("attacker IP 2001:db8:1::5"), std::string::npos) << p.warnings[1];
    // Before the tenant check has read the ranges there is nothing to compare with.
    EXPECT_TRUE(planned(r).warnings.empty());
}

TEST(Planner, the_same_inputs_give_the_same_plan) {
    auto r = request({{{"upn", "ap.clerk@contoso.com"}}, {{"upn", "cfo.assistant@contoso.com"}}});
    EXPECT_EQ(to_json(planned(r)), to_json(planned(r)));
    EXPECT_EQ(to_json(planned(r))["scope"]["exclude_users"],
              nlohmann::json::array({"breakglass1@contoso.com", "breakglass2@contoso.com"}));
}
