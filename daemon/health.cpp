#include "health.hpp"

#include <algorithm>
#include <sstream>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"

namespace containd::daemon {

nlohmann::json tenant_check::to_json() const {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json row = {{"check", r.check}, {"ok", r.ok}, {"detail", r.detail}};
        if (r.warning) row["warning"] = true;
        checks.push_back(std::move(row));
    }
    nlohmann::json out = {{"healthy", healthy},
                          {"gaps", gaps},
                          {"warnings", warnings},
                          {"checked_at", format_rfc3339(checked_at)},
                          {"checks", checks}};
    if (credential_expires) out["credential_expires"] = format_rfc3339(*credential_expires);
    return out;
}

std::string tenant_check::table() const {
    std::size_t width = 6;
    for (const auto& r : rows) width = std::max(width, r.check.size());
    std::ostringstream out;
    out << "tenant " << tenant << ": " << (healthy ? "healthy" : "NOT READY") << "\n";
    out << "CHECK" << std::string(width - 5 + 2, ' ') << "RESULT  DETAIL\n";
    for (const auto& r : rows)
        out << r.check << std::string(width - r.check.size() + 2, ' ')
            << (!r.ok       ? "GAP   "
                : r.warning ? "WARN  "
                            : "ok    ")
            << "  " << r.detail << "\n";
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

namespace {

constexpr const char* global_admin = "62e90394-69f5-4237-9190-012177145e10";
constexpr const char* privileged_auth_admin = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
constexpr const char* user_admin = "fe930be7-5e62-47db-91af-98c3a49a38b1";

// A role by its template id (stable across tenants) or, when Graph left that out, its name.
bool is_role(const graph::directory_role& r, const char* template_id, std::string_view name) {
    return r.role_template_id == template_id || r.display_name == name;
}

std::string why_unread(const graph::call_result& call, std::string_view needs) {
    std::string why = graph::describe(call);
    if (call.status == 403) why += " (reading it needs " + std::string(needs) + ")";
    return why;
}

// The finding of a read that failed: a warning row saying the check did not run, never a pass.
preflight_finding unread_finding(std::string check, std::string_view what, const graph::call_result& call,
                                 std::string_view needs) {
    preflight_finding f;
    f.row.check = std::move(check);
    f.row.warning = true;
    f.row.detail = "not checked: reading " + std::string(what) + " failed: " + why_unread(call, needs);
    f.warning = f.row.check + ": " + f.row.detail;
    return f;
}

std::string date_of(time_point t) { return format_rfc3339(t).substr(0, 10); }

}  // namespace

preflight_finding directory_role_finding(const graph::list_reply<graph::directory_role>& read) {
    if (!read.ok())
        return unread_finding("directory role", "the app's directory roles", read.call,
                              "Application.Read.All or Directory.Read.All");
    preflight_finding f;
    f.row.check = "directory role";
    std::string held;
    bool privileged = false, standard = false, unnamed = false;
    for (const auto& r : read.items) {
        if (r.display_name.empty() && r.role_template_id.empty()) {
            unnamed = true;  // Graph's "limited information" for a caller that may not read roles
            continue;
        }
        const std::string name = !r.display_name.empty() ? r.display_name : r.role_template_id;
        held += (held.empty() ? "" : ", ") + name;
        if (is_role(r, privileged_auth_admin, "Privileged Authentication Administrator") ||
            is_role(r, global_admin, "Global Administrator"))
            privileged = true;
        if (is_role(r, user_admin, "User Administrator")) standard = true;
    }
    if (privileged) {
        f.row.detail =
            "the app's service principal holds " + held + ": password resets of privileged accounts are allowed";
        return f;
    }
    if (unnamed) {
        f.row.warning = true;
        f.row.detail =
            "not checked: Graph listed the app's directory roles without their names or templates (reading "
            "them needs RoleManagement.Read.Directory or Directory.Read.All)";
        f.warning = "directory role: " + f.row.detail;
        return f;
    }
    f.row.ok = false;
    f.row.detail = "the app's service principal holds " + (held.empty() ? std::string("no directory role") : held) +
                   ", not Privileged Authentication Administrator or Global Administrator: password resets of "
                   "privileged accounts will be refused (403 Authorization_RequestDenied)";
    if (!standard)
        f.row.detail += ", and of every other account too (User Administrator covers accounts without an admin role)";
    f.gap = "directory role: " + f.row.detail;
    return f;
}

preflight_finding credential_finding(const graph::reply<std::optional<graph::application_info>>& read,
                                     const credential_identity& own, time_point now) {
    if (!read.ok())
        return unread_finding("credential", "the app's credentials", read.call,
                              "Application.Read.All or Directory.Read.All");
    preflight_finding f;
    f.row.check = "credential";
    const std::string kind = own.certificate ? "certificate" : "client secret";
    if (!read.value) {
        f.row.detail =
            "not checked: the application object is not in this tenant (a multi-tenant app's "
            "credentials are in its home tenant)";
        return f;
    }
    // The ends of the credentials of the kind containd presents: its own when Graph's hint or
    // thumbprint picks it out, else every one of that kind.
    std::vector<std::optional<time_point>> all, mine;
    if (own.certificate) {
        for (const auto& k : read.value->key_credentials) {
            all.push_back(k.end);
            const auto id = base64_decode(k.raw.value("customKeyIdentifier", ""));
            if (!own.sha1_thumbprint.empty() && id && *id == own.sha1_thumbprint) mine.push_back(k.end);
        }
    } else {
        for (const auto& p : read.value->password_credentials) {
            all.push_back(p.end);
            if (!own.secret_hint.empty() && p.hint == own.secret_hint) mine.push_back(p.end);
        }
    }
    const auto& ends = mine.empty() ? all : mine;
    if (ends.empty()) {
        f.row.warning = true;
        f.row.detail = "not checked: the application lists no " + kind + " (is it on the service principal?)";
        f.warning = "credential: " + f.row.detail;
        return f;
    }
    // The soonest end still ahead; if every one has passed, the latest of them.
    std::optional<time_point> soonest, latest_past;
    bool unbounded = false;
    for (const auto& e : ends) {
        if (!e)
            unbounded = true;
        else if (*e > now)
            soonest = soonest ? std::min(*soonest, *e) : *e;
        else
            latest_past = latest_past ? std::max(*latest_past, *e) : *e;
    }
    if (!soonest && !unbounded) {
        f.credential_expires = latest_past;
        f.row.ok = false;
        f.row.detail = "the " + kind + " expired on " + date_of(*latest_past) +
                       ": token requests will be refused; add a new one to the application and configure it";
        f.gap = "credential: " + f.row.detail;
        return f;
    }
    if (!soonest) {
        f.row.detail = "the " + kind + " does not expire";
        return f;
    }
    f.credential_expires = soonest;
    const auto days = (std::chrono::duration_cast<std::chrono::hours>(*soonest - now).count() + 12) / 24;  // nearest
    f.row.detail = "the " + kind + " expires on " + date_of(*soonest) + " (in " + std::to_string(days) +
                   (days == 1 ? " day)" : " days)");
    if (*soonest - now < credential_warning_window) {
        f.row.warning = true;
        f.row.detail += ": rotate it before then, or containment stops at the token";
        f.warning = "credential: " + f.row.detail;
    }
    return f;
}

preflight_finding named_locations_finding(const graph::list_reply<nlohmann::json>& read,
                                          const std::vector<std::string>& configured) {
    if (!read.ok()) return unread_finding("IR named locations", "the named locations", read.call, "Policy.Read.All");
    preflight_finding f;
    f.row.check = "IR named locations";
    std::vector<std::string> ranges, missing, found;
    for (const auto& id : configured) {
        const auto it = std::find_if(read.items.begin(), read.items.end(),
                                     [&](const nlohmann::json& l) { return l.value("id", "") == id; });
        if (it == read.items.end()) {
            missing.push_back(id);
            continue;
        }
        found.push_back("'" + it->value("displayName", id) + "'");
        for (const auto& r : it->value("ipRanges", nlohmann::json::array()))
            if (r.contains("cidrAddress") && r["cidrAddress"].is_string()) ranges.push_back(r["cidrAddress"]);
    }
    f.ir_location_ranges = ranges;
    if (!missing.empty()) {
        f.row.ok = false;
        f.row.detail = "the IR named location(s) " + join(missing, ", ") +
                       " do not exist: Graph refuses a block that excludes them; fix ir_named_locations";
        f.gap = "IR named locations: " + f.row.detail;
        return f;
    }
    f.row.detail = "the block excludes " + (found.empty() ? std::string("no named location") : join(found, ", ")) +
                   " (" + std::to_string(ranges.size()) + " IP range(s))";
    return f;
}

boost::asio::awaitable<tenant_check> check_tenant(graph::client& graph, credential_identity own,
                                                  const config::tenant_config& tenant, const clock_source& clock) {
    tenant_check c;
    c.tenant = tenant.settings.name;
    auto& tokens = graph.tokens();
    tokens.invalidate();
    const auto reply = co_await tokens.get();
    c.checked_at = clock.now();
    if (!reply.ok()) {
        const auto& call = reply.call;
        std::string why;
        if (call.status == 0) {
            why = "the login endpoint " + tenant.login_base +
                  " could not be reached: " + std::string(graph::to_string(call.transport));
            if (call.transport == graph::transport_error::tls)
                why += " (is the server's certificate trusted? ca_file, system store)";
            if (!call.transport_detail.empty()) why += ": " + call.transport_detail;
        } else {
            why = "the token request was refused (HTTP " + std::to_string(call.status) + " " + call.error_code + ")";
            if (!call.error_message.empty()) why += ": " + call.error_message.substr(0, 200);
            for (const auto code : call.aadsts_codes)
                if (code == 7000222) why += " - the client secret has expired";
        }
        const bool expired =
            std::find(call.aadsts_codes.begin(), call.aadsts_codes.end(), 7000222) != call.aadsts_codes.end();
        c.rows.push_back({"token", false, false, why});
        c.rows.push_back({"roles", false, false, "not checked: no token"});
        c.rows.push_back({"directory role", false, false, "not checked: no token"});
        c.rows.push_back({"credential", false, false,
                          expired ? "the client secret has expired (AADSTS7000222): add a new one to the application "
                                    "and configure it"
                                  : "not checked: no token"});
        c.gaps.push_back("token: " + why);
        c.healthy = false;
        c.token_failed = true;
        co_return c;
    }
    c.rows.push_back({"token", true, false, "a fresh access token for " + tenant.client_id});
    const auto roles = token_roles(reply.token.reveal());
    if (!roles) {
        c.rows.push_back({"roles", true, false, "not checked: the access token is not a readable JWT"});
    } else {
        std::vector<std::string> missing;
        for (const auto& p : required_permissions(tenant.settings))
            if (std::find(roles->begin(), roles->end(), p) == roles->end()) missing.push_back(p);
        if (missing.empty()) {
            c.rows.push_back({"roles", true, false, "every permission a plan can need is granted"});
        } else {
            std::string list;
            for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
            c.rows.push_back({"roles", false, false, "missing application permission(s): " + list});
            for (const auto& m : missing) c.gaps.push_back("permission: the app lacks " + m);
        }
    }

    const auto apply = [&c](const preflight_finding& f) {
        c.rows.push_back(f.row);
        if (f.gap) c.gaps.push_back(*f.gap);
        if (f.warning) c.warnings.push_back(*f.warning);
        if (f.credential_expires) c.credential_expires = f.credential_expires;
        if (f.ir_location_ranges) c.ir_location_ranges = f.ir_location_ranges;
    };
    apply(directory_role_finding(co_await graph::list_service_principal_directory_roles(graph, tenant.client_id)));
    apply(credential_finding(co_await graph::find_application(graph, tenant.client_id), own, clock.now()));
    // A Conditional Access read (paced at 1 request/s with the block): only when there is
    // something to read. Another client of the tenant (a second daemon, --check-tenant, the
    // portal) shares that limit, so a 429 is waited out once (Retry-After, else 2 s).
    if (!tenant.settings.ir_named_locations.empty()) {
        auto locations = co_await graph::list_named_locations(graph);
        if (locations.call.status == 429) {
            const duration wait = std::clamp<duration>(
                parse_retry_after(locations.call.retry_after.value_or(""), clock.now()).value_or(seconds(2)),
                seconds(1), seconds(30));
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, wait);
            co_await timer.async_wait(boost::asio::use_awaitable);
            locations = co_await graph::list_named_locations(graph);
        }
        apply(named_locations_finding(locations, tenant.settings.ir_named_locations));
    }
    c.healthy = c.gaps.empty();
    co_return c;
}

void tenant_health::record(const tenant_check& c) {
    latest_[c.tenant] = c;
    if (c.credential_expires) credential_expires_[c.tenant] = *c.credential_expires;
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
    for (const auto& [name, c] : latest_)
        out << "containd_tenant_healthy{tenant=\"" << name << "\"} " << (c.healthy ? 1 : 0) << "\n";
    out << "# HELP containd_tenant_preflight_gaps Gaps the tenant's last preflight found.\n"
           "# TYPE containd_tenant_preflight_gaps gauge\n";
    for (const auto& [name, c] : latest_)
        out << "containd_tenant_preflight_gaps{tenant=\"" << name << "\"} " << c.gaps.size() << "\n";
    out << "# HELP containd_tenant_token_failures_total Preflight token requests that failed.\n"
           "# TYPE containd_tenant_token_failures_total counter\n";
    for (const auto& [name, _] : latest_) {
        const auto it = token_failures_.find(name);
        out << "containd_tenant_token_failures_total{tenant=\"" << name << "\"} "
            << (it == token_failures_.end() ? 0 : it->second) << "\n";
    }
    if (!credential_expires_.empty()) {
        out << "# HELP containd_tenant_credential_expiry_timestamp_seconds When the secret or certificate containd "
               "presents for the tenant expires (Unix time; the last preflight that could read it).\n"
               "# TYPE containd_tenant_credential_expiry_timestamp_seconds gauge\n";
        for (const auto& [name, at] : credential_expires_)
            out << "containd_tenant_credential_expiry_timestamp_seconds{tenant=\"" << name << "\"} "
                << to_unix_ms(at) / 1000 << "\n";
    }
    return out.str();
}

}  // namespace containd::daemon
