// The typed Graph calls against a fake tenant: what reaches the server (paths, filters, bodies)
// and how answers are interpreted (quirks, "already gone", secrets kept out of bodies).
#include "graph/api.hpp"
#include "graph_fixture.hpp"

using namespace containd;
using namespace containd::graph;
using test::fake_request;
using test::fake_response;
using test::graph_error;

class GraphApi : public test::GraphFixture {
protected:
    void SetUp() override { start(); }
};

TEST_F(GraphApi, an_apostrophe_upn_reaches_graph_intact) {
    on_graph([](const fake_request& r) {
        if (r.path() != "/v1.0/users/o'brien@contoso.com")
            return graph_error(404, "Request_ResourceNotFound", r.path());
        return fake_response::json(200, {{"id", "u-1"},
                                         {"userPrincipalName", "o'brien@contoso.com"},
                                         {"accountEnabled", true},
                                         {"onPremisesSyncEnabled", nullptr}});
    });
    const auto r = run(get_user(*client, "o'brien@contoso.com"));
    ASSERT_TRUE(r.ok()) << describe(r.call);
    EXPECT_EQ(r.value.id, "u-1");
    EXPECT_EQ(r.value.account_enabled, true);
    EXPECT_FALSE(r.value.on_premises_sync_enabled);
    const auto seen = graph_requests().at(0);
    EXPECT_EQ(seen.target,
              "/v1.0/users/o'brien@contoso.com?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled");
}

TEST_F(GraphApi, an_unknown_user_is_a_404_with_the_graph_code) {
    on_graph([](const fake_request&) {
        return graph_error(404, "Request_ResourceNotFound", "Resource 'x' does not exist.");
    });
    const auto r = run(get_user(*client, "x@contoso.com"));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.call.status, 404);
    EXPECT_EQ(r.call.error_code, "Request_ResourceNotFound");
}

TEST_F(GraphApi, an_invalid_upn_is_refused_locally_without_a_request) {
    on_graph([](const fake_request&) { return fake_response::json(200, {{"id", "x"}}); });
    const auto r = run(get_user(*client, "bad\nupn@contoso.com"));
    EXPECT_EQ(r.call.status, 400);
    EXPECT_FALSE(r.call.sent);
    EXPECT_EQ(r.call.error_code, err_invalid_value);
    const auto empty = run(revoke_sessions(*client, ""));
    EXPECT_FALSE(empty.call.sent);
    EXPECT_EQ(server->request_count(), 0u);  // not even a token request
}

TEST_F(GraphApi, directory_roles_are_read_from_member_of_across_pages) {
    const std::string base = server->base_url();
    on_graph([base](const fake_request& r) {
        if (r.query().find("skiptoken") == std::string::npos)
            return fake_response::json(
                200, {{"value",
                       {{{"@odata.type", "#microsoft.graph.group"}, {"id", "g1"}, {"displayName", "Finance"}},
                        {{"@odata.type", "#microsoft.graph.directoryRole"},
                         {"id", "r1"},
                         {"displayName", "Exchange Administrator"},
                         {"roleTemplateId", "29232cdf-9323-42fd-ade2-1d097af3e4de"}}}},
                      {"@odata.nextLink", base + "/v1.0/users/u1/memberOf?$skiptoken=2"}});
        return fake_response::json(200, {{"value",
                                          {{{"@odata.type", "#microsoft.graph.directoryRole"},
                                            {"id", "r2"},
                                            {"displayName", "Security Reader"}}}}});
    });
    const auto r = run(list_directory_roles(*client, "u1"));
    ASSERT_TRUE(r.ok()) << describe(r.call);
    ASSERT_EQ(r.items.size(), 2u);
    EXPECT_EQ(r.items[0].display_name, "Exchange Administrator");
    EXPECT_EQ(r.items[1].id, "r2");
    EXPECT_EQ(graph_requests().at(0).path(), "/v1.0/users/u1/memberOf");
}

TEST_F(GraphApi, revoke_accepts_the_200_boolean_quirk_and_204) {
    on_graph([](const fake_request& r) {
        if (r.path() == "/v1.0/users/u1/revokeSignInSessions")
            return fake_response::json(
                200, {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean"}, {"value", true}});
        return fake_response::empty(204);
    });
    EXPECT_TRUE(run(revoke_sessions(*client, "u1")).ok());
    EXPECT_TRUE(run(revoke_sessions(*client, "u2")).ok());
    const auto seen = graph_requests();
    EXPECT_EQ(seen.at(0).method, "POST");
    EXPECT_TRUE(seen.at(0).body.empty());
}

TEST_F(GraphApi, password_reset_patches_the_password_profile) {
    on_graph([](const fake_request&) { return fake_response::empty(204); });
    ASSERT_TRUE(run(set_password(*client, "u1", secret("Xy7!long-Random-Pass#1"))).ok());
    const auto seen = graph_requests().at(0);
    EXPECT_EQ(seen.method, "PATCH");
    EXPECT_EQ(seen.header("content-type"), "application/json");
    EXPECT_EQ(nlohmann::json::parse(seen.body),
              (nlohmann::json{{"passwordProfile",
                               {{"password", "Xy7!long-Random-Pass#1"}, {"forceChangePasswordNextSignIn", true}}}}));
}

TEST_F(GraphApi, a_password_policy_rejection_is_a_400_with_the_graph_message) {
    on_graph([](const fake_request&) {
        return graph_error(400, "Request_BadRequest",
                           "The specified password does not comply with password complexity requirements.");
    });
    const auto r = run(set_password(*client, "u1", secret("weak")));
    EXPECT_EQ(r.call.status, 400);
    EXPECT_EQ(describe(r.call).find("weak"), std::string::npos);
}

TEST_F(GraphApi, auth_methods_are_listed_typed_and_deleted_per_type) {
    on_graph([](const fake_request& r) {
        if (r.method == "GET")
            return fake_response::json(200, {{"value",
                                              {{{"@odata.type", "#microsoft.graph.passwordAuthenticationMethod"},
                                                {"id", "28c10230-6103-485e-b985-444c60001490"}},
                                               {{"@odata.type", "#microsoft.graph.phoneAuthenticationMethod"},
                                                {"id", "3179e48a-750b-4051-897c-87b9720928f7"},
                                                {"phoneNumber", "+1 5555550100"}},
                                               {{"@odata.type", "#microsoft.graph.fido2AuthenticationMethod"},
                                                {"id", "fido-1"},
                                                {"createdDateTime", "2024-05-01T10:05:00Z"}}}}});
        if (r.path().find("fido2Methods") != std::string::npos) return graph_error(404, "itemNotFound", "gone");
        return fake_response::empty(204);
    });
    const auto methods = run(list_auth_methods(*client, "u1"));
    ASSERT_TRUE(methods.ok());
    ASSERT_EQ(methods.items.size(), 3u);
    const auto phone = run(delete_auth_method(*client, "u1", methods.items[1]));
    EXPECT_EQ(phone.outcome, removal::removed);
    const auto fido = run(delete_auth_method(*client, "u1", methods.items[2]));
    EXPECT_EQ(fido.outcome, removal::already_absent);
    EXPECT_TRUE(fido.ok());
    const auto pw = run(delete_auth_method(*client, "u1", methods.items[0]));
    EXPECT_EQ(pw.outcome, removal::failed);
    EXPECT_FALSE(pw.call.sent);
    const auto seen = graph_requests();
    ASSERT_EQ(seen.size(), 3u);  // list + two deletes; the password delete was never sent
    EXPECT_EQ(seen[1].path(), "/v1.0/users/u1/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7");
    EXPECT_EQ(seen[2].path(), "/v1.0/users/u1/authentication/fido2Methods/fido-1");
}

TEST_F(GraphApi, the_default_method_error_is_reported_not_swallowed) {
    on_graph([](const fake_request&) {
        return graph_error(400, "badRequest",
                           "Cannot delete default method with other methods configured. Please change default method "
                           "before deletion.");
    });
    auth_method m;
    m.id = "p";
    m.kind = method_kind::phone;
    const auto r = run(delete_auth_method(*client, "u1", m));
    EXPECT_EQ(r.outcome, removal::failed);
    EXPECT_EQ(r.call.error_code, "badRequest");
}

TEST_F(GraphApi, a_new_tap_is_returned_as_a_secret_and_kept_out_of_the_body) {
    on_graph([](const fake_request&) {
        return fake_response::json(201, {{"@odata.type", "#microsoft.graph.temporaryAccessPassAuthenticationMethod"},
                                         {"id", "tap-1"},
                                         {"temporaryAccessPass", "+drkzqAD"},
                                         {"createdDateTime", "2024-05-01T10:00:00Z"},
                                         {"startDateTime", "2024-05-01T10:00:00Z"},
                                         {"lifetimeInMinutes", 60},
                                         {"isUsableOnce", true},
                                         {"isUsable", true},
                                         {"methodUsabilityReason", "EnabledByPolicy"}});
    });
    const auto r = run(create_tap(*client, "u1"));
    ASSERT_TRUE(r.ok()) << describe(r.call);
    EXPECT_EQ(r.value.pass.reveal(), "+drkzqAD");
    EXPECT_EQ(r.value.id, "tap-1");
    EXPECT_EQ(r.value.lifetime_minutes, 60);
    EXPECT_TRUE(r.value.usable_once);
    EXPECT_EQ(r.call.body.dump().find("+drkzqAD"), std::string::npos);
    EXPECT_EQ(r.value.raw.dump().find("+drkzqAD"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(graph_requests().at(0).body),
              (nlohmann::json{{"lifetimeInMinutes", 60}, {"isUsableOnce", true}}));
}

TEST_F(GraphApi, conditional_access_policy_round_trip) {
    on_graph([](const fake_request& r) {
        if (r.method == "POST") {
            auto body = nlohmann::json::parse(r.body);
            body["id"] = "pol-1";
            return fake_response::json(201, body);
        }
        if (r.method == "PATCH") return fake_response::empty(204);
        return fake_response::json(200, {{"id", "pol-1"}, {"state", "enabled"}});
    });
    const auto created = run(create_ca_policy(*client, {{"displayName", "Containment"}, {"state", "disabled"}}));
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(created.value["id"], "pol-1");
    EXPECT_TRUE(run(patch_ca_policy(*client, "pol-1", {{"state", "enabled"}})).ok());
    const auto read = run(get_ca_policy(*client, "pol-1"));
    EXPECT_EQ(read.value["state"], "enabled");
    const auto seen = graph_requests();
    EXPECT_EQ(seen.at(1).path(), "/v1.0/identity/conditionalAccess/policies/pol-1");
}

TEST_F(GraphApi, applications_are_found_by_quoted_app_id) {
    on_graph([](const fake_request& r) {
        if (r.query().find("appId eq 'missing'") != std::string::npos)
            return fake_response::json(200, {{"value", nlohmann::json::array()}});
        return fake_response::json(200, {{"value",
                                          {{{"id", "obj-1"},
                                            {"appId", "x'y"},
                                            {"displayName", "Document Sync Pro"},
                                            {"passwordCredentials", {{{"keyId", "k1"}, {"hint", "abc"}}}},
                                            {"keyCredentials", nlohmann::json::array()}}}}});
    });
    const auto found = run(find_application(*client, "x'y"));
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(found.value);
    EXPECT_EQ(found.value->id, "obj-1");
    EXPECT_EQ(found.value->password_credentials.at(0).key_id, "k1");
    EXPECT_EQ(graph_requests().at(0).query(),
              "$filter=appId eq 'x''y'&$select=id,appId,displayName,passwordCredentials,keyCredentials");
    const auto missing = run(find_application(*client, "missing"));
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing.value);
}

TEST_F(GraphApi, remove_password_reports_an_unknown_key_as_already_absent) {
    on_graph([](const fake_request& r) {
        const auto body = nlohmann::json::parse(r.body);
        if (body["keyId"] == "k-known") return fake_response::empty(204);
        return graph_error(400, "Request_BadRequest",
                           "No password credential found with keyId " + body["keyId"].get<std::string>());
    });
    EXPECT_EQ(run(remove_application_password(*client, "obj-1", "k-known")).outcome, removal::removed);
    EXPECT_EQ(run(remove_service_principal_password(*client, "sp-1", "k-gone")).outcome, removal::already_absent);
    EXPECT_EQ(graph_requests().at(1).path(), "/v1.0/servicePrincipals/sp-1/removePassword");
}

TEST_F(GraphApi, key_credentials_are_read_single_object_and_replaced_as_a_set) {
    on_graph([](const fake_request& r) {
        if (r.method == "GET")
            return fake_response::json(
                200, {{"keyCredentials",
                       {{{"keyId", "c1"}, {"type", "AsymmetricX509Cert"}, {"usage", "Verify"}, {"key", "TUlJQg=="}},
                        {{"keyId", "c2"}, {"type", "AsymmetricX509Cert"}, {"usage", "Verify"}, {"key", "TUlJQw=="}}}}});
        return fake_response::empty(204);
    });
    const auto keys = run(get_application_key_credentials(*client, "obj-1"));
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys.value.size(), 2u);
    std::vector<key_credential> keep = {keys.value[1]};  // drop the compromised c1
    ASSERT_TRUE(run(set_application_key_credentials(*client, "obj-1", keep)).ok());
    const auto seen = graph_requests();
    EXPECT_EQ(seen[0].query(), "$select=keyCredentials");
    EXPECT_EQ(nlohmann::json::parse(seen[1].body),
              (nlohmann::json{
                  {"keyCredentials",
                   {{{"keyId", "c2"}, {"type", "AsymmetricX509Cert"}, {"usage", "Verify"}, {"key", "TUlJQw=="}}}}}));
}

TEST_F(GraphApi, service_principal_disable_grants_and_assignments) {
    on_graph([](const fake_request& r) {
        if (r.method == "GET" && r.path() == "/v1.0/oauth2PermissionGrants")
            return fake_response::json(
                200,
                {{"value",
                  {{{"id", "g1"}, {"clientId", "sp-1"}, {"consentType", "AllPrincipals"}, {"scope", "Mail.Read"}}}}});
        if (r.method == "GET")
            return fake_response::json(
                200,
                {{"value", {{{"id", "a1"}, {"appRoleId", "r"}, {"principalId", "sp-1"}, {"resourceId", "graph"}}}}});
        if (r.method == "DELETE" && r.path().find("appRoleAssignments") != std::string::npos)
            return graph_error(404, "Request_ResourceNotFound", "gone");
        return fake_response::empty(204);
    });
    EXPECT_TRUE(run(set_service_principal_enabled(*client, "sp-1", false)).ok());
    const auto grants = run(list_permission_grants(*client, "sp-1"));
    ASSERT_EQ(grants.items.size(), 1u);
    EXPECT_EQ(grants.items[0].scope, "Mail.Read");
    EXPECT_EQ(run(delete_permission_grant(*client, grants.items[0].id)).outcome, removal::removed);
    const auto assignments = run(list_app_role_assignments(*client, "sp-1"));
    ASSERT_EQ(assignments.items.size(), 1u);
    EXPECT_EQ(run(delete_app_role_assignment(*client, "sp-1", "a1")).outcome, removal::already_absent);
    EXPECT_EQ(run(delete_application(*client, "obj-1")).outcome, removal::removed);
    const auto seen = graph_requests();
    EXPECT_EQ(nlohmann::json::parse(seen[0].body), (nlohmann::json{{"accountEnabled", false}}));
    EXPECT_EQ(seen[1].query(), "$filter=clientId eq 'sp-1'");
}

TEST_F(GraphApi, confirm_compromised_without_a_licence_is_a_403) {
    on_graph([](const fake_request&) {
        return graph_error(403, "Forbidden", "The tenant is not licensed for this feature.");
    });
    const auto r = run(confirm_compromised(*client, {"u1", "u2"}));
    EXPECT_EQ(r.call.status, 403);
    EXPECT_EQ(nlohmann::json::parse(graph_requests().at(0).body), (nlohmann::json{{"userIds", {"u1", "u2"}}}));
}

TEST_F(GraphApi, non_interactive_sign_ins_come_from_beta_with_the_event_type_filter) {
    on_graph([](const fake_request&) {
        return fake_response::json(200, {{"value",
                                          {{{"id", "s1"},
                                            {"createdDateTime", "2024-05-01T10:20:00Z"},
                                            {"userPrincipalName", "a@contoso.com"},
                                            {"ipAddress", "203.0.113.7"},
                                            {"status", {{"errorCode", 0}}},
                                            {"signInEventTypes", {"nonInteractiveUser"}}}}}});
    });
    requests::sign_in_query q;
    q.kind = requests::sign_in_kind::non_interactive;
    q.user_principal_name = "a@contoso.com";
    q.since = *parse_rfc3339("2024-05-01T10:00:00Z");
    const auto r = run(list_sign_ins(*client, q));
    ASSERT_TRUE(r.ok()) << describe(r.call);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].ip_address, "203.0.113.7");
    const auto seen = graph_requests().at(0);
    EXPECT_EQ(seen.path(), "/beta/auditLogs/signIns");
    EXPECT_EQ(seen.query(),
              "$filter=signInEventTypes/any(t: t eq 'nonInteractiveUser') and userPrincipalName eq 'a@contoso.com' and "
              "createdDateTime ge 2024-05-01T10:00:00Z&$top=1000");
}

TEST_F(GraphApi, inbox_rules_are_listed_and_deleted_with_encoded_ids) {
    on_graph([](const fake_request& r) {
        if (r.method == "GET")
            return fake_response::json(
                200, {{"value",
                       {{{"id", "AQAAAJ5dZqA="},
                         {"displayName", "fwd"},
                         {"isEnabled", true},
                         {"actions", {{"forwardTo", {{{"emailAddress", {{"address", "x@evil.example"}}}}}}}}}}}});
        return fake_response::empty(204);
    });
    const auto rules = run(list_inbox_rules(*client, "u1"));
    ASSERT_EQ(rules.items.size(), 1u);
    EXPECT_EQ(rules.items[0].forward_to, (std::vector<std::string>{"x@evil.example"}));
    EXPECT_EQ(run(delete_inbox_rule(*client, "u1", rules.items[0].id)).outcome, removal::removed);
    EXPECT_EQ(graph_requests().at(1).target, "/v1.0/users/u1/mailFolders/inbox/messageRules/AQAAAJ5dZqA%3D");
}
