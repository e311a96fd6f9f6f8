#include <gtest/gtest.h>

#include "config/config.hpp"

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
    for (const char* expected : {"tenants[0].client_id", "tenants[0].graph_base", "tenants[0].colour",
                                 "api.tokens[0].role", "api.port"})
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
