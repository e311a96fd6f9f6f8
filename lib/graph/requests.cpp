#include "graph/requests.hpp"

#include <stdexcept>

#include "graph/odata.hpp"

namespace containd::graph::requests {
namespace {

graph_request make(std::string method, std::string path, pace_class pace = pace_class::none) {
    graph_request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.pace = pace;
    return r;
}

graph_request with_body(graph_request r, nlohmann::json body) {
    r.body = std::move(body);
    return r;
}

}  // namespace

graph_request get_user(std::string_view user) {
    return make("GET", odata::user_path(user) + "?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled");
}

graph_request list_member_of(std::string_view user, bool transitive) {
    return make("GET", odata::user_path(user) + (transitive ? "/transitiveMemberOf" : "/memberOf"));
}

graph_request revoke_sessions(std::string_view user) {
    return make("POST", odata::user_path(user) + "/revokeSignInSessions");
}

graph_request set_password(std::string_view user, const secret& password, bool force_change) {
    return with_body(
        make("PATCH", odata::user_path(user)),
        {{"passwordProfile", {{"password", password.reveal()}, {"forceChangePasswordNextSignIn", force_change}}}});
}

graph_request set_account_enabled(std::string_view user, bool enabled) {
    return with_body(make("PATCH", odata::user_path(user)), {{"accountEnabled", enabled}});
}

graph_request list_auth_methods(std::string_view user) {
    return make("GET", odata::user_path(user) + "/authentication/methods");
}

graph_request delete_auth_method(std::string_view user, method_kind kind, std::string_view method_id) {
    const auto segment = delete_segment(kind);
    if (!segment)
        throw std::invalid_argument("authentication methods of kind '" + std::string(to_string(kind)) +
                                    "' cannot be deleted");
    const std::string tail = odata::entity_path(*segment, method_id);  // "/phoneMethods/{id}"
    return make("DELETE", odata::user_path(user) + "/authentication" + tail);
}

graph_request create_tap(std::string_view user, int lifetime_minutes, bool usable_once) {
    auto r = with_body(make("POST", odata::user_path(user) + "/authentication/temporaryAccessPassMethods"),
                       {{"lifetimeInMinutes", lifetime_minutes}, {"isUsableOnce", usable_once}});
    r.idempotent = false;
    return r;
}

graph_request list_ca_policies() { return make("GET", "/identity/conditionalAccess/policies", pace_class::protection); }

graph_request get_ca_policy(std::string_view policy_id) {
    return make("GET", odata::entity_path("identity/conditionalAccess/policies", policy_id), pace_class::protection);
}

graph_request create_ca_policy(nlohmann::json policy) {
    auto r = with_body(make("POST", "/identity/conditionalAccess/policies", pace_class::protection), std::move(policy));
    r.idempotent = false;
    return r;
}

graph_request patch_ca_policy(std::string_view policy_id, nlohmann::json changes) {
    return with_body(
        make("PATCH", odata::entity_path("identity/conditionalAccess/policies", policy_id), pace_class::protection),
        std::move(changes));
}

graph_request list_named_locations() {
    return make("GET", "/identity/conditionalAccess/namedLocations", pace_class::protection);
}

graph_request find_application(std::string_view app_id) {
    return make("GET", "/applications?" + odata::filter().eq("appId", app_id).query() +
                           "&$select=id,appId,displayName,passwordCredentials,keyCredentials");
}

graph_request find_service_principal(std::string_view app_id) {
    return make("GET", "/servicePrincipals?" + odata::filter().eq("appId", app_id).query() +
                           "&$select=id,appId,displayName,accountEnabled,passwordCredentials,keyCredentials");
}

graph_request list_service_principal_member_of(std::string_view app_id, bool transitive) {
    return make("GET", odata::alternate_key_path("servicePrincipals", "appId", app_id) +
                           (transitive ? "/transitiveMemberOf" : "/memberOf"));
}

graph_request get_application_key_credentials(std::string_view object_id) {
    return make("GET", odata::entity_path("applications", object_id) + "?$select=keyCredentials");
}

graph_request get_service_principal_key_credentials(std::string_view object_id) {
    return make("GET", odata::entity_path("servicePrincipals", object_id) + "?$select=keyCredentials");
}

namespace {
nlohmann::json key_set(const std::vector<key_credential>& keep) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& k : keep) arr.push_back(key_credential_for_patch(k));
    return {{"keyCredentials", std::move(arr)}};
}
}  // namespace

graph_request set_application_key_credentials(std::string_view object_id, const std::vector<key_credential>& keep) {
    return with_body(make("PATCH", odata::entity_path("applications", object_id)), key_set(keep));
}

graph_request set_service_principal_key_credentials(std::string_view object_id,
                                                    const std::vector<key_credential>& keep) {
    return with_body(make("PATCH", odata::entity_path("servicePrincipals", object_id)), key_set(keep));
}

graph_request remove_application_password(std::string_view object_id, std::string_view key_id) {
    if (auto reason = odata::check_value(key_id)) throw odata::invalid_value("invalid keyId: " + *reason);
    return with_body(make("POST", odata::entity_path("applications", object_id) + "/removePassword"),
                     {{"keyId", std::string(key_id)}});
}

graph_request remove_service_principal_password(std::string_view object_id, std::string_view key_id) {
    if (auto reason = odata::check_value(key_id)) throw odata::invalid_value("invalid keyId: " + *reason);
    return with_body(make("POST", odata::entity_path("servicePrincipals", object_id) + "/removePassword"),
                     {{"keyId", std::string(key_id)}});
}

graph_request set_service_principal_enabled(std::string_view object_id, bool enabled) {
    return with_body(make("PATCH", odata::entity_path("servicePrincipals", object_id)), {{"accountEnabled", enabled}});
}

graph_request delete_application(std::string_view object_id) {
    return make("DELETE", odata::entity_path("applications", object_id));
}

graph_request list_permission_grants(std::string_view client_sp_id) {
    return make("GET", "/oauth2PermissionGrants?" + odata::filter().eq("clientId", client_sp_id).query());
}

graph_request delete_permission_grant(std::string_view grant_id) {
    return make("DELETE", odata::entity_path("oauth2PermissionGrants", grant_id));
}

graph_request list_app_role_assignments(std::string_view sp_id) {
    return make("GET", odata::entity_path("servicePrincipals", sp_id) + "/appRoleAssignments");
}

graph_request delete_app_role_assignment(std::string_view sp_id, std::string_view assignment_id) {
    return make("DELETE", odata::entity_path("servicePrincipals", sp_id) +
                              odata::entity_path("appRoleAssignments", assignment_id));
}

graph_request get_risky_user(std::string_view user_id) {
    return make("GET", odata::entity_path("identityProtection/riskyUsers", user_id), pace_class::protection);
}

graph_request confirm_compromised(const std::vector<std::string>& user_ids) {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& id : user_ids) {
        if (auto reason = odata::check_value(id)) throw odata::invalid_value("invalid user id: " + *reason);
        ids.push_back(id);
    }
    return with_body(make("POST", "/identityProtection/riskyUsers/confirmCompromised", pace_class::protection),
                     {{"userIds", std::move(ids)}});
}

graph_request list_sign_ins(const sign_in_query& q) {
    odata::filter f;
    api_version version = api_version::v1;
    if (q.kind == sign_in_kind::non_interactive) {
        f.any_eq("signInEventTypes", "nonInteractiveUser");
        version = api_version::beta;
    } else if (q.kind == sign_in_kind::service_principal) {
        f.any_eq("signInEventTypes", "servicePrincipal");
        version = api_version::beta;
    }
    if (q.user_principal_name) f.eq("userPrincipalName", *q.user_principal_name);
    if (q.user_id) f.eq("userId", *q.user_id);
    if (q.app_id) f.eq("appId", *q.app_id);
    if (q.ip_address) f.eq("ipAddress", *q.ip_address);
    f.ge("createdDateTime", q.since);
    if (q.until) f.le("createdDateTime", *q.until);
    auto r = make("GET", "/auditLogs/signIns?" + f.query() + "&$top=" + std::to_string(q.top), pace_class::reports);
    r.version = version;
    return r;
}

graph_request list_directory_audits(const audit_query& q) {
    odata::filter f;
    f.ge("activityDateTime", q.since);
    if (q.until) f.le("activityDateTime", *q.until);
    if (q.activity) f.eq("activityDisplayName", *q.activity);
    if (q.logged_by_service) f.eq("loggedByService", *q.logged_by_service);
    if (q.category) f.eq("category", *q.category);
    if (q.initiated_by_user_id) f.eq("initiatedBy/user/id", *q.initiated_by_user_id);
    if (q.target_id) f.any_property_eq("targetResources", "id", *q.target_id);
    return make("GET", "/auditLogs/directoryAudits?" + f.query(), pace_class::reports);
}

graph_request list_inbox_rules(std::string_view user) {
    return make("GET", odata::user_path(user) + "/mailFolders/inbox/messageRules");
}

graph_request delete_inbox_rule(std::string_view user, std::string_view rule_id) {
    return make("DELETE", odata::user_path(user) + "/mailFolders/inbox" + odata::entity_path("messageRules", rule_id));
}

}  // namespace containd::graph::requests
