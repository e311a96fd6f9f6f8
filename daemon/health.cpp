#include "health.hpp"

#include <algorithm>
#include <sstream>

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"

namespace containd::daemon {

nlohmann::json tenant_check::to_json() const {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& r : rows) checks.push_back({{"check", r.check}, {"ok", r.ok}, {"detail", r.detail}});
    return {{"healthy", healthy}, {"gaps", gaps}, {"checked_at", format_rfc3339(checked_at)}, {"checks", checks}};
}

std::string tenant_check::table() const {
    std::size_t width = 6;
    for (const auto& r : rows) width = std::max(width, r.check.size());
    std::ostringstream out;
    out << "tenant " << tenant << ": " << (healthy ? "healthy" : "NOT READY") << "\n";
    out << "CHECK" << std::string(width - 5 + 2, ' ') << "RESULT  DETAIL\n";
    for (const auto& r : rows)
        out << r.check << std::string(width - r.check.size() + 2, ' ') << (r.ok ? "ok    " : "GAP   ") << "  "
            << r.detail << "\n";
    return out.str();
}

std::set<std::string> required_permissions(const incident::tenant_settings& tenant) {
    // An incident that plans every step kind: a standard and a privileged account, complete
    // method cleanup with TAPs, a malicious application to delete; its facts say the privileged
    // account holds an admin role.
    const nlohmann::json body = {
        {"tenant", tenant.name},
        {"title", "preflight"},
        {"compromise_start", "2026-01-01T00:00:00Z"},
        {"accounts", {{{"upn", "preflight.user@preflight.invalid"}}, {{"upn", "preflight.admin@preflight.invalid"}}}},
        {"attacker_ips", {"203.0.113.1"}},
        {"malicious_apps", {{{"app_id", "00000000-0000-4000-8000-000000000001"}, {"delete_application", true}}}},
        {"options", {{"credential_delivery", "tap"}, {"method_cleanup", "complete"}}}};
    std::set<std::string> out;
    auto parsed = incident::parse_submission(body, *parse_rfc3339("2026-01-01T01:00:00Z"));
    auto* request = std::get_if<incident::incident_request>(&parsed);
    if (!request) return out;
    std::map<std::string, incident::directory_facts> facts;
    facts["preflight.admin@preflight.invalid"].admin_roles = {"Exchange Administrator"};
    facts["preflight.admin@preflight.invalid"].object_id = "00000000-0000-4000-8000-000000000002";
    facts["preflight.user@preflight.invalid"].object_id = "00000000-0000-4000-8000-000000000003";
    auto planned = incident::make_plan(*request, tenant, facts);
    if (auto* p = std::get_if<incident::plan>(&planned)) out.insert(p->permissions.begin(), p->permissions.end());
    // Releasing the block is appended later, never planned; its permissions are among the above.
    return out;
}

std::optional<std::vector<std::string>> token_roles(std::string_view token) {
    const auto first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    const auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) return std::nullopt;
    const auto claims = nlohmann::json::parse(*payload, nullptr, false);
    if (!claims.is_object()) return std::nullopt;
    std::vector<std::string> roles;
    for (const auto& r : claims.value("roles", nlohmann::json::array()))
        if (r.is_string()) roles.push_back(r.get<std::string>());
    return roles;
}

boost::asio::awaitable<tenant_check> check_tenant(graph::token_source& tokens, const config::tenant_config& tenant,
                                                  const clock_source& clock) {
    tenant_check c;
    c.tenant = tenant.settings.name;
    tokens.invalidate();
    const auto reply = co_await tokens.get();
    c.checked_at = clock.now();
    if (!reply.ok()) {
        const auto& call = reply.call;
        std::string why;
        if (call.status == 0) {
            why = "the login endpoint " + tenant.login_base + " could not be reached: " +
                  std::string(graph::to_string(call.transport));
            if (call.transport == graph::transport_error::tls)
                why += " (is the server's certificate trusted? ca_file, system store)";
            if (!call.transport_detail.empty()) why += ": " + call.transport_detail;
        } else {
            why = "the token request was refused (HTTP " + std::to_string(call.status) + " " + call.error_code + ")";
            if (!call.error_message.empty()) why += ": " + call.error_message.substr(0, 200);
            for (const auto code : call.aadsts_codes)
                if (code == 7000222) why += " - the client secret has expired";
        }
        c.rows.push_back({"token", false, why});
        c.rows.push_back({"roles", false, "not checked: no token"});
        c.gaps.push_back("token: " + why);
        c.healthy = false;
        c.token_failed = true;
        co_return c;
    }
    c.rows.push_back({"token", true, "a fresh access token for " + tenant.client_id});
    const auto roles = token_roles(reply.token.reveal());
    if (!roles) {
        c.rows.push_back({"roles", true, "not checked: the access token is not a readable JWT"});
        co_return c;
    }
    std::vector<std::string> missing;
    for (const auto& p : required_permissions(tenant.settings))
        if (std::find(roles->begin(), roles->end(), p) == roles->end()) missing.push_back(p);
    if (missing.empty()) {
        c.rows.push_back({"roles", true, "every permission a plan can need is granted"});
    } else {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        c.rows.push_back({"roles", false, "missing application permission(s): " + list});
        for (const auto& m : missing) c.gaps.push_back("permission: the app lacks " + m);
        c.healthy = false;
    }
    co_return c;
}

void tenant_health::record(const tenant_check& c) {
    latest_[c.tenant] = c;
    ++checks_[c.tenant];
    if (c.token_failed) ++token_failures_[c.tenant];
}

std::optional<tenant_check> tenant_health::find(const std::string& tenant) const {
    const auto it = latest_.find(tenant);
    if (it == latest_.end()) return std::nullopt;
    return it->second;
}

bool tenant_health::all_healthy() const {
    return std::all_of(latest_.begin(), latest_.end(), [](const auto& kv) { return kv.second.healthy; });
}

nlohmann::json tenant_health::to_json() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, c] : latest_) out[name] = c.to_json();
    return out;
}

std::string tenant_health::metrics() const {
    std::ostringstream out;
    out << "# HELP containd_tenant_healthy Whether the tenant's last preflight passed (1) or found a gap (0).\n"
           "# TYPE containd_tenant_healthy gauge\n";
    for (const auto& [name, c] : latest_) out << "containd_tenant_healthy{tenant=\"" << name << "\"} " << (c.healthy ? 1 : 0) << "\n";
    out << "# HELP containd_tenant_preflight_gaps Gaps the tenant's last preflight found.\n"
           "# TYPE containd_tenant_preflight_gaps gauge\n";
    for (const auto& [name, c] : latest_) out << "containd_tenant_preflight_gaps{tenant=\"" << name << "\"} " << c.gaps.size() << "\n";
    out << "# HELP containd_tenant_token_failures_total Preflight token requests that failed.\n"
           "# TYPE containd_tenant_token_failures_total counter\n";
    for (const auto& [name, _] : latest_) {
        const auto it = token_failures_.find(name);
        out << "containd_tenant_token_failures_total{tenant=\"" << name << "\"} "
            << (it == token_failures_.end() ? 0 : it->second) << "\n";
    }
    return out.str();
}

}  // namespace containd::daemon
