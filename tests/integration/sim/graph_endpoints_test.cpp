// Graph endpoints of the simulated tenant: users, roles, methods, Conditional Access, apps,
// service principals, grants, risky users, inbox rules, and Graph's error shapes.
#include "core/ids.hpp"
#include "integration/sim/sim_fixture.hpp"

namespace containd::test {
namespace {

using nlohmann::json;

class SimGraph : public sim_fixture {
protected:
    void tick() { clock.advance(seconds(1)); }  // Conditional Access allows about 1 request/s
    std::string user(const std::string& id) { return "/v1.0/users/" + id; }
};

void expect_graph_error(const sim_response& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto j = r.json();
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    const auto& inner = j["error"]["innerError"];
    EXPECT_TRUE(inner.contains("date") && inner.contains("request-id")) << r.body;
    // Throttling answers carry Microsoft's documented 429 shape, which has no client-request-id.
    if (status != 429) {
        EXPECT_TRUE(inner.contains("client-request-id")) << r.body;
    }
    EXPECT_EQ(inner["date"].get<std::string>().size(), 19u);
}

TEST_F(SimGraph, users_by_id_and_by_upn_with_default_and_selected_properties) {
    auto r = get(user(k_fd_id));
    ASSERT_EQ(r.status, 200);
    auto j = r.json();
    EXPECT_EQ(j["userPrincipalName"], "finance.director@contoso.com");
    EXPECT_FALSE(j.contains("accountEnabled"));  // returned only on $select
    EXPECT_TRUE(j.contains("businessPhones"));
    EXPECT_NE(j["@odata.context"].get<std::string>().find("$metadata#users/$entity"), std::string::npos);
    EXPECT_FALSE(r.header("request-id").empty());

    r = get(
        "/v1.0/users/"
        "finance.director@contoso.com?$select=id,accountEnabled,onPremisesSyncEnabled,signInSessionsValidFromDateTime");
    ASSERT_EQ(r.status, 200);
    j = r.json();
    EXPECT_EQ(j["id"], k_fd_id);
    EXPECT_EQ(j["accountEnabled"], true);
    EXPECT_FALSE(j.contains("displayName"));
    EXPECT_NE(j["@odata.context"].get<std::string>().find("users(id,accountEnabled"), std::string::npos);

    r = get("/v1.0/users/procurement.mgr@contoso.com?$select=onPremisesSyncEnabled");
    EXPECT_EQ(r.json()["onPremisesSyncEnabled"], true);
    expect_graph_error(get(user("nobody@contoso.com")), 404, "Request_ResourceNotFound");
    expect_graph_error(get(user(k_fd_id) + "?$select=notAProperty"), 400, "BadRequest");
}

TEST_F(SimGraph, apostrophe_upns_work_raw_encoded_and_as_key) {
    EXPECT_EQ(get("/v1.0/users/pat.o'brien@contoso.com").status, 200);
    EXPECT_EQ(get("/v1.0/users/pat.o%27brien%40contoso.com").status, 200);
    EXPECT_EQ(get("/v1.0/users('pat.o''brien@contoso.com')").status, 200);
    auto r = get("/v1.0/users?$filter=" + url_encode("userPrincipalName eq 'pat.o''brien@contoso.com'"));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.json()["value"].size(), 1u);
    EXPECT_EQ(r.json()["value"][0]["displayName"], "Pat O'Brien");
    expect_graph_error(get("/v1.0/users?$filter=" + url_encode("userPrincipalName eq 'pat.o'brien@contoso.com'")), 400,
                       "BadRequest");
}

TEST_F(SimGraph, revoke_answers_200_with_a_boolean_and_moves_sessions_valid_from) {
    clock.advance(minutes(3));
    auto r = post(user("ap.clerk@contoso.com") + "/revokeSignInSessions");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["value"], true);
    EXPECT_NE(r.json()["@odata.context"].get<std::string>().find("$metadata#Edm.Boolean"), std::string::npos);
    r = get(user(k_clerk_id) + "?$select=signInSessionsValidFromDateTime");
    EXPECT_EQ(r.json()["signInSessionsValidFromDateTime"], format_rfc3339(clock.now()));
    expect_graph_error(post(user("ghost@contoso.com") + "/revokeSignInSessions"), 404, "Request_ResourceNotFound");
    EXPECT_EQ(client->graph("GET", user(k_clerk_id) + "/revokeSignInSessions", token).status, 405);
}

TEST_F(SimGraph, password_reset_enforces_complexity_and_records_change) {
    expect_graph_error(patch(user(k_clerk_id), {{"passwordProfile", {{"password", "short"}}}}), 400,
                       "Request_BadRequest");
    expect_graph_error(patch(user(k_clerk_id), {{"passwordProfile", {{"password", "alllowercaseletters"}}}}), 400,
                       "Request_BadRequest");
    clock.advance(minutes(1));
    auto r = patch(
        user(k_clerk_id),
        {{"passwordProfile", {{"password", "Gq7#vT2!mW9$kR4@pZ6&xL1*"}, {"forceChangePasswordNextSignIn", true}}}});
    EXPECT_EQ(r.status, 204);
    EXPECT_TRUE(r.body.empty());
    auto u =
        get(user(k_clerk_id) + "?$select=lastPasswordChangeDateTime,signInSessionsValidFromDateTime,passwordProfile")
            .json();
    EXPECT_EQ(u["lastPasswordChangeDateTime"], format_rfc3339(clock.now()));
    EXPECT_EQ(u["signInSessionsValidFromDateTime"], format_rfc3339(clock.now()));
    EXPECT_EQ(u["passwordProfile"]["password"], nullptr);
    EXPECT_EQ(u["passwordProfile"]["forceChangePasswordNextSignIn"], true);
    expect_graph_error(patch(user(k_clerk_id), {{"notAProperty", 1}}), 400, "Request_BadRequest");
    expect_graph_error(patch(user(k_clerk_id), {{"passwordProfile", {{"password", 5}}}}), 400, "Request_BadRequest");
}

TEST_F(SimGraph, synced_accounts_accept_passwords_but_not_account_enabled) {
    EXPECT_EQ(patch(user(k_proc_id), {{"passwordProfile", {{"password", "Gq7#vT2!mW9$kR4@pZ6&xL1*"}}}}).status, 204);
    expect_graph_error(patch(user(k_proc_id), {{"accountEnabled", false}}), 400, "Request_BadRequest");
    EXPECT_EQ(patch(user(k_cfo_id), {{"accountEnabled", false}}).status, 204);
    EXPECT_EQ(get(user(k_cfo_id) + "?$select=accountEnabled").json()["accountEnabled"], false);
}

TEST_F(SimGraph, member_of_lists_directory_roles_and_groups) {
    auto r = get(user(k_fd_id) + "/memberOf");
    ASSERT_EQ(r.status, 200);
    const auto v = r.json()["value"];
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0]["@odata.type"], "#microsoft.graph.directoryRole");
    EXPECT_EQ(v[0]["displayName"], "Exchange Administrator");
    EXPECT_EQ(v[0]["roleTemplateId"], "29232cdf-9323-42fd-ade2-1d097af3e4de");
    EXPECT_EQ(v[1]["@odata.type"], "#microsoft.graph.group");
    r = get("/v1.0/users/breakglass1@contoso.com/transitiveMemberOf/microsoft.graph.directoryRole");
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.json()["value"].size(), 1u);
    EXPECT_EQ(r.json()["value"][0]["displayName"], "Global Administrator");
    EXPECT_EQ(get(user(k_cfo_id) + "/memberOf").json()["value"].size(), 1u);  // Finance group only
}

TEST_F(SimGraph, authentication_methods_are_typed) {
    auto r = get(user(k_fd_id) + "/authentication/methods");
    ASSERT_EQ(r.status, 200);
    const auto v = r.json()["value"];
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0]["@odata.type"], "#microsoft.graph.passwordAuthenticationMethod");
    EXPECT_EQ(v[0]["id"], "28c10230-6103-485e-b985-444c60001490");
    EXPECT_EQ(v[1]["@odata.type"], "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod");
    EXPECT_EQ(v[2]["@odata.type"], "#microsoft.graph.phoneAuthenticationMethod");
    EXPECT_EQ(v[2]["phoneNumber"], "+234 8031234567");
    EXPECT_EQ(v[2]["createdDateTime"], "2026-03-12T08:14:00.000Z");
    EXPECT_EQ(v[3]["@odata.type"], "#microsoft.graph.fido2AuthenticationMethod");
    for (const auto& m : v) EXPECT_FALSE(m.contains("registered_by"));
    r = get(user(k_fd_id) + "/authentication/fido2Methods");
    EXPECT_EQ(r.json()["value"].size(), 1u);
}

TEST_F(SimGraph, method_delete_per_type_default_last_and_404) {
    const std::string base = user(k_fd_id) + "/authentication/";
    // The default (authenticator) cannot go while the phone and the key remain.
    auto r = del(base + "microsoftAuthenticatorMethods/b2e1d3c4-0004-4a5b-9c8d-7e6f5a4b3c04");
    expect_graph_error(r, 400, "badRequest");
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("default method"), std::string::npos);
    // A method id under the wrong type is not found.
    expect_graph_error(del(base + "phoneMethods/c3d2e1f0-0004-4b6a-8c9d-0e1f2a3b4c04"), 404, "itemNotFound");
    EXPECT_EQ(del(base + "phoneMethods/3179e48a-750b-4051-897c-87b9720928f7").status, 204);
    EXPECT_EQ(del(base + "fido2Methods/c3d2e1f0-0004-4b6a-8c9d-0e1f2a3b4c04").status, 204);
    expect_graph_error(del(base + "fido2Methods/c3d2e1f0-0004-4b6a-8c9d-0e1f2a3b4c04"), 404, "itemNotFound");
    EXPECT_EQ(del(base + "microsoftAuthenticatorMethods/b2e1d3c4-0004-4a5b-9c8d-7e6f5a4b3c04").status, 204);
    EXPECT_EQ(get(base + "methods").json()["value"].size(), 1u);  // the password method stays
    EXPECT_EQ(del(base + "passwordMethods/28c10230-6103-485e-b985-444c60001490").status, 405);
    // The generic methods/{id} DELETE is not a route.
    EXPECT_EQ(del(user(k_clerk_id) + "/authentication/methods/3179e48a-750b-4051-897c-87b9720928f7").status, 400);
}

TEST_F(SimGraph, temporary_access_pass_is_returned_once) {
    auto r = post(user(k_fd_id) + "/authentication/temporaryAccessPassMethods",
                  {{"lifetimeInMinutes", 60}, {"isUsableOnce", true}});
    ASSERT_EQ(r.status, 201) << r.body;
    auto tap = r.json();
    EXPECT_EQ(tap["@odata.type"], "#microsoft.graph.temporaryAccessPassAuthenticationMethod");
    EXPECT_EQ(tap["temporaryAccessPass"].get<std::string>().size(), 8u);
    EXPECT_EQ(tap["isUsable"], true);
    EXPECT_EQ(tap["methodUsabilityReason"], "EnabledByPolicy");
    EXPECT_EQ(tap["lifetimeInMinutes"], 60);
    auto list = get(user(k_fd_id) + "/authentication/temporaryAccessPassMethods").json()["value"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["temporaryAccessPass"], nullptr);
    // A second TAP replaces the first.
    EXPECT_EQ(post(user(k_fd_id) + "/authentication/temporaryAccessPassMethods", json::object()).status, 201);
    EXPECT_EQ(get(user(k_fd_id) + "/authentication/temporaryAccessPassMethods").json()["value"].size(), 1u);
    expect_graph_error(post(user(k_fd_id) + "/authentication/temporaryAccessPassMethods", {{"lifetimeInMinutes", 5}}),
                       400, "badRequest");
    // The TAP value never reaches the journal.
    for (const auto& e : sim->journal())
        EXPECT_EQ(e.body.find(tap["temporaryAccessPass"].get<std::string>()), std::string::npos);
}

TEST_F(SimGraph, conditional_access_policy_crud) {
    const std::string pol = "/v1.0/identity/conditionalAccess/policies";
    auto r = get(pol + "/" + k_policy_id);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["state"], "enabledForReportingButNotEnforced");
    EXPECT_EQ(r.json()["conditions"]["users"]["excludeRoles"], json::array());
    tick();
    r = patch(pol + "/" + k_policy_id,
              {{"state", "enabled"}, {"conditions", {{"users", {{"includeUsers", {k_fd_id, k_clerk_id}}}}}}});
    EXPECT_EQ(r.status, 204) << r.body;
    tick();
    auto p = get(pol + "/" + k_policy_id).json();
    EXPECT_EQ(p["state"], "enabled");
    EXPECT_EQ(p["conditions"]["users"]["includeUsers"], json::array({k_fd_id, k_clerk_id}));
    EXPECT_EQ(p["conditions"]["users"]["excludeUsers"].size(), 2u);  // nested objects merge
    EXPECT_EQ(p["modifiedDateTime"], format_rfc3339(clock.now() - seconds(1)));
    tick();
    json body = {{"displayName", "Containment: block"},
                 {"state", "enabled"},
                 {"conditions",
                  {{"users", {{"includeUsers", {k_cfo_id}}}},
                   {"applications", {{"includeApplications", {"All"}}}},
                   {"clientAppTypes", {"all"}}}},
                 {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
    r = post(pol, body);
    ASSERT_EQ(r.status, 201) << r.body;
    const auto created = r.json();
    EXPECT_TRUE(is_guid(created["id"].get<std::string>()));
    EXPECT_EQ(created["modifiedDateTime"], nullptr);
    EXPECT_EQ(created["grantControls"]["termsOfUse"], json::array());
    EXPECT_EQ(created["sessionControls"], nullptr);
    tick();
    body["grantControls"]["builtInControls"] = {"block", "mfa"};
    expect_graph_error(post(pol, body), 400, "BadRequest");
    tick();
    body.erase("grantControls");
    body["conditions"]["users"]["includeUsers"] = {"not-a-guid"};
    expect_graph_error(post(pol, body), 400, "BadRequest");
    tick();
    EXPECT_EQ(del(pol + "/" + created["id"].get<std::string>()).status, 204);
    tick();
    expect_graph_error(get(pol + "/" + created["id"].get<std::string>()), 404, "Request_ResourceNotFound");
    tick();
    EXPECT_EQ(get(pol).json()["value"].size(), 2u);
}

TEST_F(SimGraph, named_locations_list_filter_create_and_guard_delete) {
    const std::string nl = "/v1.0/identity/conditionalAccess/namedLocations";
    auto r = get(nl + "?$filter=" + url_encode("isof('microsoft.graph.ipNamedLocation')"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["value"].size(), 2u);
    EXPECT_EQ(r.json()["value"][0]["ipRanges"][0]["@odata.type"], "#microsoft.graph.iPv4CidrRange");
    clock.advance(seconds(1));
    r = post(nl,
             {{"@odata.type", "#microsoft.graph.ipNamedLocation"},
              {"displayName", "IR laptop"},
              {"isTrusted", true},
              {"ipRanges", {{{"@odata.type", "#microsoft.graph.iPv4CidrRange"}, {"cidrAddress", "198.18.0.7/32"}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    clock.advance(seconds(1));
    expect_graph_error(del(nl + "/" + k_ir_location), 400, "BadRequest");  // used by the emergency policy
}

TEST_F(SimGraph, conditional_access_is_throttled_without_retry_after) {
    const std::string pol = "/v1.0/identity/conditionalAccess/policies/" + std::string(k_policy_id);
    EXPECT_EQ(get(pol).status, 200);
    auto r = get(pol);
    expect_graph_error(r, 429, "TooManyRequests");
    EXPECT_TRUE(r.header("retry-after").empty());
    EXPECT_EQ(get("/v1.0/identityProtection/riskyUsers/" + std::string(k_fd_id)).status, 429);  // same tenant bucket
    clock.advance(milliseconds(999));
    EXPECT_EQ(get(pol).status, 429);
    clock.advance(milliseconds(1));
    EXPECT_EQ(get(pol).status, 200);
}

TEST_F(SimGraph, applications_filter_by_app_id_with_odata_quoting) {
    auto r = get("/v1.0/applications?$filter=" + url_encode("appId eq '" + std::string(k_dsp_app_id) + "'") +
                 "&$select=id,appId,displayName,passwordCredentials,keyCredentials");
    ASSERT_EQ(r.status, 200) << r.body;
    auto v = r.json()["value"];
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0]["id"], k_dsp_object);
    EXPECT_EQ(v[0]["passwordCredentials"].size(), 2u);
    EXPECT_EQ(v[0]["passwordCredentials"][0]["secretText"], nullptr);
    EXPECT_EQ(v[0]["passwordCredentials"][0]["hint"], "dsp");
    EXPECT_EQ(v[0]["keyCredentials"][0]["key"], nullptr);  // key only on a single-object $select
    r = get("/v1.0/applications/" + std::string(k_dsp_object) + "?$select=keyCredentials");
    EXPECT_FALSE(r.json()["keyCredentials"][0]["key"].is_null());
    r = get("/v1.0/applications?$filter=" + url_encode("appId eq 'it''s-not-there'"));
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.json()["value"].empty());
    expect_graph_error(get("/v1.0/applications?$filter=" + url_encode("appId eq 'x")), 400, "BadRequest");
    expect_graph_error(get("/v1.0/applications?$filter=" + url_encode("secretSauce eq 'x'")), 400, "BadRequest");
    r = get("/v1.0/servicePrincipals(appId='" + std::string(k_dsp_app_id) + "')");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["id"], k_dsp_sp);
    EXPECT_EQ(r.json()["passwordCredentials"].size(), 1u);
}

TEST_F(SimGraph, remove_password_on_application_and_service_principal) {
    const std::string app = "/v1.0/applications/" + std::string(k_dsp_object);
    EXPECT_EQ(post(app + "/removePassword", {{"keyId", "e1d2c3b4-0001-4a5b-8c7d-6e5f4a3b2c91"}}).status, 204);
    expect_graph_error(post(app + "/removePassword", {{"keyId", "e1d2c3b4-0001-4a5b-8c7d-6e5f4a3b2c91"}}), 400,
                       "Request_BadRequest");
    expect_graph_error(post(app + "/removePassword", {{"keyId", "nope"}}), 400, "Request_BadRequest");
    EXPECT_EQ(post("/v1.0/servicePrincipals/" + std::string(k_dsp_sp) + "/removePassword",
                   {{"keyId", "e1d2c3b4-0003-4a5b-8c7d-6e5f4a3b2c93"}})
                  .status,
              204);
    EXPECT_EQ(get(app).json()["passwordCredentials"].size(), 1u);
    EXPECT_TRUE(get("/v1.0/servicePrincipals/" + std::string(k_dsp_sp)).json()["passwordCredentials"].empty());
    expect_graph_error(post("/v1.0/applications/00000000-0000-4000-8000-000000000000/removePassword",
                            {{"keyId", "e1d2c3b4-0002-4a5b-8c7d-6e5f4a3b2c92"}}),
                       404, "Request_ResourceNotFound");
}

TEST_F(SimGraph, key_credentials_patch_replaces_the_set) {
    const std::string app = "/v1.0/applications/" + std::string(k_dsp_object);
    EXPECT_EQ(patch(app, {{"keyCredentials", json::array()}}).status, 204);
    EXPECT_TRUE(get(app).json()["keyCredentials"].empty());
    const auto c = make_test_certificate("replacement");
    json kc = {
        {"type", "AsymmetricX509Cert"}, {"usage", "Verify"}, {"key", base64_encode(c.der)}, {"displayName", "CN=new"}};
    EXPECT_EQ(patch(app, {{"keyCredentials", {kc}}}).status, 204);
    EXPECT_EQ(get(app).json()["keyCredentials"].size(), 1u);
    kc["usage"] = "Encrypt";
    expect_graph_error(patch(app, {{"keyCredentials", {kc}}}), 400, "Request_BadRequest");
    expect_graph_error(patch(app, {{"passwordCredentials", json::array()}}), 400, "Request_BadRequest");
}

TEST_F(SimGraph, service_principal_disable_and_application_delete) {
    EXPECT_EQ(patch("/v1.0/servicePrincipals/" + std::string(k_dsp_sp), {{"accountEnabled", false}}).status, 204);
    EXPECT_EQ(
        get("/v1.0/servicePrincipals/" + std::string(k_dsp_sp) + "?$select=accountEnabled").json()["accountEnabled"],
        false);
    EXPECT_EQ(del("/v1.0/applications/" + std::string(k_dsp_object)).status, 204);
    expect_graph_error(get("/v1.0/applications/" + std::string(k_dsp_object)), 404, "Request_ResourceNotFound");
    EXPECT_EQ(get("/v1.0/servicePrincipals/" + std::string(k_dsp_sp)).status, 404);
    EXPECT_TRUE(get("/v1.0/applications?$filter=" + url_encode("appId eq '" + std::string(k_dsp_app_id) + "'"))
                    .json()["value"]
                    .empty());
}

TEST_F(SimGraph, oauth2_grants_filter_and_delete) {
    auto r = get("/v1.0/oauth2PermissionGrants?$filter=" + url_encode("clientId eq '" + std::string(k_dsp_sp) + "'"));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.json()["value"].size(), 2u);
    EXPECT_EQ(r.json()["value"][0]["consentType"], "Principal");
    EXPECT_EQ(r.json()["value"][0]["principalId"], k_clerk_id);
    EXPECT_EQ(get(user(k_clerk_id) + "/oauth2PermissionGrants").json()["value"].size(), 1u);
    const std::string id = r.json()["value"][0]["id"];
    EXPECT_EQ(del("/v1.0/oauth2PermissionGrants/" + id).status, 204);
    expect_graph_error(del("/v1.0/oauth2PermissionGrants/" + id), 404, "Request_ResourceNotFound");
    EXPECT_EQ(get("/v1.0/oauth2PermissionGrants?$filter=" + url_encode("clientId eq '" + std::string(k_dsp_sp) + "'"))
                  .json()["value"]
                  .size(),
              1u);
}

TEST_F(SimGraph, app_role_assignments_list_and_delete) {
    const std::string base = "/v1.0/servicePrincipals/" + std::string(k_dsp_sp) + "/appRoleAssignments";
    auto v = get(base).json()["value"];
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0]["principalType"], "ServicePrincipal");
    EXPECT_EQ(v[0]["resourceDisplayName"], "Microsoft Graph");
    EXPECT_EQ(del(base + "/" + v[0]["id"].get<std::string>()).status, 204);
    EXPECT_EQ(get(base).json()["value"].size(), 1u);
    EXPECT_EQ(del(base + "/" + v[0]["id"].get<std::string>()).status, 404);
    // The same assignment seen from the resource (Microsoft Graph's SP).
    EXPECT_EQ(
        get("/v1.0/servicePrincipals/9a8b7c6d-0001-4e2f-8a1b-2c3d4e5f6a71/appRoleAssignedTo").json()["value"].size(),
        1u);
}

TEST_F(SimGraph, risky_users_get_confirm_and_404) {
    auto r = get("/v1.0/identityProtection/riskyUsers/" + std::string(k_fd_id));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["riskLevel"], "high");
    EXPECT_EQ(r.json()["riskState"], "atRisk");
    clock.advance(seconds(1));
    expect_graph_error(get("/v1.0/identityProtection/riskyUsers/" + std::string(k_cfo_id)), 404, "itemNotFound");
    clock.advance(seconds(1));
    EXPECT_EQ(post("/v1.0/identityProtection/riskyUsers/confirmCompromised", {{"userIds", {k_fd_id, k_cfo_id}}}).status,
              204);
    clock.advance(seconds(1));
    r = get("/v1.0/identityProtection/riskyUsers/" + std::string(k_cfo_id));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["riskState"], "confirmedCompromised");
    EXPECT_EQ(r.json()["riskDetail"], "adminConfirmedUserCompromised");
}

class SimUnlicensed : public sim_fixture {
    nlohmann::json scenario() override {
        auto s = load_walkthrough();
        s["licenses"]["entra_id_p2"] = false;
        s["licenses"]["entra_id_p1"] = false;
        return s;
    }
};

TEST_F(SimUnlicensed, risky_users_and_logs_need_licences) {
    expect_graph_error(get("/v1.0/identityProtection/riskyUsers/" + std::string(k_fd_id)), 403,
                       "Authorization_RequestDenied");
    expect_graph_error(get("/v1.0/auditLogs/signIns"), 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant");
}

TEST_F(SimGraph, inbox_rules_list_and_delete) {
    const std::string base = user("ap.clerk@contoso.com") + "/mailFolders/inbox/messageRules";
    auto r = get(base);
    ASSERT_EQ(r.status, 200);
    const auto v = r.json()["value"];
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0]["actions"]["forwardTo"][0]["emailAddress"]["address"], "invoice.archive@mail-relay.example");
    EXPECT_EQ(del(base + "/" + url_encode("AQAAAJ5dZp8=")).status, 204);
    EXPECT_EQ(get(base).json()["value"].size(), 1u);
    expect_graph_error(del(base + "/" + url_encode("AQAAAJ5dZp8=")), 404, "ErrorItemNotFound");
    expect_graph_error(get(user("breakglass1@contoso.com") + "/mailFolders/inbox/messageRules"), 404,
                       "MailboxNotEnabledForRESTAPI");
}

TEST_F(SimGraph, unknown_paths_and_methods_answer_like_graph) {
    auto r = get("/v1.0/frobnicators");
    expect_graph_error(r, 400, "BadRequest");
    EXPECT_EQ(r.json()["error"]["message"], "Resource not found for the segment 'frobnicators'.");
    expect_graph_error(get(user(k_fd_id) + "/frobnicate"), 400, "BadRequest");
    expect_graph_error(client->graph("PUT", user(k_fd_id), token, json::object()), 405, "Request_BadRequest");
    expect_graph_error(get("/v1.0/me"), 400, "BadRequest");
    r = client->graph("PATCH", user(k_fd_id), token, nullptr, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 400);
    r = client->request("PATCH", user(k_fd_id), "{not json",
                        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    expect_graph_error(r, 400, "BadRequest");
}

}  // namespace
}  // namespace containd::test
