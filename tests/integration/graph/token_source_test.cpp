// graph::token_source against a fake token endpoint: the form it posts (secret and certificate),
// caching on the manual clock, single flight, invalidation and error reporting.
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/io_context.hpp>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "graph/https_client.hpp"
#include "graph/odata.hpp"
#include "graph/token_source.hpp"
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

std::map<std::string, std::string> parse_form(const std::string& body) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos <= body.size()) {
        const auto amp = body.find('&', pos);
        const std::string pair = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        const auto eq = pair.find('=');
        out[pair.substr(0, eq)] = odata::percent_decode(pair.substr(eq + 1)).value_or("<bad escape>");
        if (amp == std::string::npos) break;
        pos = amp + 1;
    }
    return out;
}

bool verify_rs256(const std::string& jwt, const std::string& cert_pem) {
    const auto dot = jwt.rfind('.');
    const std::string input = jwt.substr(0, dot);
    const auto sig = base64url_decode(jwt.substr(dot + 1));
    BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    EVP_PKEY* key = X509_get_pubkey(cert);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = sig && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    X509_free(cert);
    BIO_free(bio);
    return ok;
}

nlohmann::json jwt_payload(const std::string& jwt) {
    const auto a = jwt.find('.'), b = jwt.rfind('.');
    return nlohmann::json::parse(*base64url_decode(jwt.substr(a + 1, b - a - 1)));
}

// A token endpoint that hands out tok-1, tok-2, ... with the given lifetime.
struct token_endpoint {
    int issued = 0;
    int expires_in = 3599;
    std::chrono::milliseconds delay{0};
    fake_response operator()(const fake_request& r) {
        if (r.method != "POST" || r.path() != "/contoso.onmicrosoft.com/oauth2/v2.0/token")
            return fake_response::json(404, {{"error", "not_found"}});
        auto resp = fake_response::json(200, {{"token_type", "Bearer"},
                                              {"expires_in", expires_in},
                                              {"ext_expires_in", expires_in},
                                              {"access_token", "tok-" + std::to_string(++issued)}});
        resp.delay = delay;
        return resp;
    }
};

class TokenSource : public ::testing::Test {
protected:
    TokenSource() {
        tls_settings s;
        s.use_system_trust = false;
        s.ca_pem = tls().authority.ca().cert_pem;
        http = std::make_unique<https_client>(ioc.get_executor(), s);
    }
    token_settings settings_for(const fake_https_server& server) {
        token_settings t;
        t.login_base = server.base_url();
        t.tenant = "contoso.onmicrosoft.com";
        t.client_id = "11111111-2222-3333-4444-555555555555";
        return t;
    }
    token_reply get(token_source& ts) { return test::run_coro(ioc, ts.get()); }

    asio::io_context ioc;
    manual_clock clock{*parse_rfc3339("2024-05-01T10:00:00Z")};
    std::unique_ptr<https_client> http;
};

}  // namespace

TEST_F(TokenSource, client_secret_form_has_the_documented_fields) {
    auto endpoint = std::make_shared<token_endpoint>();
    fake_https_server server(tls().server, [endpoint](const fake_request& r) { return (*endpoint)(r); });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("s3c+r/e=t&x y")});
    const auto reply = get(ts);
    ASSERT_TRUE(reply.ok()) << describe(reply.call);
    EXPECT_EQ(reply.token.reveal(), "tok-1");
    EXPECT_FALSE(reply.call.body.contains("access_token"));  // never kept in the generic body
    EXPECT_EQ(reply.call.body["token_type"], "Bearer");

    const auto seen = server.received();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].header("content-type"), "application/x-www-form-urlencoded");
    const auto form = parse_form(seen[0].body);
    EXPECT_EQ(form.at("client_id"), "11111111-2222-3333-4444-555555555555");
    EXPECT_EQ(form.at("scope"), "https://graph.microsoft.com/.default");
    EXPECT_EQ(form.at("grant_type"), "client_credentials");
    EXPECT_EQ(form.at("client_secret"), "s3c+r/e=t&x y");
    EXPECT_FALSE(form.count("client_assertion"));
    EXPECT_EQ(ts.endpoint(), server.base_url() + "/contoso.onmicrosoft.com/oauth2/v2.0/token");
}

TEST_F(TokenSource, certificate_credentials_send_a_signed_assertion_for_the_endpoint) {
    const auto app = test::make_self_signed("containd app");
    auto endpoint = std::make_shared<token_endpoint>();
    fake_https_server server(tls().server, [endpoint](const fake_request& r) { return (*endpoint)(r); });
    token_source ts(*http, clock, settings_for(server), certificate_credential{secret(app.key_pem), app.cert_pem});
    ASSERT_TRUE(get(ts).ok());
    const auto form = parse_form(server.received().at(0).body);
    EXPECT_FALSE(form.count("client_secret"));
    EXPECT_EQ(form.at("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const std::string jwt = form.at("client_assertion");
    EXPECT_TRUE(verify_rs256(jwt, app.cert_pem));
    const auto claims = jwt_payload(jwt);
    EXPECT_EQ(claims["aud"], ts.endpoint());
    EXPECT_EQ(claims["iss"], "11111111-2222-3333-4444-555555555555");
    EXPECT_EQ(claims["sub"], claims["iss"]);
    EXPECT_EQ(claims["nbf"], 1714557600);  // the injected clock
    EXPECT_EQ(claims["exp"], 1714557600 + 600);
}

TEST_F(TokenSource, caches_until_five_minutes_before_expiry) {
    auto endpoint = std::make_shared<token_endpoint>();
    fake_https_server server(tls().server, [endpoint](const fake_request& r) { return (*endpoint)(r); });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("s")});
    EXPECT_EQ(get(ts).token.reveal(), "tok-1");
    EXPECT_EQ(get(ts).token.reveal(), "tok-1");
    EXPECT_EQ(ts.requests_made(), 1u);
    EXPECT_EQ(ts.cached_until(), clock.now() + seconds(3599 - 300));
    clock.advance(seconds(3599 - 300 - 1));
    EXPECT_EQ(get(ts).token.reveal(), "tok-1");
    clock.advance(seconds(1));
    EXPECT_EQ(get(ts).token.reveal(), "tok-2");
    EXPECT_EQ(ts.requests_made(), 2u);
}

TEST_F(TokenSource, a_short_lived_token_is_refreshed_at_half_its_lifetime) {
    auto endpoint = std::make_shared<token_endpoint>();
    endpoint->expires_in = 120;
    fake_https_server server(tls().server, [endpoint](const fake_request& r) { return (*endpoint)(r); });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("s")});
    get(ts);
    clock.advance(seconds(59));
    EXPECT_EQ(get(ts).token.reveal(), "tok-1");
    clock.advance(seconds(1));
    EXPECT_EQ(get(ts).token.reveal(), "tok-2");
}

namespace {
asio::awaitable<token_reply> fetch_token(token_source& ts) { co_return co_await ts.get(); }

// n concurrent get() calls on one token source, run to completion (10 s at most).
std::vector<token_reply> fetch_concurrently(asio::io_context& ioc, token_source& ts, int n) {
    std::vector<std::future<token_reply>> futures;
    for (int i = 0; i < n; ++i) futures.push_back(asio::co_spawn(ioc, fetch_token(ts), asio::use_future));
    ioc.restart();
    const auto start = std::chrono::steady_clock::now();
    std::vector<token_reply> out;
    for (auto& f : futures) {
        while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) {
                ADD_FAILURE() << "token requests did not finish";
                return out;
            }
            ioc.run_one_for(std::chrono::milliseconds(50));
        }
        out.push_back(f.get());
    }
    return out;
}
}  // namespace

TEST_F(TokenSource, concurrent_callers_share_one_request) {
    auto endpoint = std::make_shared<token_endpoint>();
    endpoint->delay = std::chrono::milliseconds(200);
    fake_https_server server(tls().server, [endpoint](const fake_request& r) { return (*endpoint)(r); });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("s")});
    const auto replies = fetch_concurrently(ioc, ts, 5);
    ASSERT_EQ(replies.size(), 5u);
    for (const auto& r : replies) EXPECT_EQ(r.token.reveal(), "tok-1");
    EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(TokenSource, a_failure_is_shared_by_concurrent_callers_and_reports_the_aadsts_code) {
    fake_https_server server(tls().server, [](const fake_request&) {
        auto r = fake_response::json(
            401, {{"error", "invalid_client"},
                  {"error_description",
                   "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
                   "client secret value.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2024-05-01 10:00:00Z"},
                  {"error_codes", {7000215}}});
        r.delay = std::chrono::milliseconds(100);
        return r;
    });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("wrong-secret-value")});
    const auto replies = fetch_concurrently(ioc, ts, 3);
    ASSERT_EQ(replies.size(), 3u);
    for (const auto& r : replies) {
        EXPECT_FALSE(r.ok());
        EXPECT_TRUE(r.token.empty());
        EXPECT_TRUE(r.call.token_failure);
        EXPECT_EQ(r.call.status, 401);
        EXPECT_EQ(r.call.error_code, "invalid_client");
        EXPECT_EQ(r.call.aadsts_codes, (std::vector<std::int64_t>{7000215}));
        EXPECT_EQ(describe(r.call).find("wrong-secret-value"), std::string::npos);
        EXPECT_EQ(r.call.body.dump().find("wrong-secret-value"), std::string::npos);
    }
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_FALSE(ts.cached_until());
}

TEST_F(TokenSource, invalidate_drops_only_the_rejected_token) {
    auto endpoint = std::make_shared<token_endpoint>();
    fake_https_server server(tls().server, [endpoint](const fake_request& r) { return (*endpoint)(r); });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("s")});
    const auto first = get(ts);
    ts.invalidate(secret("some-older-token"));
    EXPECT_EQ(get(ts).token.reveal(), "tok-1");
    ts.invalidate(first.token);
    EXPECT_EQ(get(ts).token.reveal(), "tok-2");
    ts.invalidate();
    EXPECT_EQ(get(ts).token.reveal(), "tok-3");
}

TEST_F(TokenSource, a_success_without_a_token_is_malformed) {
    fake_https_server server(tls().server, [](const fake_request&) {
        return fake_response::json(200, {{"token_type", "Bearer"}});
    });
    token_source ts(*http, clock, settings_for(server), client_secret_credential{secret("s")});
    const auto r = get(ts);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.call.malformed);
    EXPECT_TRUE(r.call.token_failure);
}

TEST_F(TokenSource, an_unreachable_endpoint_is_a_transport_failure) {
    token_settings s;
    {
        fake_https_server gone(tls().server, [](const fake_request&) { return fake_response::empty(200); });
        s = settings_for(gone);
    }
    token_source ts(*http, clock, s, client_secret_credential{secret("s")});
    const auto r = get(ts);
    EXPECT_EQ(r.call.status, 0);
    EXPECT_EQ(r.call.transport, transport_error::connect);
    EXPECT_TRUE(r.call.token_failure);
}

TEST_F(TokenSource, refuses_unusable_settings) {
    token_settings s;
    s.tenant = "contoso.onmicrosoft.com";
    s.client_id = "c";
    EXPECT_THROW(token_source(*http, clock, s, client_secret_credential{secret("")}), std::invalid_argument);
    s.tenant = "common";
    EXPECT_THROW(token_source(*http, clock, s, client_secret_credential{secret("x")}), std::invalid_argument);
    s.tenant = "contoso/../x";
    EXPECT_THROW(token_source(*http, clock, s, client_secret_credential{secret("x")}), std::invalid_argument);
    s.tenant = "contoso.onmicrosoft.com";
    s.client_id.clear();
    EXPECT_THROW(token_source(*http, clock, s, client_secret_credential{secret("x")}), std::invalid_argument);
    s.client_id = "c";
    s.login_base = "http://login.example";
    EXPECT_THROW(token_source(*http, clock, s, client_secret_credential{secret("x")}), std::invalid_argument);
    s.login_base = "https://login.microsoftonline.com";
    EXPECT_THROW(token_source(*http, clock, s, certificate_credential{secret("junk"), "junk"}), std::invalid_argument);
}
