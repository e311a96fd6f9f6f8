// The tenant preflight's Graph-read checks (daemon/health.hpp): the app's directory role for
// resetting privileged users, the expiry of the credential containd presents and the IR named
// locations, from the answers Graph gives (or refuses), and what /metrics and the table make of
// them.

#include <gtest/gtest.h>

#include <cstdlib>

#include <boost/asio/io_context.hpp>

#include "core/time.hpp"
#include "health.hpp"

using namespace containd;
using namespace containd::daemon;
using nlohmann::json;

namespace {

time_point at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }
const time_point now = at("2026-03-18T10:00:00Z");

graph::directory_role role(std::string name, std::string template_id) {
    graph::directory_role r;
    r.id = "r-" + template_id;
    r.display_name = std::move(name);
    r.role_template_id = std::move(template_id);
    return r;
}
const auto paa = role("Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13");
const auto ga = role("Global Administrator", "62e90394-69f5-4237-9190-012177145e10");
const auto ua = role("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1");
const auto helpdesk = role("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8");

graph::list_reply<graph::directory_role> roles_read(std::vector<graph::directory_role> held) {
    graph::list_reply<graph::directory_role> r;
    r.call.status = 200;
    r.items = std::move(held);
    return r;
}

graph::call_result denied() {
    graph::call_result c;
    c.status = 403;
    c.error_code = "Authorization_RequestDenied";
    c.error_message = "Insufficient privileges to complete the operation.";
    return c;
}

graph::reply<std::optional<graph::application_info>> app_read(const json& app) {
    graph::reply<std::optional<graph::application_info>> r;
    r.call.status = 200;
    r.value = graph::parse_application(app);
    return r;
}

json password_credential(const std::string& hint, const char* end) {
    return {{"keyId", "k-" + hint + end}, {"hint", hint}, {"endDateTime", end}};
}

credential_identity own_secret(std::string hint = "s3c") {
    credential_identity id;
    id.secret_hint = std::move(hint);
    return id;
}

}  // namespace

TEST(DirectoryRole, privileged_authentication_administrator_or_global_administrator_pass) {
    for (const auto& held : {std::vector{paa}, std::vector{ga}, std::vector{ua, paa}}) {
        const auto f = directory_role_finding(roles_read(held));
        EXPECT_EQ(f.row.check, "directory role");
        EXPECT_TRUE(f.row.ok) << f.row.detail;
        EXPECT_FALSE(f.row.warning);
        EXPECT_FALSE(f.gap);
        EXPECT_NE(f.row.detail.find("password resets of privileged accounts are allowed"), std::string::npos);
    }
    // Graph may leave the name out (limited information): the template id is enough.
    EXPECT_FALSE(directory_role_finding(roles_read({role("", "62e90394-69f5-4237-9190-012177145e10")})).gap);
}

TEST(DirectoryRole, user_administrator_alone_is_a_gap_for_privileged_accounts) {
    const auto f = directory_role_finding(roles_read({ua, helpdesk}));
    EXPECT_FALSE(f.row.ok);
    ASSERT_TRUE(f.gap);
    EXPECT_EQ(f.gap->rfind("directory role: ", 0), 0u);
    EXPECT_NE(f.gap->find("holds User Administrator, Helpdesk Administrator"), std::string::npos) << *f.gap;
    EXPECT_NE(f.gap->find("not Privileged Authentication Administrator or Global Administrator"), std::string::npos);
    EXPECT_NE(f.gap->find("password resets of privileged accounts will be refused"), std::string::npos);
    EXPECT_EQ(f.gap->find("every other account"), std::string::npos) << *f.gap;
}

TEST(DirectoryRole, no_role_is_a_gap_for_every_reset) {
    const auto f = directory_role_finding(roles_read({}));
    ASSERT_TRUE(f.gap);
    EXPECT_NE(f.gap->find("holds no directory role"), std::string::npos) << *f.gap;
    EXPECT_NE(f.gap->find("every other account too"), std::string::npos) << *f.gap;
}

TEST(DirectoryRole, roles_listed_without_names_are_a_warning_not_a_gap) {
    const auto f = directory_role_finding(roles_read({role("", "")}));
    EXPECT_TRUE(f.row.warning);
    EXPECT_FALSE(f.gap);
    EXPECT_NE(f.row.detail.find("RoleManagement.Read.Directory"), std::string::npos) << f.row.detail;
    // One readable privileged role is enough.
    EXPECT_FALSE(directory_role_finding(roles_read({role("", ""), paa})).row.warning);
}

TEST(DirectoryRole, a_refused_read_is_a_warning_row_not_a_gap) {
    graph::list_reply<graph::directory_role> r;
    r.call = denied();
    const auto f = directory_role_finding(r);
    EXPECT_TRUE(f.row.ok);
    EXPECT_TRUE(f.row.warning);
    EXPECT_FALSE(f.gap);
    ASSERT_TRUE(f.warning);
    EXPECT_NE(f.row.detail.find("not checked"), std::string::npos);
    EXPECT_NE(f.row.detail.find("403 Authorization_RequestDenied"), std::string::npos) << f.row.detail;
    EXPECT_NE(f.row.detail.find("Application.Read.All"), std::string::npos) << f.row.detail;
}

TEST(Credential, the_secret_containd_presents_is_picked_out_by_its_hint) {
    // An old secret expired last week, a fresh one (ours) ends in 200 days, another app secret in 5.
    const json app = {
        {"id", "a1"},
        {"appId", "c1"},
        {"passwordCredentials",
         {password_credential("old", "2026-03-10T00:00:00Z"), password_credential("s3c", "2026-10-04T10:00:00Z"),
          password_credential("oth", "2026-03-23T10:00:00Z")}}};
    const auto f = credential_finding(app_read(app), own_secret(), now);
    EXPECT_TRUE(f.row.ok);
    EXPECT_FALSE(f.row.warning) << f.row.detail;
    EXPECT_FALSE(f.gap);
    EXPECT_EQ(f.credential_expires, at("2026-10-04T10:00:00Z"));
    EXPECT_EQ(f.row.detail, "the client secret expires on 2026-10-04 (in 200 days)");
    // Without a matching hint, every secret counts: the soonest still ahead.
    const auto g = credential_finding(app_read(app), own_secret("zzz"), now);
    EXPECT_EQ(g.credential_expires, at("2026-03-23T10:00:00Z"));
    EXPECT_TRUE(g.row.warning);
}

TEST(Credential, under_30_days_is_a_warning_and_past_its_end_a_gap) {
    auto f = credential_finding(
        app_read({{"id", "a1"}, {"passwordCredentials", {password_credential("s3c", "2026-03-28T10:00:00Z")}}}),
        own_secret(), now);
    EXPECT_TRUE(f.row.ok);
    EXPECT_TRUE(f.row.warning);
    EXPECT_FALSE(f.gap);
    ASSERT_TRUE(f.warning);
    EXPECT_NE(f.warning->find("expires on 2026-03-28 (in 10 days)"), std::string::npos) << *f.warning;
    EXPECT_EQ(f.credential_expires, at("2026-03-28T10:00:00Z"));

    f = credential_finding(
        app_read({{"id", "a1"}, {"passwordCredentials", {password_credential("s3c", "2026-03-17T10:00:00Z")}}}),
        own_secret(), now);
    EXPECT_FALSE(f.row.ok);
    ASSERT_TRUE(f.gap);
    EXPECT_NE(f.gap->find("the client secret expired on 2026-03-17"), std::string::npos) << *f.gap;
    EXPECT_EQ(f.credential_expires, at("2026-03-17T10:00:00Z"));
}

TEST(Credential, a_certificate_is_picked_out_by_its_thumbprint) {
    credential_identity cert;
    cert.certificate = true;
    cert.sha1_thumbprint =
        std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 20);
    const json app = {{"id", "a1"},
                      {"passwordCredentials", {password_credential("s3c", "2026-03-20T00:00:00Z")}},
                      {"keyCredentials",
                       {{{"keyId", "k1"},
                         {"customKeyIdentifier", "AQIDBAUGBwgJCgsMDQ4PEBESExQ="},
                         {"endDateTime", "2027-01-01T00:00:00Z"}},
                        {{"keyId", "k2"}, {"customKeyIdentifier", "AAAA"}, {"endDateTime", "2026-04-01T00:00:00Z"}}}}};
    const auto f = credential_finding(app_read(app), cert, now);
    EXPECT_EQ(f.credential_expires, at("2027-01-01T00:00:00Z"));
    EXPECT_NE(f.row.detail.find("the certificate expires on 2027-01-01"), std::string::npos) << f.row.detail;
}

TEST(Credential, what_cannot_be_read_says_so) {
    graph::reply<std::optional<graph::application_info>> refused;
    refused.call = denied();
    auto f = credential_finding(refused, own_secret(), now);
    EXPECT_TRUE(f.row.warning);
    EXPECT_FALSE(f.gap);
    EXPECT_FALSE(f.credential_expires);
    EXPECT_NE(f.row.detail.find("not checked"), std::string::npos);

    graph::reply<std::optional<graph::application_info>> none;  // no application object in this tenant
    none.call.status = 200;
    f = credential_finding(none, own_secret(), now);
    EXPECT_TRUE(f.row.ok);
    EXPECT_FALSE(f.row.warning);
    EXPECT_NE(f.row.detail.find("home tenant"), std::string::npos);

    f = credential_finding(app_read({{"id", "a1"}, {"passwordCredentials", json::array()}}), own_secret(), now);
    EXPECT_TRUE(f.row.warning);
    EXPECT_NE(f.row.detail.find("lists no client secret"), std::string::npos);
}

TEST(NamedLocations, each_configured_location_must_exist_and_gives_its_ranges) {
    graph::list_reply<json> read;
    read.call.status = 200;
    read.items = {
        {{"id", "loc-ir"},
         {"displayName", "IR team"},
         {"ipRanges", {{{"cidrAddress", "203.0.113.0/24"}}, {{"cidrAddress", "2001:db8:1::/48"}}}}},
        {{"id", "loc-other"}, {"displayName", "Head office"}, {"ipRanges", {{{"cidrAddress", "192.0.2.0/24"}}}}},
        {{"id", "loc-country"}, {"displayName", "Blocked countries"}, {"countriesAndRegions", {"KP"}}}};
    auto f = named_locations_finding(read, {"loc-ir", "loc-country"});
    EXPECT_TRUE(f.row.ok);
    EXPECT_FALSE(f.gap);
    ASSERT_TRUE(f.ir_location_ranges);
    EXPECT_EQ(*f.ir_location_ranges, (std::vector<std::string>{"203.0.113.0/24", "2001:db8:1::/48"}))
        << "only the configured locations' ranges";
    EXPECT_NE(f.row.detail.find("'IR team'"), std::string::npos) << f.row.detail;

    f = named_locations_finding(read, {"loc-ir", "loc-gone"});
    EXPECT_FALSE(f.row.ok);
    ASSERT_TRUE(f.gap);
    EXPECT_NE(f.gap->find("loc-gone"), std::string::npos) << *f.gap;
    EXPECT_EQ(f.gap->find("loc-ir"), std::string::npos) << "the one that exists is not named: " << *f.gap;

    graph::list_reply<json> refused;
    refused.call = denied();
    f = named_locations_finding(refused, {"loc-ir"});
    EXPECT_TRUE(f.row.warning);
    EXPECT_FALSE(f.gap);
    EXPECT_FALSE(f.ir_location_ranges) << "a failed read keeps what the engine knew";
    EXPECT_NE(f.row.detail.find("Policy.Read.All"), std::string::npos) << f.row.detail;
}

TEST(TenantHealth, the_expiry_metric_keeps_the_last_value_read) {
    tenant_health health;
    tenant_check c;
    c.tenant = "contoso";
    c.credential_expires = at("2026-03-28T10:00:00Z");
    c.warnings = {"credential: the client secret expires on 2026-03-28 (in 10 days)"};
    c.rows = {{"credential", true, true, "the client secret expires on 2026-03-28 (in 10 days)"}};
    health.record(c);
    const std::string line = "containd_tenant_credential_expiry_timestamp_seconds{tenant=\"contoso\"} " +
                             std::to_string(to_unix_ms(at("2026-03-28T10:00:00Z")) / 1000) + "\n";
    EXPECT_NE(health.metrics().find(line), std::string::npos) << health.metrics();
    EXPECT_NE(health.metrics().find("# TYPE containd_tenant_credential_expiry_timestamp_seconds gauge"),
              std::string::npos);
    const json j = health.to_json()["contoso"];
    EXPECT_EQ(j["credential_expires"], "2026-03-28T10:00:00.000Z");
    EXPECT_EQ(j["warnings"].size(), 1u);
    EXPECT_TRUE(j["checks"][0]["warning"].get<bool>());
    EXPECT_NE(c.table().find("WARN"), std::string::npos) << c.table();

    // A later preflight that could not read it (no token) keeps the last known value.
    tenant_check failed;
    failed.tenant = "contoso";
    failed.healthy = false;
    failed.token_failed = true;
    health.record(failed);
    EXPECT_NE(health.metrics().find(line), std::string::npos);
    // Nothing read for a tenant: no sample (and no empty family).
    tenant_health fresh;
    EXPECT_EQ(fresh.metrics().find("credential_expiry"), std::string::npos);
}

TEST(TenantClients, the_credential_identity_holds_only_the_hint_graph_shows) {
    ::setenv("CONTAIND_HEALTH_TEST_SECRET", "s3cr3t-value-of-the-test", 1);
    config::tenant_config t;
    t.settings.name = "contoso";
    t.directory_tenant = "contoso.onmicrosoft.com";
    t.client_id = "0c0ffee0-0000-4000-8000-00000000c0de";
    t.credential.secret_env = "CONTAIND_HEALTH_TEST_SECRET";
    boost::asio::io_context ioc;
    system_clock_source clock;
    tenant_clients clients(ioc.get_executor(), {t}, clock, config::engine_settings{});
    const auto* id = clients.credential("contoso");
    ASSERT_NE(id, nullptr);
    EXPECT_FALSE(id->certificate);
    EXPECT_EQ(id->secret_hint, "s3c");
    EXPECT_EQ(clients.credential("fabrikam"), nullptr);
}
