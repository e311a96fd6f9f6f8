#pragma once
// Builders for every Graph request containd sends: method, path (with OData encoding), body,
// version and pacing class. Pure functions, so paths and bodies are unit-tested, and the same
// descriptions can be sent alone (client::send, or the typed calls in api.hpp) or as $batch
// items (client::batch).
//
// User arguments accept an object id or a UPN (odata::user_path). Every function that embeds an
// input value throws odata::invalid_value when check_value() refuses it; nothing is sent then.
// CAUTION: set_password's body holds the password: never log a graph_request body.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "graph/model.hpp"
#include "graph/request.hpp"

namespace containd::graph::requests {

// --- users ---------------------------------------------------------------------------------
// GET /users/{u}?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled
graph_request get_user(std::string_view user);
// GET /users/{u}/memberOf (direct) or /transitiveMemberOf; directory roles are the elements
// with @odata.type #microsoft.graph.directoryRole (filtered client-side: the same request also
// works where the type-cast segment is not supported).
graph_request list_member_of(std::string_view user, bool transitive = false);
// POST /users/{u}/revokeSignInSessions (no body)
graph_request revoke_sessions(std::string_view user);
// PATCH /users/{u} {"passwordProfile":{"password":..., "forceChangePasswordNextSignIn":true}}
graph_request set_password(std::string_view user, const secret& password, bool force_change = true);
// PATCH /users/{u} {"accountEnabled":enabled}
graph_request set_account_enabled(std::string_view user, bool enabled);

// --- authentication methods --------------------------------------------------------------------
// GET /users/{u}/authentication/methods
graph_request list_auth_methods(std::string_view user);
// DELETE /users/{u}/authentication/{segment}/{id}. Throws std::invalid_argument for a kind
// without a delete operation (password, other).
graph_request delete_auth_method(std::string_view user, method_kind kind, std::string_view method_id);
// POST /users/{u}/authentication/temporaryAccessPassMethods {"lifetimeInMinutes":60,"isUsableOnce":true}
// (not idempotent: a new TAP replaces the previous one)
graph_request create_tap(std::string_view user, int lifetime_minutes = 60, bool usable_once = true);

// --- Conditional Access (paced: protection) ------------------------------------------------------
graph_request list_ca_policies();
graph_request get_ca_policy(std::string_view policy_id);
graph_request create_ca_policy(nlohmann::json policy);                              // POST, 201 (not idempotent)
graph_request patch_ca_policy(std::string_view policy_id, nlohmann::json changes);  // PATCH, 204
graph_request list_named_locations();

// --- applications and service principals ---------------------------------------------------------
// GET /applications?$filter=appId eq '{appId}'&$select=id,appId,displayName,passwordCredentials,keyCredentials
graph_request find_application(std::string_view app_id);
// GET /servicePrincipals?$filter=appId eq '{appId}'&$select=id,appId,displayName,accountEnabled,passwordCredentials,keyCredentials
graph_request find_service_principal(std::string_view app_id);
// GET /servicePrincipals(appId='{appId}')/transitiveMemberOf (or /memberOf): the directory roles
// (and groups) of an application's service principal; roles are filtered client-side, as for users.
graph_request list_service_principal_member_of(std::string_view app_id, bool transitive = true);
// GET /applications/{id}?$select=keyCredentials (single object: includes each "key")
graph_request get_application_key_credentials(std::string_view object_id);
graph_request get_service_principal_key_credentials(std::string_view object_id);
// PATCH /applications/{id} {"keyCredentials":[...]} (replaces the whole set; [] removes all)
graph_request set_application_key_credentials(std::string_view object_id, const std::vector<key_credential>& keep);
graph_request set_service_principal_key_credentials(std::string_view object_id,
                                                    const std::vector<key_credential>& keep);
// POST /applications/{id}/removePassword {"keyId":...}
graph_request remove_application_password(std::string_view object_id, std::string_view key_id);
graph_request remove_service_principal_password(std::string_view object_id, std::string_view key_id);
// PATCH /servicePrincipals/{id} {"accountEnabled":enabled}
graph_request set_service_principal_enabled(std::string_view object_id, bool enabled);
// DELETE /applications/{id}
graph_request delete_application(std::string_view object_id);

// --- grants and app role assignments ---------------------------------------------------------------
// GET /oauth2PermissionGrants?$filter=clientId eq '{spObjectId}'
graph_request list_permission_grants(std::string_view client_sp_id);
graph_request delete_permission_grant(std::string_view grant_id);
// GET /servicePrincipals/{id}/appRoleAssignments
graph_request list_app_role_assignments(std::string_view sp_id);
graph_request delete_app_role_assignment(std::string_view sp_id, std::string_view assignment_id);

// --- Identity Protection (paced: protection) -------------------------------------------------------
graph_request get_risky_user(std::string_view user_id);
// POST /identityProtection/riskyUsers/confirmCompromised {"userIds":[...]}
graph_request confirm_compromised(const std::vector<std::string>& user_ids);

// --- sign-in logs and audits (paced: reports) ----------------------------------------------------------
enum class sign_in_kind { interactive, non_interactive, service_principal };

struct sign_in_query {
    sign_in_kind kind = sign_in_kind::interactive;
    std::optional<std::string> user_principal_name;
    std::optional<std::string> user_id;
    std::optional<std::string> app_id;
    std::optional<std::string> ip_address;
    time_point since{};               // createdDateTime ge since
    std::optional<time_point> until;  // createdDateTime le until
    int top = 1000;                   // page size (Graph's maximum)
};
// interactive:        GET /v1.0/auditLogs/signIns?$filter=<terms>&$top=
// non_interactive:    GET /beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'nonInteractiveUser') and <terms>
// service_principal:  GET /beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal') and <terms>
// <terms>: userPrincipalName eq, userId eq, appId eq, ipAddress eq (those given), then
// createdDateTime ge since [and createdDateTime le until].
graph_request list_sign_ins(const sign_in_query& q);

struct audit_query {
    time_point since{};  // activityDateTime ge since
    std::optional<time_point> until;
    std::optional<std::string> activity;              // activityDisplayName eq
    std::optional<std::string> logged_by_service;     // loggedByService eq
    std::optional<std::string> category;              // category eq
    std::optional<std::string> target_id;             // targetResources/any(t: t/id eq ...)
    std::optional<std::string> initiated_by_user_id;  // initiatedBy/user/id eq
};
// GET /v1.0/auditLogs/directoryAudits?$filter=...
graph_request list_directory_audits(const audit_query& q);

// --- mailbox ---------------------------------------------------------------------------------------
graph_request list_inbox_rules(std::string_view user);
graph_request delete_inbox_rule(std::string_view user, std::string_view rule_id);

}  // namespace containd::graph::requests
