// The API's pure parts without sockets: route matching, percent-decoding, authentication and
// the role matrix, the SSE wire form.

#include <gtest/gtest.h>

#include "api/auth.hpp"
#include "api/router.hpp"
#include "api/sse.hpp"
#include "core/crypto.hpp"
#include "core/time.hpp"

namespace containd::api::detail {
namespace {

TEST(ApiRouter, matches_templates_and_decodes_parameters) {
    auto m = match("POST", "/v1/incidents/abc/credentials/o%27brien%40contoso.com/reveal");
    ASSERT_NE(m.matched, nullptr);
    EXPECT_EQ(m.matched->path, "/v1/incidents/{id}/credentials/{upn}/reveal");
    ASSERT_EQ(m.params.size(), 2u);
    EXPECT_EQ(m.params[0], "abc");
    EXPECT_EQ(m.params[1], "o'brien@contoso.com");

    m = match("GET", "/v1/incidents");
    ASSERT_NE(m.matched, nullptr);
    EXPECT_EQ(m.matched->role, access::viewer);
    m = match("PUT", "/v1/incidents");
    EXPECT_EQ(m.matched, nullptr);
    EXPECT_EQ(m.allowed, (std::vector<std::string>{"POST", "GET"}));
    m = match("GET", "/v1/incidents//events");
    EXPECT_EQ(m.matched, nullptr);
    EXPECT_TRUE(m.allowed.empty());
    m = match("GET", "/v1/incidents/%zz");
    EXPECT_EQ(m.matched, nullptr);
    EXPECT_TRUE(m.bad_encoding);
    EXPECT_EQ(match("GET", "/healthz/").matched, nullptr);
}

TEST(ApiRouter, route_table_is_the_dispatch_table) {
    const auto& pub = route_table();
    const auto& internal = routes();
    ASSERT_EQ(pub.size(), internal.size());
    for (std::size_t i = 0; i < pub.size(); ++i) {
        EXPECT_EQ(pub[i].method, internal[i].method);
        EXPECT_EQ(pub[i].path, internal[i].path);
        EXPECT_EQ(pub[i].role, to_string(internal[i].role));
        EXPECT_NE(internal[i].handler, nullptr);
    }
}

TEST(ApiRouter, percent_decoding_and_queries) {
    EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
    EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
    EXPECT_FALSE(percent_decode("%2", false));
    EXPECT_FALSE(percent_decode("%", false));
    EXPECT_FALSE(percent_decode("%g0", false));
    const auto q = parse_query("status=running&limit=5&&x=&y");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->at("status"), "running");
    EXPECT_EQ(q->at("limit"), "5");
    EXPECT_EQ(q->at("x"), "");
    EXPECT_EQ(q->at("y"), "");
    EXPECT_FALSE(parse_query("a=%zz"));
}

TEST(ApiAuth, bearer_tokens_by_hash_and_the_role_matrix) {
    const std::vector<config::api_token> tokens = {{"soar", sha256_hex("s3cret"), config::role::submitter, {}},
                                                   {"alice", sha256_hex("op"), config::role::operator_, {}}};
    const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");
    const std::string good = "Bearer s3cret";
    const auto who = authenticate(tokens, &good, now);
    ASSERT_TRUE(who);
    EXPECT_EQ(who->name, "soar");
    EXPECT_EQ(who->granted, config::role::submitter);
    const std::string lower = "bearer op";
    EXPECT_EQ(authenticate(tokens, &lower, now)->name, "alice");
    for (std::string bad : {"Bearer", "Bearer ", "Basic s3cret", "s3cret", "Bearer s3cret2", "Bearer S3CRET"})
        EXPECT_FALSE(authenticate(tokens, &bad, now)) << bad;
    EXPECT_FALSE(authenticate(tokens, nullptr, now));

    using config::role;
    EXPECT_TRUE(allows(access::viewer, role::viewer));
    EXPECT_TRUE(allows(access::viewer, role::submitter));
    EXPECT_TRUE(allows(access::viewer, role::operator_));
    EXPECT_FALSE(allows(access::submitter, role::viewer));
    EXPECT_TRUE(allows(access::submitter, role::submitter));
    EXPECT_TRUE(allows(access::submitter, role::operator_));
    EXPECT_FALSE(allows(access::operator_, role::viewer));
    EXPECT_FALSE(allows(access::operator_, role::submitter));
    EXPECT_TRUE(allows(access::operator_, role::operator_));

    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

TEST(ApiAuth, a_token_is_refused_from_its_expiry_on) {
    const time_point expiry = *parse_rfc3339("2026-03-12T09:00:00Z");
    const std::vector<config::api_token> tokens = {{"contractor", sha256_hex("temp"), config::role::viewer, expiry},
                                                   {"soar", sha256_hex("s3cret"), config::role::submitter, {}}};
    const std::string temp = "Bearer temp", soar = "Bearer s3cret";
    EXPECT_EQ(authenticate(tokens, &temp, expiry - seconds(1))->name, "contractor");
    EXPECT_FALSE(authenticate(tokens, &temp, expiry));
    EXPECT_FALSE(authenticate(tokens, &temp, expiry + std::chrono::hours(24 * 365)));
    EXPECT_EQ(authenticate(tokens, &soar, expiry + std::chrono::hours(24 * 365))->name, "soar") << "no expiry: never";
}

TEST(ApiSse, one_event_is_id_event_and_a_single_data_line) {
    store::event_record e;
    e.id = 42;
    e.incident_id = "i";
    e.kind = "step_succeeded";
    e.step_seq = 3;
    e.data = {{"note", "line one\nline two\r\nid: 99"}};
    const auto text = format_sse_event(e);
    EXPECT_EQ(text.rfind("id: 42\nevent: step_succeeded\ndata: {", 0), 0u) << text;
    EXPECT_EQ(text.substr(text.size() - 2), "\n\n");
    // Exactly three lines: the newlines inside the data are escaped in the JSON.
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
}

TEST(ApiSse, hub_wakes_only_the_incidents_streams) {
    stream_hub hub;
    int woke_a = 0, woke_b = 0;
    stream_subscriber a{"inc-a", false, [&] { ++woke_a; }};
    stream_subscriber b{"inc-b", false, [&] { ++woke_b; }};
    hub.add(&a);
    hub.add(&b);
    hub.notify("inc-a");
    EXPECT_EQ(woke_a, 1);
    EXPECT_EQ(woke_b, 0);
    EXPECT_TRUE(a.dirty);
    EXPECT_FALSE(b.dirty);
    hub.remove(&a);
    hub.notify("inc-a");
    EXPECT_EQ(woke_a, 1);
    hub.close_all();
    EXPECT_TRUE(hub.closing());
    EXPECT_EQ(woke_b, 1);
    hub.remove(&b);
    EXPECT_EQ(hub.size(), 0u);
}

}  // namespace
}  // namespace containd::api::detail
