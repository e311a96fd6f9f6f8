#include "graph/model.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"
#include "core/time.hpp"

namespace containd::graph {
namespace {

std::string str(const nlohmann::json& j, const char* key) {
    if (!j.is_object()) return {};
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<bool> opt_bool(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
}

std::optional<time_point> opt_time(const nlohmann::json& j, const char* key) {
    const auto s = str(j, key);
    if (s.empty()) return std::nullopt;
    return parse_rfc3339(s);
}

std::vector<std::string> recipients(const nlohmann::json& actions, const char* key) {
    std::vector<std::string> out;
    const auto it = actions.find(key);
    if (it == actions.end()) return out;
    auto add = [&](const nlohmann::json& r) {
        if (!r.is_object()) return;
        const auto e = r.find("emailAddress");
        if (e != r.end() && e->is_object()) {
            const auto a = str(*e, "address");
            if (!a.empty()) out.push_back(lower(a));
        }
    };
    if (it->is_array()) {
        for (const auto& r : *it) add(r);
    } else {
        add(*it);  // an old revision documented redirectTo as a single recipient
    }
    return out;
}

bool truthy(const nlohmann::json& j, const char* key) { return opt_bool(j, key).value_or(false); }

}  // namespace

std::optional<user_info> parse_user(const nlohmann::json& j) {
    user_info u;
    u.id = str(j, "id");
    if (u.id.empty()) return std::nullopt;
    u.user_principal_name = str(j, "userPrincipalName");
    u.account_enabled = opt_bool(j, "accountEnabled");
    u.on_premises_sync_enabled = opt_bool(j, "onPremisesSyncEnabled");
    u.raw = j;
    return u;
}

std::optional<directory_role> parse_directory_role(const nlohmann::json& j) {
    if (str(j, "@odata.type") != "#microsoft.graph.directoryRole") return std::nullopt;
    directory_role r;
    r.id = str(j, "id");
    if (r.id.empty()) return std::nullopt;
    r.display_name = str(j, "displayName");
    r.role_template_id = str(j, "roleTemplateId");
    r.raw = j;
    return r;
}

std::string_view to_string(method_kind k) {
    switch (k) {
    case method_kind::password: return "password";
    case method_kind::phone: return "phone";
    case method_kind::email: return "email";
    case method_kind::fido2: return "fido2";
    case method_kind::microsoft_authenticator: return "microsoftAuthenticator";
    case method_kind::software_oath: return "softwareOath";
    case method_kind::windows_hello: return "windowsHelloForBusiness";
    case method_kind::temporary_access_pass: return "temporaryAccessPass";
    case method_kind::other: return "other";
    }
    return "other";
}

method_kind method_kind_from_odata_type(std::string_view t) {
    constexpr std::string_view prefix = "#microsoft.graph.";
    if (t.substr(0, prefix.size()) == prefix) t.remove_prefix(prefix.size());
    if (t == "passwordAuthenticationMethod") return method_kind::password;
    if (t == "phoneAuthenticationMethod") return method_kind::phone;
    if (t == "emailAuthenticationMethod") return method_kind::email;
    if (t == "fido2AuthenticationMethod") return method_kind::fido2;
    if (t == "microsoftAuthenticatorAuthenticationMethod") return method_kind::microsoft_authenticator;
    if (t == "softwareOathAuthenticationMethod") return method_kind::software_oath;
    if (t == "windowsHelloForBusinessAuthenticationMethod") return method_kind::windows_hello;
    if (t == "temporaryAccessPassAuthenticationMethod") return method_kind::temporary_access_pass;
    return method_kind::other;
}

std::optional<std::string_view> delete_segment(method_kind k) {
    switch (k) {
    case method_kind::phone: return "phoneMethods";
    case method_kind::email: return "emailMethods";
    case method_kind::fido2: return "fido2Methods";
    case method_kind::microsoft_authenticator: return "microsoftAuthenticatorMethods";
    case method_kind::software_oath: return "softwareOathMethods";
    case method_kind::windows_hello: return "windowsHelloForBusinessMethods";
    case method_kind::temporary_access_pass: return "temporaryAccessPassMethods";
    case method_kind::password:
    case method_kind::other: return std::nullopt;
    }
    return std::nullopt;
}

std::optional<auth_method> parse_auth_method(const nlohmann::json& j) {
    auth_method m;
    m.id = str(j, "id");
    if (m.id.empty()) return std::nullopt;
    m.odata_type = str(j, "@odata.type");
    m.kind = method_kind_from_odata_type(m.odata_type);
    m.created = opt_time(j, "createdDateTime");
    for (const char* key : {"displayName", "phoneNumber", "emailAddress"}) {
        m.label = str(j, key);
        if (!m.label.empty()) break;
    }
    m.raw = j;
    return m;
}

std::vector<password_credential> parse_password_credentials(const nlohmann::json& array) {
    std::vector<password_credential> out;
    if (!array.is_array()) return out;
    for (const auto& c : array) {
        password_credential p;
        p.key_id = str(c, "keyId");
        if (p.key_id.empty()) continue;
        p.display_name = str(c, "displayName");
        p.hint = str(c, "hint");
        p.start = opt_time(c, "startDateTime");
        p.end = opt_time(c, "endDateTime");
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<key_credential> parse_key_credentials(const nlohmann::json& array) {
    std::vector<key_credential> out;
    if (!array.is_array()) return out;
    for (const auto& c : array) {
        key_credential k;
        k.key_id = str(c, "keyId");
        if (k.key_id.empty()) continue;
        k.display_name = str(c, "displayName");
        k.type = str(c, "type");
        k.usage = str(c, "usage");
        k.start = opt_time(c, "startDateTime");
        k.end = opt_time(c, "endDateTime");
        k.raw = c;
        out.push_back(std::move(k));
    }
    return out;
}

nlohmann::json key_credential_for_patch(const key_credential& k) {
    nlohmann::json out = nlohmann::json::object();
    for (const char* key :
         {"customKeyIdentifier", "displayName", "endDateTime", "key", "keyId", "startDateTime", "type", "usage"}) {
        if (k.raw.is_object()) {
            const auto it = k.raw.find(key);
            if (it != k.raw.end() && !it->is_null()) out[key] = *it;
        }
    }
    out["keyId"] = k.key_id;
    return out;
}

std::optional<application_info> parse_application(const nlohmann::json& j) {
    application_info a;
    a.id = str(j, "id");
    if (a.id.empty()) return std::nullopt;
    a.app_id = str(j, "appId");
    a.display_name = str(j, "displayName");
    if (j.contains("passwordCredentials"))
        a.password_credentials = parse_password_credentials(j["passwordCredentials"]);
    if (j.contains("keyCredentials")) a.key_credentials = parse_key_credentials(j["keyCredentials"]);
    a.raw = j;
    return a;
}

std::optional<service_principal_info> parse_service_principal(const nlohmann::json& j) {
    service_principal_info s;
    s.id = str(j, "id");
    if (s.id.empty()) return std::nullopt;
    s.app_id = str(j, "appId");
    s.display_name = str(j, "displayName");
    s.account_enabled = opt_bool(j, "accountEnabled");
    if (j.contains("passwordCredentials"))
        s.password_credentials = parse_password_credentials(j["passwordCredentials"]);
    if (j.contains("keyCredentials")) s.key_credentials = parse_key_credentials(j["keyCredentials"]);
    s.raw = j;
    return s;
}

std::optional<permission_grant> parse_permission_grant(const nlohmann::json& j) {
    permission_grant g;
    g.id = str(j, "id");
    if (g.id.empty()) return std::nullopt;
    g.client_id = str(j, "clientId");
    g.consent_type = str(j, "consentType");
    g.principal_id = str(j, "principalId");
    g.resource_id = str(j, "resourceId");
    g.scope = str(j, "scope");
    g.raw = j;
    return g;
}

std::optional<app_role_assignment> parse_app_role_assignment(const nlohmann::json& j) {
    app_role_assignment a;
    a.id = str(j, "id");
    if (a.id.empty()) return std::nullopt;
    a.app_role_id = str(j, "appRoleId");
    a.principal_id = str(j, "principalId");
    a.resource_id = str(j, "resourceId");
    a.resource_display_name = str(j, "resourceDisplayName");
    a.raw = j;
    return a;
}

std::optional<message_rule> parse_message_rule(const nlohmann::json& j) {
    message_rule r;
    r.id = str(j, "id");
    if (r.id.empty()) return std::nullopt;
    r.display_name = str(j, "displayName");
    r.is_enabled = truthy(j, "isEnabled");
    r.is_read_only = truthy(j, "isReadOnly");
    if (const auto a = j.find("actions"); a != j.end() && a->is_object()) {
        r.forward_to = recipients(*a, "forwardTo");
        r.redirect_to = recipients(*a, "redirectTo");
        r.forward_as_attachment_to = recipients(*a, "forwardAsAttachmentTo");
        r.deletes = truthy(*a, "delete") || truthy(*a, "permanentDelete");
        r.moves = !str(*a, "moveToFolder").empty();
        r.stops_processing = truthy(*a, "stopProcessingRules");
    }
    r.raw = j;
    return r;
}

std::optional<sign_in> parse_sign_in(const nlohmann::json& j) {
    sign_in s;
    s.id = str(j, "id");
    const auto created = opt_time(j, "createdDateTime");
    if (s.id.empty() || !created) return std::nullopt;
    s.created = *created;
    s.user_id = str(j, "userId");
    s.user_principal_name = str(j, "userPrincipalName");
    s.app_id = str(j, "appId");
    s.app_display_name = str(j, "appDisplayName");
    s.ip_address = str(j, "ipAddress");
    if (const auto st = j.find("status"); st != j.end() && st->is_object()) {
        if (const auto ec = st->find("errorCode"); ec != st->end() && ec->is_number_integer())
            s.error_code = ec->get<int>();
        s.failure_reason = str(*st, "failureReason");
    }
    s.conditional_access_status = str(j, "conditionalAccessStatus");
    s.client_app_used = str(j, "clientAppUsed");
    s.is_interactive = opt_bool(j, "isInteractive");
    if (const auto t = j.find("signInEventTypes"); t != j.end() && t->is_array())
        for (const auto& e : *t)
            if (e.is_string()) s.event_types.push_back(e.get<std::string>());
    s.service_principal_id = str(j, "servicePrincipalId");
    s.credential_key_id = str(j, "servicePrincipalCredentialKeyId");
    s.raw = j;
    return s;
}

std::optional<directory_audit> parse_directory_audit(const nlohmann::json& j) {
    directory_audit a;
    a.id = str(j, "id");
    const auto when = opt_time(j, "activityDateTime");
    if (a.id.empty() || !when) return std::nullopt;
    a.activity_time = *when;
    a.activity = str(j, "activityDisplayName");
    a.category = str(j, "category");
    a.logged_by_service = str(j, "loggedByService");
    a.operation_type = str(j, "operationType");
    a.result = str(j, "result");
    if (const auto by = j.find("initiatedBy"); by != j.end() && by->is_object()) {
        if (const auto u = by->find("user"); u != by->end() && u->is_object()) {
            a.initiated_by_user_id = str(*u, "id");
            a.initiated_by_upn = str(*u, "userPrincipalName");
            a.initiated_by_ip = str(*u, "ipAddress");
        }
        if (const auto app = by->find("app"); app != by->end() && app->is_object())
            a.initiated_by_app_id = str(*app, "appId");
    }
    if (const auto t = j.find("targetResources"); t != j.end() && t->is_array())
        for (const auto& r : *t) {
            const auto id = str(r, "id");
            if (!id.empty()) a.target_ids.push_back(id);
        }
    a.raw = j;
    return a;
}

}  // namespace containd::graph
