#include <gtest/gtest.h>

#include "config/config.hpp"
#include "core/time.hpp"

using namespace containd;
using namespace containd::config;

namespace {

nlohmann::json minimal() {
    return {{"database", "/var/lib/containd/containd.db"},
            {"api", {{"tokens", {{{"name", "soar"}, {"sha256", std::string(64, 'a')}, {"role", "submitter"}}}}}},
            {"tenants",
             {{{"name", "contoso"},
               {"directory_tenant", "contoso.onmicrosoft.com"},
               {"client_id", "11111111-2222-3333-4444-555555555555"},
               {"client_secret_env", "CONTAIND_CONTOSO_SECRET"},
               {"emergency_policy_id", "5a2f0c7e-1c3b-4a8e-9d6f-0b1e2c3d4e5f"},
               {"break_glass_accounts", {"BreakGlass1@contoso.com"}},
               {"verification_schedule_s", {15, 30, 60}}}}}};
}

std::vector<std::string> keys_of(const load_result& r) {
    std::vector<std::string> out;
    if (auto* e = std::get_if<std::vector<config_error>>(&r))
        for (const auto& x : *e) out.push_back(x.key);
    return out;
}

}  // namespace

TEST(Config, parses_a_valid_configuration_with_defaults) {
    auto r = parse_config(minimal(), "/etc/containd");
    ASSERT_TRUE(std::holds_alternative<daemon_config>(r)) << describe(std::get<std::vector<config_error>>(r));
    const auto& c = std::get<daemon_config>(r);
    EXPECT_EQ(c.api.bind_address, "127.0.0.1") << "loopback by default";
    EXPECT_EQ(c.vault_key_file, "/etc/containd/vault.key");
    ASSERT_EQ(c.tenants.size(), 1u);
    EXPECT_EQ(c.tenants[0].graph_base, "https://graph.microsoft.com");
    EXPECT_EQ(c.tenants[0].settings.break_glass_upns[0], "breakglass1@contoso.com");
    EXPECT_EQ(c.tenants[0].settings.verification_offsets[2], seconds(60));
    EXPECT_EQ(c.api.tokens[0].granted, role::submitter);
}

TEST(Config, names_every_bad_key) {
    auto doc = minimal();
    doc["tenants"][0]["client_id"] = "not-a-guid";
    doc["tenants"][0]["graph_base"] = "http://graph.microsoft.com";
    doc["tenants"][0]["colour"] = "blue";
    doc["api"]["tokens"][0]["role"] = "admin";
    doc["api"]["port"] = 70000;
    const auto keys = keys_of(parse_config(doc));
    for (const char* expected :
         {"tenants[0].client_id", "tenants[0].graph_base", "tenants[0].colour", "api.tokens[0].role", "api.port"})
        EXPECT_NE(std::find(keys.begin(), keys.end(), expected), keys.end()) << expected;
}

TEST(Config, refuses_secrets_written_into_the_file) {
    auto doc = minimal();
    doc["tenants"][0]["client_secret"] = "MARKER-SECRET-VALUE";
    doc["api"]["tokens"][0]["token"] = "MARKER-TOKEN-VALUE";
    auto r = parse_config(doc);
    ASSERT_TRUE(std::holds_alternative<std::vector<config_error>>(r));
    const std::string text = describe(std::get<std::vector<config_error>>(r));
    EXPECT_NE(text.find("tenants[0].client_secret"), std::string::npos);
    EXPECT_NE(text.find("api.tokens[0].token"), std::string::npos);
    EXPECT_EQ(text.find("MARKER"), std::string::npos) << "an error never echoes a secret";
}

TEST(Config, requires_exactly_one_credential_and_unique_tenants) {
    auto doc = minimal();
    doc["tenants"][0]["certificate_file"] = "cert.pem";
    doc["tenants"].push_back(doc["tenants"][0]);
    const auto keys = keys_of(parse_config(doc));
    EXPECT_NE(std::find(keys.begin(), keys.end(), "tenants[0].client_secret_file"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "tenants[0].certificate_file"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "tenants[1].name"), keys.end());
}

TEST(Config, rejects_a_decreasing_schedule_and_missing_tenants) {
    auto doc = minimal();
    doc["tenants"][0]["verification_schedule_s"] = {30, 15};
    EXPECT_EQ(keys_of(parse_config(doc)), std::vector<std::string>{"tenants[0].verification_schedule_s"});
    EXPECT_EQ(keys_of(parse_config(nlohmann::json::object())), std::vector<std::string>{"tenants"});
    EXPECT_FALSE(keys_of(load_config_file("/nonexistent/containd.json")).empty());
}

TEST(Config, the_simulator_takes_a_seed_that_replays_its_draws) {
    auto doc = minimal();
    doc["simulator"] = {{"scenario", "walkthrough.json"}, {"time_scale", 240}, {"seed", 20261204}};
    auto r = parse_config(doc, "/etc/containd");
    ASSERT_TRUE(std::holds_alternative<daemon_config>(r)) << ::testing::PrintToString(keys_of(r));
    const auto& sim = std::get<daemon_config>(r).simulator;
    ASSERT_TRUE(sim);
    EXPECT_EQ(sim->seed, 20261204u);
    EXPECT_EQ(sim->scenario_file, "/etc/containd/walkthrough.json");
    doc["simulator"]["seed"] = -1;
    EXPECT_EQ(keys_of(parse_config(doc)), std::vector<std::string>{"simulator.seed"});
}

TEST(Config, tenant_names_need_no_quoting_in_labels_or_logs) {
    for (const char* bad : {"con\"toso", "contoso tenant", "contoso\n", "x{y}"}) {
        auto doc = minimal();
        doc["tenants"][0]["name"] = bad;
        EXPECT_EQ(keys_of(parse_config(doc)), std::vector<std::string>{"tenants[0].name"}) << bad;
    }
    auto doc = minimal();
    doc["tenants"][0]["name"] = "contoso-eu.prod_2";
    EXPECT_TRUE(keys_of(parse_config(doc)).empty());
}

TEST(Config, api_tokens_may_expire_and_a_duplicated_hash_is_an_error) {
    auto doc = minimal();
    doc["api"]["tokens"][0]["expires"] = "2026-12-31T23:59:59Z";
    doc["api"]["tokens"].push_back({{"name", "noc"}, {"sha256", std::string(64, 'b')}, {"role", "viewer"}});
    auto r = parse_config(doc);
    ASSERT_TRUE(std::holds_alternative<daemon_config>(r)) << describe(std::get<std::vector<config_error>>(r));
    const auto& c = std::get<daemon_config>(r);
    ASSERT_TRUE(c.api.tokens[0].expires);
    EXPECT_EQ(format_rfc3339(*c.api.tokens[0].expires), "2026-12-31T23:59:59.000Z");
    EXPECT_FALSE(c.api.tokens[1].expires) << "no expiry unless given";

    doc["api"]["tokens"][0]["expires"] = "next year";
    doc["api"]["tokens"].push_back({{"name", "noc-again"}, {"sha256", std::string(64, 'b')}, {"role", "operator"}});
    r = parse_config(doc);
    const auto keys = keys_of(r);
    EXPECT_NE(std::find(keys.begin(), keys.end(), "api.tokens[0].expires"), keys.end());
    EXPECT_NE(std::find(keys.begin(), keys.end(), "api.tokens[2].sha256"), keys.end());
    const std::string text = describe(std::get<std::vector<config_error>>(r));
    EXPECT_NE(text.find("duplicate of api.tokens[1]"), std::string::npos) << text;
}

TEST(Config, a_plaintext_api_binds_to_loopback_unless_told_otherwise) {
    for (const char* loopback : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
        auto doc = minimal();
        doc["api"]["bind_address"] = loopback;
        EXPECT_TRUE(std::holds_alternative<daemon_config>(parse_config(doc))) << loopback;
    }
    for (const char* remote : {"0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "127.0.0.1.example", "fe80::1"}) {
        auto doc = minimal();
        doc["api"]["bind_address"] = remote;
        const auto keys = keys_of(parse_config(doc));
        EXPECT_NE(std::find(keys.begin(), keys.end(), "api.bind_address"), keys.end()) << remote;
        doc["api"]["allow_plaintext_remote"] = true;  // said explicitly
        EXPECT_TRUE(std::holds_alternative<daemon_config>(parse_config(doc))) << remote;
        doc["api"]["allow_plaintext_remote"] = false;
        doc["api"]["tls_cert_file"] = "api.crt";  // or with TLS
        doc["api"]["tls_key_file"] = "api.key";
        EXPECT_TRUE(std::holds_alternative<daemon_config>(parse_config(doc))) << remote;
    }
}

TEST(Config, tls_profiles_by_name) {
    auto doc = minimal();
    auto r = parse_config(doc);
    ASSERT_TRUE(std::holds_alternative<daemon_config>(r));
    EXPECT_EQ(std::get<daemon_config>(r).api.tls, tls_profile::intermediate) << "TLS 1.2+, ECDHE by default";
    doc["api"]["tls_profile"] = "modern";
    r = parse_config(doc);
    ASSERT_TRUE(std::holds_alternative<daemon_config>(r));
    EXPECT_EQ(std::get<daemon_config>(r).api.tls, tls_profile::modern);
    doc["api"]["tls_profile"] = "old";
    const auto keys = keys_of(parse_config(doc));
    EXPECT_NE(std::find(keys.begin(), keys.end(), "api.tls_profile"), keys.end());
}
