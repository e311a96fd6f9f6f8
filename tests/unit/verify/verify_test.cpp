#include <gtest/gtest.h>

#include "core/time.hpp"
#include "verify/verify.hpp"

using namespace containd;
using namespace containd::verify;

namespace {

const time_point contained = *parse_rfc3339("2026-03-12T10:00:00Z");

check_context context(duration offset) {
    check_context c;
    c.contained_at = contained;
    c.offset = offset;
    c.final_check = offset >= minutes(60);
    c.upns = {"ap.clerk@contoso.com", "finance.director@contoso.com"};
    c.app_ids = {"3f1b2a9c-8d7e-4c6b-a5f4-e3d2c1b0a987"};
    c.attacker_ips = {"203.0.113.66"};
    c.ir_cidrs = {"198.51.100.0/24"};
    c.protected_upns = {"breakglass2@contoso.com"};
    c.apps_contained_at = contained + minutes(3);
    return c;
}

signin user_signin(const std::string& upn, duration after, int error = 0, std::string ca = "success",
                   std::string ip = "203.0.113.66") {
    signin s;
    s.at = contained + after;
    s.upn = upn;
    s.app_id = "00000002-0000-0ff1-ce00-000000000000";
    s.app_name = "Office 365 Exchange Online";
    s.ip = std::move(ip);
    s.error_code = error;
    s.ca_status = std::move(ca);
    return s;
}

bool has(const check_result& r, const std::string& cause) {
    return std::find(r.causes.begin(), r.causes.end(), cause) != r.causes.end();
}

}  // namespace

TEST(Verify, cae_cut_sessions_within_fifteen_minutes) {
    auto r = analyse(context(minutes(15)), {user_signin("ap.clerk@contoso.com", minutes(2)),
                                            user_signin("ap.clerk@contoso.com", minutes(9), 53003, "failure")});
    EXPECT_EQ(r.verdict, "contained");
    EXPECT_TRUE(has(r, "cae"));
    EXPECT_TRUE(has(r, "block_works"));
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].successes, 1);
    EXPECT_EQ(r.findings[0].failures, 1);
    EXPECT_EQ(r.findings[0].fail_codes, std::vector<std::string>{"53003"});
}

TEST(Verify, a_non_cae_token_succeeds_at_thirty_and_is_gone_at_sixty) {
    std::vector<signin> logs = {user_signin("finance.director@contoso.com", minutes(12)),
                                user_signin("finance.director@contoso.com", minutes(28))};
    auto at30 = analyse(context(minutes(30)), logs);
    EXPECT_EQ(at30.verdict, "contained");
    EXPECT_TRUE(has(at30, "non_cae_token"));
    logs.push_back(user_signin("finance.director@contoso.com", minutes(52), 53003, "failure"));
    auto at60 = analyse(context(minutes(60)), logs);
    EXPECT_EQ(at60.verdict, "contained");
    EXPECT_TRUE(has(at60, "non_cae_token"));
    EXPECT_TRUE(std::any_of(at60.diagnosis.begin(), at60.diagnosis.end(),
                            [](const std::string& d) { return d.find("has expired since") != std::string::npos; }));
}

TEST(Verify, success_after_sixty_minutes_is_persistence) {
    auto r = analyse(context(minutes(60)), {user_signin("ap.clerk@contoso.com", minutes(61))});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "persistence"));
}

TEST(Verify, a_service_principal_signing_in_after_cleanup_is_persistence) {
    signin sp;
    sp.source = signin_source::service_principal;
    sp.app_id = "3f1b2a9c-8d7e-4c6b-a5f4-e3d2c1b0a987";
    sp.app_name = "Document Sync Pro";
    sp.ip = "203.0.113.77";
    sp.at = contained + minutes(1);  // before cleanup: expected
    auto before = analyse(context(minutes(15)), {sp});
    EXPECT_EQ(before.verdict, "contained");
    sp.at = contained + minutes(20);
    auto after = analyse(context(minutes(30)), {sp});
    EXPECT_EQ(after.verdict, "attention");
    EXPECT_TRUE(has(after, "persistence"));
    EXPECT_EQ(after.findings[0].subject, "app:3f1b2a9c-8d7e-4c6b-a5f4-e3d2c1b0a987");
}

TEST(Verify, not_applied_means_the_scope_misses_the_user) {
    auto r = analyse(context(minutes(15)),
                     {user_signin("ap.clerk@contoso.com", minutes(5), 0, "notApplied")});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "scope_gap"));
}

TEST(Verify, the_ir_team_locked_out_is_an_alert) {
    auto from_ir_location = user_signin("ir.lead@contoso.com", minutes(4), 53003, "failure", "198.51.100.17");
    auto break_glass = user_signin("breakglass2@contoso.com", minutes(6), 53003, "failure", "192.0.2.10");
    auto r = analyse(context(minutes(15)), {from_ir_location, break_glass});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "ir_lockout"));
    EXPECT_EQ(r.diagnosis.size(), 2u);
}

TEST(Verify, ignores_other_users_and_sign_ins_before_containment) {
    auto r = analyse(context(minutes(60)), {user_signin("someone.else@contoso.com", minutes(70)),
                                            user_signin("ap.clerk@contoso.com", -minutes(5))});
    EXPECT_EQ(r.verdict, "contained");
    EXPECT_TRUE(r.findings.empty());
}

TEST(Verify, matches_ipv4_and_ipv6_ranges) {
    EXPECT_TRUE(ip_in_ranges("198.51.100.200", {"198.51.100.0/24"}));
    EXPECT_FALSE(ip_in_ranges("198.51.101.1", {"198.51.100.0/24"}));
    EXPECT_TRUE(ip_in_ranges("2001:db8::1", {"2001:db8::/32"}));
    EXPECT_FALSE(ip_in_ranges("2001:db9::1", {"2001:db8::/32"}));
    EXPECT_TRUE(ip_in_ranges("192.0.2.1", {"192.0.2.1"}));
    EXPECT_FALSE(ip_in_ranges("not-an-ip", {"0.0.0.0/0"}));
    EXPECT_FALSE(ip_in_ranges("192.0.2.1", {"2001:db8::/32", "bad/99"}));
}

// An app the SOC did not name, signing in as its service principal from an attacker IP, is the
// attacker's second foothold; the same app from elsewhere is the tenant's own traffic.
TEST(Verify, an_unnamed_app_from_an_attacker_ip_is_persistence_and_elsewhere_is_not) {
    signin sp;
    sp.source = signin_source::service_principal;
    sp.at = contained + minutes(20);
    sp.app_id = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
    sp.app_name = "Mailbox Backup Helper";
    sp.ip = "198.18.7.7";
    auto benign = analyse(context(minutes(30)), {sp});
    EXPECT_EQ(benign.verdict, "contained");
    EXPECT_FALSE(has(benign, "persistence"));

    sp.ip = "203.0.113.66";
    auto r = analyse(context(minutes(30)), {sp});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "persistence"));
    EXPECT_TRUE(std::any_of(r.diagnosis.begin(), r.diagnosis.end(), [&](const std::string& d) {
        return d.find(sp.app_id) != std::string::npos && d.find("not named in the incident") != std::string::npos;
    }));
}
