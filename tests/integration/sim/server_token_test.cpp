// Server, TLS, journal and the token endpoint of the simulated tenant.
#include <thread>

#include "core/ids.hpp"
#include "integration/sim/sim_fixture.hpp"

namespace containd::test {
namespace {

using nlohmann::json;

class SimServer : public sim_fixture {};

std::string token_body(const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::pair<std::string, std::string>> f = {{"grant_type", "client_credentials"}};
    f.insert(f.end(), extra.begin(), extra.end());
    return form_encode(f);
}

TEST_F(SimServer, verifies_against_generated_ca_for_ip_and_localhost) {
    sim_test_client by_ip("127.0.0.1", sim->port(), sim->ca_certificate_pem(), "127.0.0.1");
    EXPECT_EQ(by_ip.request("GET", "/v1.0/users").status, 401);
    sim_test_client by_name("127.0.0.1", sim->port(), sim->ca_certificate_pem(), "localhost");
    EXPECT_EQ(by_name.request("GET", "/v1.0/users").status, 401);
    EXPECT_EQ(sim->base_url(), "https://127.0.0.1:" + std::to_string(sim->port()));
}

TEST_F(SimServer, a_client_trusting_another_ca_fails_the_handshake) {
    const auto other = make_test_certificate("not the simulator");
    sim_test_client stranger("127.0.0.1", sim->port(), other.cert_pem);
    auto r = stranger.request("GET", "/v1.0/users");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("handshake"), std::string::npos) << r.error;
}

TEST_F(SimServer, wrong_host_name_fails_verification) {
    sim_test_client wrong("127.0.0.1", sim->port(), sim->ca_certificate_pem(), "graph.microsoft.com");
    auto r = wrong.request("GET", "/v1.0/users");
    EXPECT_EQ(r.status, 0);
}

TEST_F(SimServer, keeps_connections_alive_across_requests) {
    sim_test_client c("127.0.0.1", sim->port(), sim->ca_certificate_pem());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.graph("GET", "/v1.0/users", token).status, 200);
    EXPECT_EQ(c.connections_opened(), 1);
}

TEST_F(SimServer, serves_concurrent_connections) {
    sim->stop();
    start(2);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            sim_test_client c("127.0.0.1", sim->port(), sim->ca_certificate_pem());
            for (int i = 0; i < 10; ++i)
                if (c.graph("GET", "/v1.0/users/" + std::string(k_fd_id), token).status == 200) ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 40);
    EXPECT_GE(sim->journal().size(), 41u);
}

TEST_F(SimServer, rejects_oversized_headers_and_bodies) {
    auto r = client->request("GET", "/v1.0/users", "", {{"X-Big", std::string(20000, 'a')}});
    EXPECT_EQ(r.status, 431);
    client->close();
    r = client->request("POST", "/v1.0/$batch", std::string(5 * 1024 * 1024, 'x'),
                        {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 413);
}

TEST_F(SimServer, token_with_secret_has_the_documented_shape) {
    sim_response r;
    auto t = client->token_with_secret(k_tenant_id, k_client_id, k_client_secret, &r);
    ASSERT_EQ(r.status, 200);
    auto j = r.json();
    EXPECT_EQ(j["token_type"], "Bearer");
    EXPECT_EQ(j["expires_in"], 3599);
    EXPECT_FALSE(j["access_token"].get<std::string>().empty());
    EXPECT_EQ(r.header("cache-control"), "no-store, no-cache");
    // The tenant may also be named by its domains.
    EXPECT_FALSE(client->token_with_secret("contoso.com", k_client_id, k_client_secret).empty());
    EXPECT_FALSE(client->token_with_secret("contoso.onmicrosoft.com", k_client_id, k_client_secret).empty());
}

void expect_aadsts(const sim_response& r, int status, const std::string& error, int code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"], error);
    EXPECT_EQ(j["error_codes"], json::array({code}));
    EXPECT_EQ(j["error_description"].get<std::string>().rfind("AADSTS" + std::to_string(code) + ": ", 0), 0u)
        << j["error_description"];
    EXPECT_NE(j["error_description"].get<std::string>().find("\r\nTrace ID: "), std::string::npos);
    EXPECT_TRUE(is_guid(j["trace_id"].get<std::string>()));
    EXPECT_TRUE(is_guid(j["correlation_id"].get<std::string>()));
    const auto ts = j["timestamp"].get<std::string>();
    EXPECT_EQ(ts.size(), 20u);
    EXPECT_EQ(ts[10], ' ');
    EXPECT_EQ(ts.back(), 'Z');
    EXPECT_EQ(j["error_uri"], "https://login.microsoftonline.com/error?code=" + std::to_string(code));
}

TEST_F(SimServer, token_errors_use_aadsts_codes) {
    sim_response r;
    client->token_with_secret(k_tenant_id, k_client_id, "wrong", &r);
    expect_aadsts(r, 401, "invalid_client", 7000215);
    EXPECT_EQ(r.body.find("wrong"), std::string::npos);

    client->token_with_secret(k_tenant_id, "11111111-1111-4111-8111-111111111111", "x", &r);
    expect_aadsts(r, 400, "unauthorized_client", 700016);

    client->token_with_secret("fabrikam.com", k_client_id, k_client_secret, &r);
    expect_aadsts(r, 400, "invalid_request", 90002);

    const std::string path = "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token";
    const std::vector<std::pair<std::string, std::string>> form_ct = {
        {"Content-Type", "application/x-www-form-urlencoded"}};
    r = client->request("POST", path,
                        token_body({{"client_id", k_client_id},
                                    {"client_secret", k_client_secret},
                                    {"scope", "https://graph.microsoft.com/User.Read"}}),
                        form_ct);
    expect_aadsts(r, 400, "invalid_scope", 70011);

    r = client->request("POST", path,
                        form_encode({{"client_id", k_client_id},
                                     {"client_secret", k_client_secret},
                                     {"scope", "https://graph.microsoft.com/.default"}}),
                        form_ct);
    expect_aadsts(r, 400, "invalid_request", 900144);
    EXPECT_NE(r.json()["error_description"].get<std::string>().find("'grant_type'"), std::string::npos);

    r = client->request("POST", path, token_body({{"client_id", k_client_id}, {"client_secret", k_client_secret}}),
                        form_ct);
    expect_aadsts(r, 400, "invalid_request", 900144);
    EXPECT_NE(r.json()["error_description"].get<std::string>().find("'scope'"), std::string::npos);

    r = client->request("GET", path);
    EXPECT_EQ(r.status, 400);
}

class SimAssertion : public sim_fixture {
protected:
    json claims(time_point now) {
        const auto s = to_unix_ms(now) / 1000;
        return {{"aud", sim->base_url() + "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token"},
                {"iss", k_client_id},
                {"sub", k_client_id},
                {"jti", "6b1c7b1e-0f59-4a1e-a0f1-7b3e0e0c6a11"},
                {"nbf", s},
                {"exp", s + 600}};
    }
    sim_response send(const std::string& assertion) {
        return client->request(
            "POST", "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token",
            token_body({{"client_id", k_client_id},
                        {"scope", "https://graph.microsoft.com/.default"},
                        {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
                        {"client_assertion", assertion}}),
            {{"Content-Type", "application/x-www-form-urlencoded"}});
    }
};

TEST_F(SimAssertion, rs256_with_sha1_thumbprint_is_accepted) {
    auto r = send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, claims(clock.now()), cert.key_pem, "RS256"));
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(SimAssertion, ps256_with_sha256_thumbprint_is_accepted) {
    auto r = send(sign_jwt({{"x5t#S256", x5t_sha256(cert.der)}}, claims(clock.now()), cert.key_pem, "PS256"));
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(SimAssertion, domain_audience_is_accepted) {
    auto c = claims(clock.now());
    c["aud"] = sim->base_url() + "/contoso.com/oauth2/v2.0/token";
    EXPECT_EQ(send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, c, cert.key_pem, "RS256")).status, 200);
}

TEST_F(SimAssertion, a_signature_by_another_key_fails_700027) {
    const auto other = make_test_certificate("attacker");
    auto r = send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, claims(clock.now()), other.key_pem, "RS256"));
    expect_aadsts(r, 401, "invalid_client", 700027);
    r = send(sign_jwt({{"x5t", x5t_sha1(other.der)}}, claims(clock.now()), other.key_pem, "RS256"));
    expect_aadsts(r, 401, "invalid_client", 700027);
}

TEST_F(SimAssertion, claims_are_checked) {
    auto c = claims(clock.now());
    c["aud"] = "https://login.microsoftonline.com/" + std::string(k_tenant_id) + "/oauth2/v2.0/token";
    EXPECT_EQ(send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, c, cert.key_pem, "RS256")).status, 401);
    c = claims(clock.now());
    c["sub"] = "someone-else";
    expect_aadsts(send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, c, cert.key_pem, "RS256")), 401, "invalid_client",
                  50048);
    c = claims(clock.now() - minutes(30));  // expired 20 minutes ago on the injected clock
    expect_aadsts(send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, c, cert.key_pem, "RS256")), 401, "invalid_client",
                  500133);
    c = claims(clock.now() + minutes(20));  // not yet valid
    expect_aadsts(send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, c, cert.key_pem, "RS256")), 401, "invalid_client",
                  500133);
    c = claims(clock.now() - minutes(12));  // expired 2 minutes ago: inside the skew
    EXPECT_EQ(send(sign_jwt({{"x5t", x5t_sha1(cert.der)}}, c, cert.key_pem, "RS256")).status, 200);
}

TEST_F(SimServer, graph_demands_a_valid_unexpired_token) {
    auto r = client->request("GET", "/v1.0/users/" + std::string(k_fd_id));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.json()["error"]["code"], "InvalidAuthenticationToken");
    EXPECT_EQ(r.json()["error"]["message"], "Access token is empty.");
    EXPECT_FALSE(r.header("www-authenticate").empty());
    r = client->graph("GET", "/v1.0/users/" + std::string(k_fd_id), "not-a-token");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(get("/v1.0/users/" + std::string(k_fd_id)).status, 200);
    clock.advance(minutes(60));
    r = get("/v1.0/users/" + std::string(k_fd_id));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.json()["error"]["message"], "Access token has expired or is not yet valid.");
    const auto inner = r.json()["error"]["innerError"];
    EXPECT_TRUE(inner.contains("date") && inner.contains("request-id") && inner.contains("client-request-id"));
}

TEST_F(SimServer, scenario_app_secrets_obtain_tokens_until_removed_or_disabled) {
    const std::string secret = "dsp~Q8f2kLz7Rw1NvX4pTa9Ye3Hc6Ju0Mb5Gs";
    EXPECT_FALSE(client->token_with_secret(k_tenant_id, k_dsp_app_id, secret).empty());
    EXPECT_EQ(post("/v1.0/applications/" + std::string(k_dsp_object) + "/removePassword",
                   {{"keyId", "e1d2c3b4-0001-4a5b-8c7d-6e5f4a3b2c91"}})
                  .status,
              204);
    sim_response r;
    client->token_with_secret(k_tenant_id, k_dsp_app_id, secret, &r);
    expect_aadsts(r, 401, "invalid_client", 7000215);
    EXPECT_EQ(patch("/v1.0/servicePrincipals/" + std::string(k_dsp_sp), {{"accountEnabled", false}}).status, 204);
    client->token_with_secret(k_tenant_id, k_dsp_app_id, "dsp~W3n8Vb2Xc7Zq1Lk6Jh4Gf9Ds5Aa0Pp2Oo", &r);
    expect_aadsts(r, 400, "unauthorized_client", 7000112);
}

TEST_F(SimServer, journal_records_requests_without_secrets_or_tokens) {
    EXPECT_EQ(patch("/v1.0/users/" + std::string(k_clerk_id),
                    {{"passwordProfile",
                      {{"password", "Xy7!correct-horse-battery"}, {"forceChangePasswordNextSignIn", true}}}})
                  .status,
              204);
    const std::string path = "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token";
    auto assertion = sign_jwt({{"x5t", x5t_sha1(cert.der)}}, {{"iss", k_client_id}}, cert.key_pem, "RS256");
    client->request("POST", path,
                    token_body({{"client_id", k_client_id},
                                {"scope", "https://graph.microsoft.com/.default"},
                                {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
                                {"client_assertion", assertion}}),
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
    const auto j = sim->journal();
    ASSERT_GE(j.size(), 3u);
    for (const auto& e : j) {
        EXPECT_EQ(e.body.find(k_client_secret), std::string::npos);
        EXPECT_EQ(e.body.find(url_encode(k_client_secret)), std::string::npos);
        EXPECT_EQ(e.body.find(token), std::string::npos);
        EXPECT_EQ(e.query.find(token), std::string::npos);
        EXPECT_EQ(e.body.find("correct-horse"), std::string::npos);
        EXPECT_EQ(e.body.find(assertion.substr(0, 20)), std::string::npos);
    }
    EXPECT_EQ(j[0].method, "POST");
    EXPECT_NE(j[0].body.find("client_secret=[REDACTED]"), std::string::npos);
    EXPECT_EQ(j[0].client_id, k_client_id);
    EXPECT_EQ(j[1].method, "PATCH");
    EXPECT_EQ(j[1].path, "/v1.0/users/" + std::string(k_clerk_id));
    EXPECT_EQ(j[1].status, 204);
    EXPECT_EQ(j[1].client_id, k_client_id);
    EXPECT_NE(j[1].body.find("[REDACTED len=25"), std::string::npos) << j[1].body;
    EXPECT_NE(j[2].body.find("client_assertion=[REDACTED]"), std::string::npos);
    EXPECT_EQ(j[1].at, clock.now());
    EXPECT_LT(j[0].seq, j[1].seq);
}

TEST_F(SimServer, loopback_control_endpoints_answer_json) {
    get("/v1.0/users");
    auto r = client->request("GET", "/_sim/journal");
    ASSERT_EQ(r.status, 200);
    EXPECT_GE(r.json()["entries"].size(), 2u);
    r = client->request("GET", "/_sim/state");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["tenant"]["id"], k_tenant_id);
    EXPECT_EQ(r.json()["users"].size(), 10u);
    r = client->request("POST", "/_sim/faults",
                        R"({"rules":[{"path_regex":"^/v1\\.0/users$","kind":"503","count":1}]})");
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(get("/v1.0/users").status, 503);
    EXPECT_EQ(get("/v1.0/users").status, 200);
    EXPECT_EQ(sim->tenant_id(), k_tenant_id);
}

}  // namespace
}  // namespace containd::test
