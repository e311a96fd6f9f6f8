#include "incident/validation.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time.hpp"

namespace containd::incident {
namespace {

using json = nlohmann::json;

const std::set<std::string> server_owned = {"id",         "status",     "phase",        "steps",
                                            "created_at", "updated_at", "contained_at", "verification",
                                            "attention",  "plan",       "events",       "version"};
const std::set<std::string> server_owned_account = {"object_id",         "tier_reason",     "revoked_at",
                                                    "password_reset_at", "methods_removed", "tap_issued_at"};

// Entra ID allows these in the user-name part of a UPN: letters, digits and ' . - _ ! # ^ ~.
bool upn_local_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '\'' || c == '.' || c == '-' || c == '_' || c == '!' ||
           c == '#' || c == '^' || c == '~';
}

bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > 255 || d.find('.') == std::string_view::npos) return false;
    std::size_t start = 0;
    while (start <= d.size()) {
        const std::size_t dot = std::min(d.find('.', start), d.size());
        const std::string_view label = d.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (const char c : label)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
        start = dot + 1;
        if (dot == d.size()) break;
    }
    return true;
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool no_control_chars(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f; });
}

bool is_method_id(std::string_view s) {
    return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

bool is_tenant_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

// Collects errors; never echoes more than a short prefix of the offending input.
class collector {
public:
    void add(std::string field, std::string message) { errors.push_back({std::move(field), std::move(message)}); }
    std::vector<field_error> errors;
};

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

// Rejects every key of obj not in `allowed`, naming server-owned ones as such.
void check_keys(const json& obj, const std::string& path, const std::set<std::string>& allowed,
                const std::set<std::string>& owned, collector& c) {
    for (const auto& [key, _] : obj.items()) {
        if (allowed.count(key)) continue;
        const std::string shown = key.size() > 64 ? key.substr(0, 64) + "..." : key;
        if (owned.count(key))
            c.add(join(path, shown), "is set by the server and cannot be submitted");
        else
            c.add(join(path, shown), "is not a known field");
    }
}

const json* find(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

}  // namespace

bool is_valid_upn(std::string_view upn) {
    if (upn.size() < 3 || upn.size() > 320) return false;
    const auto at = upn.find('@');
    if (at == std::string_view::npos || upn.find('@', at + 1) != std::string_view::npos) return false;
    const std::string_view local = upn.substr(0, at);
    if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
        local.find("..") != std::string_view::npos)
        return false;
    if (!std::all_of(local.begin(), local.end(), upn_local_char)) return false;
    return valid_domain(upn.substr(at + 1));
}

bool is_valid_ip(std::string_view ip) {
    if (ip.empty() || ip.size() > 45) return false;
    const std::string s(ip);
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

parse_result parse_submission(const json& body, time_point now) {
    collector c;
    incident_request r;
    if (!body.is_object()) {
        c.add("", "the body must be a JSON object");
        return c.errors;
    }
    check_keys(body, "",
               {"tenant", "external_ref", "title", "compromise_start", "scope", "confirm_tenant_wide", "accounts",
                "attacker_ips", "malicious_apps", "options"},
               server_owned, c);

    if (const json* v = find(body, "tenant")) {
        if (!v->is_string() || !is_tenant_name(v->get<std::string>()))
            c.add("tenant", "must be a configured tenant name (letters, digits, '.', '_', '-'; at most 64)");
        else
            r.tenant = v->get<std::string>();
    }
    if (const json* v = find(body, "external_ref")) {
        if (!v->is_string() || v->get<std::string>().empty() || v->get<std::string>().size() > 128 ||
            !printable_ascii(v->get<std::string>()))
            c.add("external_ref", "must be printable ASCII, 1 to 128 characters");
        else
            r.external_ref = v->get<std::string>();
    }
    if (const json* v = find(body, "title")) {
        if (!v->is_string() || v->get<std::string>().size() > 256 || !no_control_chars(v->get<std::string>()))
            c.add("title", "must be a string of at most 256 characters without control characters");
        else
            r.title = v->get<std::string>();
    }
    if (const json* v = find(body, "compromise_start")) {
        std::optional<time_point> t;
        if (v->is_string()) t = parse_rfc3339(v->get<std::string>());
        if (!t)
            c.add("compromise_start", "must be an RFC 3339 timestamp such as 2026-03-12T00:00:00Z");
        else if (*t > now + minutes(5))
            c.add("compromise_start", "is in the future");
        else
            r.compromise_start = *t;
    } else {
        c.add("compromise_start", "is required");
    }
    if (const json* v = find(body, "scope")) {
        if (*v == "accounts")
            r.scope = scope_kind::accounts;
        else if (*v == "tenant")
            r.scope = scope_kind::tenant;
        else
            c.add("scope", "must be \"accounts\" or \"tenant\"");
    }
    if (const json* v = find(body, "confirm_tenant_wide")) {
        if (!v->is_boolean())
            c.add("confirm_tenant_wide", "must be true or false");
        else
            r.confirm_tenant_wide = v->get<bool>();
    }
    if (r.scope == scope_kind::tenant && !r.confirm_tenant_wide)
        c.add("confirm_tenant_wide", "a tenant-wide block must be confirmed with \"confirm_tenant_wide\": true");

    // accounts
    const json* accounts = find(body, "accounts");
    if (accounts && !accounts->is_array()) {
        c.add("accounts", "must be an array");
    } else if (accounts) {
        if (accounts->size() > 10000) c.add("accounts", "at most 10000 accounts per incident");
        std::set<std::string> seen;
        for (std::size_t i = 0; i < accounts->size() && i < 10000; ++i) {
            const std::string path = "accounts[" + std::to_string(i) + "]";
            const json& a = (*accounts)[i];
            if (!a.is_object()) {
                c.add(path, "must be an object with a \"upn\"");
                continue;
            }
            check_keys(a, path, {"upn", "tier", "known_methods"}, server_owned_account, c);
            account_request acc;
            const json* upn = find(a, "upn");
            if (!upn)
                c.add(path + ".upn", "is required");
            else if (!upn->is_string() || !is_valid_upn(upn->get<std::string>()))
                c.add(path + ".upn",
                      "must be a user principal name (name@domain, letters, digits and ' . - _ ! # ^ ~)");
            else {
                acc.upn = lower(upn->get<std::string>());
                if (!seen.insert(acc.upn).second) c.add(path + ".upn", "duplicates an earlier account");
            }
            if (const json* t = find(a, "tier")) {
                std::optional<tier> parsed;
                if (t->is_string()) parsed = tier_from_string(t->get<std::string>());
                if (!parsed)
                    c.add(path + ".tier", "must be break_glass, service, privileged or standard");
                else
                    acc.declared_tier = parsed;
            }
            if (const json* km = find(a, "known_methods")) {
                if (!km->is_array() || km->size() > 64)
                    c.add(path + ".known_methods", "must be an array of at most 64 method ids");
                else
                    for (std::size_t k = 0; k < km->size(); ++k) {
                        const json& m = (*km)[k];
                        if (!m.is_string() || !is_method_id(m.get<std::string>()))
                            c.add(path + ".known_methods[" + std::to_string(k) + "]",
                                  "must be an authentication method id");
                        else
                            acc.known_methods.push_back(m.get<std::string>());
                    }
            }
            r.accounts.push_back(std::move(acc));
        }
    }
    if ((!accounts || (accounts->is_array() && accounts->empty())) && r.scope != scope_kind::tenant)
        c.add("accounts", "must list at least one compromised account");

    if (const json* ips = find(body, "attacker_ips")) {
        if (!ips->is_array() || ips->size() > 1000)
            c.add("attacker_ips", "must be an array of at most 1000 IP addresses");
        else
            for (std::size_t i = 0; i < ips->size(); ++i) {
                const json& ip = (*ips)[i];
                if (!ip.is_string() || !is_valid_ip(ip.get<std::string>()))
                    c.add("attacker_ips[" + std::to_string(i) + "]", "must be an IPv4 or IPv6 address");
                else
                    r.attacker_ips.push_back(lower(ip.get<std::string>()));
            }
    }

    if (const json* apps = find(body, "malicious_apps")) {
        if (!apps->is_array() || apps->size() > 100)
            c.add("malicious_apps", "must be an array of at most 100 apps");
        else {
            std::set<std::string> seen;
            for (std::size_t i = 0; i < apps->size(); ++i) {
                const std::string path = "malicious_apps[" + std::to_string(i) + "]";
                const json& a = (*apps)[i];
                if (!a.is_object()) {
                    c.add(path, "must be an object with an \"app_id\"");
                    continue;
                }
                check_keys(a, path, {"app_id", "delete_application"}, {}, c);
                app_request app;
                const json* id = find(a, "app_id");
                if (!id)
                    c.add(path + ".app_id", "is required");
                else if (!id->is_string() || !is_guid(id->get<std::string>()))
                    c.add(path + ".app_id", "must be the application (client) id GUID");
                else {
                    app.app_id = lower(id->get<std::string>());
                    if (!seen.insert(app.app_id).second) c.add(path + ".app_id", "duplicates an earlier app");
                }
                if (const json* del = find(a, "delete_application")) {
                    if (!del->is_boolean())
                        c.add(path + ".delete_application", "must be true or false");
                    else
                        app.delete_application = del->get<bool>();
                }
                r.malicious_apps.push_back(std::move(app));
            }
        }
    }

    if (const json* opts = find(body, "options")) {
        if (!opts->is_object()) {
            c.add("options", "must be an object");
        } else {
            check_keys(*opts, "options", {"credential_delivery", "method_cleanup", "override_lockout_guard"}, {}, c);
            if (const json* d = find(*opts, "credential_delivery")) {
                if (*d == "password")
                    r.options.delivery = credential_delivery::password;
                else if (*d == "tap")
                    r.options.delivery = credential_delivery::tap;
                else
                    c.add("options.credential_delivery", "must be \"password\" or \"tap\"");
            }
            if (const json* m = find(*opts, "method_cleanup")) {
                if (*m == "auto")
                    r.options.cleanup = method_cleanup::automatic;
                else if (*m == "complete")
                    r.options.cleanup = method_cleanup::complete;
                else if (*m == "targeted")
                    r.options.cleanup = method_cleanup::targeted;
                else
                    c.add("options.method_cleanup", "must be \"auto\", \"complete\" or \"targeted\"");
            }
            if (const json* o = find(*opts, "override_lockout_guard")) {
                if (!o->is_boolean())
                    c.add("options.override_lockout_guard", "must be true or false");
                else
                    r.options.override_lockout_guard = o->get<bool>();
            }
        }
    }

    if (!c.errors.empty()) return c.errors;
    return r;
}

}  // namespace containd::incident
