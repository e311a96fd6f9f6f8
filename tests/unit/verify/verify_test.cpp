// The pure diagnosis of DOMAIN.md step 7 (lib/verify): settled vs unsettled window, residual
// exposure windows from the last issuance, new tokens after propagation, strangers from attacker
// IPs, duplicates, and when "contained" may be said. Times are relative to containment at 10:00.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/time.hpp"
#include "verify/verify.hpp"

using namespace containd;
using namespace containd::verify;

namespace {

const time_point contained = *parse_rfc3339("2026-03-12T10:00:00Z");
constexpr const char* clerk = "ap.clerk@contoso.com";
constexpr const char* director = "finance.director@contoso.com";
constexpr const char* doc_sync = "3f1b2a9c-8d7e-4c6b-a5f4-e3d2c1b0a987";

// A check that ran at contained + ran (default allowance 10 min, propagation 15, max lifetime 90).
check_context context(duration ran) {
    check_context c;
    c.contained_at = contained;
    c.now = contained + ran;
    c.offset = ran;
    c.upns = {clerk, director};
    c.revoked_at = {{clerk, contained + seconds(20)}, {director, contained + seconds(20)}};
    c.app_ids = {doc_sync};
    c.attacker_ips = {"203.0.113.66"};
    c.ir_cidrs = {"198.51.100.0/24"};
    c.protected_upns = {"breakglass2@contoso.com"};
    c.apps_contained_at = contained + minutes(3);
    return c;
}

int next_id = 0;

signin user_signin(const std::string& upn, duration after, int error = 0, std::string ca = "success",
                   std::string ip = "203.0.113.66", std::string client = "Browser") {
    signin s;
    s.at = contained + after;
    s.id = "rec-" + std::to_string(++next_id);
    s.correlation_id = "corr-" + std::to_string(next_id);
    s.upn = upn;
    s.app_id = "00000002-0000-0ff1-ce00-000000000000";
    s.app_name = "Office 365 Exchange Online";
    s.ip = std::move(ip);
    s.client_app = std::move(client);
    s.error_code = error;
    s.ca_status = std::move(ca);
    return s;
}

signin app_signin(const std::string& app_id, duration after, std::string ip, int error = 0) {
    signin s;
    s.source = signin_source::service_principal;
    s.at = contained + after;
    s.id = "rec-" + std::to_string(++next_id);
    s.app_id = app_id;
    s.app_name = app_id == doc_sync ? "Document Sync Pro" : "Mailbox Backup Helper";
    s.ip = std::move(ip);
    s.error_code = error;
    s.ca_status = "notApplied";
    return s;
}

bool has(const check_result& r, const std::string& cause) {
    return std::find(r.causes.begin(), r.causes.end(), cause) != r.causes.end();
}

bool says(const std::vector<std::string>& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

std::string all(const check_result& r) {
    std::string out = r.verdict;
    for (const auto& d : r.diagnosis) out += "\n  " + d;
    return out;
}

}  // namespace

// The settled window: a check at T has settled only through T - allowance.
TEST(Verify, contained_only_once_the_settled_window_covers_the_horizon) {
    // The attacker's CAE client: last token at -20m, refused at +6m after the revocation.
    std::vector<signin> logs = {user_signin(director, -minutes(20)),
                                user_signin(director, minutes(6), 50126, "notApplied")};
    auto at60 = analyse(context(minutes(60)), logs);
    EXPECT_EQ(at60.verdict, "verifying") << all(at60);
    EXPECT_EQ(at60.settled_through, contained + minutes(50));
    ASSERT_TRUE(at60.confirm_at);
    EXPECT_EQ(*at60.confirm_at, contained + minutes(70));

    auto at70 = analyse(context(minutes(70)), logs);
    EXPECT_EQ(at70.verdict, "contained") << all(at70);
    EXPECT_FALSE(at70.confirm_at);
    ASSERT_EQ(at70.windows.size(), 1u);
    EXPECT_EQ(at70.windows[0].basis, "refused");
    EXPECT_TRUE(at70.windows[0].ended);
    EXPECT_EQ(at70.windows[0].ends, contained + minutes(6));
    EXPECT_TRUE(says(at70.diagnosis, "came back for a new token at +6m and was refused (50126)")) << all(at70);
}

// Boundary: settled_through exactly at the horizon is enough; one second short is not.
TEST(Verify, the_allowance_edge_is_inclusive) {
    auto exactly = analyse(context(minutes(70)), {});
    EXPECT_EQ(exactly.verdict, "contained") << all(exactly);
    auto short_by_a_second = analyse(context(minutes(70) - seconds(1)), {});
    EXPECT_EQ(short_by_a_second.verdict, "verifying");
    EXPECT_EQ(*short_by_a_second.confirm_at, contained + minutes(70));
}

// A record exactly at the settled edge counts as settled; one second later it is in the tail.
TEST(Verify, a_record_exactly_at_the_allowance_edge_is_settled) {
    auto r = analyse(context(minutes(30)), {user_signin(director, minutes(20), 53003, "failure"),
                                            user_signin(director, minutes(20) + seconds(1), 53003, "failure")});
    EXPECT_EQ(r.settled_through, contained + minutes(20));
    EXPECT_EQ(r.unsettled_records, 1);
    EXPECT_EQ(r.unsettled_attacker_successes, 0);
}

// A non-CAE token issued just before containment: no refusal seen, so its window is bounded by
// the maximum lifetime and the verdict waits for it; never "expired since".
TEST(Verify, a_token_without_a_refusal_keeps_the_incident_verifying_until_its_bound) {
    std::vector<signin> logs = {
        user_signin(clerk, -minutes(1), 0, "success", "203.0.113.66", "Mobile Apps and Desktop clients")};
    auto at70 = analyse(context(minutes(70)), logs);
    EXPECT_EQ(at70.verdict, "verifying") << all(at70);
    ASSERT_EQ(at70.windows.size(), 1u);
    EXPECT_EQ(at70.windows[0].basis, "max_lifetime");
    EXPECT_FALSE(at70.windows[0].ended);
    EXPECT_EQ(at70.windows[0].ends, contained + minutes(89));
    EXPECT_EQ(*at70.confirm_at, contained + minutes(89));
    EXPECT_TRUE(says(at70.diagnosis, "at the latest")) << all(at70);
    EXPECT_FALSE(says(at70.diagnosis, "expired since"));

    auto at89 = analyse(context(minutes(89)), logs);
    EXPECT_EQ(at89.verdict, "contained") << all(at89);
    EXPECT_TRUE(at89.windows[0].ended);
    EXPECT_FALSE(says(at89.diagnosis, "expired since"));
}

// A 24 h token-lifetime policy: the bound is 24 h, the incident stays verifying, and the
// confirmation check is scheduled at the window's end.
TEST(Verify, a_long_token_lifetime_policy_moves_the_bound) {
    auto ctx = context(minutes(70));
    ctx.max_token_lifetime = std::chrono::hours(24);
    auto r = analyse(ctx, {user_signin(clerk, -minutes(5))});
    EXPECT_EQ(r.verdict, "verifying");
    ASSERT_EQ(r.windows.size(), 1u);
    EXPECT_EQ(r.windows[0].ends, contained - minutes(5) + std::chrono::hours(24));
    EXPECT_EQ(*r.confirm_at, r.windows[0].ends);
    EXPECT_TRUE(says(r.diagnosis, "maximum access-token lifetime 1440 min"));
}

// A token that expired before containment at the latest opens no window.
TEST(Verify, an_issuance_older_than_the_maximum_lifetime_opens_no_window) {
    auto r = analyse(context(minutes(70)), {user_signin(clerk, -minutes(91))});
    EXPECT_TRUE(r.windows.empty());
    EXPECT_EQ(r.verdict, "contained");
}

// Any attacker success after revocation + propagation: attention at once, at the first check
// that sees it (even in the unsettled tail), with the path diagnosed.
TEST(Verify, a_success_after_propagation_is_attention_at_once) {
    auto r = analyse(context(minutes(30)), {user_signin(clerk, minutes(25))});
    EXPECT_EQ(r.verdict, "attention") << all(r);
    EXPECT_EQ(r.unsettled_attacker_successes, 1);
    EXPECT_TRUE(has(r, "new_token_after_revocation"));
    EXPECT_TRUE(says(r.attention, "conditionalAccessStatus success: a policy applied and did not block")) << all(r);
}

// Boundary: revocation + propagation exactly is still inside propagation; one second later is not.
TEST(Verify, the_propagation_edge) {
    const auto edge = seconds(20) + minutes(15);
    auto inside = analyse(context(minutes(30)), {user_signin(clerk, edge)});
    EXPECT_NE(inside.verdict, "attention") << all(inside);
    ASSERT_EQ(inside.windows.size(), 1u);
    EXPECT_EQ(inside.windows[0].opened, contained + edge);
    auto outside = analyse(context(minutes(30)), {user_signin(clerk, edge + seconds(1))});
    EXPECT_EQ(outside.verdict, "attention") << all(outside);
}

TEST(Verify, the_path_is_diagnosed_from_what_the_record_says) {
    // From the excluded IR location, not covered by the policy, over IMAP.
    auto r = analyse(context(minutes(45)), {user_signin(clerk, minutes(40), 0, "notApplied", "198.51.100.9", "IMAP")});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "excluded_location"));
    EXPECT_TRUE(has(r, "scope_gap"));
    EXPECT_TRUE(has(r, "legacy_protocol"));
    EXPECT_TRUE(says(r.attention, "inside the IR named location the block excludes")) << all(r);
    EXPECT_TRUE(says(r.attention, "a legacy protocol (IMAP)"));
    EXPECT_TRUE(says(r.attention, "198.51.100.9 is not one of the incident's attacker IPs"));
}

TEST(Verify, not_applied_means_the_scope_misses_the_user_even_within_propagation) {
    auto r = analyse(context(minutes(15)), {user_signin(clerk, minutes(5), 0, "notApplied")});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "scope_gap"));
    EXPECT_TRUE(says(r.attention, "after containment"));
}

TEST(Verify, a_service_principal_signing_in_after_cleanup_is_persistence) {
    auto before = analyse(context(minutes(15)), {app_signin(doc_sync, minutes(1), "203.0.113.77")});
    EXPECT_NE(before.verdict, "attention");
    ASSERT_EQ(before.windows.size(), 1u) << "its token from +1m is a residual window";
    EXPECT_EQ(before.windows[0].subject, std::string("app:") + doc_sync);

    auto after = analyse(context(minutes(30)), {app_signin(doc_sync, minutes(20), "203.0.113.77")});
    EXPECT_EQ(after.verdict, "attention");
    EXPECT_TRUE(has(after, "persistence"));
    EXPECT_EQ(after.findings[0].subject, std::string("app:") + doc_sync);
    EXPECT_TRUE(says(after.attention, "service principal"));
}

// Item 4: an app or an account the incident does not name, seen from an attacker IP.
TEST(Verify, an_unnamed_app_from_an_attacker_ip_is_attention_and_elsewhere_is_not) {
    constexpr const char* hidden = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
    auto benign = analyse(context(minutes(70)), {app_signin(hidden, minutes(20), "198.18.7.7")});
    EXPECT_EQ(benign.verdict, "contained");
    auto r = analyse(context(minutes(15)), {app_signin(hidden, minutes(2), "203.0.113.66")});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "unknown_app"));
    EXPECT_TRUE(has(r, "persistence"));
    EXPECT_TRUE(says(r.attention, std::string(hidden) + " (Mailbox Backup Helper), not named in the incident"));
    ASSERT_EQ(r.findings.size(), 1u) << "shown in the findings too";
    EXPECT_EQ(r.findings[0].subject, std::string("app:") + hidden);
    EXPECT_EQ(r.findings[0].successes, 1);
}

TEST(Verify, an_unnamed_account_from_an_attacker_ip_is_attention) {
    auto r = analyse(context(minutes(15)), {user_signin("hr.partner@contoso.com", minutes(3), 50126, "notApplied")});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "unknown_account"));
    EXPECT_TRUE(says(r.attention, "account hr.partner@contoso.com, not named in the incident"));
    auto elsewhere =
        analyse(context(minutes(70)), {user_signin("hr.partner@contoso.com", minutes(3), 0, "success", "192.0.2.10")});
    EXPECT_EQ(elsewhere.verdict, "contained");
}

TEST(Verify, an_attacker_ip_inside_the_excluded_ir_location_is_attention) {
    auto ctx = context(minutes(15));
    ctx.attacker_ips.push_back("198.51.100.40");
    auto r = analyse(ctx, {});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "attacker_ip_excluded"));
    EXPECT_TRUE(says(r.attention, "attacker IP 198.51.100.40 lies inside the IR named location"));
}

TEST(Verify, the_ir_team_locked_out_is_an_alert) {
    auto from_ir_location = user_signin("ir.lead@contoso.com", minutes(4), 53003, "failure", "198.51.100.17");
    auto break_glass = user_signin("breakglass2@contoso.com", minutes(6), 53003, "failure", "192.0.2.10");
    auto r = analyse(context(minutes(15)), {from_ir_location, break_glass});
    EXPECT_EQ(r.verdict, "attention");
    EXPECT_TRUE(has(r, "ir_lockout"));
    EXPECT_EQ(r.attention.size(), 2u);
}

TEST(Verify, failures_from_attacker_ips_show_the_block_works) {
    auto r = analyse(context(minutes(70)),
                     {user_signin(director, -minutes(30)), user_signin(director, minutes(9), 53003, "failure")});
    EXPECT_EQ(r.verdict, "contained") << all(r);
    EXPECT_TRUE(has(r, "block_works"));
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].fail_codes, std::vector<std::string>{"53003"});
}

// A refusal before the last issuance does not close the later token's window.
TEST(Verify, a_refusal_closes_only_a_window_opened_before_it) {
    std::vector<signin> logs = {user_signin(clerk, -minutes(40), 50126, "notApplied"),
                                user_signin(clerk, -minutes(10))};
    auto r = analyse(context(minutes(70)), logs);
    ASSERT_EQ(r.windows.size(), 1u);
    EXPECT_EQ(r.windows[0].basis, "max_lifetime");
    EXPECT_EQ(r.verdict, "verifying");
    // From another IP the refusal is another client's: it does not close this window either.
    logs.push_back(user_signin(clerk, minutes(5), 53003, "failure", "203.0.113.99"));
    const auto other = analyse(context(minutes(70)), logs);
    ASSERT_EQ(other.windows.size(), 1u);
    EXPECT_EQ(other.windows[0].basis, "max_lifetime");
    // The same client refused after its last token: observed, ended.
    logs.push_back(user_signin(clerk, minutes(7), 53003, "failure"));
    const auto same = analyse(context(minutes(70)), logs);
    ASSERT_EQ(same.windows.size(), 1u);
    EXPECT_EQ(same.windows[0].basis, "refused");
    EXPECT_EQ(same.verdict, "contained");
}

// Microsoft republishes records: the same id, or the same correlationId at the same time for the
// same subject and outcome, counts once.
TEST(Verify, duplicate_records_by_id_and_correlation_id_count_once) {
    auto first = user_signin(clerk, minutes(25));
    auto same_id = first;
    auto republished = first;
    republished.id = "another-id";
    auto other_outcome = first;
    other_outcome.id = "third-id";
    other_outcome.error_code = 53003;
    other_outcome.ca_status = "failure";
    auto r = analyse(context(minutes(30)), {first, same_id, republished, other_outcome});
    EXPECT_EQ(r.duplicates, 2);
    EXPECT_EQ(r.records, 2);
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].successes, 1);
    EXPECT_EQ(r.findings[0].failures, 1);
    EXPECT_TRUE(says(r.attention, "obtained 1 token(s)")) << all(r);
}

TEST(Verify, methods_to_confirm_and_what_logs_cannot_prove_are_stated) {
    auto ctx = context(minutes(70));
    ctx.confirm_with_user = {"ap.clerk@contoso.com: kept microsoftAuthenticator method m1; confirm it with the user"};
    auto r = analyse(ctx, {});
    EXPECT_EQ(r.verdict, "contained");
    EXPECT_EQ(r.confirm_with_user, ctx.confirm_with_user);
    EXPECT_TRUE(says(r.cannot_prove, "not tokens being used"));
    EXPECT_TRUE(says(r.cannot_prove, "settled the window only through 2026-03-12T11:00:00.000Z"));
    const auto j = to_json(r);
    EXPECT_EQ(j["settled_through"], "2026-03-12T11:00:00.000Z");
    EXPECT_TRUE(j["residual_windows"].is_array());
    EXPECT_FALSE(j.contains("confirm_at"));
}

TEST(Verify, legacy_protocols_are_recognised) {
    for (const char* c : {"IMAP", "IMAP4", "POP3", "Authenticated SMTP", "Exchange ActiveSync", "Other clients"})
        EXPECT_TRUE(legacy_protocol(c)) << c;
    for (const char* c : {"Browser", "Mobile Apps and Desktop clients", ""}) EXPECT_FALSE(legacy_protocol(c)) << c;
}
