#pragma once
// Typed views of the Graph objects containd reads. Each keeps the object's JSON in `raw` (for
// evidence), except where noted; parsers tolerate unknown and null fields and return nullopt only
// when an identifying field is missing.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/secret.hpp"

namespace containd::graph {

struct user_info {
    std::string id;
    std::string user_principal_name;
    std::optional<bool> account_enabled;
    std::optional<bool> on_premises_sync_enabled;  // true: a hybrid (synced) account
    nlohmann::json raw;
};
std::optional<user_info> parse_user(const nlohmann::json& j);

struct directory_role {
    std::string id;
    std::string display_name;      // "Exchange Administrator"
    std::string role_template_id;  // stable across tenants (62e90394-... = Global Administrator)
    nlohmann::json raw;
};
// Only objects whose @odata.type is #microsoft.graph.directoryRole; nullopt for anything else
// (groups, administrative units) found in memberOf.
std::optional<directory_role> parse_directory_role(const nlohmann::json& j);

enum class method_kind {
    password,
    phone,
    email,
    fido2,
    microsoft_authenticator,
    software_oath,
    windows_hello,
    temporary_access_pass,
    other,
};
std::string_view to_string(method_kind k);
method_kind method_kind_from_odata_type(std::string_view odata_type);
// The per-type collection a method is deleted through ("phoneMethods", "fido2Methods", ...);
// nullopt for password (no delete exists) and unknown types.
std::optional<std::string_view> delete_segment(method_kind k);

struct auth_method {
    std::string id;
    std::string odata_type;  // "#microsoft.graph.phoneAuthenticationMethod"
    method_kind kind = method_kind::other;
    std::optional<time_point> created;  // createdDateTime when present and not null
    std::string label;                  // displayName, phoneNumber or emailAddress (whichever the type has)
    nlohmann::json raw;
};
std::optional<auth_method> parse_auth_method(const nlohmann::json& j);

// A newly created TAP. `raw` is the response WITHOUT temporaryAccessPass.
struct temporary_access_pass {
    std::string id;
    secret pass;
    std::optional<time_point> start;
    int lifetime_minutes = 0;
    bool usable_once = false;
    nlohmann::json raw;
};

struct password_credential {
    std::string key_id;
    std::string display_name;
    std::string hint;  // first characters of the secret, as Graph reports them
    std::optional<time_point> start;
    std::optional<time_point> end;
};

struct key_credential {
    std::string key_id;
    std::string display_name;
    std::string type;   // AsymmetricX509Cert, ...
    std::string usage;  // Verify, Sign
    std::optional<time_point> start;
    std::optional<time_point> end;
    nlohmann::json raw;  // as read (includes "key" from a single-object $select=keyCredentials)
};

struct application_info {
    std::string id;      // object id
    std::string app_id;  // client id
    std::string display_name;
    std::vector<password_credential> password_credentials;
    std::vector<key_credential> key_credentials;
    nlohmann::json raw;
};
std::optional<application_info> parse_application(const nlohmann::json& j);

struct service_principal_info {
    std::string id;
    std::string app_id;
    std::string display_name;
    std::optional<bool> account_enabled;
    std::vector<password_credential> password_credentials;
    std::vector<key_credential> key_credentials;
    nlohmann::json raw;
};
std::optional<service_principal_info> parse_service_principal(const nlohmann::json& j);

std::vector<password_credential> parse_password_credentials(const nlohmann::json& array);
std::vector<key_credential> parse_key_credentials(const nlohmann::json& array);
// A keyCredential as sent back in PATCH keyCredentials: only the writable properties of the
// type (customKeyIdentifier, displayName, endDateTime, key, keyId, startDateTime, type, usage).
nlohmann::json key_credential_for_patch(const key_credential& k);

struct permission_grant {
    std::string id;
    std::string client_id;     // client service principal object id
    std::string consent_type;  // AllPrincipals | Principal
    std::string principal_id;  // user id for Principal grants
    std::string resource_id;
    std::string scope;
    nlohmann::json raw;
};
std::optional<permission_grant> parse_permission_grant(const nlohmann::json& j);

struct app_role_assignment {
    std::string id;
    std::string app_role_id;
    std::string principal_id;
    std::string resource_id;
    std::string resource_display_name;
    nlohmann::json raw;
};
std::optional<app_role_assignment> parse_app_role_assignment(const nlohmann::json& j);

struct message_rule {
    std::string id;
    std::string display_name;
    bool is_enabled = false;
    bool is_read_only = false;
    // Recipient addresses of the forwarding actions (lower-cased).
    std::vector<std::string> forward_to;
    std::vector<std::string> redirect_to;
    std::vector<std::string> forward_as_attachment_to;
    bool deletes = false;           // delete or permanentDelete
    bool moves = false;             // moveToFolder
    bool stops_processing = false;  // stopProcessingRules
    nlohmann::json raw;
};
std::optional<message_rule> parse_message_rule(const nlohmann::json& j);

struct sign_in {
    std::string id;
    time_point created{};
    std::string user_id;
    std::string user_principal_name;
    std::string app_id;
    std::string app_display_name;
    std::string ip_address;
    int error_code = 0;  // status.errorCode: 0 success, 53003 blocked by CA, ...
    std::string failure_reason;
    std::string conditional_access_status;  // success | failure | notApplied
    std::string client_app_used;
    std::optional<bool> is_interactive;
    std::vector<std::string> event_types;  // beta signInEventTypes
    std::string service_principal_id;      // beta
    std::string credential_key_id;         // beta servicePrincipalCredentialKeyId
    nlohmann::json raw;
};
std::optional<sign_in> parse_sign_in(const nlohmann::json& j);

struct directory_audit {
    std::string id;
    time_point activity_time{};
    std::string activity;  // activityDisplayName
    std::string category;
    std::string logged_by_service;
    std::string operation_type;
    std::string result;
    std::string initiated_by_user_id;
    std::string initiated_by_upn;
    std::string initiated_by_ip;
    std::string initiated_by_app_id;
    std::vector<std::string> target_ids;
    nlohmann::json raw;
};
std::optional<directory_audit> parse_directory_audit(const nlohmann::json& j);

}  // namespace containd::graph
