#include <gtest/gtest.h>

#include "sim/tenant.hpp"

namespace containd::sim {
namespace {

TEST(SimRedaction, form_secrets_and_assertions_are_replaced) {
    EXPECT_EQ(redact_form_body("client_id=a&client_secret=s%2Bx&scope=b"),
              "client_id=a&client_secret=[REDACTED]&scope=b");
    EXPECT_EQ(redact_form_body("client_assertion=eyJ.x.y&grant_type=client_credentials"),
              "client_assertion=[REDACTED]&grant_type=client_credentials");
}

TEST(SimRedaction, json_passwords_are_replaced_at_any_depth) {
    const auto out = redact_json_body(R"({"requests":[{"body":{"passwordProfile":{"password":"Abc!12345"}}}]})");
    EXPECT_EQ(out.find("Abc!12345"), std::string::npos);
    EXPECT_NE(out.find("[REDACTED len=9 sha256="), std::string::npos);
    EXPECT_EQ(redact_json_body(R"({"accountEnabled":false})"), R"({"accountEnabled":false})");
    EXPECT_EQ(redact_json_body("not json"), "not json");
}

TEST(SimCidr, matches_v4_and_v6_ranges) {
    EXPECT_TRUE(ip_in_cidr("198.51.100.25", "198.51.100.0/24"));
    EXPECT_FALSE(ip_in_cidr("198.51.101.25", "198.51.100.0/24"));
    EXPECT_TRUE(ip_in_cidr("203.0.113.66", "203.0.113.66/32"));
    EXPECT_TRUE(ip_in_cidr("2001:db8:c0::5", "2001:db8:c0::/48"));
    EXPECT_FALSE(ip_in_cidr("2001:db8:c1::5", "2001:db8:c0::/48"));
    EXPECT_FALSE(ip_in_cidr("203.0.113.66", "2001:db8::/32"));
    EXPECT_FALSE(ip_in_cidr("bogus", "10.0.0.0/8"));
}

}  // namespace
}  // namespace containd::sim
