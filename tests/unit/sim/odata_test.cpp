#include <gtest/gtest.h>

#include "sim/odata.hpp"

namespace containd::sim::odata {
namespace {

using nlohmann::json;

bool matches(const std::string& filter, const json& entity) {
    parse_error err;
    auto n = parse_filter(filter, err);
    EXPECT_TRUE(n) << filter << ": " << err.message;
    return n && evaluate(*n, entity);
}

bool malformed(const std::string& filter) {
    parse_error err;
    return parse_filter(filter, err) == nullptr && !err.message.empty();
}

TEST(SimOData, doubled_single_quotes_are_one_quote) {
    const json u = {{"userPrincipalName", "pat.o'brien@contoso.com"}};
    EXPECT_TRUE(matches("userPrincipalName eq 'pat.o''brien@contoso.com'", u));
    EXPECT_FALSE(matches("userPrincipalName eq 'pat.obrien@contoso.com'", u));
    EXPECT_TRUE(malformed("userPrincipalName eq 'pat.o'brien@contoso.com'"));
    EXPECT_TRUE(matches("appId eq ''''", json{{"appId", "'"}}));
}

TEST(SimOData, string_comparison_is_case_insensitive) {
    EXPECT_TRUE(matches("userPrincipalName eq 'Finance.Director@Contoso.com'",
                        json{{"userPrincipalName", "finance.director@contoso.com"}}));
}

TEST(SimOData, datetimes_compare_as_instants) {
    const json e = {{"createdDateTime", "2026-03-18T10:05:00.000Z"}};
    EXPECT_TRUE(matches("createdDateTime ge 2026-03-18T10:00:00Z", e));
    EXPECT_TRUE(matches("createdDateTime ge 2026-03-18T11:00:00+01:00", e));
    EXPECT_FALSE(matches("createdDateTime lt 2026-03-18T10:05:00Z", e));
    EXPECT_TRUE(matches("createdDateTime le 2026-03-18T10:05:00.000Z", e));
}

TEST(SimOData, and_or_not_and_parentheses) {
    const json e = {{"appId", "a"}, {"userId", "u"}, {"status", {{"errorCode", 53003}}}};
    EXPECT_TRUE(matches("appId eq 'a' and userId eq 'u'", e));
    EXPECT_FALSE(matches("appId eq 'a' and userId eq 'v'", e));
    EXPECT_TRUE(matches("(userId eq 'v' or userId eq 'u') and appId eq 'a'", e));
    EXPECT_TRUE(matches("not (appId eq 'b')", e));
    EXPECT_TRUE(matches("status/errorCode eq 53003", e));
    EXPECT_FALSE(matches("status/errorCode eq 0", e));
    EXPECT_TRUE(matches("status/errorCode ne 0", e));
}

TEST(SimOData, lambdas_over_collections) {
    const json e = {{"signInEventTypes", {"nonInteractiveUser"}},
                    {"targetResources", {{{"id", "u1"}, {"type", "User"}}, {{"id", "u2"}}}}};
    EXPECT_TRUE(matches("signInEventTypes/any(t: t eq 'nonInteractiveUser')", e));
    EXPECT_FALSE(matches("signInEventTypes/any(t: t eq 'servicePrincipal')", e));
    EXPECT_TRUE(matches("targetResources/any(t: t/id eq 'u2')", e));
    EXPECT_FALSE(matches("targetResources/all(t: t/id eq 'u2')", e));
    parse_error err;
    auto n = parse_filter("signInEventTypes/any(t: t eq 'x') and appId eq 'y'", err);
    ASSERT_TRUE(n);
    EXPECT_EQ(referenced_properties(*n), (std::vector<std::string>{"signInEventTypes", "appId"}));
}

TEST(SimOData, functions_and_literals) {
    const json e = {{"displayName", "Document Sync Pro"},
                    {"accountEnabled", true},
                    {"@odata.type", "#microsoft.graph.ipNamedLocation"}};
    EXPECT_TRUE(matches("startswith(displayName,'document')", e));
    EXPECT_TRUE(matches("endswith(displayName, 'Pro')", e));
    EXPECT_TRUE(matches("accountEnabled eq true", e));
    EXPECT_TRUE(matches("isof('microsoft.graph.ipNamedLocation')", e));
    EXPECT_TRUE(matches("id eq null", e));
    EXPECT_TRUE(matches("appId eq 5a9c3e1b-7d2f-4b6a-8c0e-1f3a5b7c9d11",
                        json{{"appId", "5A9C3E1B-7D2F-4B6A-8C0E-1F3A5B7C9D11"}}));
}

TEST(SimOData, malformed_filters_are_rejected) {
    EXPECT_TRUE(malformed("appId eq"));
    EXPECT_TRUE(malformed("appId 'x'"));
    EXPECT_TRUE(malformed("appId eq 'x' and"));
    EXPECT_TRUE(malformed("appId eq 'x"));
    EXPECT_TRUE(malformed("(appId eq 'x'"));
    EXPECT_TRUE(malformed("appId equals 'x'"));
    EXPECT_TRUE(malformed("frobnicate(appId)"));
    EXPECT_TRUE(malformed(""));
    EXPECT_TRUE(malformed("createdDateTime ge 2026-13-45T10:00:00Z"));
    EXPECT_TRUE(malformed("appId eq 'x' 'y'"));
}

TEST(SimOData, percent_decoding_and_query_parsing) {
    EXPECT_EQ(percent_decode("pat.o%27brien%40contoso.com", false), "pat.o'brien@contoso.com");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
    EXPECT_EQ(percent_decode("a+b", true), "a b");
    EXPECT_FALSE(percent_decode("%zz", false));
    EXPECT_FALSE(percent_decode("%4", false));
    auto q = parse_query("$filter=appId%20eq%20%27x%27&$top=5");
    ASSERT_TRUE(q);
    EXPECT_EQ((*q)["$filter"], "appId eq 'x'");
    EXPECT_EQ((*q)["$top"], "5");
}

TEST(SimOData, key_segments) {
    auto k = parse_key_segment("users('pat.o''brien@contoso.com')");
    ASSERT_TRUE(k);
    EXPECT_EQ(k->name, "users");
    EXPECT_EQ(k->key_value, "pat.o'brien@contoso.com");
    k = parse_key_segment("servicePrincipals(appId='c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34')");
    ASSERT_TRUE(k);
    EXPECT_EQ(k->key_property, "appId");
    EXPECT_FALSE(parse_key_segment("users"));
    EXPECT_FALSE(parse_key_segment("users('a'b')"));
}

}  // namespace
}  // namespace containd::sim::odata
