#include "incident/model.hpp"

#include <array>

#include "core/time.hpp"

namespace containd::incident {
namespace {

constexpr std::array tier_names = {"break_glass", "service", "privileged", "standard"};
constexpr std::array phase_names = {"resolve", "block",  "revoke",  "credentials", "methods",
                                    "apps",    "verify", "release", "done"};
constexpr std::array step_kind_names = {"resolve_account",
                                        "capture_account_evidence",
                                        "capture_app_evidence",
                                        "capture_policy_evidence",
                                        "enable_emergency_policy",
                                        "revoke_sessions",
                                        "reset_password",
                                        "revoke_after_reset",
                                        "cleanup_methods",
                                        "issue_tap",
                                        "remove_app_credentials",
                                        "disable_service_principal",
                                        "remove_app_grants",
                                        "delete_application",
                                        "remove_inbox_rules",
                                        "confirm_compromised",
                                        "verify_signins",
                                        "release_block",
                                        "confirm_block"};
static_assert(step_kind_names.size() == static_cast<std::size_t>(step_kind::confirm_block) + 1);
static_assert(phase_names.size() == static_cast<std::size_t>(phase::done) + 1);

template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<const char*, N>& names, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == names[i]) return static_cast<Enum>(i);
    return std::nullopt;
}

}  // namespace

std::string_view to_string(tier t) { return tier_names[static_cast<std::size_t>(t)]; }
std::string_view to_string(phase p) { return phase_names[static_cast<std::size_t>(p)]; }
std::string_view to_string(step_kind k) { return step_kind_names[static_cast<std::size_t>(k)]; }
std::string_view to_string(credential_delivery d) { return d == credential_delivery::password ? "password" : "tap"; }
std::string_view to_string(method_cleanup m) {
    switch (m) {
    case method_cleanup::automatic: return "auto";
    case method_cleanup::complete: return "complete";
    case method_cleanup::targeted: return "targeted";
    }
    return "auto";
}
std::optional<tier> tier_from_string(std::string_view s) { return lookup<tier>(tier_names, s); }
std::optional<phase> phase_from_string(std::string_view s) { return lookup<phase>(phase_names, s); }
std::optional<step_kind> step_kind_from_string(std::string_view s) { return lookup<step_kind>(step_kind_names, s); }

nlohmann::json to_json(const incident_request& r) {
    nlohmann::json accounts = nlohmann::json::array();
    for (const auto& a : r.accounts) {
        nlohmann::json j = {{"upn", a.upn}};
        if (a.declared_tier) j["tier"] = to_string(*a.declared_tier);
        if (!a.known_methods.empty()) j["known_methods"] = a.known_methods;
        accounts.push_back(std::move(j));
    }
    nlohmann::json apps = nlohmann::json::array();
    for (const auto& a : r.malicious_apps)
        apps.push_back({{"app_id", a.app_id}, {"delete_application", a.delete_application}});
    nlohmann::json options = {{"method_cleanup", to_string(r.options.cleanup)}};
    if (r.options.delivery) options["credential_delivery"] = to_string(*r.options.delivery);
    if (r.options.override_lockout_guard) options["override_lockout_guard"] = true;
    nlohmann::json j = {{"compromise_start", format_rfc3339(r.compromise_start)},
                        {"scope", r.scope == scope_kind::tenant ? "tenant" : "accounts"},
                        {"accounts", accounts},
                        {"attacker_ips", r.attacker_ips},
                        {"malicious_apps", apps},
                        {"options", options}};
    if (!r.tenant.empty()) j["tenant"] = r.tenant;
    if (r.external_ref) j["external_ref"] = *r.external_ref;
    if (!r.title.empty()) j["title"] = r.title;
    if (r.confirm_tenant_wide) j["confirm_tenant_wide"] = true;
    return j;
}

}  // namespace containd::incident
