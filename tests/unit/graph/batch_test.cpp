#include <gtest/gtest.h>

#include <functional>

#include "core/time.hpp"
#include "graph/batch.hpp"
#include "graph/requests.hpp"

using namespace containd;
using namespace containd::graph;

namespace {
const time_point t0 = *parse_rfc3339("2024-05-01T10:00:00Z");

std::vector<batch_item> revokes(int n) {
    std::vector<batch_item> items;
    for (int i = 0; i < n; ++i)
        items.push_back(
            {std::to_string(i + 1), requests::revoke_sessions("user" + std::to_string(i) + "@contoso.com"), {}});
    return items;
}

call_result whole(const nlohmann::json& responses) {
    call_result r;
    r.status = 200;
    r.body = {{"responses", responses}};
    return r;
}
}  // namespace

TEST(BatchPlan, splits_into_requests_of_at_most_twenty) {
    const auto plan = plan_batches(revokes(45), 20);
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[0].size(), 20u);
    EXPECT_EQ(plan[1].size(), 20u);
    EXPECT_EQ(plan[2].size(), 5u);
    EXPECT_EQ(plan[2].front(), 40u);
}

TEST(BatchPlan, keeps_a_depends_on_group_in_one_request) {
    auto items = revokes(19);
    // A reset followed by its revoke, as the credential phase does: items 20 and 21 belong together.
    items.push_back({"20", requests::set_account_enabled("x@contoso.com", false), {}});
    items.push_back({"21", requests::revoke_sessions("x@contoso.com"), "20"});
    const auto plan = plan_batches(items, 20);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(plan[0].size(), 19u);
    EXPECT_EQ(plan[1], (std::vector<std::size_t>{19, 20}));
}

namespace {
// `n` revocations, spoiled by `spoil`, are refused before anything is sent.
void expect_refused(int n, const std::function<void(std::vector<batch_item>&)>& spoil) {
    auto items = revokes(n);
    spoil(items);
    EXPECT_THROW(plan_batches(items, 20), std::invalid_argument);
}
}  // namespace

TEST(BatchPlan, refuses_invalid_sets_before_anything_is_sent) {
    expect_refused(2, [](auto& i) { i[1].id = "1"; });  // a duplicated id
    expect_refused(2, [](auto& i) {                     // ids differing only in case
        i[0].id = "a";
        i[1].id = "A";
    });
    expect_refused(2, [](auto& i) { i[1].depends_on = "nope"; });  // an unknown dependency
    expect_refused(2, [](auto& i) { i[1].depends_on = "2"; });     // on itself
    expect_refused(2, [](auto& i) {                                // a cycle
        i[0].depends_on = "2";
        i[1].depends_on = "1";
    });
    expect_refused(21, [](auto& i) {  // a chain longer than one request holds
        for (int k = 1; k < 21; ++k) i[static_cast<std::size_t>(k)].depends_on = std::to_string(k);
    });
    expect_refused(1, [](auto& i) { i[0].id.clear(); });  // no id
}

TEST(BatchBody, has_relative_urls_bodies_with_content_type_and_depends_on) {
    std::vector<batch_item> items = {
        {"1", requests::set_account_enabled("o'brien@contoso.com", false), {}},
        {"2", requests::revoke_sessions("o'brien@contoso.com"), "1"},
        {"3", requests::revoke_sessions("b@contoso.com"), "9"},
    };
    items.push_back({"9", requests::revoke_sessions("c@contoso.com"), {}});
    const auto body = batch_body(items, {0, 1, 2});
    const auto& r = body["requests"];
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0]["method"], "PATCH");
    EXPECT_EQ(r[0]["url"], "/users/o'brien@contoso.com");
    EXPECT_EQ(r[0]["headers"]["Content-Type"], "application/json");
    EXPECT_EQ(r[0]["body"], (nlohmann::json{{"accountEnabled", false}}));
    EXPECT_EQ(r[1]["dependsOn"], (nlohmann::json{"1"}));
    EXPECT_FALSE(r[1].contains("body"));
    EXPECT_FALSE(r[1].contains("headers"));
    EXPECT_FALSE(r[2].contains("dependsOn"));  // "9" is not in this request: it already succeeded
}

TEST(BatchResponse, reads_per_item_status_headers_and_errors_in_any_order) {
    const auto items = revokes(4);
    const auto res = whole(nlohmann::json::parse(R"([
        {"id":"3","status":429,"headers":{"retry-after":"10"},"body":{"error":{"code":"TooManyRequests","message":"slow down"}}},
        {"id":"1","status":200,"headers":{},"body":{"value":true}},
        {"id":"2","status":204,"headers":{}},
        {"id":"4","status":403,"body":{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}}
    ])"));
    const auto out = parse_batch_response(res, items, {0, 1, 2, 3});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].id, "1");
    EXPECT_TRUE(out[0].ok());
    EXPECT_EQ(out[0].call.body["value"], true);
    EXPECT_TRUE(out[1].ok());
    EXPECT_EQ(out[1].call.status, 204);
    EXPECT_EQ(out[2].call.status, 429);
    EXPECT_EQ(out[2].call.retry_after, "10");
    EXPECT_EQ(out[2].call.error_code, "TooManyRequests");
    EXPECT_EQ(out[3].call.error_code, "Authorization_RequestDenied");
}

TEST(BatchResponse, a_failed_batch_gives_every_item_that_failure) {
    const auto items = revokes(2);
    call_result failed;
    failed.status = 503;
    failed.retry_after = "5";
    const auto out = parse_batch_response(failed, items, {0, 1});
    EXPECT_EQ(out[0].call.status, 503);
    EXPECT_EQ(out[1].call.retry_after, "5");
    call_result transport;
    transport.transport = transport_error::reset;
    EXPECT_EQ(parse_batch_response(transport, items, {0, 1})[1].call.transport, transport_error::reset);
}

TEST(BatchResponse, a_missing_item_is_reported_as_malformed) {
    const auto items = revokes(2);
    const auto out = parse_batch_response(whole(nlohmann::json::parse(R"([{"id":"1","status":204}])")), items, {0, 1});
    EXPECT_TRUE(out[0].ok());
    EXPECT_FALSE(out[1].ok());
    EXPECT_TRUE(out[1].call.malformed);
}

namespace {
std::vector<batch_item_result> results(const std::vector<std::pair<int, std::optional<std::string>>>& statuses) {
    std::vector<batch_item_result> out;
    int i = 0;
    for (const auto& [status, ra] : statuses) {
        batch_item_result r;
        r.id = std::to_string(++i);
        r.call.status = status;
        r.call.retry_after = ra;
        out.push_back(r);
    }
    return out;
}
}  // namespace

TEST(BatchRetry, resends_only_failed_retryable_items_after_the_longest_retry_after) {
    const auto items = revokes(5);
    const auto plan =
        plan_batch_retry(items, results({{204, {}}, {429, "2"}, {503, "1"}, {403, {}}, {404, {}}}), t0, {});
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->indices, (std::vector<std::size_t>{1, 2}));
    EXPECT_EQ(plan->wait, seconds(2));
}

TEST(BatchRetry, uses_the_default_wait_without_retry_after_and_gives_up_on_long_waits) {
    const auto items = revokes(2);
    batch_settings s;
    const auto plan = plan_batch_retry(items, results({{429, {}}, {200, {}}}), t0, s);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->wait, s.default_retry_wait);
    EXPECT_FALSE(plan_batch_retry(items, results({{429, "30"}, {200, {}}}), t0, s));
    s.retry_failed = false;
    EXPECT_FALSE(plan_batch_retry(items, results({{429, "1"}, {200, {}}}), t0, s));
    EXPECT_FALSE(plan_batch_retry(items, results({{400, {}}, {200, {}}}), t0, batch_settings{}));
}

TEST(BatchRetry, includes_dependents_that_failed_with_424) {
    auto items = revokes(3);
    items[1].depends_on = "1";
    items[2].depends_on = "2";
    const auto plan = plan_batch_retry(items, results({{429, "1"}, {424, {}}, {424, {}}}), t0, {});
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->indices, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(BatchRetry, local_and_malformed_failures_are_not_resent) {
    const auto items = revokes(1);
    auto r = results({{429, "1"}});
    r[0].call.sent = false;
    EXPECT_FALSE(plan_batch_retry(items, r, t0, {}));
}
