// containd's own application in the simulated tenant. Each registered client (our daemon) has, as
// in Entra ID, an application object (appId = the client id) whose credentials list the secret
// and/or certificate it presents, with an expiry (scenario "app_credential_expires"), and a
// service principal that holds the directory roles of the scenario's "app_directory_roles"
// (default: Privileged Authentication Administrator). Resetting a password in app-only mode needs
// one of those roles (graph-api.md §3.2): without it the reset is Microsoft's 403
// Authorization_RequestDenied.
//
// Everything created here takes derived ids (a hash of the tenant id and a label), not ids drawn
// from the seeded generator: scenarios keep the ids they had before containd's app existed.

#include <algorithm>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "sim/tenant.hpp"
#include "sim/tls.hpp"

namespace containd::sim {
namespace {

[[noreturn]] void bad_scenario(const std::string& what) { throw std::invalid_argument("scenario: " + what); }

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

constexpr const char* global_admin = "Global Administrator";
constexpr const char* privileged_auth_admin = "Privileged Authentication Administrator";
constexpr const char* user_admin = "User Administrator";

}  // namespace

std::string tenant::derived_guid(const std::string& label) const {
    std::string h = sha256_hex(id_ + "/" + label).substr(0, 32);
    h[12] = '4';
    static const char* variant = "89ab";
    h[16] = variant[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

tenant::role_rec& tenant::role_named(const std::string& name) {
    for (auto& r : roles_)
        if (r.g["displayName"] == name) return r;
    const auto tpl = role_templates().find(name);
    if (tpl == role_templates().end()) bad_scenario("unknown directory role '" + name + "'");
    role_rec r;
    r.g = {{"@odata.type", "#microsoft.graph.directoryRole"},
           {"id", derived_guid("directoryRole/" + name)},
           {"deletedDateTime", nullptr},
           {"description", "Can manage " + name.substr(0, name.find(' ')) + " features."},
           {"displayName", name},
           {"roleTemplateId", tpl->second}};
    roles_.push_back(std::move(r));
    return roles_.back();
}

void tenant::register_clients(const json& sc) {
    // The SP's directory roles.
    std::vector<std::string> role_names = {privileged_auth_admin};
    if (sc.contains("app_directory_roles")) {
        const auto& r = sc["app_directory_roles"];
        if (!r.is_array()) bad_scenario("app_directory_roles must be an array of directory role names");
        role_names.clear();
        for (const auto& x : r) {
            if (!x.is_string()) bad_scenario("app_directory_roles must be an array of directory role names");
            if (!role_templates().count(x.get<std::string>()))
                bad_scenario("app_directory_roles: unknown directory role '" + x.get<std::string>() + "'");
            role_names.push_back(x.get<std::string>());
        }
    }
    // When the credentials stop working: "+90d" (relative to the start, like "now+90d"), an
    // RFC 3339 time, or far in the future.
    time_point expires = start_ + std::chrono::hours(24 * 365 * 10);
    if (sc.contains("app_credential_expires")) {
        const auto& e = sc["app_credential_expires"];
        if (!e.is_string()) bad_scenario("app_credential_expires must be a time string (\"+90d\" or RFC 3339)");
        std::string s = e.get<std::string>();
        if (!s.empty() && (s[0] == '+' || s[0] == '-')) s = "now" + s;
        expires = parse_time(json(s), "app_credential_expires");
    }

    for (const auto& client : clients_) {
        const std::string app_id = lower(client.client_id);
        app_rec* app = app_by_app_id(client.client_id);
        if (!app)
            for (auto& a : apps_)
                if (!a.deleted && lower(a.g.value("appId", "")) == app_id) app = &a;
        if (!app) {
            app_rec a;
            a.g = {{"id", derived_guid("application/" + app_id)},
                   {"appId", client.client_id},
                   {"displayName", "containd"},
                   {"createdDateTime", format_rfc3339(start_ - std::chrono::hours(24 * 30))},
                   {"signInAudience", "AzureADMyOrg"},
                   {"deletedDateTime", nullptr},
                   {"passwordCredentials", json::array()},
                   {"keyCredentials", json::array()}};
            apps_.push_back(std::move(a));
            app = &apps_.back();
        }
        if (!app->g.contains("passwordCredentials")) app->g["passwordCredentials"] = json::array();
        if (!app->g.contains("keyCredentials")) app->g["keyCredentials"] = json::array();
        const std::string start = format_rfc3339(start_ - std::chrono::hours(24));
        const std::string end = format_rfc3339(expires);
        if (!client.client_secret.empty()) {
            const std::string key_id = derived_guid("passwordCredential/" + app_id);
            app->g["passwordCredentials"].push_back({{"customKeyIdentifier", nullptr},
                                                     {"displayName", "containd"},
                                                     {"endDateTime", end},
                                                     {"hint", client.client_secret.substr(0, 3)},
                                                     {"keyId", key_id},
                                                     {"secretText", nullptr},
                                                     {"startDateTime", start}});
            secret_values_[key_id] = client.client_secret;
        }
        if (!client.certificate_pem.empty()) {
            const auto facts = read_certificate(client.certificate_pem);
            if (!facts) throw std::invalid_argument("the registered client's certificate is not a PEM certificate");
            app->g["keyCredentials"].push_back({{"customKeyIdentifier", base64_encode(sha1_raw(facts->der))},
                                                {"displayName", "CN=containd"},
                                                {"endDateTime", end},
                                                {"key", base64_encode(facts->der)},
                                                {"keyId", derived_guid("keyCredential/" + app_id)},
                                                {"startDateTime", start},
                                                {"type", "AsymmetricX509Cert"},
                                                {"usage", "Verify"}});
        }

        sp_rec* sp = sp_by_app_id(app->g["appId"].get<std::string>());
        if (!sp) {
            sp_rec s;
            s.g = {{"id", derived_guid("servicePrincipal/" + app_id)},
                   {"appId", app->g["appId"]},
                   {"displayName", app->g["displayName"]},
                   {"appDisplayName", app->g["displayName"]},
                   {"appOwnerOrganizationId", id_},
                   {"servicePrincipalNames", json::array({app->g["appId"]})},
                   {"accountEnabled", true},
                   {"servicePrincipalType", "Application"},
                   {"passwordCredentials", json::array()},
                   {"keyCredentials", json::array()}};
            sps_.push_back(std::move(s));
            sp = &sps_.back();
        }
        const std::string sp_id = sp->g["id"];
        for (const auto& name : role_names) {
            auto& role = role_named(name);
            if (std::find(role.sp_members.begin(), role.sp_members.end(), sp_id) == role.sp_members.end())
                role.sp_members.push_back(sp_id);
        }
    }
}

std::optional<graph_reply> tenant::check_reset_role(const graph_call& c, const user_rec& target, time_point now) {
    // Roles that may reset this target's password: any admin role on the target needs a
    // privileged one (graph-api.md §0.2, §3.2).
    const bool admin_target = !target.role_ids.empty();
    std::vector<std::string> allowed = {privileged_auth_admin, global_admin};
    if (!admin_target) allowed.push_back(user_admin);
    if (const sp_rec* sp = sp_by_app_id(c.client_id)) {
        const std::string sp_id = sp->g["id"];
        for (const auto& r : roles_) {
            if (std::find(allowed.begin(), allowed.end(), r.g.value("displayName", "")) == allowed.end()) continue;
            if (std::find(r.sp_members.begin(), r.sp_members.end(), sp_id) != r.sp_members.end()) return std::nullopt;
        }
    }
    return error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", c, now);
}

graph_reply tenant::sp_member_of(const graph_call& c, time_point now, const sp_rec& s, std::size_t nav_index) {
    if (c.method != "GET") return method_not_allowed(c, now);
    bool roles_only = false;
    if (c.segs.size() > nav_index + 1) {
        if (c.segs[nav_index + 1] == "microsoft.graph.directoryRole" && c.segs.size() == nav_index + 2)
            roles_only = true;
        else
            return bad_segment(c, now, c.segs[nav_index + 1]);
    }
    // Service principals belong to directory roles (and, not modelled here, to groups).
    std::vector<json> items;
    const std::string sp_id = s.g["id"];
    for (const auto& r : roles_)
        if (std::find(r.sp_members.begin(), r.sp_members.end(), sp_id) != r.sp_members.end()) items.push_back(r.g);
    return page(c, now, std::move(items), ctx(c, roles_only ? "directoryRoles" : "directoryObjects"), 100, 999);
}

}  // namespace containd::sim
