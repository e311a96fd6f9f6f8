// containd's own application in the simulated tenant (lib/sim/tenant_self.cpp): its application
// object lists the secret and certificate it presents with their expiry, its service principal
// holds the scenario's directory roles, a password reset needs the right one (Microsoft's 403
// otherwise), and an expired secret or certificate is refused at the token endpoint.
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "integration/sim/sim_fixture.hpp"
#include "sim/tls.hpp"

namespace containd::test {
namespace {

using nlohmann::json;

constexpr const char* new_password = "Xy7!containd-Reset-2026";

std::string own_sp() { return "/v1.0/servicePrincipals(appId='" + std::string(k_client_id) + "')"; }

void expect_denied(const sim_response& r) {
    EXPECT_EQ(r.status, 403) << r.body;
    const auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["code"], "Authorization_RequestDenied") << r.body;
    EXPECT_EQ(j["error"]["message"], "Insufficient privileges to complete the operation.") << r.body;
}

void expect_aadsts(const sim_response& r, int status, const std::string& error, int code) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"], error) << r.body;
    EXPECT_EQ(j["error_codes"], json::array({code})) << r.body;
}

// The walkthrough with extra top-level scenario keys.
class SimOwnApp : public sim_fixture {
protected:
    json extra = json::object();
    json scenario() override {
        json s = load_walkthrough();
        for (auto it = extra.begin(); it != extra.end(); ++it) s[it.key()] = it.value();
        return s;
    }
    void SetUp() override {}  // each test sets `extra`, then start()

    sim_response reset(const std::string& user) {
        return patch("/v1.0/users/" + user,
                     {{"passwordProfile", {{"password", new_password}, {"forceChangePasswordNextSignIn", true}}}});
    }
    sim_response token_request(const std::string& secret) {
        return client->request("POST", "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token",
                               form_encode({{"grant_type", "client_credentials"},
                                            {"client_id", k_client_id},
                                            {"client_secret", secret},
                                            {"scope", "https://graph.microsoft.com/.default"}}),
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
    }
    sim_response assertion_request() {
        const auto s = to_unix_ms(clock.now()) / 1000;
        const json claims = {{"aud", sim->base_url() + "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token"},
                             {"iss", k_client_id},
                             {"sub", k_client_id},
                             {"jti", random_uuid()},
                             {"nbf", s},
                             {"exp", s + 600}};
        return client->request(
            "POST", "/" + std::string(k_tenant_id) + "/oauth2/v2.0/token",
            form_encode({{"grant_type", "client_credentials"},
                         {"client_id", k_client_id},
                         {"scope", "https://graph.microsoft.com/.default"},
                         {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
                         {"client_assertion", sign_jwt({{"x5t", x5t_sha1(cert.der)}}, claims, cert.key_pem, "RS256")}}),
            {{"Content-Type", "application/x-www-form-urlencoded"}});
    }
};

TEST_F(SimOwnApp, the_application_lists_the_secret_and_certificate_it_presents) {
    start();
    // By filter (what containd's preflight reads) and by alternate key.
    auto r = get("/v1.0/applications?$filter=" + url_encode("appId eq '" + std::string(k_client_id) + "'") +
                 "&$select=id,appId,displayName,passwordCredentials,keyCredentials");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json()["value"].size(), 1u) << r.body;
    const json app = r.json()["value"][0];
    EXPECT_EQ(app["id"], "4c2b1a09-8e7d-4f6c-9b5a-3d2e1f0a9b82");  // the scenario's "containd IR automation"
    ASSERT_EQ(app["passwordCredentials"].size(), 1u) << app.dump();
    const json secret = app["passwordCredentials"][0];
    EXPECT_EQ(secret["hint"], std::string(k_client_secret).substr(0, 3));
    EXPECT_TRUE(secret["secretText"].is_null());
    EXPECT_TRUE(is_guid(secret["keyId"].get<std::string>()));
    const auto end = parse_rfc3339(secret["endDateTime"].get<std::string>());
    ASSERT_TRUE(end);
    EXPECT_GT(*end, t0() + std::chrono::hours(24 * 365 * 5));  // by default far in the future
    EXPECT_EQ(r.body.find(k_client_secret), std::string::npos);
    ASSERT_EQ(app["keyCredentials"].size(), 1u) << app.dump();
    EXPECT_EQ(app["keyCredentials"][0]["customKeyIdentifier"], base64_encode(sim::sha1_raw(cert.der)));
    EXPECT_EQ(app["keyCredentials"][0]["type"], "AsymmetricX509Cert");
    EXPECT_EQ(app["keyCredentials"][0]["endDateTime"], secret["endDateTime"]);

    r = get("/v1.0/applications(appId='" + std::string(k_client_id) + "')?$select=passwordCredentials,keyCredentials");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["passwordCredentials"], app["passwordCredentials"]);
    EXPECT_EQ(r.json()["keyCredentials"][0]["key"], base64_encode(cert.der));  // single object: key included
}

TEST_F(SimOwnApp, a_registered_client_the_scenario_does_not_declare_gets_an_application_and_a_service_principal) {
    extra["app_directory_roles"] = {"User Administrator"};
    json s = scenario();
    for (auto& a : s["applications"])
        if (a["appId"] == k_client_id) a["appId"] = "11111111-2222-4333-8444-555555555555";
    sim::options o;
    o.scenario = s;
    o.clients.push_back({k_client_id, k_client_secret, ""});
    sim = std::make_unique<sim::simulator>(o, clock);
    sim->start();
    client = std::make_unique<sim_test_client>("127.0.0.1", sim->port(), sim->ca_certificate_pem());
    token = client->token_with_secret(k_tenant_id, k_client_id, k_client_secret);
    ASSERT_FALSE(token.empty());
    auto r = get("/v1.0/applications(appId='" + std::string(k_client_id) +
                 "')?$select=id,appId,passwordCredentials,keyCredentials");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["passwordCredentials"].size(), 1u);
    EXPECT_TRUE(r.json()["keyCredentials"].empty());
    r = get(own_sp() + "/transitiveMemberOf");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json()["value"].size(), 1u) << r.body;
    EXPECT_EQ(r.json()["value"][0]["displayName"], "User Administrator");
}

TEST_F(SimOwnApp, the_service_principal_holds_privileged_authentication_administrator_by_default) {
    start();
    for (const char* nav : {"/transitiveMemberOf", "/memberOf", "/transitiveMemberOf/microsoft.graph.directoryRole"}) {
        const auto r = get(own_sp() + nav);
        ASSERT_EQ(r.status, 200) << nav << ": " << r.body;
        const json roles = r.json()["value"];
        ASSERT_EQ(roles.size(), 1u) << r.body;
        EXPECT_EQ(roles[0]["@odata.type"], "#microsoft.graph.directoryRole");
        EXPECT_EQ(roles[0]["displayName"], "Privileged Authentication Administrator");
        EXPECT_EQ(roles[0]["roleTemplateId"], "7be44c8a-adaf-4e2a-84d6-ab2649e08a13");
    }
    // By object id too, and the role lists the service principal among its members.
    const auto sp = get(own_sp()).json();
    EXPECT_EQ(get("/v1.0/servicePrincipals/" + sp["id"].get<std::string>() + "/memberOf").json()["value"].size(), 1u);
    const std::string role_id = get(own_sp() + "/memberOf").json()["value"][0]["id"];
    bool listed = false;
    const json members = get("/v1.0/directoryRoles/" + role_id + "/members").json();
    for (const auto& m : members["value"])
        listed = listed || (m["@odata.type"] == "#microsoft.graph.servicePrincipal" && m["id"] == sp["id"]);
    EXPECT_TRUE(listed);
    // Other service principals hold no role; an unknown cast segment is Graph's 400.
    EXPECT_TRUE(get("/v1.0/servicePrincipals(appId='" + std::string(k_dsp_app_id) + "')/transitiveMemberOf")
                    .json()["value"]
                    .empty());
    EXPECT_EQ(get(own_sp() + "/memberOf/microsoft.graph.group").status, 400);
    // The memberships are read-only here.
    EXPECT_EQ(post(own_sp() + "/memberOf").status, 405);

    // With the default role, every reset is allowed (admin targets included).
    EXPECT_EQ(reset(k_clerk_id).status, 204);
    EXPECT_EQ(reset(k_fd_id).status, 204);
}

TEST_F(SimOwnApp, user_administrator_resets_standard_accounts_only) {
    extra["app_directory_roles"] = {"User Administrator"};
    start();
    const auto r = get(own_sp() + "/transitiveMemberOf");
    ASSERT_EQ(r.json()["value"].size(), 1u) << r.body;
    EXPECT_EQ(r.json()["value"][0]["displayName"], "User Administrator");

    EXPECT_EQ(reset(k_clerk_id).status, 204);         // no admin role
    expect_denied(reset(k_fd_id));                    // Exchange Administrator
    expect_denied(reset("breakglass1@contoso.com"));  // Global Administrator
    // Refused means nothing changed.
    json fd;
    const json state = sim->state();
    for (const auto& u : state["users"])
        if (u["id"] == k_fd_id) fd = u;
    EXPECT_TRUE(fd["_sim"]["password_changed"].is_null()) << fd["_sim"].dump();
    // Other updates of the same account need no directory role; forcing a change is a reset too.
    EXPECT_EQ(patch("/v1.0/users/" + std::string(k_fd_id), {{"accountEnabled", false}}).status, 204);
    expect_denied(
        patch("/v1.0/users/" + std::string(k_fd_id), {{"passwordProfile", {{"forceChangePasswordNextSignIn", true}}}}));

    // The same rule inside $batch.
    const json batch = {{"requests",
                         {{{"id", "1"},
                           {"method", "PATCH"},
                           {"url", "/users/" + std::string(k_fd_id)},
                           {"headers", {{"Content-Type", "application/json"}}},
                           {"body", {{"passwordProfile", {{"password", new_password}}}}}},
                          {{"id", "2"},
                           {"method", "PATCH"},
                           {"url", "/users/" + std::string(k_cfo_id)},
                           {"headers", {{"Content-Type", "application/json"}}},
                           {"body", {{"passwordProfile", {{"password", new_password}}}}}}}}};
    const auto b = post("/v1.0/$batch", batch);
    ASSERT_EQ(b.status, 200) << b.body;
    const json answer = b.json();
    for (const auto& item : answer["responses"]) {
        if (item["id"] == "1") {
            EXPECT_EQ(item["status"], 403) << item.dump();
            EXPECT_EQ(item["body"]["error"]["code"], "Authorization_RequestDenied");
        } else {
            EXPECT_EQ(item["status"], 204) << item.dump();
        }
    }
}

TEST_F(SimOwnApp, without_a_directory_role_no_reset_and_global_administrator_resets_all) {
    extra["app_directory_roles"] = json::array();
    start();
    EXPECT_TRUE(get(own_sp() + "/transitiveMemberOf").json()["value"].empty());
    expect_denied(reset(k_clerk_id));
    expect_denied(reset(k_fd_id));
    // The permission check (User-PasswordProfile.ReadWrite.All) still comes first and still passes:
    // reading the user works.
    EXPECT_EQ(get("/v1.0/users/" + std::string(k_clerk_id)).status, 200);

    sim->stop();
    extra["app_directory_roles"] = {"Global Administrator"};
    start();
    EXPECT_EQ(reset(k_clerk_id).status, 204);
    EXPECT_EQ(reset(k_fd_id).status, 204);
}

TEST_F(SimOwnApp, an_expired_secret_is_refused_with_7000222_and_an_expired_certificate_with_700027) {
    extra["app_credential_expires"] = "+1h";
    start();
    const auto app =
        get("/v1.0/applications(appId='" + std::string(k_client_id) + "')?$select=passwordCredentials").json();
    EXPECT_EQ(parse_rfc3339(app["passwordCredentials"][0]["endDateTime"].get<std::string>()),
              t0() + std::chrono::hours(1));
    EXPECT_EQ(token_request(k_client_secret).status, 200);
    EXPECT_EQ(assertion_request().status, 200);

    clock.advance(minutes(61));
    auto r = token_request(k_client_secret);
    expect_aadsts(r, 401, "invalid_client", 7000222);
    EXPECT_EQ(
        r.json()["error_description"].get<std::string>().rfind(
            "AADSTS7000222: The provided client secret keys for app '" + std::string(k_client_id) + "' are expired.",
            0),
        0u)
        << r.body;
    // A wrong secret is still 7000215, not "expired".
    expect_aadsts(token_request("not-the-secret"), 401, "invalid_client", 7000215);
    r = assertion_request();
    expect_aadsts(r, 401, "invalid_client", 700027);
    EXPECT_NE(r.body.find("The key used is expired."), std::string::npos) << r.body;
}

TEST_F(SimOwnApp, expiry_takes_rfc3339_times) {
    extra["app_credential_expires"] = "2026-03-28T10:00:00Z";
    start();
    const auto app =
        get("/v1.0/applications(appId='" + std::string(k_client_id) + "')?$select=passwordCredentials").json();
    EXPECT_EQ(app["passwordCredentials"][0]["endDateTime"].get<std::string>().substr(0, 19), "2026-03-28T10:00:00");
    clock.advance(std::chrono::hours(24 * 10));
    expect_aadsts(token_request(k_client_secret), 401, "invalid_client", 7000222);
}

TEST_F(SimOwnApp, malformed_keys_are_refused_naming_them) {
    const auto refused = [&](const json& keys, const std::string& words) {
        json s = load_walkthrough();
        for (auto it = keys.begin(); it != keys.end(); ++it) s[it.key()] = it.value();
        sim::options o;
        o.scenario = s;
        o.clients.push_back({k_client_id, k_client_secret, ""});
        try {
            sim::simulator bad(o, clock);
            ADD_FAILURE() << "accepted " << keys.dump();
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    };
    refused({{"app_directory_roles", {"Chief Wizard"}}}, "app_directory_roles");
    refused({{"app_directory_roles", "Global Administrator"}}, "app_directory_roles");
    refused({{"app_credential_expires", 90}}, "app_credential_expires");
    refused({{"app_credential_expires", "+90 days"}}, "app_credential_expires");
}

}  // namespace
}  // namespace containd::test
