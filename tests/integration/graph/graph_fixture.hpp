#pragma once
// A fake tenant for graph::client tests: one fake HTTPS server serving the token endpoint
// (tok-1, tok-2, ... ) and a Graph handler the test sets.

#include <gtest/gtest.h>

#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>

#include "core/time.hpp"
#include "graph/client.hpp"
#include "graph/https_client.hpp"
#include "graph/token_source.hpp"
#include "support/fake_https_server.hpp"
#include "support/test_tls.hpp"

namespace containd::test {

inline const loopback_tls& graph_tls() {
    static const loopback_tls t = make_loopback_tls();
    return t;
}

struct fake_tenant {
    std::mutex mu;
    fake_https_server::handler graph;
    int tokens_issued = 0;
    std::optional<fake_response> token_answer;  // instead of a token

    fake_response handle(const fake_request& r) {
        fake_https_server::handler g;
        {
            std::lock_guard lock(mu);
            if (r.path() == "/contoso.onmicrosoft.com/oauth2/v2.0/token") {
                if (token_answer) return *token_answer;
                return fake_response::json(200, {{"token_type", "Bearer"},
                                                 {"expires_in", 3599},
                                                 {"access_token", "tok-" + std::to_string(++tokens_issued)}});
            }
            g = graph;
        }
        if (!g)
            return fake_response::json(404,
                                       {{"error", {{"code", "Request_ResourceNotFound"}, {"message", "no handler"}}}});
        return g(r);
    }
};

class GraphFixture : public ::testing::Test {
protected:
    void start(graph::graph_settings settings = {}, const clock_source* clk = nullptr) {
        clock_ = clk ? clk : &system_clock_;
        auto t = tenant;
        server = std::make_unique<fake_https_server>(graph_tls().server,
                                                     [t](const fake_request& r) { return t->handle(r); });
        graph::tls_settings s;
        s.use_system_trust = false;
        s.ca_pem = graph_tls().authority.ca().cert_pem;
        http = std::make_unique<graph::https_client>(ioc.get_executor(), s);
        graph::token_settings ts;
        ts.login_base = server->base_url();
        ts.tenant = "contoso.onmicrosoft.com";
        ts.client_id = "11111111-2222-3333-4444-555555555555";
        tokens =
            std::make_unique<graph::token_source>(*http, *clock_, ts, graph::client_secret_credential{secret("s")});
        settings.graph_base = server->base_url();
        client = std::make_unique<graph::client>(*http, *tokens, *clock_, settings);
    }

    void on_graph(fake_https_server::handler h) {
        std::lock_guard lock(tenant->mu);
        tenant->graph = std::move(h);
    }

    std::vector<fake_request> graph_requests() const {
        std::vector<fake_request> out;
        for (auto& r : server->received())
            if (r.path().find("/oauth2/v2.0/token") == std::string::npos) out.push_back(r);
        return out;
    }

    int tokens_issued() {
        std::lock_guard lock(tenant->mu);
        return tenant->tokens_issued;
    }

    template <class T>
    T run(boost::asio::awaitable<T> a, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
        return run_coro(ioc, std::move(a), limit);
    }

    boost::asio::io_context ioc;
    system_clock_source system_clock_;
    const clock_source* clock_ = nullptr;
    std::shared_ptr<fake_tenant> tenant = std::make_shared<fake_tenant>();
    std::unique_ptr<fake_https_server> server;
    std::unique_ptr<graph::https_client> http;
    std::unique_ptr<graph::token_source> tokens;
    std::unique_ptr<graph::client> client;
};

inline fake_response graph_error(int status, const std::string& code, const std::string& message,
                                 header_pairs extra = {}) {
    return fake_response::json(
        status, {{"error", {{"code", code}, {"message", message}, {"innerError", {{"request-id", "r"}}}}}},
        std::move(extra));
}

}  // namespace containd::test
