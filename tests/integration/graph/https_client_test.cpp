// graph::https_client against the fake HTTPS server on 127.0.0.1: TLS verification, keep-alive,
// parallelism, deadlines, limits and transport error classification.
#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/io_context.hpp>

#include "graph/https_client.hpp"
#include "support/fake_https_server.hpp"
#include "support/test_tls.hpp"

using namespace containd;
using namespace containd::graph;
using test::fake_https_server;
using test::fake_request;
using test::fake_response;
namespace asio = boost::asio;

namespace {

const test::loopback_tls& tls() { return test::shared_loopback_tls(); }

fake_response ok_json(const fake_request&) { return fake_response::json(200, {{"ok", true}}); }

// Drops connection 1 when its second request arrives, without answering: the shape of a
// keep-alive connection closed by the server just as the client reused it. Else {"n": connection}.
fake_response closes_connection_1_at_its_second_request(const fake_request& r) {
    if (r.connection == 1 && r.sequence_on_connection == 2) return fake_response::with(fake_response::action::close);
    return fake_response::json(200, {{"n", r.connection}});
}

class HttpsClient : public ::testing::Test {
protected:
    std::unique_ptr<https_client> make_client(https_options o = {}, bool trust_test_ca = true) {
        tls_settings s;
        s.use_system_trust = !trust_test_ca;
        if (trust_test_ca) s.ca_pem = tls().authority.ca().cert_pem;
        return std::make_unique<https_client>(ioc.get_executor(), s, o);
    }
    http_result get(https_client& c, const std::string& url, std::string method = "GET") {
        http_request r;
        r.method = std::move(method);
        r.url = url;
        return test::run_coro(ioc, c.send(std::move(r)));
    }
    asio::io_context ioc;
};

// Waits (bounded) for a condition the server thread makes true.
template <class F>
bool eventually(F f) {
    for (int i = 0; i < 500; ++i) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace

TEST_F(HttpsClient, a_server_with_a_trusted_certificate_answers) {
    fake_https_server server(tls().server, ok_json);
    auto client = make_client();
    http_request req;
    req.url = server.base_url() + "/v1.0/users?$top=1";
    req.bearer_token = secret("token-value");
    const auto r = test::run_coro(ioc, client->send(std::move(req)));
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(nlohmann::json::parse(r.response.body)["ok"], true);
    const auto seen = server.received();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].target, "/v1.0/users?$top=1");
    EXPECT_EQ(seen[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(seen[0].header("authorization"), "Bearer token-value");
    EXPECT_EQ(seen[0].header("accept"), "application/json");
}

TEST_F(HttpsClient, a_certificate_from_an_untrusted_ca_is_refused) {
    const test::test_ca rogue("rogue CA");
    fake_https_server server(rogue.issue({"IP:127.0.0.1", "DNS:localhost"}), ok_json);
    auto client = make_client();
    const auto r = get(*client, server.base_url() + "/");
    EXPECT_EQ(r.error, transport_error::tls) << r.detail;
    EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(HttpsClient, a_trusted_certificate_for_another_host_name_is_refused) {
    fake_https_server server(tls().authority.issue({"DNS:graph.example", "IP:10.9.9.9"}, "graph.example"), ok_json);
    auto client = make_client();
    const auto r = get(*client, server.base_url() + "/");
    EXPECT_EQ(r.error, transport_error::tls) << r.detail;
    EXPECT_EQ(server.request_count(), 0u);
    // The same certificate is fine for a client that asks for a name it covers? Not here: the
    // name check is what refused it, not the chain.
    EXPECT_NE(r.detail.find("verify"), std::string::npos) << r.detail;
}

TEST_F(HttpsClient, the_system_store_alone_does_not_trust_the_test_ca) {
    fake_https_server server(tls().server, ok_json);
    auto client = make_client({}, /*trust_test_ca=*/false);
    EXPECT_EQ(get(*client, server.base_url() + "/").error, transport_error::tls);
}

TEST_F(HttpsClient, a_dns_name_is_resolved_and_verified_with_sni) {
    fake_https_server server(tls().server, ok_json);
    auto client = make_client();
    const auto r = get(*client, "https://localhost:" + std::to_string(server.port()) + "/x");
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(server.received()[0].header("host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(HttpsClient, sequential_calls_reuse_one_keep_alive_connection) {
    fake_https_server server(tls().server, ok_json);
    auto client = make_client();
    for (int i = 0; i < 5; ++i) {
        const auto r = get(*client, server.base_url() + "/n/" + std::to_string(i));
        ASSERT_TRUE(r.ok()) << r.detail;
        EXPECT_EQ(r.reused_connection, i > 0);
    }
    EXPECT_EQ(server.connection_count(), 1u);
    EXPECT_EQ(client->connections_opened(), 1u);
    EXPECT_EQ(client->idle_connections(), 1u);
}

namespace {
asio::awaitable<http_result> fetch(https_client& c, std::string url) {
    http_request r;
    r.url = std::move(url);
    co_return co_await c.send(std::move(r));
}
}  // namespace

TEST_F(HttpsClient, concurrent_calls_run_in_parallel_on_separate_connections) {
    fake_https_server server(tls().server, [](const fake_request&) {
        auto r = fake_response::json(200, {{"ok", true}});
        r.delay = std::chrono::milliseconds(300);
        return r;
    });
    auto client = make_client();
    std::vector<std::future<http_result>> futures;
    for (int i = 0; i < 4; ++i)
        futures.push_back(asio::co_spawn(ioc, fetch(*client, server.base_url() + "/p"), asio::use_future));
    const auto start = std::chrono::steady_clock::now();
    ioc.restart();
    for (auto& f : futures) {
        while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
            ioc.run_one_for(std::chrono::milliseconds(50));
        }
        EXPECT_TRUE(f.get().ok());
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(server.connection_count(), 4u);
    EXPECT_EQ(server.max_in_flight(), 4u);
    EXPECT_LT(elapsed, std::chrono::milliseconds(1200));  // 4 x 300 ms would be sequential
    EXPECT_EQ(client->idle_connections(), 4u);
}

TEST_F(HttpsClient, a_hanging_server_hits_the_per_attempt_deadline) {
    fake_https_server server(tls().server,
                             [](const fake_request&) { return fake_response::with(fake_response::action::hang); });
    https_options o;
    o.attempt_timeout = std::chrono::milliseconds(300);
    auto client = make_client(o);
    const auto start = std::chrono::steady_clock::now();
    const auto r = get(*client, server.base_url() + "/hang");
    EXPECT_EQ(r.error, transport_error::timeout) << r.detail;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(HttpsClient, a_per_request_timeout_overrides_the_default) {
    fake_https_server server(tls().server,
                             [](const fake_request&) { return fake_response::with(fake_response::action::hang); });
    auto client = make_client();  // default 30 s
    http_request req;
    req.url = server.base_url() + "/hang";
    req.timeout = std::chrono::milliseconds(200);
    const auto r = test::run_coro(ioc, client->send(std::move(req)), std::chrono::seconds(5));
    EXPECT_EQ(r.error, transport_error::timeout);
}

TEST_F(HttpsClient, an_oversized_body_is_refused) {
    fake_https_server server(tls().server, [](const fake_request&) {
        auto r = fake_response::empty(200);
        r.body.assign(2 * 1024 * 1024, 'x');
        return r;
    });
    https_options o;
    o.body_limit = 1024 * 1024;
    auto client = make_client(o);
    EXPECT_EQ(get(*client, server.base_url() + "/big").error, transport_error::body_limit);
    o.body_limit = 4 * 1024 * 1024;
    auto roomy = make_client(o);
    const auto r = get(*roomy, server.base_url() + "/big");
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(r.response.body.size(), 2u * 1024 * 1024);
}

TEST_F(HttpsClient, a_connection_reset_is_classified_as_reset) {
    fake_https_server server(tls().server,
                             [](const fake_request&) { return fake_response::with(fake_response::action::reset); });
    auto client = make_client();
    const auto r = get(*client, server.base_url() + "/reset");
    EXPECT_EQ(r.error, transport_error::reset) << r.detail;
}

TEST_F(HttpsClient, a_refused_connection_is_classified_as_connect) {
    unsigned short port = 0;
    {
        fake_https_server gone(tls().server, ok_json);
        port = gone.port();
    }
    auto client = make_client();
    const auto r = get(*client, "https://127.0.0.1:" + std::to_string(port) + "/");
    EXPECT_EQ(r.error, transport_error::connect) << r.detail;
}

TEST_F(HttpsClient, a_dead_pooled_connection_is_replaced_for_an_idempotent_request) {
    fake_https_server server(tls().server, closes_connection_1_at_its_second_request);
    auto client = make_client();
    ASSERT_TRUE(get(*client, server.base_url() + "/a").ok());
    const auto r = get(*client, server.base_url() + "/b");
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_TRUE(r.resent);
    EXPECT_FALSE(r.reused_connection);
    EXPECT_EQ(nlohmann::json::parse(r.response.body)["n"], 2);
    EXPECT_EQ(server.connection_count(), 2u);
}

TEST_F(HttpsClient, a_dead_pooled_connection_is_not_resent_for_a_post_that_was_written) {
    fake_https_server server(tls().server, closes_connection_1_at_its_second_request);
    auto client = make_client();
    ASSERT_TRUE(get(*client, server.base_url() + "/a").ok());
    const auto r = get(*client, server.base_url() + "/create", "POST");
    EXPECT_EQ(r.error, transport_error::reset) << r.detail;
    EXPECT_FALSE(r.resent);
    EXPECT_EQ(server.request_count(), 2u);
}

TEST_F(HttpsClient, an_idle_connection_the_server_closed_is_not_reused) {
    fake_https_server server(tls().server, ok_json);
    server.set_idle_timeout(std::chrono::milliseconds(100));
    auto client = make_client();
    ASSERT_TRUE(get(*client, server.base_url() + "/a").ok());
    ASSERT_TRUE(eventually([&] { return server.idle_closed() == 1; }));
    const auto r = get(*client, server.base_url() + "/b");
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_FALSE(r.reused_connection);
    EXPECT_FALSE(r.resent);  // detected before use: nothing had to be re-sent
    EXPECT_EQ(server.connection_count(), 2u);
}

TEST_F(HttpsClient, connection_close_responses_are_not_pooled) {
    fake_https_server server(tls().server, [](const fake_request&) {
        auto r = fake_response::json(200, {{"ok", true}});
        r.close_after = true;
        return r;
    });
    auto client = make_client();
    ASSERT_TRUE(get(*client, server.base_url() + "/a").ok());
    EXPECT_EQ(client->idle_connections(), 0u);
    ASSERT_TRUE(get(*client, server.base_url() + "/b").ok());
    EXPECT_EQ(server.connection_count(), 2u);
}

TEST_F(HttpsClient, unusable_requests_are_refused_before_connecting) {
    fake_https_server server(tls().server, ok_json);
    auto client = make_client();
    EXPECT_EQ(get(*client, "http://127.0.0.1:" + std::to_string(server.port()) + "/").error,
              transport_error::invalid_request);
    EXPECT_EQ(get(*client, server.base_url() + "/", "BREW").error, transport_error::invalid_request);
    http_request injected;
    injected.url = server.base_url() + "/";
    injected.headers.emplace_back("X-Test", "a\r\nX-Evil: 1");
    EXPECT_EQ(test::run_coro(ioc, client->send(std::move(injected))).error, transport_error::invalid_request);
    EXPECT_EQ(server.connection_count(), 0u);
}

TEST_F(HttpsClient, an_unreadable_ca_file_fails_construction_naming_the_file) {
    tls_settings s;
    s.use_system_trust = false;
    s.ca_file = "/nonexistent/containd-ca.pem";
    try {
        https_client c(ioc.get_executor(), s);
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/containd-ca.pem"), std::string::npos);
    }
}
