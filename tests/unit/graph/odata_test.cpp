#include <gtest/gtest.h>

#include "core/time.hpp"
#include "graph/odata.hpp"

using namespace containd;
using namespace containd::graph;

TEST(OData, quote_doubles_apostrophes_and_encodes_the_at_sign) {
    EXPECT_EQ(odata::quote("o'brien@contoso.com"), "'o''brien%40contoso.com'");
    EXPECT_EQ(odata::literal("o'brien@contoso.com"), "'o''brien@contoso.com'");
    EXPECT_EQ(odata::quote("''"), "''''''");
}

TEST(OData, a_percent_27_in_the_value_stays_three_characters_and_never_becomes_a_quote) {
    const std::string q = odata::quote("x%27 or 1 eq 1");
    EXPECT_EQ(q, "'x%2527%20or%201%20eq%201'");
    // Decoding (as the server does) gives back exactly the literal: one string, no extra terms.
    EXPECT_EQ(odata::percent_decode(q), "'x%27 or 1 eq 1'");
}

TEST(OData, an_injection_attempt_decodes_to_a_single_literal) {
    const std::string value = "a' or userPrincipalName ne 'b";
    const auto decoded = odata::percent_decode(odata::quote(value));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, "'a'' or userPrincipalName ne ''b'");
    // Every quote inside the literal is doubled: after the opening quote, quotes come in pairs
    // until the closing one, which is the last character.
    const std::string inner = decoded->substr(1, decoded->size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] == '\'') {
            ASSERT_LT(i + 1, inner.size());
            EXPECT_EQ(inner[i + 1], '\'');
            ++i;
        }
    }
}

TEST(OData, query_encoding_reserves_only_odata_punctuation) {
    EXPECT_EQ(odata::encode_query("a b&c=d#e+f;g$h'i(j)k,l:m/n~o"), "a%20b%26c%3Dd%23e%2Bf%3Bg%24h'i(j)k,l:m/n~o");
}

TEST(OData, unicode_values_are_accepted_and_percent_encoded_as_utf8) {
    EXPECT_EQ(odata::quote("zoë@contoso.com"), "'zo%C3%AB%40contoso.com'");
    EXPECT_EQ(odata::quote("\xF0\x9F\x98\x80"), "'%F0%9F%98%80'");  // U+1F600
    EXPECT_FALSE(odata::check_value("日本語"));
}

TEST(OData, control_characters_are_refused) {
    EXPECT_TRUE(odata::check_value(std::string("a\nb")));
    EXPECT_TRUE(odata::check_value(std::string("a\0b", 3)));
    EXPECT_TRUE(odata::check_value("a\x7f"));
    EXPECT_TRUE(odata::check_value("a\xC2\x85"));  // U+0085 NEL (C1)
    EXPECT_THROW(odata::quote("tab\there"), odata::invalid_value);
}

TEST(OData, invalid_utf8_is_refused) {
    EXPECT_TRUE(odata::check_value("\xC0\xAF"));          // overlong '/'
    EXPECT_TRUE(odata::check_value("\x80"));              // lone continuation byte
    EXPECT_TRUE(odata::check_value("\xED\xA0\x80"));      // UTF-16 surrogate
    EXPECT_TRUE(odata::check_value("\xF4\x90\x80\x80"));  // beyond U+10FFFF
    EXPECT_TRUE(odata::check_value("\xE2\x82"));          // truncated
}

TEST(OData, values_longer_than_1024_bytes_are_refused) {
    EXPECT_FALSE(odata::check_value(std::string(1024, 'a')));
    EXPECT_TRUE(odata::check_value(std::string(1025, 'a')));
    EXPECT_THROW(odata::literal(std::string(5000, 'a')), odata::invalid_value);
}

TEST(OData, the_error_names_the_reason_not_the_value) {
    try {
        odata::quote("secret-ish\nvalue");
        FAIL();
    } catch (const odata::invalid_value& e) {
        EXPECT_EQ(std::string(e.what()).find("secret-ish"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("control character"), std::string::npos);
    }
}

TEST(OData, user_path_keeps_the_apostrophe_raw_and_undoubled) {
    EXPECT_EQ(odata::user_path("o'brien@contoso.com"), "/users/o'brien@contoso.com");
    EXPECT_EQ(odata::user_path("87d349ed-44d7-43e1-9a83-5f2406dee5bd"), "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd");
    EXPECT_EQ(odata::percent_decode(odata::user_path("o'brien@contoso.com")), "/users/o'brien@contoso.com");
}

TEST(OData, user_path_encodes_hash_slash_and_percent) {
    EXPECT_EQ(odata::user_path("adele_adatum.com#EXT#@contoso.com"), "/users/adele_adatum.com%23EXT%23@contoso.com");
    EXPECT_EQ(odata::user_path("a/b"), "/users/a%2Fb");
    EXPECT_EQ(odata::user_path("a%27b"), "/users/a%2527b");
    EXPECT_EQ(odata::user_path("a?b"), "/users/a%3Fb");
}

TEST(OData, a_upn_starting_with_dollar_uses_the_key_form) {
    EXPECT_EQ(odata::user_path("$x'y@contoso.com"), "/users('%24x''y@contoso.com')");
}

TEST(OData, empty_and_dot_segments_are_refused_so_a_path_cannot_widen) {
    EXPECT_THROW(odata::user_path(""), odata::invalid_value);
    EXPECT_THROW(odata::user_path("."), odata::invalid_value);
    EXPECT_THROW(odata::user_path(".."), odata::invalid_value);
    EXPECT_THROW(odata::entity_path("applications", std::string(2000, 'a')), odata::invalid_value);
}

TEST(OData, filter_builds_the_documented_sign_in_forms) {
    const auto t = *parse_rfc3339("2024-05-01T10:00:00.250Z");
    odata::filter f;
    f.any_eq("signInEventTypes", "nonInteractiveUser")
        .eq("userPrincipalName", "o'brien@contoso.com")
        .ge("createdDateTime", t);
    EXPECT_EQ(f.str(),
              "signInEventTypes/any(t: t eq 'nonInteractiveUser') and userPrincipalName eq 'o''brien@contoso.com' and "
              "createdDateTime ge 2024-05-01T10:00:00Z");
    EXPECT_EQ(f.query(),
              "$filter=signInEventTypes/any(t:%20t%20eq%20'nonInteractiveUser')%20and%20userPrincipalName%20eq%20'o''"
              "brien%40contoso.com'%20and%20createdDateTime%20ge%202024-05-01T10:00:00Z");
    EXPECT_EQ(odata::percent_decode(f.query().substr(8)), f.str());
}

TEST(OData, filter_supports_numbers_lambdas_on_properties_and_startswith) {
    odata::filter f;
    f.eq_number("status/errorCode", 0)
        .any_property_eq("targetResources", "id", "abc")
        .starts_with("ipAddress", "203.0.");
    EXPECT_EQ(f.str(),
              "status/errorCode eq 0 and targetResources/any(t: t/id eq 'abc') and startswith(ipAddress,'203.0.')");
}

TEST(OData, filter_refuses_property_paths_with_syntax) {
    odata::filter f;
    EXPECT_THROW(f.eq("appId eq 'x' or appId", "y"), std::invalid_argument);
    EXPECT_THROW(f.eq("", "y"), std::invalid_argument);
}

TEST(OData, form_encoding_encodes_everything_but_unreserved) {
    EXPECT_EQ(odata::encode_form("a+b/c=d&e f~"), "a%2Bb%2Fc%3Dd%26e%20f~");
}

TEST(OData, percent_decode_rejects_malformed_escapes) {
    EXPECT_FALSE(odata::percent_decode("%2"));
    EXPECT_FALSE(odata::percent_decode("%zz"));
    EXPECT_EQ(odata::percent_decode("%41b"), "Ab");
}

// Found by tests/fuzz (fuzz_graph_text): before 1970, time_point_cast rounded the instant up to
// the next second, so "ge <literal>" could skip up to a second of events.
TEST(OData, datetime_literals_drop_the_fraction_on_either_side_of_1970) {
    const auto before = parse_rfc3339("1824-01-29T23:59:59.222Z");
    const auto after = parse_rfc3339("2026-03-12T10:00:00.999Z");
    ASSERT_TRUE(before && after);
    EXPECT_EQ(odata::datetime_literal(*before), "1824-01-29T23:59:59Z");
    EXPECT_EQ(odata::datetime_literal(*after), "2026-03-12T10:00:00Z");
}
