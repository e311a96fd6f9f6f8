// graph::client against a fake tenant: one attempt per call, the 401 refresh, raw Retry-After,
// transport classification, paging, $batch and pacing.
#include <set>

#include "graph_fixture.hpp"

using namespace containd;
using namespace containd::graph;
using test::fake_request;
using test::fake_response;
using test::graph_error;

namespace {
graph_request get(std::string path, pace_class pace = pace_class::none) {
    graph_request r;
    r.path = std::move(path);
    r.pace = pace;
    return r;
}
}  // namespace

class GraphClient : public test::GraphFixture {};

TEST_F(GraphClient, sends_the_bearer_token_under_the_version_root) {
    start();
    on_graph([](const fake_request& r) { return fake_response::json(200, {{"auth", *r.header("authorization")}}); });
    const auto r = run(client->send(get("/users/u1")));
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.body["auth"], "Bearer tok-1");
    EXPECT_EQ(graph_requests().at(0).target, "/v1.0/users/u1");
    graph_request beta = get("/auditLogs/signIns");
    beta.version = api_version::beta;
    run(client->send(beta));
    EXPECT_EQ(graph_requests().at(1).target, "/beta/auditLogs/signIns");
}

TEST_F(GraphClient, a_401_refreshes_the_token_once_and_resends) {
    start();
    on_graph([](const fake_request& r) {
        if (r.header("authorization") == "Bearer tok-1")
            return graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.");
        return fake_response::json(200, {{"id", "u1"}});
    });
    const auto r = run(client->send(get("/users/u1")));
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_TRUE(r.refreshed_token);
    EXPECT_EQ(tokens_issued(), 2);
    EXPECT_EQ(graph_requests().size(), 2u);
    // The refreshed token is cached: the next call needs no token request.
    ASSERT_TRUE(run(client->send(get("/users/u2"))).ok());
    EXPECT_EQ(tokens_issued(), 2);
}

TEST_F(GraphClient, a_second_401_is_returned_without_further_attempts) {
    start();
    on_graph(
        [](const fake_request&) { return graph_error(401, "InvalidAuthenticationToken", "Access token is empty."); });
    const auto r = run(client->send(get("/users/u1")));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.error_code, "InvalidAuthenticationToken");
    EXPECT_TRUE(r.refreshed_token);
    EXPECT_FALSE(r.token_failure);
    EXPECT_EQ(tokens_issued(), 2);
    EXPECT_EQ(graph_requests().size(), 2u);
}

TEST_F(GraphClient, a_429_is_returned_at_once_with_the_raw_retry_after) {
    start();
    on_graph([](const fake_request&) {
        return graph_error(429, "TooManyRequests", "Please retry again later.", {{"Retry-After", "2.128"}});
    });
    const auto r = run(client->send(get("/users/u1")));
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.retry_after, "2.128");
    EXPECT_EQ(r.error_code, "TooManyRequests");
    EXPECT_EQ(graph_requests().size(), 1u);  // no retry inside the client
}

TEST_F(GraphClient, a_503_with_an_http_date_retry_after_is_surfaced_verbatim) {
    start();
    on_graph([](const fake_request&) {
        return graph_error(503, "serviceNotAvailable", "busy", {{"Retry-After", "Wed, 01 May 2024 10:00:30 GMT"}});
    });
    const auto r = run(client->send(get("/users/u1")));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.retry_after, "Wed, 01 May 2024 10:00:30 GMT");
    EXPECT_EQ(graph_requests().size(), 1u);
}

TEST_F(GraphClient, a_reset_is_a_transport_failure_with_status_zero) {
    start();
    on_graph([](const fake_request&) { return fake_response::with(fake_response::action::reset); });
    const auto r = run(client->send(get("/users/u1")));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.transport, transport_error::reset);
    EXPECT_TRUE(r.is_transport_failure());
    EXPECT_FALSE(r.token_failure);
}

TEST_F(GraphClient, a_token_failure_is_returned_without_calling_graph) {
    tenant->token_answer = fake_response::json(400, {{"error", "unauthorized_client"},
                                                     {"error_description", "AADSTS7000112: Application is disabled."},
                                                     {"error_codes", {7000112}}});
    start();
    on_graph([](const fake_request&) { return fake_response::json(200, {}); });
    const auto r = run(client->send(get("/users/u1")));
    EXPECT_TRUE(r.token_failure);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.error_code, "unauthorized_client");
    EXPECT_EQ(r.aadsts_codes, (std::vector<std::int64_t>{7000112}));
    EXPECT_TRUE(graph_requests().empty());
}

TEST_F(GraphClient, list_follows_next_links_to_the_end) {
    start();
    const std::string base = server->base_url();
    on_graph([base](const fake_request& r) {
        const std::string q = r.query();
        if (q.find("$skiptoken=p3") != std::string::npos) return fake_response::json(200, {{"value", {{{"id", "5"}}}}});
        if (q.find("$skiptoken=p2") != std::string::npos)
            return fake_response::json(200, {{"value", {{{"id", "3"}}, {{"id", "4"}}}},
                                             {"@odata.nextLink", base + "/v1.0/users?$top=2&$skiptoken=p3"}});
        return fake_response::json(200, {{"@odata.context", "ctx"},
                                         {"value", {{{"id", "1"}}, {{"id", "2"}}}},
                                         {"@odata.nextLink", base + "/v1.0/users?$top=2&$skiptoken=p2"}});
    });
    const auto r = run(client->list(get("/users?$top=2")));
    ASSERT_TRUE(r.ok()) << describe(r.call);
    EXPECT_EQ(r.pages, 3u);
    ASSERT_EQ(r.items.size(), 5u);
    EXPECT_EQ(r.items[4]["id"], "5");
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(graph_requests().at(1).target, "/v1.0/users?$top=2&$skiptoken=p2");  // sent verbatim
}

TEST_F(GraphClient, a_next_link_to_another_host_is_refused) {
    start();
    on_graph([](const fake_request&) {
        return fake_response::json(
            200, {{"value", {{{"id", "1"}}}}, {"@odata.nextLink", "https://evil.example/v1.0/users?$skiptoken=x"}});
    });
    const auto r = run(client->list(get("/users")));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.call.malformed);
    EXPECT_EQ(r.call.error_code, err_foreign_next_link);
    EXPECT_EQ(r.items.size(), 1u);
    EXPECT_EQ(graph_requests().size(), 1u);
}

TEST_F(GraphClient, a_next_link_outside_the_version_roots_is_refused) {
    start();
    const std::string base = server->base_url();
    on_graph([base](const fake_request&) {
        return fake_response::json(200, {{"value", nlohmann::json::array()},
                                         {"@odata.nextLink", base + "/contoso.onmicrosoft.com/oauth2/v2.0/token"}});
    });
    const auto r = run(client->list(get("/users")));
    EXPECT_EQ(r.call.error_code, err_foreign_next_link);
}

TEST_F(GraphClient, the_page_cap_stops_paging_and_says_where_to_resume) {
    start();
    const std::string base = server->base_url();
    on_graph([base](const fake_request& r) {
        const auto q = r.query();
        const auto at = q.find("$skiptoken=");
        const int page = at == std::string::npos ? 1 : std::stoi(q.substr(at + 11));
        return fake_response::json(200,
                                   {{"value", {{{"page", page}}}},
                                    {"@odata.nextLink", base + "/v1.0/users?$skiptoken=" + std::to_string(page + 1)}});
    });
    const auto r = run(client->list(get("/users"), 2));
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.items.size(), 2u);
    ASSERT_TRUE(r.next_link);
    EXPECT_NE(r.next_link->find("$skiptoken=3"), std::string::npos);
}

TEST_F(GraphClient, a_collection_without_value_is_malformed) {
    start();
    on_graph([](const fake_request&) { return fake_response::json(200, {{"id", "x"}}); });
    const auto r = run(client->list(get("/users")));
    EXPECT_TRUE(r.call.malformed);
    EXPECT_EQ(r.call.status, 200);
}

namespace {
std::vector<batch_item> revoke_items(int n) {
    std::vector<batch_item> items;
    for (int i = 1; i <= n; ++i) {
        graph_request r;
        r.method = "POST";
        r.path = "/users/u" + std::to_string(i) + "/revokeSignInSessions";
        items.push_back({std::to_string(i), r, {}});
    }
    return items;
}

// Answers each item of a $batch with status(id, attempt) where attempt counts how often the
// item id was seen.
struct batch_server {
    std::mutex mu;
    std::map<std::string, int> seen;
    std::vector<std::size_t> sizes;
    std::function<int(const std::string&, int)> status;

    fake_response operator()(const fake_request& r) {
        if (r.method != "POST" || r.path() != "/v1.0/$batch")
            return test::graph_error(400, "BadRequest", "not a batch");
        const auto body = nlohmann::json::parse(r.body);
        nlohmann::json responses = nlohmann::json::array();
        std::lock_guard lock(mu);
        sizes.push_back(body["requests"].size());
        for (const auto& item : body["requests"]) {
            const std::string id = item["id"];
            const int s = status(id, ++seen[id]);
            nlohmann::json resp = {{"id", id}, {"status", s}, {"headers", nlohmann::json::object()}};
            if (s == 429) {
                resp["headers"]["Retry-After"] = "0.05";
                resp["body"] = {{"error", {{"code", "TooManyRequests"}, {"message", "slow"}}}};
            } else if (s == 404) {
                resp["body"] = {{"error", {{"code", "Request_ResourceNotFound"}, {"message", "gone"}}}};
            } else if (s == 200) {
                resp["body"] = {{"value", true}};
            }
            responses.push_back(resp);
        }
        std::reverse(responses.begin(), responses.end());  // any order is allowed
        return fake_response::json(200, {{"responses", responses}});
    }
};
}  // namespace

TEST_F(GraphClient, batch_splits_reports_per_item_and_resends_only_throttled_items) {
    start();
    auto bs = std::make_shared<batch_server>();
    bs->status = [](const std::string& id, int attempt) {
        if (id == "7" && attempt == 1) return 429;
        if (id == "9") return 404;
        return id == "1" ? 200 : 204;
    };
    on_graph([bs](const fake_request& r) { return (*bs)(r); });
    const auto results = run(client->batch(revoke_items(45)));
    ASSERT_EQ(results.size(), 45u);
    for (std::size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i].id, std::to_string(i + 1));
    EXPECT_TRUE(results[0].ok());
    EXPECT_EQ(results[0].call.body["value"], true);
    EXPECT_TRUE(results[6].ok());
    EXPECT_EQ(results[6].attempts, 2);
    EXPECT_EQ(results[8].call.status, 404);
    EXPECT_EQ(results[8].call.error_code, "Request_ResourceNotFound");
    EXPECT_EQ(results[8].attempts, 1);
    std::lock_guard lock(bs->mu);
    std::multiset<std::size_t> sizes(bs->sizes.begin(), bs->sizes.end());
    EXPECT_EQ(sizes, (std::multiset<std::size_t>{20, 20, 5, 1}));  // three batches, then item 7 alone
    EXPECT_EQ(bs->seen["7"], 2);
    EXPECT_EQ(bs->seen["9"], 1);
}

TEST_F(GraphClient, batch_leaves_long_retry_afters_to_the_engine) {
    start();
    on_graph([](const fake_request& r) {
        const auto body = nlohmann::json::parse(r.body);
        nlohmann::json responses = nlohmann::json::array();
        for (const auto& item : body["requests"])
            responses.push_back({{"id", item["id"]}, {"status", 429}, {"headers", {{"Retry-After", "30"}}}});
        return fake_response::json(200, {{"responses", responses}});
    });
    const auto results = run(client->batch(revoke_items(3)));
    for (const auto& r : results) {
        EXPECT_EQ(r.call.status, 429);
        EXPECT_EQ(r.call.retry_after, "30");
        EXPECT_EQ(r.attempts, 1);
    }
    EXPECT_EQ(graph_requests().size(), 1u);
}

TEST_F(GraphClient, a_failed_batch_request_is_reported_on_every_item) {
    start();
    on_graph([](const fake_request&) { return test::graph_error(400, "BadRequest", "Invalid batch payload."); });
    const auto results = run(client->batch(revoke_items(2)));
    EXPECT_EQ(results[0].call.status, 400);
    EXPECT_EQ(results[1].call.error_code, "BadRequest");
}

TEST_F(GraphClient, batch_refuses_an_invalid_set_before_sending) {
    start();
    auto items = revoke_items(2);
    items[1].id = "1";
    EXPECT_THROW(run(client->batch(items)), std::invalid_argument);
    EXPECT_TRUE(graph_requests().empty());
}

TEST_F(GraphClient, conditional_access_calls_are_paced_a_second_apart_on_the_real_clock) {
    graph_settings s;
    s.pacing.protection = {1, std::chrono::milliseconds(250)};
    s.pacing.safety_margin = 0;
    start(s);
    on_graph([](const fake_request&) { return fake_response::json(200, {{"id", "p"}}); });
    const auto start_time = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(run(client->send(get("/identity/conditionalAccess/policies/p", pace_class::protection))).ok());
    EXPECT_GE(std::chrono::steady_clock::now() - start_time, std::chrono::milliseconds(500));
    // Unpaced calls do not wait.
    const auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(client->send(get("/users/u"))).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::milliseconds(400));
}

TEST_F(GraphClient, pacing_on_a_manual_clock_answers_locally_when_the_clock_does_not_move) {
    manual_clock clock(*parse_rfc3339("2024-05-01T10:00:00Z"));
    graph_settings s;
    s.pacing.max_wait = std::chrono::milliseconds(100);
    start(s, &clock);
    on_graph([](const fake_request&) { return fake_response::json(200, {{"id", "p"}}); });
    ASSERT_TRUE(run(client->send(get("/identity/conditionalAccess/policies/p", pace_class::protection))).ok());
    const auto paced = run(client->send(get("/identity/conditionalAccess/policies/p", pace_class::protection)));
    EXPECT_EQ(paced.status, 429);
    EXPECT_FALSE(paced.sent);
    EXPECT_EQ(paced.error_code, err_local_pacing);
    ASSERT_TRUE(paced.retry_after);
    const auto wait = parse_retry_after(*paced.retry_after, clock.now());
    ASSERT_TRUE(wait);
    EXPECT_GT(*wait, std::chrono::milliseconds(900));
    EXPECT_LE(*wait, std::chrono::milliseconds(1100));
    EXPECT_EQ(graph_requests().size(), 1u);
    clock.advance(*wait);
    EXPECT_TRUE(run(client->send(get("/identity/conditionalAccess/policies/p", pace_class::protection))).ok());
    EXPECT_EQ(graph_requests().size(), 2u);
}
