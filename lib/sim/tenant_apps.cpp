// Applications, service principals, their credentials, OAuth2 grants and app role assignments.
#include <algorithm>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "sim/tenant.hpp"
#include "sim/tls.hpp"

namespace containd::sim {
namespace {

const std::vector<std::string>& app_filter_props() {
    static const std::vector<std::string> p = {
        "id", "appId", "displayName", "createdDateTime", "signInAudience", "identifierUris", "publisherDomain", "tags"};
    return p;
}
const std::vector<std::string>& sp_filter_props() {
    static const std::vector<std::string> p = {"id",
                                               "appId",
                                               "displayName",
                                               "accountEnabled",
                                               "servicePrincipalType",
                                               "servicePrincipalNames",
                                               "appOwnerOrganizationId",
                                               "tags"};
    return p;
}

json target(const json& obj, const std::string& type) {
    return json::array({{{"id", obj["id"]},
                         {"displayName", obj.value("displayName", json(nullptr))},
                         {"type", type},
                         {"userPrincipalName", nullptr},
                         {"groupType", nullptr},
                         {"modifiedProperties", json::array()}}});
}

}  // namespace

json tenant::credential_view(const json& owner, bool include_key) {
    json v = owner;
    if (v.contains("keyCredentials") && !include_key)
        for (auto& k : v["keyCredentials"]) k["key"] = nullptr;
    return v;
}

tenant::app_rec* tenant::app_by_app_id(const std::string& app_id) {
    for (auto& a : apps_)
        if (!a.deleted && a.g["appId"] == app_id) return &a;
    return nullptr;
}

tenant::sp_rec* tenant::sp_by_app_id(const std::string& app_id) {
    for (auto& s : sps_)
        if (!s.deleted && s.g["appId"] == app_id) return &s;
    return nullptr;
}

tenant::app_rec* tenant::find_app(const std::string& seg, const std::string& key_prop, const std::string& key_value) {
    for (auto& a : apps_) {
        if (a.deleted) continue;
        if (key_prop == "appId" ? a.g["appId"] == key_value : (key_prop.empty() && a.g["id"] == seg)) return &a;
        if (key_prop.empty() && !key_value.empty() && a.g["id"] == key_value) return &a;
    }
    return nullptr;
}

tenant::sp_rec* tenant::find_sp(const std::string& seg, const std::string& key_prop, const std::string& key_value) {
    for (auto& s : sps_) {
        if (s.deleted) continue;
        if (key_prop == "appId" ? s.g["appId"] == key_value : (key_prop.empty() && s.g["id"] == seg)) return &s;
        if (key_prop.empty() && !key_value.empty() && s.g["id"] == key_value) return &s;
    }
    return nullptr;
}

graph_reply tenant::remove_password(const graph_call& c, time_point now, json& owner, const std::string& kind) {
    if (c.method != "POST") return method_not_allowed(c, now);
    if (!c.body.is_object() || !c.body.contains("keyId") || !c.body["keyId"].is_string() ||
        !is_guid(c.body["keyId"].get<std::string>()))
        return error(400, "Request_BadRequest",
                     "Invalid value specified for property 'keyId' of resource 'PasswordCredential'.", c, now);
    const std::string key = c.body["keyId"];
    auto& pcs = owner["passwordCredentials"];
    auto it = std::find_if(pcs.begin(), pcs.end(), [&](const json& p) { return p["keyId"] == key; });
    if (it == pcs.end())
        return error(400, "Request_BadRequest", "No password credential found with keyId '" + key + "'.", c, now);
    pcs.erase(it);
    secret_values_.erase(key);
    if (kind == "Application")
        add_audit(now, "Update application – Certificates and secrets management ", "ApplicationManagement",
                  "Core Directory", "Update", c.client_id, target(owner, kind));
    else
        add_audit(now, "Remove service principal credentials", "ApplicationManagement", "Core Directory", "Update",
                  c.client_id, target(owner, kind));
    return no_content();
}

graph_reply tenant::add_password(const graph_call& c, time_point now, json& owner, const std::string& kind) {
    if (c.method != "POST") return method_not_allowed(c, now);
    const json pc =
        c.body.is_object() && c.body.contains("passwordCredential") ? c.body["passwordCredential"] : json::object();
    if (!pc.is_object()) return error(400, "Request_BadRequest", "Invalid passwordCredential.", c, now);
    const std::string secret = base64url_encode(random_bytes(30)).substr(0, 40);
    json cred = {{"customKeyIdentifier", nullptr},
                 {"displayName", pc.value("displayName", json(nullptr))},
                 {"endDateTime", pc.value("endDateTime", format_rfc3339(now + std::chrono::hours(24 * 730)))},
                 {"hint", secret.substr(0, 3)},
                 {"keyId", new_guid()},
                 {"secretText", nullptr},
                 {"startDateTime", pc.value("startDateTime", format_rfc3339(now))}};
    owner["passwordCredentials"].push_back(cred);
    secret_values_[cred["keyId"].get<std::string>()] = secret;
    add_audit(now,
              kind == "Application" ? "Update application – Certificates and secrets management "
                                    : "Add service principal credentials",
              "ApplicationManagement", "Core Directory", "Update", c.client_id, target(owner, kind));
    cred["secretText"] = secret;
    cred["@odata.context"] = ctx(c, "microsoft.graph.passwordCredential");
    return ok(cred);
}

graph_reply tenant::patch_key_credentials(const graph_call& c, time_point now, json& owner, const json& creds) {
    const char* schema = "Property keyCredentials in payload has a value that does not match schema.";
    if (!creds.is_array()) return error(400, "Request_BadRequest", schema, c, now);
    json out = json::array();
    for (const auto& k : creds) {
        if (!k.is_object()) return error(400, "Request_BadRequest", schema, c, now);
        for (auto it = k.begin(); it != k.end(); ++it) {
            static const std::vector<std::string> known = {
                "customKeyIdentifier", "displayName", "endDateTime", "key",        "keyId",
                "startDateTime",       "type",        "usage",       "@odata.type"};
            if (std::find(known.begin(), known.end(), it.key()) == known.end())
                return error(400, "Request_BadRequest", schema, c, now);
        }
        const auto type = k.value("type", "");
        const auto usage = k.value("usage", "");
        if (type != "AsymmetricX509Cert" && type != "Symmetric" && type != "X509CertAndPassword")
            return error(400, "Request_BadRequest", schema, c, now);
        if (usage != "Sign" && usage != "Verify")
            return error(400, "Request_BadRequest",
                         "The value for the property \"usage\" in one of your credentials is invalid. Acceptable "
                         "values are Sign, Verify.",
                         c, now);
        if (!k.contains("key") || !k["key"].is_string())
            return error(400, "Request_BadRequest", "Key credential 'key' property is required.", c, now);
        auto facts = read_certificate_der_base64(k["key"].get<std::string>());
        if (type == "AsymmetricX509Cert" && !facts)
            return error(400, "Request_BadRequest", "Key credential 'key' is not a valid certificate.", c, now);
        json e = json::object();
        e["customKeyIdentifier"] = k.contains("customKeyIdentifier") && !k["customKeyIdentifier"].is_null()
                                       ? k["customKeyIdentifier"]
                                       : (facts ? json(base64_encode(sha1_raw(facts->der))) : json(nullptr));
        e["displayName"] = k.value("displayName", json(nullptr));
        e["endDateTime"] = k.value("endDateTime", format_rfc3339(now + std::chrono::hours(24 * 365)));
        e["key"] = k["key"];
        e["keyId"] = k.contains("keyId") && k["keyId"].is_string() ? k["keyId"] : json(new_guid());
        e["startDateTime"] = k.value("startDateTime", format_rfc3339(now));
        e["type"] = type;
        e["usage"] = usage;
        out.push_back(std::move(e));
    }
    owner["keyCredentials"] = out;
    return no_content();
}

graph_reply tenant::applications(const graph_call& c, time_point now) {
    auto key = odata::parse_key_segment(c.segs[0]);
    std::size_t next = key ? 1 : 2;
    if (!key && c.segs.size() == 1) {
        if (c.method != "GET") return method_not_allowed(c, now);
        graph_reply err;
        bool has = false;
        auto f = filter_of(c, now, app_filter_props(), "application", err, has);
        if (has && !f) return err;
        std::vector<json> items;
        for (const auto& a : apps_)
            if (!a.deleted && (!f || odata::evaluate(*f, a.g))) items.push_back(credential_view(a.g, false));
        return page(c, now, std::move(items), ctx(c, "applications"), 100, 999);
    }
    const std::string id_seg = key ? std::string() : c.segs[1];
    app_rec* a = key ? find_app("", key->key_property, key->key_value) : find_app(id_seg, "", "");
    if (key && !key->key_property.empty() && key->key_property != "appId") return bad_segment(c, now, c.segs[0]);
    if (!a) return not_found(c, now, key ? key->key_value : id_seg);
    if (c.segs.size() == next) {
        if (c.method == "GET") {
            const auto sel = c.query.count("$select") ? c.query.at("$select") : std::string();
            const bool include_key = sel.find("keyCredentials") != std::string::npos;
            json v = select(credential_view(a->g, include_key), sel);
            v["@odata.context"] = ctx(c, "applications/$entity");
            return ok(v);
        }
        if (c.method == "DELETE") {
            a->deleted = true;
            a->g["deletedDateTime"] = format_rfc3339(now);
            // Deleting the registration also removes its service principal in the home tenant.
            for (auto& s : sps_)
                if (s.g["appId"] == a->g["appId"]) s.deleted = true;
            add_audit(now, "Delete application", "ApplicationManagement", "Core Directory", "Delete", c.client_id,
                      target(a->g, "Application"));
            return no_content();
        }
        if (c.method == "PATCH") {
            if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
            if (c.body.contains("passwordCredentials"))
                return error(400, "Request_BadRequest",
                             "Updates to passwordCredentials are not supported; use addPassword and removePassword.", c,
                             now);
            static const std::vector<std::string> writable = {
                "keyCredentials", "displayName", "description", "notes", "tags", "signInAudience", "isDisabled"};
            for (auto it = c.body.begin(); it != c.body.end(); ++it)
                if (std::find(writable.begin(), writable.end(), it.key()) == writable.end())
                    return error(400, "Request_BadRequest",
                                 "Property '" + it.key() +
                                     "' does not exist on type 'microsoft.graph.application' or is read-only.",
                                 c, now);
            if (c.body.contains("keyCredentials")) {
                auto r = patch_key_credentials(c, now, a->g, c.body["keyCredentials"]);
                if (r.status != 204) return r;
            }
            for (auto it = c.body.begin(); it != c.body.end(); ++it)
                if (it.key() != "keyCredentials") a->g[it.key()] = it.value();
            add_audit(now, "Update application – Certificates and secrets management ", "ApplicationManagement",
                      "Core Directory", "Update", c.client_id, target(a->g, "Application"));
            return no_content();
        }
        return method_not_allowed(c, now);
    }
    const auto& action = c.segs[next];
    if (c.segs.size() != next + 1) return bad_segment(c, now, c.segs[next + 1]);
    if (action == "removePassword") return remove_password(c, now, a->g, "Application");
    if (action == "addPassword") return add_password(c, now, a->g, "Application");
    if (action == "removeKey") {
        if (c.method != "POST") return method_not_allowed(c, now);
        if (!c.body.is_object() || !c.body.contains("keyId") || !c.body.contains("proof"))
            return error(400, "Request_BadRequest", "keyId and proof are required.", c, now);
        // The proof must be signed by one of the application's current certificates.
        const std::string proof = c.body.value("proof", "");
        const auto d1 = proof.find('.'), d2 = proof.rfind('.');
        bool valid = d1 != std::string::npos && d2 != d1;
        if (valid) {
            auto header = base64url_decode(proof.substr(0, d1));
            auto payload = base64url_decode(proof.substr(d1 + 1, d2 - d1 - 1));
            auto sig = base64url_decode(proof.substr(d2 + 1));
            json h = header ? json::parse(*header, nullptr, false) : json();
            json p = payload ? json::parse(*payload, nullptr, false) : json();
            valid = sig && h.is_object() && p.is_object() &&
                    p.value("aud", "") == "00000002-0000-0000-c000-000000000000" &&
                    p.value("iss", "") == a->g["id"].get<std::string>();
            bool signed_ok = false;
            if (valid)
                for (const auto& k : a->g["keyCredentials"]) {
                    auto facts = read_certificate_der_base64(k.value("key", ""));
                    if (facts &&
                        verify_jws_signature(h.value("alg", ""), facts->public_key_pem, proof.substr(0, d2), *sig))
                        signed_ok = true;
                }
            valid = valid && signed_ok;
        }
        if (!valid) return error(400, "Request_BadRequest", "The proof is invalid or expired.", c, now);
        auto& kcs = a->g["keyCredentials"];
        auto it = std::find_if(kcs.begin(), kcs.end(), [&](const json& k) { return k["keyId"] == c.body["keyId"]; });
        if (it == kcs.end())
            return error(400, "Request_BadRequest", "No key credential found with the given keyId.", c, now);
        kcs.erase(it);
        return no_content();
    }
    return bad_segment(c, now, action);
}

graph_reply tenant::service_principals(const graph_call& c, time_point now) {
    auto key = odata::parse_key_segment(c.segs[0]);
    std::size_t next = key ? 1 : 2;
    if (!key && c.segs.size() == 1) {
        if (c.method != "GET") return method_not_allowed(c, now);
        graph_reply err;
        bool has = false;
        auto f = filter_of(c, now, sp_filter_props(), "servicePrincipal", err, has);
        if (has && !f) return err;
        std::vector<json> items;
        for (const auto& s : sps_)
            if (!s.deleted && (!f || odata::evaluate(*f, s.g))) items.push_back(credential_view(s.g, false));
        return page(c, now, std::move(items), ctx(c, "servicePrincipals"), 100, 999);
    }
    if (key && !key->key_property.empty() && key->key_property != "appId") return bad_segment(c, now, c.segs[0]);
    const std::string id_seg = key ? std::string() : c.segs[1];
    sp_rec* s = key ? find_sp("", key->key_property, key->key_value) : find_sp(id_seg, "", "");
    if (!s) return not_found(c, now, key ? key->key_value : id_seg);
    if (c.segs.size() == next) {
        if (c.method == "GET") {
            const auto sel = c.query.count("$select") ? c.query.at("$select") : std::string();
            const bool include_key = sel.find("keyCredentials") != std::string::npos;
            json v = select(credential_view(s->g, include_key), sel);
            v["@odata.context"] = ctx(c, "servicePrincipals/$entity");
            return ok(v);
        }
        if (c.method == "DELETE") {
            s->deleted = true;
            add_audit(now, "Remove service principal", "ApplicationManagement", "Core Directory", "Delete", c.client_id,
                      target(s->g, "ServicePrincipal"));
            return no_content();
        }
        if (c.method == "PATCH") {
            if (!c.body.is_object()) return error(400, "BadRequest", "Empty Payload. JSON content expected.", c, now);
            if (c.body.contains("passwordCredentials"))
                return error(400, "Request_BadRequest",
                             "Updates to passwordCredentials are not supported; use addPassword and removePassword.", c,
                             now);
            static const std::vector<std::string> writable = {
                "accountEnabled", "keyCredentials", "displayName", "notes", "tags", "appRoleAssignmentRequired",
                "description"};
            for (auto it = c.body.begin(); it != c.body.end(); ++it)
                if (std::find(writable.begin(), writable.end(), it.key()) == writable.end())
                    return error(400, "Request_BadRequest",
                                 "Property '" + it.key() +
                                     "' does not exist on type 'microsoft.graph.servicePrincipal' or is read-only.",
                                 c, now);
            if (c.body.contains("accountEnabled") && !c.body["accountEnabled"].is_boolean())
                return error(400, "Request_BadRequest",
                             "Invalid value specified for property 'accountEnabled' of resource 'ServicePrincipal'.", c,
                             now);
            if (c.body.contains("keyCredentials")) {
                auto r = patch_key_credentials(c, now, s->g, c.body["keyCredentials"]);
                if (r.status != 204) return r;
            }
            for (auto it = c.body.begin(); it != c.body.end(); ++it)
                if (it.key() != "keyCredentials") s->g[it.key()] = it.value();
            add_audit(now, "Update service principal", "ApplicationManagement", "Core Directory", "Update", c.client_id,
                      target(s->g, "ServicePrincipal"));
            return no_content();
        }
        return method_not_allowed(c, now);
    }
    const auto& nav = c.segs[next];
    const std::string sp_id = s->g["id"];
    if (nav == "removePassword" || nav == "addPassword") {
        if (c.segs.size() != next + 1) return bad_segment(c, now, c.segs[next + 1]);
        return nav == "removePassword" ? remove_password(c, now, s->g, "ServicePrincipal")
                                       : add_password(c, now, s->g, "ServicePrincipal");
    }
    if (nav == "appRoleAssignments" || nav == "appRoleAssignedTo") {
        // appRoleAssignments: held by this SP; appRoleAssignedTo: granted on this (resource) SP.
        auto matches = [&](const json& a) {
            return nav == "appRoleAssignments" ? a["principalId"] == sp_id : a["resourceId"] == sp_id;
        };
        const std::string context = "servicePrincipals('" + sp_id + "')/" + nav;
        if (c.segs.size() == next + 1) {
            if (c.method != "GET") return method_not_allowed(c, now);
            std::vector<json> items;
            for (const auto& o : sps_)
                for (const auto& a : o.assignments)
                    if (!o.deleted && matches(a)) items.push_back(a);
            return page(c, now, std::move(items), ctx(c, context), 100, 999);
        }
        if (c.segs.size() != next + 2) return bad_segment(c, now, c.segs[next + 2]);
        const auto& aid = c.segs[next + 1];
        for (auto& o : sps_) {
            auto it = std::find_if(o.assignments.begin(), o.assignments.end(),
                                   [&](const json& a) { return a["id"] == aid && matches(a); });
            if (it == o.assignments.end()) continue;
            if (c.method == "GET") {
                json v = *it;
                v["@odata.context"] = ctx(c, context + "/$entity");
                return ok(v);
            }
            if (c.method == "DELETE") {
                o.assignments.erase(it);
                add_audit(now, "Remove app role assignment from service principal", "ApplicationManagement",
                          "Core Directory", "Delete", c.client_id, target(o.g, "ServicePrincipal"));
                return no_content();
            }
            return method_not_allowed(c, now);
        }
        return not_found(c, now, aid);
    }
    if (nav == "memberOf" || nav == "transitiveMemberOf") return sp_member_of(c, now, *s, next);
    if (nav == "oauth2PermissionGrants") {
        if (c.method != "GET") return method_not_allowed(c, now);
        std::vector<json> items;
        for (const auto& g : grants_)
            if (g["clientId"] == sp_id) items.push_back(g);
        return page(c, now, std::move(items), ctx(c, "oauth2PermissionGrants"), 100, 999);
    }
    return bad_segment(c, now, nav);
}

graph_reply tenant::grants(const graph_call& c, time_point now) {
    if (c.segs.size() == 1) {
        if (c.method != "GET") return method_not_allowed(c, now);
        graph_reply err;
        bool has = false;
        auto f = filter_of(c, now, {"id", "clientId", "consentType", "principalId", "resourceId"},
                           "oAuth2PermissionGrant", err, has);
        if (has && !f) return err;
        std::vector<json> items;
        for (const auto& g : grants_)
            if (!f || odata::evaluate(*f, g)) items.push_back(g);
        return page(c, now, std::move(items), ctx(c, "oauth2PermissionGrants"), 100, 999);
    }
    if (c.segs.size() != 2) return bad_segment(c, now, c.segs[2]);
    const auto& gid = c.segs[1];
    auto it = std::find_if(grants_.begin(), grants_.end(), [&](const json& g) { return g["id"] == gid; });
    if (it == grants_.end()) return not_found(c, now, gid);
    if (c.method == "GET") {
        json v = *it;
        v["@odata.context"] = ctx(c, "oauth2PermissionGrants/$entity");
        return ok(v);
    }
    if (c.method == "DELETE") {
        json t = {{"id", (*it)["clientId"]}, {"displayName", nullptr}};
        for (const auto& s : sps_)
            if (s.g["id"] == (*it)["clientId"]) t["displayName"] = s.g["displayName"];
        grants_.erase(it);
        add_audit(now, "Remove delegated permission grant", "ApplicationManagement", "Core Directory", "Delete",
                  c.client_id, target(t, "ServicePrincipal"));
        return no_content();
    }
    return method_not_allowed(c, now);
}

}  // namespace containd::sim
