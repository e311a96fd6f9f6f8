// Application permissions in the simulated tenant: the roles granted to containd's app (the
// scenario's "app_roles"; absent: every permission containd can use), carried in the access token's
// `roles` claim as in Entra ID, and enforced per Graph request (and per $batch item): a call none
// of whose accepted roles is granted gets Microsoft's 403 Authorization_RequestDenied.

#include <algorithm>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "sim/tenant.hpp"

namespace containd::sim {
namespace {

using roles = std::vector<std::string>;

// Every application permission containd's plans ask for (incident/planner.cpp).
const roles& every_role() {
    static const roles all = {"User.Read.All",
                              "Directory.Read.All",
                              "UserAuthenticationMethod.Read.All",
                              "MailboxSettings.Read",
                              "AuditLog.Read.All",
                              "Application.Read.All",
                              "DelegatedPermissionGrant.ReadWrite.All",
                              "Policy.Read.All",
                              "Policy.ReadWrite.ConditionalAccess",
                              "User.RevokeSessions.All",
                              "User-PasswordProfile.ReadWrite.All",
                              "UserAuthenticationMethod.ReadWrite.All",
                              "Application.ReadWrite.All",
                              "AppRoleAssignment.ReadWrite.All",
                              "MailboxSettings.ReadWrite",
                              "IdentityRiskyUser.ReadWrite.All",
                              "RoleManagement.Read.Directory"};
    return all;
}

bool has(const std::vector<std::string>& segs, const char* name) {
    return std::find(segs.begin(), segs.end(), name) != segs.end();
}

// The roles any one of which allows the call (Graph's documented least-privileged permission and
// the broader ones that include it); empty: not checked here ($batch: its items are).
roles accepted_roles(const graph_call& c) {
    const bool read = c.method == "GET";
    const auto& s = c.segs;
    const std::string s0 = s.empty() ? "" : s[0].substr(0, s[0].find('('));
    if (s0 == "users") {
        if (has(s, "authentication"))
            return read ? roles{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
                        : roles{"UserAuthenticationMethod.ReadWrite.All"};
        if (has(s, "revokeSignInSessions"))
            return {"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"};
        if (has(s, "mailFolders") || has(s, "messageRules"))
            return read ? roles{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}
                        : roles{"MailboxSettings.ReadWrite"};
        if (read) return {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"};
        return {"User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"};
    }
    if (s0 == "identity")
        return read ? roles{"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"}
                    : roles{"Policy.ReadWrite.ConditionalAccess"};
    if (s0 == "servicePrincipals" && (has(s, "appRoleAssignments") || has(s, "appRoleAssignedTo")) && !read)
        return {"AppRoleAssignment.ReadWrite.All"};
    if (s0 == "applications" || s0 == "servicePrincipals")
        return read ? roles{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"}
                    : roles{"Application.ReadWrite.All"};
    if (s0 == "oauth2PermissionGrants")
        return read ? roles{"DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All"}
                    : roles{"DelegatedPermissionGrant.ReadWrite.All"};
    if (s0 == "identityProtection")
        return read ? roles{"IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All"}
                    : roles{"IdentityRiskyUser.ReadWrite.All"};
    if (s0 == "directoryRoles")
        return {"RoleManagement.Read.Directory", "Directory.Read.All", "Directory.ReadWrite.All"};
    if (s0 == "auditLogs") return {"AuditLog.Read.All"};
    return {};
}

}  // namespace

void tenant::load_app_roles(const json& scenario) {
    if (!scenario.contains("app_roles")) {
        app_roles_ = every_role();
        return;
    }
    const auto& r = scenario["app_roles"];
    if (!r.is_array()) throw std::invalid_argument("scenario: app_roles must be an array of permission names");
    app_roles_.clear();
    for (const auto& x : r) {
        if (!x.is_string()) throw std::invalid_argument("scenario: app_roles must be an array of permission names");
        app_roles_.push_back(x.get<std::string>());
    }
}

std::string tenant::make_access_token(const std::string& client_id) const {
    // The shape of an Entra access token (header.claims.signature); the signature is random: the
    // simulator recognises its tokens by their whole value, as before.
    const json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", "containd-sim"}};
    const json claims = {{"aud", "https://graph.microsoft.com"},
                         {"iss", "https://sts.windows.net/" + id_ + "/"},
                         {"tid", id_},
                         {"appid", client_id},
                         {"idtyp", "app"},
                         {"roles", app_roles_},
                         {"uti", base64url_encode(random_bytes(16))}};
    return base64url_encode(header.dump()) + "." + base64url_encode(claims.dump()) + "." +
           base64url_encode(random_bytes(48));
}

std::optional<graph_reply> tenant::check_permission(const graph_call& c, time_point now) const {
    const roles accepted = accepted_roles(c);
    if (accepted.empty()) return std::nullopt;
    for (const auto& r : accepted)
        if (std::find(app_roles_.begin(), app_roles_.end(), r) != app_roles_.end()) return std::nullopt;
    return error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", c, now);
}

}  // namespace containd::sim
