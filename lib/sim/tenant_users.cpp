// Users, directory roles and memberships, authentication methods, inbox rules, risky users.
#include <algorithm>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "sim/tenant.hpp"

namespace containd::sim {
namespace {

// user properties Graph returns without $select (graph-api.md §3.3)
const std::vector<std::string>& default_user_props() {
    static const std::vector<std::string> p = {"businessPhones",    "displayName", "givenName",        "id",
                                               "jobTitle",          "mail",        "mobilePhone",      "officeLocation",
                                               "preferredLanguage", "surname",     "userPrincipalName"};
    return p;
}

const std::vector<std::string>& user_props() {
    static const std::vector<std::string> p = {"id",
                                               "deletedDateTime",
                                               "aboutMe",
                                               "accountEnabled",
                                               "ageGroup",
                                               "assignedLicenses",
                                               "assignedPlans",
                                               "authorizationInfo",
                                               "birthday",
                                               "businessPhones",
                                               "city",
                                               "companyName",
                                               "consentProvidedForMinor",
                                               "country",
                                               "createdDateTime",
                                               "creationType",
                                               "customSecurityAttributes",
                                               "department",
                                               "deviceEnrollmentLimit",
                                               "displayName",
                                               "employeeHireDate",
                                               "employeeId",
                                               "employeeLeaveDateTime",
                                               "employeeOrgData",
                                               "employeeType",
                                               "externalUserState",
                                               "externalUserStateChangeDateTime",
                                               "faxNumber",
                                               "givenName",
                                               "hireDate",
                                               "identities",
                                               "identityParentId",
                                               "imAddresses",
                                               "interests",
                                               "isManagementRestricted",
                                               "isResourceAccount",
                                               "jobTitle",
                                               "lastPasswordChangeDateTime",
                                               "legalAgeGroupClassification",
                                               "licenseAssignmentStates",
                                               "mail",
                                               "mailboxSettings",
                                               "mailNickname",
                                               "mobilePhone",
                                               "mySite",
                                               "officeLocation",
                                               "onPremisesDistinguishedName",
                                               "onPremisesDomainName",
                                               "onPremisesExtensionAttributes",
                                               "onPremisesImmutableId",
                                               "onPremisesLastSyncDateTime",
                                               "onPremisesProvisioningErrors",
                                               "onPremisesSamAccountName",
                                               "onPremisesSecurityIdentifier",
                                               "onPremisesSyncEnabled",
                                               "onPremisesUserPrincipalName",
                                               "otherMails",
                                               "passwordPolicies",
                                               "passwordProfile",
                                               "pastProjects",
                                               "postalCode",
                                               "preferredDataLocation",
                                               "preferredLanguage",
                                               "preferredName",
                                               "print",
                                               "provisionedPlans",
                                               "proxyAddresses",
                                               "responsibilities",
                                               "schools",
                                               "securityIdentifier",
                                               "serviceProvisioningErrors",
                                               "showInAddressList",
                                               "signInActivity",
                                               "signInSessionsValidFromDateTime",
                                               "skills",
                                               "state",
                                               "streetAddress",
                                               "surname",
                                               "usageLocation",
                                               "userPrincipalName",
                                               "userType"};
    return p;
}

bool complex_enough(const std::string& pw) {
    if (pw.size() < 8 || pw.size() > 256) return false;
    int lowers = 0, uppers = 0, digits = 0, symbols = 0;
    for (unsigned char c : pw) {
        if (c < 0x20 || c > 0x7e) return false;  // Entra allows printable ASCII only (and space)
        if (std::islower(c))
            lowers = 1;
        else if (std::isupper(c))
            uppers = 1;
        else if (std::isdigit(c))
            digits = 1;
        else
            symbols = 1;
    }
    return lowers + uppers + digits + symbols >= 3;
}

const std::map<std::string, std::string>& method_collections() {
    static const std::map<std::string, std::string> m = {
        {"phoneMethods", "#microsoft.graph.phoneAuthenticationMethod"},
        {"softwareOathMethods", "#microsoft.graph.softwareOathAuthenticationMethod"},
        {"fido2Methods", "#microsoft.graph.fido2AuthenticationMethod"},
        {"microsoftAuthenticatorMethods", "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"},
        {"emailMethods", "#microsoft.graph.emailAuthenticationMethod"},
        {"windowsHelloForBusinessMethods", "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"},
        {"temporaryAccessPassMethods", "#microsoft.graph.temporaryAccessPassAuthenticationMethod"},
        {"passwordMethods", "#microsoft.graph.passwordAuthenticationMethod"},
    };
    return m;
}

}  // namespace

tenant::user_rec* tenant::find_user(const std::string& key) {
    const auto k = lower(key);
    for (auto& u : users_)
        if (lower(u.g["id"].get<std::string>()) == k || lower(u.g["userPrincipalName"].get<std::string>()) == k)
            return &u;
    return nullptr;
}

const tenant::user_rec* tenant::find_user(const std::string& key) const {
    return const_cast<tenant*>(this)->find_user(key);
}

json tenant::user_view(const user_rec& u) const {
    json v = u.g;
    v["deletedDateTime"] = nullptr;
    v["passwordProfile"] = {
        {"password", nullptr},
        {"forceChangePasswordNextSignIn", u.password_profile.value("forceChangePasswordNextSignIn", false)},
        {"forceChangePasswordNextSignInWithMfa",
         u.password_profile.value("forceChangePasswordNextSignInWithMfa", false)}};
    return v;
}

graph_reply tenant::users(const graph_call& c, time_point now) {
    // /users, /users/{id|upn}/..., /users('{upn}')/...
    std::string user_key;
    std::size_t next = 1;
    if (auto k = odata::parse_key_segment(c.segs[0])) {
        if (!k->key_property.empty()) return bad_segment(c, now, c.segs[0]);
        user_key = k->key_value;
    } else if (c.segs.size() >= 2) {
        user_key = c.segs[1];
        next = 2;
        if (!user_key.empty() && user_key[0] == '$') return bad_segment(c, now, user_key);
    }
    if (user_key.empty()) {
        if (c.method != "GET") return method_not_allowed(c, now);
        graph_reply err;
        bool has = false;
        auto f = filter_of(c, now, user_props(), "user", err, has);
        if (has && !f) return err;
        std::vector<json> items;
        for (const auto& u : users_) {
            const json v = user_view(u);
            if (f && !odata::evaluate(*f, v)) continue;
            items.push_back(c.query.count("$select") ? v : select(v, [] {
                std::string s;
                for (const auto& p : default_user_props()) s += (s.empty() ? "" : ",") + p;
                return s;
            }()));
        }
        return page(c, now, std::move(items), ctx(c, "users"), 100, 999);
    }
    user_rec* u = find_user(user_key);
    if (!u) {
        if (next < c.segs.size() && c.segs[next] == "mailFolders")
            return error(404, "ErrorInvalidUser", "The requested user '" + user_key + "' is invalid.", c, now);
        return not_found(c, now, user_key);
    }
    if (next == c.segs.size()) {
        if (c.method == "GET") return user_get(c, now, *u);
        if (c.method == "PATCH") return user_patch(c, now, *u);
        return method_not_allowed(c, now);
    }
    const auto& nav = c.segs[next];
    if (nav == "revokeSignInSessions") {
        if (c.segs.size() != next + 1) return bad_segment(c, now, c.segs[next + 1]);
        if (c.method != "POST") return method_not_allowed(c, now);
        u->sessions_valid_from = now;
        u->g["signInSessionsValidFromDateTime"] = format_rfc3339(now);
        add_audit(now, "Update StsRefreshTokenValidFrom Timestamp", "UserManagement", "Core Directory", "Update",
                  c.client_id,
                  json::array({{{"id", u->g["id"]},
                                {"displayName", nullptr},
                                {"type", "User"},
                                {"userPrincipalName", u->g["userPrincipalName"]},
                                {"groupType", nullptr},
                                {"modifiedProperties", json::array()}}}));
        return ok({{"@odata.context", ctx(c, "Edm.Boolean")}, {"value", true}});
    }
    if (nav == "memberOf" || nav == "transitiveMemberOf") return member_of(c, now, *u);
    if (nav == "authentication") return user_methods(c, now, *u);
    if (nav == "mailFolders") return user_rules(c, now, *u);
    if (nav == "oauth2PermissionGrants") {
        if (c.method != "GET") return method_not_allowed(c, now);
        std::vector<json> items;
        for (const auto& g : grants_)
            if (g["consentType"] == "Principal" && g["principalId"] == u->g["id"]) items.push_back(g);
        return page(c, now, std::move(items), ctx(c, "oauth2PermissionGrants"), 100, 999);
    }
    return bad_segment(c, now, nav);
}

graph_reply tenant::user_get(const graph_call& c, time_point now, user_rec& u) {
    const json v = user_view(u);
    std::string sel;
    if (auto s = c.query.find("$select"); s != c.query.end()) {
        sel = s->second;
        std::size_t i = 0;
        while (i <= sel.size()) {
            auto comma = sel.find(',', i);
            if (comma == std::string::npos) comma = sel.size();
            const auto name = sel.substr(i, comma - i);
            if (!name.empty() && std::find(user_props().begin(), user_props().end(), name) == user_props().end())
                return error(400, "BadRequest",
                             "Could not find a property named '" + name + "' on type 'microsoft.graph.user'.", c, now);
            if (comma >= sel.size()) break;
            i = comma + 1;
        }
    }
    json out = {{"@odata.context", ctx(c, sel.empty() ? "users/$entity" : "users(" + sel + ")/$entity")}};
    if (sel.empty())
        for (const auto& p : default_user_props()) out[p] = v.contains(p) ? v[p] : json(nullptr);
    else
        out.update(select(v, sel));
    return ok(std::move(out));
}

graph_reply tenant::user_patch(const graph_call& c, time_point now, user_rec& u) {
    if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
    static const std::vector<std::string> read_only = {"id",
                                                       "createdDateTime",
                                                       "lastPasswordChangeDateTime",
                                                       "signInSessionsValidFromDateTime",
                                                       "onPremisesSyncEnabled",
                                                       "deletedDateTime",
                                                       "creationType"};
    for (auto it = c.body.begin(); it != c.body.end(); ++it) {
        const auto& k = it.key();
        if (k.rfind("@odata.", 0) == 0) continue;
        if (std::find(user_props().begin(), user_props().end(), k) == user_props().end())
            return error(400, "Request_BadRequest",
                         "Property '" + k + "' does not exist on type 'microsoft.graph.user'.", c, now);
        if (std::find(read_only.begin(), read_only.end(), k) != read_only.end())
            return error(400, "Request_BadRequest", "Property '" + k + "' is read-only and cannot be set.", c, now);
    }
    // App-only password resets need a directory role on the caller's service principal.
    if (c.body.contains("passwordProfile"))
        if (auto denied = check_reset_role(c, u, now)) return *denied;
    const bool synced = u.g.value("onPremisesSyncEnabled", json(nullptr)) == json(true);
    const char* mastered =
        "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects "
        "currently undergoing migration.";
    const json* pp = c.body.contains("passwordProfile") ? &c.body["passwordProfile"] : nullptr;
    if (pp) {
        if (!pp->is_object())
            return error(400, "Request_BadRequest",
                         "Invalid value specified for property 'passwordProfile' of resource 'User'.", c, now);
        for (auto it = pp->begin(); it != pp->end(); ++it) {
            const auto& k = it.key();
            if (k != "password" && k != "forceChangePasswordNextSignIn" && k != "forceChangePasswordNextSignInWithMfa")
                return error(400, "Request_BadRequest",
                             "Property '" + k + "' does not exist on type 'microsoft.graph.passwordProfile'.", c, now);
            if (k == "password" && !it->is_string())
                return error(400, "Request_BadRequest",
                             "Invalid value specified for property 'password' of resource 'User'.", c, now);
            if (k != "password" && !it->is_boolean())
                return error(400, "Request_BadRequest",
                             "Invalid value specified for property '" + k + "' of resource 'User'.", c, now);
        }
        if (pp->contains("password")) {
            if (synced && !password_writeback_) return error(400, "Request_BadRequest", mastered, c, now);
            if (!complex_enough((*pp)["password"].get<std::string>()))
                return error(400, "Request_BadRequest",
                             "The specified password does not comply with password complexity requirements. Please "
                             "provide a different password.",
                             c, now);
        }
    }
    if (c.body.contains("accountEnabled")) {
        if (!c.body["accountEnabled"].is_boolean())
            return error(400, "Request_BadRequest",
                         "Invalid value specified for property 'accountEnabled' of resource 'User'.", c, now);
        if (synced) return error(400, "Request_BadRequest", mastered, c, now);
    }
    // Apply.
    const json target = json::array({{{"id", u.g["id"]},
                                      {"displayName", nullptr},
                                      {"type", "User"},
                                      {"userPrincipalName", u.g["userPrincipalName"]},
                                      {"groupType", nullptr},
                                      {"modifiedProperties", json::array()}}});
    for (auto it = c.body.begin(); it != c.body.end(); ++it) {
        const auto& k = it.key();
        if (k.rfind("@odata.", 0) == 0 || k == "passwordProfile") continue;
        u.g[k] = it.value();
    }
    if (c.body.contains("accountEnabled")) {
        const bool en = c.body["accountEnabled"].get<bool>();
        if (!en && !u.disabled_at) u.disabled_at = now;
        if (en) u.disabled_at.reset();
        add_audit(now, en ? "Enable account" : "Disable account", "UserManagement", "Core Directory", "Update",
                  c.client_id, target);
    }
    if (pp) {
        for (const char* k : {"forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa"})
            if (pp->contains(k)) u.password_profile[k] = (*pp)[k];
        if (pp->contains("password")) {
            u.password_changed = now;
            u.sessions_valid_from = now;
            u.g["lastPasswordChangeDateTime"] = format_rfc3339(now);
            u.g["signInSessionsValidFromDateTime"] = format_rfc3339(now);
            add_audit(now, "Reset user password", "UserManagement", "Core Directory", "Update", c.client_id, target);
        }
    }
    if (!c.body.contains("accountEnabled") && !pp)
        add_audit(now, "Update user", "UserManagement", "Core Directory", "Update", c.client_id, target);
    return no_content();
}

graph_reply tenant::member_of(const graph_call& c, time_point now, user_rec& u) {
    if (c.method != "GET") return method_not_allowed(c, now);
    const std::size_t base = odata::parse_key_segment(c.segs[0]) ? 2 : 3;  // index after memberOf
    bool roles_only = false;
    if (c.segs.size() > base) {
        if (c.segs[base] == "microsoft.graph.directoryRole" && c.segs.size() == base + 1)
            roles_only = true;
        else
            return bad_segment(c, now, c.segs[base]);
    }
    std::vector<json> items;
    for (const auto& r : roles_)
        if (std::find(u.role_ids.begin(), u.role_ids.end(), r.g["id"]) != u.role_ids.end()) items.push_back(r.g);
    if (!roles_only)
        for (const auto& g : groups_)
            if (std::find(u.group_ids.begin(), u.group_ids.end(), g["id"]) != u.group_ids.end()) items.push_back(g);
    return page(c, now, std::move(items), ctx(c, roles_only ? "directoryRoles" : "directoryObjects"), 100, 999);
}

graph_reply tenant::directory_roles(const graph_call& c, time_point now) {
    if (c.method != "GET") return method_not_allowed(c, now);
    if (c.segs.size() == 1) {
        std::vector<json> items;
        for (const auto& r : roles_) items.push_back(r.g);
        return page(c, now, std::move(items), ctx(c, "directoryRoles"), 100, 999);
    }
    const role_rec* role = nullptr;
    for (const auto& r : roles_)
        if (r.g["id"] == c.segs[1] || ("roleTemplateId=" + r.g["roleTemplateId"].get<std::string>()) == c.segs[1])
            role = &r;
    if (!role) return not_found(c, now, c.segs[1]);
    if (c.segs.size() == 2) {
        json v = role->g;
        v["@odata.context"] = ctx(c, "directoryRoles/$entity");
        return ok(v);
    }
    if (c.segs[2] != "members" || c.segs.size() != 3) return bad_segment(c, now, c.segs[2]);
    std::vector<json> items;
    for (const auto& id : role->members)
        if (const auto* u = find_user(id)) {
            json v = {{"@odata.type", "#microsoft.graph.user"}};
            for (const auto& p : default_user_props()) v[p] = u->g.contains(p) ? u->g[p] : json(nullptr);
            items.push_back(v);
        }
    for (const auto& id : role->sp_members)
        for (const auto& sp : sps_)
            if (!sp.deleted && sp.g["id"] == id)
                items.push_back({{"@odata.type", "#microsoft.graph.servicePrincipal"},
                                 {"id", sp.g["id"]},
                                 {"deletedDateTime", nullptr},
                                 {"accountEnabled", sp.g.value("accountEnabled", true)},
                                 {"appDisplayName", sp.g.value("appDisplayName", json(nullptr))},
                                 {"appId", sp.g["appId"]},
                                 {"displayName", sp.g.value("displayName", json(nullptr))},
                                 {"servicePrincipalType", sp.g.value("servicePrincipalType", "Application")}});
    return page(c, now, std::move(items), ctx(c, "directoryObjects"), 100, 999);
}

graph_reply tenant::user_methods(const graph_call& c, time_point now, user_rec& u) {
    const std::size_t base = odata::parse_key_segment(c.segs[0]) ? 2 : 3;  // index after "authentication"
    const std::string uid = u.g["id"];
    auto am_error = [&](int status, const std::string& code, const std::string& msg) {
        auto r = error(status, code, msg, c, now);
        r.body["error"]["innerError"]["message"] = msg;
        return r;
    };
    if (c.segs.size() <= base) return bad_segment(c, now, "authentication");
    const auto& coll = c.segs[base];
    auto view = [](const json& m) { return m; };
    if (coll == "signInPreferences" && c.version == "beta" && c.segs.size() == base + 1) {
        if (c.method != "GET") return method_not_allowed(c, now);
        json pref = nullptr;
        for (const auto& m : u.methods)
            if (m["id"] == u.default_method) {
                const auto t = m["@odata.type"].get<std::string>();
                if (t == "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod")
                    pref = "push";
                else if (t == "#microsoft.graph.phoneAuthenticationMethod")
                    pref = "sms";
                else if (t == "#microsoft.graph.softwareOathAuthenticationMethod")
                    pref = "oath";
            }
        return ok({{"@odata.context", ctx(c, "users('" + uid + "')/authentication/signInPreferences")},
                   {"isSystemPreferredAuthenticationMethodEnabled", false},
                   {"userPreferredMethodForSecondaryAuthentication", pref},
                   {"systemPreferredAuthenticationMethod", nullptr}});
    }
    if (coll == "methods") {
        if (c.segs.size() == base + 1) {
            if (c.method != "GET") return method_not_allowed(c, now);
            json value = json::array();
            for (const auto& m : u.methods) value.push_back(view(m));
            return ok({{"@odata.context", ctx(c, "users('" + uid + "')/authentication/methods")}, {"value", value}});
        }
        const auto& mid = c.segs[base + 1];
        auto it = std::find_if(u.methods.begin(), u.methods.end(), [&](const json& m) { return m["id"] == mid; });
        if (c.segs.size() == base + 3 && c.segs[base + 2] == "resetPassword") {
            if (c.method != "POST") return method_not_allowed(c, now);
            // Delegated only (graph-api.md §4.4): an app-only caller is refused.
            return error(403, "accessDenied", "Request Authorization failed", c, now);
        }
        if (c.segs.size() != base + 2) return bad_segment(c, now, c.segs[base + 2]);
        if (c.method == "DELETE") {
            // The generic methods/{id} DELETE is not a Graph route (graph-api.md §4.2).
            return error(400, "BadRequest", "No HTTP resource was found that matches the request URI.", c, now);
        }
        if (c.method != "GET") return method_not_allowed(c, now);
        if (it == u.methods.end())
            return am_error(404, "itemNotFound", "The requested authentication method was not found.");
        json v = view(*it);
        v["@odata.context"] = ctx(c, "users('" + uid + "')/authentication/methods/$entity");
        return ok(v);
    }
    auto mc = method_collections().find(coll);
    if (mc == method_collections().end()) return bad_segment(c, now, coll);
    const std::string type = mc->second;
    if (c.segs.size() == base + 1) {
        if (c.method == "GET") {
            json value = json::array();
            for (const auto& m : u.methods)
                if (m["@odata.type"] == type) value.push_back(view(m));
            return ok({{"@odata.context", ctx(c, "users('" + uid + "')/authentication/" + coll)}, {"value", value}});
        }
        if (c.method == "POST" && coll == "temporaryAccessPassMethods") {
            const json b = c.body.is_null() ? json::object() : c.body;
            if (!b.is_object()) return am_error(400, "badRequest", "Invalid request body.");
            if (tap_policy_.value("state", "enabled") != "enabled")
                return am_error(400, "badRequest",
                                "Temporary access pass authentication method is not enabled for this user.");
            for (auto it = b.begin(); it != b.end(); ++it)
                if (it.key() != "startDateTime" && it.key() != "lifetimeInMinutes" && it.key() != "isUsableOnce" &&
                    it.key() != "@odata.type")
                    return am_error(
                        400, "badRequest",
                        "Property '" + it.key() +
                            "' does not exist on type 'microsoft.graph.temporaryAccessPassAuthenticationMethod'.");
            const int minl = tap_policy_.value("minimumLifetimeInMinutes", 10);
            const int maxl = tap_policy_.value("maximumLifetimeInMinutes", 43200);
            int life = tap_policy_.value("defaultLifetimeInMinutes", 60);
            if (b.contains("lifetimeInMinutes")) {
                if (!b["lifetimeInMinutes"].is_number_integer())
                    return am_error(400, "badRequest", "lifetimeInMinutes must be an integer.");
                life = b["lifetimeInMinutes"].get<int>();
            }
            if (life < minl || life > maxl)
                return am_error(400, "badRequest",
                                "The lifetime of the temporary access pass must be between " + std::to_string(minl) +
                                    " and " + std::to_string(maxl) + " minutes.");
            bool once = tap_policy_.value("isUsableOnce", false);
            if (b.contains("isUsableOnce")) {
                if (!b["isUsableOnce"].is_boolean())
                    return am_error(400, "badRequest", "isUsableOnce must be a boolean.");
                once = b["isUsableOnce"].get<bool>();
                if (!once && tap_policy_.value("isUsableOnce", false))
                    return am_error(400, "badRequest",
                                    "The temporary access pass policy only allows one-time use passes.");
            }
            time_point start = now;
            if (b.contains("startDateTime")) {
                auto t = b["startDateTime"].is_string() ? parse_rfc3339(b["startDateTime"].get<std::string>())
                                                        : std::nullopt;
                if (!t) return am_error(400, "badRequest", "Invalid startDateTime.");
                start = *t;
            }
            // One usable TAP per user: a new one replaces the previous.
            u.methods.erase(std::remove_if(u.methods.begin(), u.methods.end(),
                                           [&](const json& m) { return m["@odata.type"] == type; }),
                            u.methods.end());
            static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789+-=#@!";
            std::string pass;
            for (int i = 0; i < 8; ++i) pass.push_back(alphabet[random_below(sizeof(alphabet) - 1)]);
            const bool usable = start <= now;
            json m = {{"@odata.type", type},
                      {"id", new_guid()},
                      {"temporaryAccessPass", nullptr},
                      {"createdDateTime", format_rfc3339(now)},
                      {"startDateTime", format_rfc3339(start)},
                      {"lifetimeInMinutes", life},
                      {"isUsableOnce", once},
                      {"isUsable", usable},
                      {"methodUsabilityReason", usable ? "EnabledByPolicy" : "NotYetValid"}};
            u.methods.push_back(m);
            add_audit(now, "Admin registered security info", "UserManagement", "Authentication Methods", "Add",
                      c.client_id,
                      json::array({{{"id", uid},
                                    {"displayName", nullptr},
                                    {"type", "User"},
                                    {"userPrincipalName", u.g["userPrincipalName"]},
                                    {"groupType", nullptr},
                                    {"modifiedProperties", json::array()}}}));
            json out = m;
            out["temporaryAccessPass"] = pass;
            out["@odata.context"] = ctx(c, "users('" + uid + "')/authentication/temporaryAccessPassMethods/$entity");
            return ok(out, 201);
        }
        return method_not_allowed(c, now);
    }
    if (c.segs.size() != base + 2) return bad_segment(c, now, c.segs[base + 2]);
    const auto& mid = c.segs[base + 1];
    auto it = std::find_if(u.methods.begin(), u.methods.end(),
                           [&](const json& m) { return m["id"] == mid && m["@odata.type"] == type; });
    if (c.method == "GET") {
        if (it == u.methods.end())
            return am_error(404, "itemNotFound", "The requested authentication method was not found.");
        json v = view(*it);
        v["@odata.context"] = ctx(c, "users('" + uid + "')/authentication/" + coll + "/$entity");
        return ok(v);
    }
    if (c.method != "DELETE") return method_not_allowed(c, now);
    if (coll == "passwordMethods") return method_not_allowed(c, now);
    if (it == u.methods.end())
        return am_error(404, "itemNotFound", "The requested authentication method was not found.");
    // The default method cannot go while any other (non-password) method remains, a Temporary
    // Access Pass included.
    if (mid == u.default_method) {
        int others = 0;
        for (const auto& m : u.methods) {
            const auto t = m["@odata.type"].get<std::string>();
            if (m["id"] != mid && t != "#microsoft.graph.passwordAuthenticationMethod") ++others;
        }
        if (others > 0)
            return am_error(400, "badRequest",
                            "Cannot delete default method with other methods configured. Please change default method "
                            "before deletion.");
    }
    if (type == "#microsoft.graph.phoneAuthenticationMethod" && (*it)["phoneType"] == "mobile") {
        for (const auto& m : u.methods)
            if (m["@odata.type"] == type && m["phoneType"] == "alternateMobile")
                return am_error(400, "badRequest",
                                "A user can't have an alternateMobile number without a mobile number.");
    }
    u.methods.erase(it);
    u.attacker_methods.erase(mid);
    if (mid == u.default_method) u.default_method.clear();
    add_audit(now, "Admin deleted security info", "UserManagement", "Authentication Methods", "Delete", c.client_id,
              json::array({{{"id", uid},
                            {"displayName", nullptr},
                            {"type", "User"},
                            {"userPrincipalName", u.g["userPrincipalName"]},
                            {"groupType", nullptr},
                            {"modifiedProperties", json::array()}}}));
    return no_content();
}

graph_reply tenant::user_rules(const graph_call& c, time_point now, user_rec& u) {
    const std::size_t base = odata::parse_key_segment(c.segs[0]) ? 2 : 3;  // index of folder
    if (!u.has_mailbox)
        return error(404, "MailboxNotEnabledForRESTAPI",
                     "The mailbox is either inactive, soft-deleted, or is hosted on-premise.", c, now);
    if (c.segs.size() <= base) return bad_segment(c, now, "mailFolders");
    auto folder = c.segs[base];
    if (folder.size() > 2 && folder.front() == '\'' && folder.back() == '\'')
        folder = folder.substr(1, folder.size() - 2);
    if (lower(folder) != "inbox")
        return error(404, "ErrorItemNotFound", "The specified object was not found in the store.", c, now);
    if (c.segs.size() <= base + 1 || c.segs[base + 1] != "messageRules")
        return bad_segment(c, now, c.segs.size() > base + 1 ? c.segs[base + 1] : folder);
    const std::string uid = u.g["id"];
    const std::string context = "users('" + uid + "')/mailFolders('inbox')/messageRules";
    if (c.segs.size() == base + 2) {
        if (c.method != "GET") return method_not_allowed(c, now);
        json value = json::array();
        for (const auto& r : u.rules) value.push_back(r);
        return ok({{"@odata.context", ctx(c, context)}, {"value", value}});
    }
    if (c.segs.size() != base + 3) return bad_segment(c, now, c.segs[base + 3]);
    const auto& rid = c.segs[base + 2];
    auto it = std::find_if(u.rules.begin(), u.rules.end(), [&](const json& r) { return r["id"] == rid; });
    if (it == u.rules.end())
        return error(404, "ErrorItemNotFound", "The specified object was not found in the store.", c, now);
    if (c.method == "GET") {
        json v = *it;
        v["@odata.context"] = ctx(c, context + "/$entity");
        return ok(v);
    }
    if (c.method == "DELETE") {
        if ((*it).value("isReadOnly", false))
            return error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", c, now);
        u.rules.erase(it);
        return no_content();
    }
    if (c.method == "PATCH") {
        if (!c.body.is_object()) return error(400, "ErrorInvalidRequest", "Cannot read the request body.", c, now);
        static const std::vector<std::string> writable = {"displayName", "sequence",   "isEnabled",
                                                          "conditions",  "exceptions", "actions"};
        for (auto b = c.body.begin(); b != c.body.end(); ++b)
            if (std::find(writable.begin(), writable.end(), b.key()) == writable.end())
                return error(400, "ErrorInvalidProperty", "The property '" + b.key() + "' is not writable.", c, now);
        for (auto b = c.body.begin(); b != c.body.end(); ++b) (*it)[b.key()] = b.value();
        json v = *it;
        v["@odata.context"] = ctx(c, context + "/$entity");
        return ok(v);
    }
    return method_not_allowed(c, now);
}

graph_reply tenant::risky_users(const graph_call& c, time_point now) {
    if (c.segs.size() < 2 || c.segs[1] != "riskyUsers")
        return bad_segment(c, now, c.segs.size() > 1 ? c.segs[1] : c.segs[0]);
    if (!identity_protection_licensed_)
        return error(403, "Authorization_RequestDenied", "Your tenant is not licensed for this feature.", c, now);
    if (c.segs.size() == 2) {
        if (c.method != "GET") return method_not_allowed(c, now);
        graph_reply err;
        bool has = false;
        auto f = filter_of(c, now,
                           {"id", "isDeleted", "isProcessing", "riskDetail", "riskLastUpdatedDateTime", "riskLevel",
                            "riskState", "userDisplayName", "userPrincipalName"},
                           "riskyUser", err, has);
        if (has && !f) return err;
        std::vector<json> items;
        for (const auto& u : users_)
            if (u.risk && (!f || odata::evaluate(*f, *u.risk))) items.push_back(*u.risk);
        return page(c, now, std::move(items), ctx(c, "identityProtection/riskyUsers"), 20, 500);
    }
    const auto& s2 = c.segs[2];
    if (s2 == "confirmCompromised" || s2 == "dismiss") {
        if (c.segs.size() != 3) return bad_segment(c, now, c.segs[3]);
        if (c.method != "POST") return method_not_allowed(c, now);
        if (!c.body.is_object() || !c.body.contains("userIds") || !c.body["userIds"].is_array() ||
            c.body["userIds"].empty())
            return error(400, "BadRequest", "The request body must contain a non-empty userIds array.", c, now);
        for (const auto& id : c.body["userIds"])
            if (!id.is_string() || !is_guid(id.get<std::string>()))
                return error(400, "BadRequest", "Invalid user id in userIds.", c, now);
        for (const auto& id : c.body["userIds"]) {
            user_rec* u = find_user(id.get<std::string>());
            if (!u) continue;
            const bool confirm = s2 == "confirmCompromised";
            if (!u->risk)
                u->risk = json{{"@odata.type", "#microsoft.graph.riskyUser"},
                               {"id", u->g["id"]},
                               {"isDeleted", false},
                               {"isProcessing", false},
                               {"userDisplayName", u->g["displayName"]},
                               {"userPrincipalName", u->g["userPrincipalName"]}};
            (*u->risk)["riskLevel"] = confirm ? "high" : "none";
            (*u->risk)["riskState"] = confirm ? "confirmedCompromised" : "dismissed";
            (*u->risk)["riskDetail"] = confirm ? "adminConfirmedUserCompromised" : "adminDismissedAllRiskForUser";
            (*u->risk)["riskLastUpdatedDateTime"] = format_rfc3339(now);
            if (confirm)
                u->high_risk_at = now;
            else
                u->high_risk_at.reset();
        }
        return no_content();
    }
    if (c.segs.size() != 3) return bad_segment(c, now, c.segs[3]);
    if (c.method != "GET") return method_not_allowed(c, now);
    const user_rec* u = find_user(s2);
    if (!u || !u->risk) return error(404, "itemNotFound", "The requested risky user was not found.", c, now);
    json v = *u->risk;
    v["@odata.context"] = ctx(c, "identityProtection/riskyUsers/$entity");
    return ok(v);
}

}  // namespace containd::sim
