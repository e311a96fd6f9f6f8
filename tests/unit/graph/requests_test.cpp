#include <gtest/gtest.h>

#include "core/time.hpp"
#include "graph/model.hpp"
#include "graph/odata.hpp"
#include "graph/requests.hpp"

using namespace containd;
using namespace containd::graph;

namespace {
const time_point t0 = *parse_rfc3339("2024-05-01T10:00:00Z");
std::string decoded(const graph_request& r) { return *odata::percent_decode(r.path); }
}  // namespace

TEST(GraphRequests, user_requests_address_the_user_by_upn_or_id) {
    const auto get = requests::get_user("o'brien@contoso.com");
    EXPECT_EQ(get.method, "GET");
    EXPECT_EQ(get.path, "/users/o'brien@contoso.com?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled");
    EXPECT_EQ(requests::list_member_of("u1").path, "/users/u1/memberOf");
    EXPECT_EQ(requests::list_member_of("u1", true).path, "/users/u1/transitiveMemberOf");
    const auto revoke = requests::revoke_sessions("u1");
    EXPECT_EQ(revoke.method, "POST");
    EXPECT_EQ(revoke.path, "/users/u1/revokeSignInSessions");
    EXPECT_FALSE(revoke.body);
    EXPECT_TRUE(revoke.idempotent);
}

TEST(GraphRequests, password_and_enable_patches_have_the_documented_bodies) {
    const auto pw = requests::set_password("u1", secret("N3w-P@ss"), true);
    EXPECT_EQ(pw.method, "PATCH");
    EXPECT_EQ(pw.path, "/users/u1");
    EXPECT_EQ(
        *pw.body,
        (nlohmann::json{{"passwordProfile", {{"password", "N3w-P@ss"}, {"forceChangePasswordNextSignIn", true}}}}));
    EXPECT_EQ(*requests::set_account_enabled("u1", false).body, (nlohmann::json{{"accountEnabled", false}}));
}

TEST(GraphRequests, auth_methods_are_deleted_through_their_per_type_path) {
    EXPECT_EQ(requests::delete_auth_method("u1", method_kind::phone, "3179e48a-750b-4051-897c-87b9720928f7").path,
              "/users/u1/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7");
    EXPECT_EQ(requests::delete_auth_method("u1", method_kind::fido2, "a/b=").path,
              "/users/u1/authentication/fido2Methods/a%2Fb%3D");
    EXPECT_EQ(requests::delete_auth_method("u1", method_kind::windows_hello, "w").path,
              "/users/u1/authentication/windowsHelloForBusinessMethods/w");
    EXPECT_THROW(requests::delete_auth_method("u1", method_kind::password, "28c10230-6103-485e-b985-444c60001490"),
                 std::invalid_argument);
    EXPECT_THROW(requests::delete_auth_method("u1", method_kind::other, "x"), std::invalid_argument);
}

TEST(GraphRequests, tap_creation_is_single_use_sixty_minutes_and_not_idempotent) {
    const auto tap = requests::create_tap("u1");
    EXPECT_EQ(tap.path, "/users/u1/authentication/temporaryAccessPassMethods");
    EXPECT_EQ(*tap.body, (nlohmann::json{{"lifetimeInMinutes", 60}, {"isUsableOnce", true}}));
    EXPECT_FALSE(tap.idempotent);
}

TEST(GraphRequests, conditional_access_and_risky_users_are_paced_as_protection) {
    EXPECT_EQ(requests::get_ca_policy("p1").path, "/identity/conditionalAccess/policies/p1");
    EXPECT_EQ(requests::get_ca_policy("p1").pace, pace_class::protection);
    EXPECT_EQ(requests::patch_ca_policy("p1", {{"state", "enabled"}}).method, "PATCH");
    EXPECT_FALSE(requests::create_ca_policy({{"displayName", "x"}}).idempotent);
    EXPECT_EQ(requests::list_named_locations().pace, pace_class::protection);
    const auto confirm = requests::confirm_compromised({"a", "b"});
    EXPECT_EQ(confirm.path, "/identityProtection/riskyUsers/confirmCompromised");
    EXPECT_EQ(*confirm.body, (nlohmann::json{{"userIds", {"a", "b"}}}));
    EXPECT_EQ(confirm.pace, pace_class::protection);
    EXPECT_EQ(requests::revoke_sessions("u").pace, pace_class::none);
}

TEST(GraphRequests, application_lookups_filter_by_quoted_app_id) {
    const auto app = requests::find_application("0000-'x");
    EXPECT_EQ(
        decoded(app),
        "/applications?$filter=appId eq '0000-''x'&$select=id,appId,displayName,passwordCredentials,keyCredentials");
    EXPECT_EQ(requests::find_service_principal("abc").path,
              "/servicePrincipals?$filter=appId%20eq%20'abc'&$select=id,appId,displayName,accountEnabled,"
              "passwordCredentials,keyCredentials");
    EXPECT_EQ(requests::list_permission_grants("sp1").path, "/oauth2PermissionGrants?$filter=clientId%20eq%20'sp1'");
}

TEST(GraphRequests, service_principal_memberships_by_app_id) {
    EXPECT_EQ(requests::list_service_principal_member_of("0d6c4b8a-2e1f-4a3b-9c5d-7e8f9a0b1c2d").path,
              "/servicePrincipals(appId='0d6c4b8a-2e1f-4a3b-9c5d-7e8f9a0b1c2d')/transitiveMemberOf");
    EXPECT_EQ(requests::list_service_principal_member_of("abc", false).path,
              "/servicePrincipals(appId='abc')/memberOf");
    // A quote in the key is doubled inside the literal; an empty key is refused before sending.
    EXPECT_EQ(decoded(requests::list_service_principal_member_of("a'b")),
              "/servicePrincipals(appId='a''b')/transitiveMemberOf");
    EXPECT_THROW(requests::list_service_principal_member_of(""), odata::invalid_value);
}

TEST(GraphRequests, credential_removals_and_key_patches) {
    const auto rm = requests::remove_service_principal_password("sp1", "k1");
    EXPECT_EQ(rm.path, "/servicePrincipals/sp1/removePassword");
    EXPECT_EQ(*rm.body, (nlohmann::json{{"keyId", "k1"}}));
    EXPECT_EQ(requests::remove_application_password("a1", "k1").path, "/applications/a1/removePassword");
    EXPECT_EQ(requests::get_application_key_credentials("a1").path, "/applications/a1?$select=keyCredentials");

    key_credential keep;
    keep.key_id = "k2";
    keep.raw = {{"keyId", "k2"},
                {"type", "AsymmetricX509Cert"},
                {"usage", "Verify"},
                {"key", "TUlJ"},
                {"displayName", "CN=x"},
                {"hasExtendedValue", nullptr},
                {"customKeyIdentifier", nullptr}};
    const auto patch = requests::set_application_key_credentials("a1", {keep});
    EXPECT_EQ(patch.method, "PATCH");
    EXPECT_EQ(*patch.body, (nlohmann::json{{"keyCredentials",
                                            {{{"keyId", "k2"},
                                              {"type", "AsymmetricX509Cert"},
                                              {"usage", "Verify"},
                                              {"key", "TUlJ"},
                                              {"displayName", "CN=x"}}}}}));
    EXPECT_EQ(*requests::set_service_principal_key_credentials("s1", {}).body,
              (nlohmann::json{{"keyCredentials", nlohmann::json::array()}}));
    EXPECT_EQ(*requests::set_service_principal_enabled("s1", false).body, (nlohmann::json{{"accountEnabled", false}}));
    EXPECT_EQ(requests::delete_application("a1").method, "DELETE");
    EXPECT_EQ(requests::delete_app_role_assignment("s1", "r1").path, "/servicePrincipals/s1/appRoleAssignments/r1");
    EXPECT_EQ(requests::delete_permission_grant("AVs6JuUD-g").path, "/oauth2PermissionGrants/AVs6JuUD-g");
}

TEST(GraphRequests, sign_in_queries_use_the_documented_forms) {
    requests::sign_in_query q;
    q.user_principal_name = "o'brien@contoso.com";
    q.since = t0;
    auto r = requests::list_sign_ins(q);
    EXPECT_EQ(r.version, api_version::v1);
    EXPECT_EQ(r.pace, pace_class::reports);
    EXPECT_EQ(decoded(r),
              "/auditLogs/signIns?$filter=userPrincipalName eq 'o''brien@contoso.com' and createdDateTime ge "
              "2024-05-01T10:00:00Z&$top=1000");

    q.kind = requests::sign_in_kind::non_interactive;
    r = requests::list_sign_ins(q);
    EXPECT_EQ(r.version, api_version::beta);
    EXPECT_EQ(decoded(r),
              "/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'nonInteractiveUser') and "
              "userPrincipalName eq 'o''brien@contoso.com' and createdDateTime ge 2024-05-01T10:00:00Z&$top=1000");

    requests::sign_in_query sp;
    sp.kind = requests::sign_in_kind::service_principal;
    sp.app_id = "app-1";
    sp.since = t0;
    sp.until = t0 + minutes(60);
    sp.top = 50;
    EXPECT_EQ(decoded(requests::list_sign_ins(sp)),
              "/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq 'app-1' and "
              "createdDateTime ge 2024-05-01T10:00:00Z and createdDateTime le 2024-05-01T11:00:00Z&$top=50");
}

TEST(GraphRequests, directory_audit_queries_filter_by_time_service_and_target) {
    requests::audit_query q;
    q.since = t0;
    q.logged_by_service = "Authentication Methods";
    q.target_id = "u1";
    const auto r = requests::list_directory_audits(q);
    EXPECT_EQ(r.pace, pace_class::reports);
    EXPECT_EQ(decoded(r),
              "/auditLogs/directoryAudits?$filter=activityDateTime ge 2024-05-01T10:00:00Z and "
              "loggedByService eq 'Authentication Methods' and targetResources/any(t: t/id eq 'u1')");
}

TEST(GraphRequests, inbox_rule_ids_are_encoded_in_the_path) {
    EXPECT_EQ(requests::list_inbox_rules("u1").path, "/users/u1/mailFolders/inbox/messageRules");
    EXPECT_EQ(requests::delete_inbox_rule("u1", "AQAAAJ5dZqA=").path,
              "/users/u1/mailFolders/inbox/messageRules/AQAAAJ5dZqA%3D");
}

TEST(GraphRequests, invalid_inputs_throw_before_a_request_exists) {
    EXPECT_THROW(requests::get_user("bad\nupn"), odata::invalid_value);
    EXPECT_THROW(requests::find_application(std::string(2000, 'x')), odata::invalid_value);
    EXPECT_THROW(requests::remove_application_password("a1", "k\x01"), odata::invalid_value);
    requests::sign_in_query q;
    q.user_principal_name = "\xff";
    EXPECT_THROW(requests::list_sign_ins(q), odata::invalid_value);
}

TEST(GraphModel, auth_methods_map_odata_types_to_delete_segments) {
    const auto m = parse_auth_method(nlohmann::json::parse(
        R"({"@odata.type":"#microsoft.graph.fido2AuthenticationMethod","id":"f1","displayName":"YubiKey","createdDateTime":"2024-05-01T10:05:00Z"})"));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, method_kind::fido2);
    EXPECT_EQ(m->label, "YubiKey");
    EXPECT_EQ(m->created, t0 + minutes(5));
    EXPECT_EQ(delete_segment(m->kind), "fido2Methods");
    const auto pw = parse_auth_method(nlohmann::json::parse(
        R"({"@odata.type":"#microsoft.graph.passwordAuthenticationMethod","id":"28c10230-6103-485e-b985-444c60001490","createdDateTime":null})"));
    ASSERT_TRUE(pw);
    EXPECT_EQ(pw->kind, method_kind::password);
    EXPECT_FALSE(pw->created);
    EXPECT_FALSE(delete_segment(pw->kind));
    const auto phone = parse_auth_method(nlohmann::json::parse(
        R"({"@odata.type":"#microsoft.graph.phoneAuthenticationMethod","id":"p","phoneNumber":"+1 5555551234","phoneType":"mobile"})"));
    EXPECT_EQ(phone->label, "+1 5555551234");
    EXPECT_EQ(method_kind_from_odata_type("#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"),
              method_kind::microsoft_authenticator);
    EXPECT_EQ(method_kind_from_odata_type("#microsoft.graph.somethingNew"), method_kind::other);
    EXPECT_FALSE(parse_auth_method(nlohmann::json::parse(R"({"@odata.type":"x"})")));
}

TEST(GraphModel, directory_roles_are_picked_out_of_member_of) {
    EXPECT_FALSE(parse_directory_role(nlohmann::json::parse(R"({"@odata.type":"#microsoft.graph.group","id":"g"})")));
    const auto r = parse_directory_role(nlohmann::json::parse(
        R"({"@odata.type":"#microsoft.graph.directoryRole","id":"r","displayName":"Exchange Administrator","roleTemplateId":"29232cdf-9323-42fd-ade2-1d097af3e4de"})"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->display_name, "Exchange Administrator");
}

TEST(GraphModel, message_rules_expose_forwarding_targets) {
    const auto r = parse_message_rule(nlohmann::json::parse(R"({
        "id":"AQAAAJ5dZqA=","displayName":"x","isEnabled":true,
        "actions":{"forwardTo":[{"emailAddress":{"name":"A","address":"Evil@Attacker.example"}}],
                   "redirectTo":{"emailAddress":{"address":"b@x.example"}},
                   "delete":true,"stopProcessingRules":true}})"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->forward_to, (std::vector<std::string>{"evil@attacker.example"}));
    EXPECT_EQ(r->redirect_to, (std::vector<std::string>{"b@x.example"}));
    EXPECT_TRUE(r->deletes);
    EXPECT_TRUE(r->stops_processing);
    EXPECT_FALSE(r->moves);
}

TEST(GraphModel, sign_ins_and_audits_parse_the_fields_verification_needs) {
    const auto s = parse_sign_in(nlohmann::json::parse(R"({
        "id":"s1","createdDateTime":"2024-05-01T10:00:00Z","userPrincipalName":"a@contoso.com","userId":"u",
        "appId":"app","ipAddress":"203.0.113.7","status":{"errorCode":53003,"failureReason":"blocked"},
        "conditionalAccessStatus":"failure","signInEventTypes":["nonInteractiveUser"],
        "servicePrincipalCredentialKeyId":"k"})"));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->error_code, 53003);
    EXPECT_EQ(s->conditional_access_status, "failure");
    EXPECT_EQ(s->event_types, (std::vector<std::string>{"nonInteractiveUser"}));
    EXPECT_EQ(s->credential_key_id, "k");
    const auto a = parse_directory_audit(nlohmann::json::parse(R"({
        "id":"d1","activityDateTime":"2024-05-01T10:01:19.5796748Z","activityDisplayName":"User registered security info",
        "loggedByService":"Authentication Methods","initiatedBy":{"user":{"id":"u","ipAddress":"203.0.113.7"},"app":null},
        "targetResources":[{"id":"u","type":"User"}]})"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->initiated_by_ip, "203.0.113.7");
    EXPECT_EQ(a->target_ids, (std::vector<std::string>{"u"}));
}

TEST(GraphModel, applications_carry_their_credentials) {
    const auto a = parse_application(nlohmann::json::parse(R"({
        "id":"obj","appId":"app","displayName":"Document Sync Pro",
        "passwordCredentials":[{"keyId":"k1","hint":"abc","endDateTime":"2025-01-01T00:00:00Z"}],
        "keyCredentials":[{"keyId":"c1","type":"AsymmetricX509Cert","usage":"Verify"}]})"));
    ASSERT_TRUE(a);
    ASSERT_EQ(a->password_credentials.size(), 1u);
    EXPECT_EQ(a->password_credentials[0].hint, "abc");
    ASSERT_EQ(a->key_credentials.size(), 1u);
    EXPECT_EQ(a->key_credentials[0].usage, "Verify");
}
