#include <gtest/gtest.h>

#include "core/time.hpp"
#include "incident/validation.hpp"

using namespace containd;
using namespace containd::incident;

namespace {

const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");

nlohmann::json api_sample() {
    return nlohmann::json::parse(R"({
      "tenant": "contoso", "external_ref": "SENTINEL-4711", "title": "BEC in finance",
      "compromise_start": "2026-03-12T00:00:00Z", "scope": "accounts",
      "accounts": [
        { "upn": "Finance.Director@contoso.com", "tier": "privileged" },
        { "upn": "ap.clerk@contoso.com", "known_methods": ["b2e1d3c4-0005-4a5b-9c8d-7e6f5a4b3c05"] },
        { "upn": "breakglass@contoso.com", "tier": "break_glass" }
      ],
      "attacker_ips": ["203.0.113.66", "2001:db8::66"],
      "malicious_apps": [ { "app_id": "C7A1E5D2-9B3F-4A6C-8E1D-2F5B7C9A0E34", "delete_application": false } ],
      "options": { "credential_delivery": "password", "method_cleanup": "auto" }
    })");
}

std::vector<std::string> fields(const parse_result& r) {
    std::vector<std::string> out;
    if (auto* e = std::get_if<std::vector<field_error>>(&r))
        for (const auto& x : *e) out.push_back(x.field);
    return out;
}

bool has_field(const parse_result& r, const std::string& f) {
    const auto all = fields(r);
    return std::find(all.begin(), all.end(), f) != all.end();
}

}  // namespace

TEST(Submission, parses_the_api_sample_and_round_trips) {
    auto r = parse_submission(api_sample(), now);
    ASSERT_TRUE(std::holds_alternative<incident_request>(r)) << ::testing::PrintToString(fields(r));
    const auto& req = std::get<incident_request>(r);
    EXPECT_EQ(req.accounts[0].upn, "finance.director@contoso.com") << "UPNs are lower-cased";
    EXPECT_EQ(req.accounts[0].declared_tier, tier::privileged);
    EXPECT_EQ(req.malicious_apps[0].app_id, "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34");
    EXPECT_EQ(req.options.delivery, credential_delivery::password);
    auto again = parse_submission(to_json(req), now);
    ASSERT_TRUE(std::holds_alternative<incident_request>(again));
    EXPECT_EQ(to_json(std::get<incident_request>(again)), to_json(req));
}

TEST(Submission, collects_every_offending_field_at_once) {
    auto body = api_sample();
    body["accounts"][1]["upn"] = "not an upn";
    body["accounts"][2]["tier"] = "admin";
    body["attacker_ips"][1] = "999.1.1.1";
    body["malicious_apps"][0]["app_id"] = "nope";
    body["compromise_start"] = "yesterday";
    body["options"]["method_cleanup"] = "nuke";
    auto r = parse_submission(body, now);
    for (const char* f : {"accounts[1].upn", "accounts[2].tier", "attacker_ips[1]", "malicious_apps[0].app_id",
                          "compromise_start", "options.method_cleanup"})
        EXPECT_TRUE(has_field(r, f)) << f << " in " << ::testing::PrintToString(fields(r));
    EXPECT_EQ(fields(r).size(), 6u);
}

TEST(Submission, refuses_unknown_and_server_owned_fields_at_every_level) {
    auto body = api_sample();
    body["status"] = "contained";
    body["steps"] = nlohmann::json::array();
    body["colour"] = "red";
    body["accounts"][0]["revoked_at"] = "2026-03-12T00:00:00Z";
    body["accounts"][0]["nickname"] = "fd";
    body["options"]["turbo"] = true;
    auto r = parse_submission(body, now);
    for (const char* f :
         {"status", "steps", "colour", "accounts[0].revoked_at", "accounts[0].nickname", "options.turbo"})
        EXPECT_TRUE(has_field(r, f)) << f;
    const auto& errors = std::get<std::vector<field_error>>(r);
    for (const auto& e : errors) {
        if (e.field == "status") {
            EXPECT_NE(e.message.find("server"), std::string::npos);
        }
    }
}

TEST(Submission, needs_confirmation_for_a_tenant_wide_block_and_some_account_otherwise) {
    auto body = api_sample();
    body["scope"] = "tenant";
    EXPECT_TRUE(has_field(parse_submission(body, now), "confirm_tenant_wide"));
    body["confirm_tenant_wide"] = true;
    EXPECT_TRUE(std::holds_alternative<incident_request>(parse_submission(body, now)));
    auto empty = api_sample();
    empty["accounts"] = nlohmann::json::array();
    EXPECT_TRUE(has_field(parse_submission(empty, now), "accounts"));
    empty.erase("accounts");
    EXPECT_TRUE(has_field(parse_submission(empty, now), "accounts"));
}

TEST(Submission, refuses_duplicates_naming_the_second) {
    auto body = api_sample();
    body["accounts"].push_back({{"upn", "AP.CLERK@contoso.com"}});
    body["malicious_apps"].push_back({{"app_id", "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34"}});
    auto r = parse_submission(body, now);
    EXPECT_TRUE(has_field(r, "accounts[3].upn"));
    EXPECT_TRUE(has_field(r, "malicious_apps[1].app_id"));
}

TEST(Submission, upns_accept_an_apostrophe_and_refuse_injection_shapes) {
    EXPECT_TRUE(is_valid_upn("pat.o'brien@contoso.com"));
    EXPECT_TRUE(is_valid_upn("a_b-c.d!e#f^g~h@sub.contoso.co.uk"));
    for (const std::string& bad : std::vector<std::string>{
             "a'or'1'eq'1@x", "ap clerk@contoso.com", "ap%27clerk@contoso.com", "ap.clerk@contoso.com\r\nX: y",
             "two@@contoso.com", "a@b@contoso.com", "@contoso.com", "ap.clerk@", "ap.clerk@-contoso.com",
             ".ap@contoso.com", "ap..clerk@contoso.com", "\xc3\xa9lodie@contoso.com", "ap\"clerk@contoso.com",
             std::string(70, 'a') + "@contoso.com", "a@" + std::string(300, 'b') + ".com"})
        EXPECT_FALSE(is_valid_upn(bad)) << bad;
}

TEST(Submission, compromise_start_must_be_a_past_rfc3339_time) {
    auto body = api_sample();
    body["compromise_start"] = "2027-01-01T00:00:00Z";
    EXPECT_TRUE(has_field(parse_submission(body, now), "compromise_start"));
    body["compromise_start"] = 1773273600;
    EXPECT_TRUE(has_field(parse_submission(body, now), "compromise_start"));
    EXPECT_TRUE(has_field(parse_submission(nlohmann::json::array(), now), ""));
}
