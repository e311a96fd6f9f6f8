#pragma once
// Typed Graph calls for the step runners: each sends the request from requests.hpp through
// graph::client (one attempt; see client.hpp) and interprets the answer.
//
// Conventions:
// - `client&` is taken by reference: co_await these calls directly (do not co_spawn them
//   without keeping the client alive). All other parameters are by value.
// - An input value Graph cannot be given safely (odata::check_value refuses it) produces a
//   local result: status 400, error_code "containd.invalid_value", sent=false. Nothing is sent.
// - ok() is true only for a usable 2xx. On failure, call carries everything the engine needs
//   (status or transport kind, raw Retry-After, Graph/AADSTS code and message); describe(call)
//   gives a log-safe line.
// - Lists follow @odata.nextLink up to the client's page cap; `truncated` says the cap stopped it.

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/secret.hpp"
#include "graph/client.hpp"
#include "graph/model.hpp"
#include "graph/requests.hpp"
#include "graph/result.hpp"

namespace containd::graph {

template <class T>
struct list_reply {
    call_result call;
    std::vector<T> items;
    bool truncated = false;  // the page cap stopped paging
    bool ok() const { return call.ok(); }
};

template <class T>
using task = boost::asio::awaitable<T>;

// --- users ---
// 200 (or 202) with the user. 404 Request_ResourceNotFound: unknown user.
task<reply<user_info>> get_user(client& c, std::string id_or_upn);
// Directory roles the user holds (memberOf, or transitiveMemberOf, filtered to directoryRole).
task<list_reply<directory_role>> list_directory_roles(client& c, std::string user, bool transitive = false);
// Any 2xx is success (Graph answers 200 {"value":true}, documented as 204).
task<reply<void>> revoke_sessions(client& c, std::string user);
// PATCH passwordProfile {password, forceChangePasswordNextSignIn}; 204.
task<reply<void>> set_password(client& c, std::string user, secret password, bool force_change = true);
// PATCH accountEnabled; 204.
task<reply<void>> set_account_enabled(client& c, std::string user, bool enabled);

// --- authentication methods ---
task<list_reply<auth_method>> list_auth_methods(client& c, std::string user);
// DELETE through the method's per-type path: removed (204), already_absent (404), or failed
// (e.g. 400 badRequest for the default method while others remain). A method of a kind that has
// no delete (password, unknown) fails locally with status 400 containd.invalid_value.
task<removal_reply> delete_auth_method(client& c, std::string user, auth_method method);
// POST temporaryAccessPassMethods; 201. The pass is in value.pass (a secret); call.body has it
// removed.
task<reply<temporary_access_pass>> create_tap(client& c, std::string user, int lifetime_minutes = 60,
                                              bool usable_once = true);

// --- Conditional Access (paced about 1/s per tenant) ---
task<list_reply<nlohmann::json>> list_ca_policies(client& c);
task<reply<nlohmann::json>> get_ca_policy(client& c, std::string policy_id);
task<reply<nlohmann::json>> create_ca_policy(client& c, nlohmann::json policy);               // 201 + policy (with id)
task<reply<void>> patch_ca_policy(client& c, std::string policy_id, nlohmann::json changes);  // 204
task<list_reply<nlohmann::json>> list_named_locations(client& c);

// --- applications and service principals ---
// value is nullopt when no application has that appId (200 with an empty value array).
task<reply<std::optional<application_info>>> find_application(client& c, std::string app_id);
task<reply<std::optional<service_principal_info>>> find_service_principal(client& c, std::string app_id);
// Directory roles an application's service principal holds (transitiveMemberOf, or memberOf,
// filtered to directoryRole). 404 Request_ResourceNotFound: no service principal has that appId.
task<list_reply<directory_role>> list_service_principal_directory_roles(client& c, std::string app_id,
                                                                        bool transitive = true);
// Single-object GET ?$select=keyCredentials: each credential's raw JSON includes "key".
task<reply<std::vector<key_credential>>> get_application_key_credentials(client& c, std::string object_id);
task<reply<std::vector<key_credential>>> get_service_principal_key_credentials(client& c, std::string object_id);
// PATCH keyCredentials with exactly `keep` (the set is replaced); 204.
task<reply<void>> set_application_key_credentials(client& c, std::string object_id, std::vector<key_credential> keep);
task<reply<void>> set_service_principal_key_credentials(client& c, std::string object_id,
                                                        std::vector<key_credential> keep);
// removePassword: removed (204); already_absent for 404, or for a 400 whose error says the
// key does not exist (Graph's exact answer for an unknown keyId is undocumented; runners that
// must be sure re-read passwordCredentials).
task<removal_reply> remove_application_password(client& c, std::string object_id, std::string key_id);
task<removal_reply> remove_service_principal_password(client& c, std::string object_id, std::string key_id);
task<reply<void>> set_service_principal_enabled(client& c, std::string object_id, bool enabled);  // 204
task<removal_reply> delete_application(client& c, std::string object_id);                         // 204 / 404

// --- grants and app role assignments ---
task<list_reply<permission_grant>> list_permission_grants(client& c, std::string client_sp_id);
task<removal_reply> delete_permission_grant(client& c, std::string grant_id);
task<list_reply<app_role_assignment>> list_app_role_assignments(client& c, std::string sp_id);
task<removal_reply> delete_app_role_assignment(client& c, std::string sp_id, std::string assignment_id);

// --- Identity Protection (paced about 1/s per tenant) ---
// 204. A 403 here usually means no P2 licence: the runner treats it as a warning.
task<reply<void>> confirm_compromised(client& c, std::vector<std::string> user_ids);

// --- sign-in logs and directory audits (paced 5 per 10 s) ---
// max_pages: stop after this many pages (list_reply::truncated says so); default: the client's cap.
task<list_reply<sign_in>> list_sign_ins(client& c, requests::sign_in_query query,
                                        std::optional<std::size_t> max_pages = std::nullopt);
task<list_reply<directory_audit>> list_directory_audits(client& c, requests::audit_query query);

// --- mailbox ---
task<list_reply<message_rule>> list_inbox_rules(client& c, std::string user);
task<removal_reply> delete_inbox_rule(client& c, std::string user, std::string rule_id);

// The classification remove_*_password applies (exposed for tests and for $batch results).
removal_reply interpret_remove_password(call_result r, std::string_view key_id);

}  // namespace containd::graph
