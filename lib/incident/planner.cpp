#include "incident/planner.hpp"

#include <algorithm>
#include <set>

#include "core/net.hpp"
#include "core/text.hpp"

namespace containd::incident {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

// Lower rank resets first: break-glass and service accounts, then privileged, then standard.
int tier_group(tier t) {
    switch (t) {
    case tier::break_glass:
    case tier::service: return 0;
    case tier::privileged: return 1;
    case tier::standard: return 2;
    }
    return 2;
}

planned_account assign_tier(const account_request& a, const tenant_settings& tenant, const directory_facts* facts,
                            method_cleanup cleanup) {
    planned_account p;
    p.upn = a.upn;
    p.assigned_tier = a.declared_tier.value_or(tier::standard);
    p.tier_reason = a.declared_tier ? "declared by the SOC" : "default";
    // Raise, never lower.
    if (contains(tenant.break_glass_upns, a.upn) && p.assigned_tier != tier::break_glass) {
        p.assigned_tier = tier::break_glass;
        p.tier_reason = "configured break-glass account";
    }
    if (facts && !facts->admin_roles.empty() && p.assigned_tier == tier::standard) {
        p.assigned_tier = tier::privileged;
        p.tier_reason = "holds " + join(facts->admin_roles);
    }
    p.synced = facts && facts->on_premises_sync;
    if (cleanup == method_cleanup::automatic)
        p.cleanup = p.assigned_tier == tier::standard ? method_cleanup::targeted : method_cleanup::complete;
    else
        p.cleanup = cleanup;
    return p;
}

std::string check_label(duration offset) {
    const auto ms = std::chrono::duration_cast<milliseconds>(offset).count();
    if (ms % 60000 == 0) return "+" + std::to_string(ms / 60000) + "m";
    return "+" + std::to_string(ms / 1000) + "s";
}

// The Graph application permissions each step kind needs (graph-api.md §0.2).
std::vector<std::string> permissions_for(step_kind k) {
    switch (k) {
    case step_kind::resolve_account: return {"User.Read.All", "Directory.Read.All"};
    case step_kind::capture_account_evidence:
        return {"UserAuthenticationMethod.Read.All", "MailboxSettings.Read", "AuditLog.Read.All"};
    case step_kind::capture_app_evidence: return {"Application.Read.All", "DelegatedPermissionGrant.ReadWrite.All"};
    case step_kind::capture_policy_evidence: return {"Policy.Read.All"};
    case step_kind::enable_emergency_policy:
        return {"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Application.Read.All"};
    case step_kind::confirm_block: return {"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"};
    case step_kind::revoke_sessions:
    case step_kind::revoke_after_reset: return {"User.RevokeSessions.All"};
    case step_kind::reset_password: return {"User-PasswordProfile.ReadWrite.All"};
    case step_kind::cleanup_methods: return {"UserAuthenticationMethod.ReadWrite.All", "AuditLog.Read.All"};
    case step_kind::issue_tap: return {"UserAuthenticationMethod.ReadWrite.All"};
    case step_kind::remove_app_credentials:
    case step_kind::disable_service_principal:
    case step_kind::delete_application: return {"Application.ReadWrite.All"};
    case step_kind::remove_app_grants:
        return {"DelegatedPermissionGrant.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"};
    case step_kind::remove_inbox_rules: return {"MailboxSettings.ReadWrite"};
    case step_kind::confirm_compromised: return {"IdentityRiskyUser.ReadWrite.All"};
    case step_kind::verify_signins: return {"AuditLog.Read.All", "Policy.Read.All"};
    case step_kind::release_block: return {"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"};
    }
    return {};
}

std::vector<std::string> graph_calls_for(step_kind k) {
    switch (k) {
    case step_kind::resolve_account: return {"GET /users/{upn}", "GET /users/{id}/transitiveMemberOf"};
    case step_kind::capture_account_evidence:
        return {"GET /users/{id}/authentication/methods", "GET /users/{id}/mailFolders/inbox/messageRules",
                "GET /auditLogs/signIns?$filter=userPrincipalName eq '{upn}'"};
    case step_kind::capture_app_evidence:
        return {"GET /applications?$filter=appId eq '{appId}'", "GET /servicePrincipals?$filter=appId eq '{appId}'",
                "GET /oauth2PermissionGrants?$filter=clientId eq '{spId}'",
                "GET /servicePrincipals/{id}/appRoleAssignments"};
    case step_kind::capture_policy_evidence: return {"GET /identity/conditionalAccess/policies/{id}"};
    case step_kind::enable_emergency_policy:
        return {
            "PATCH /identity/conditionalAccess/policies/{id} (or POST when none exists); the standing "
            "snapshot read before the incident is the evidence"};
    case step_kind::confirm_block:
        return {"GET /identity/conditionalAccess/policies/{id} (read back)",
                "PATCH /identity/conditionalAccess/policies/{id} (only to repair another writer's change)"};
    case step_kind::revoke_sessions:
    case step_kind::revoke_after_reset: return {"POST /users/{id}/revokeSignInSessions"};
    case step_kind::reset_password: return {"PATCH /users/{id} (passwordProfile)"};
    case step_kind::cleanup_methods:
        return {"GET /users/{id}/authentication/methods", "GET /auditLogs/directoryAudits",
                "DELETE /users/{id}/authentication/{type}Methods/{methodId}"};
    case step_kind::issue_tap: return {"POST /users/{id}/authentication/temporaryAccessPassMethods"};
    case step_kind::remove_app_credentials:
        return {"POST /applications/{id}/removePassword", "POST /servicePrincipals/{id}/removePassword",
                "PATCH /applications/{id} (keyCredentials)", "PATCH /servicePrincipals/{id} (keyCredentials)"};
    case step_kind::disable_service_principal: return {"PATCH /servicePrincipals/{id} (accountEnabled=false)"};
    case step_kind::remove_app_grants:
        return {"DELETE /oauth2PermissionGrants/{id}", "DELETE /servicePrincipals/{id}/appRoleAssignments/{id}"};
    case step_kind::delete_application: return {"DELETE /applications/{id}"};
    case step_kind::remove_inbox_rules: return {"DELETE /users/{id}/mailFolders/inbox/messageRules/{ruleId}"};
    case step_kind::confirm_compromised: return {"POST /identityProtection/riskyUsers/confirmCompromised"};
    case step_kind::verify_signins:
        return {"GET /auditLogs/signIns (v1.0 interactive)",
                "GET /beta/auditLogs/signIns (non-interactive, service principal)"};
    case step_kind::release_block:
        return {"GET /identity/conditionalAccess/policies/{id}", "PATCH /identity/conditionalAccess/policies/{id}",
                "GET /identity/conditionalAccess/policies/{id} (read back)"};
    }
    return {};
}

class step_builder {
public:
    explicit step_builder(std::vector<planned_step>& out) : out_(out) {}
    int add(phase p, int stage, step_kind k, std::string target, nlohmann::json params = nlohmann::json::object(),
            std::optional<int> depends_on = std::nullopt, bool approval = false) {
        planned_step s;
        s.seq = static_cast<int>(out_.size()) + 1;
        s.step_phase = p;
        s.stage = stage;
        s.kind = k;
        s.target = std::move(target);
        s.params = std::move(params);
        s.depends_on = depends_on;
        s.requires_approval = approval;
        s.graph_calls = graph_calls_for(k);
        out_.push_back(std::move(s));
        return out_.back().seq;
    }

private:
    std::vector<planned_step>& out_;
};

}  // namespace

plan_result make_plan(const incident_request& request, const tenant_settings& tenant,
                      const std::map<std::string, directory_facts>& facts) {
    plan p;
    refusal refused;
    std::vector<std::string> compromised;
    for (const auto& a : request.accounts) {
        auto it = facts.find(a.upn);
        p.accounts.push_back(
            assign_tier(a, tenant, it == facts.end() ? nullptr : &it->second, request.options.cleanup));
        compromised.push_back(a.upn);
    }

    // The block's scope, and the lockout guard.
    p.scope.all_users = request.scope == scope_kind::tenant;
    if (!p.scope.all_users) p.scope.include_users = compromised;
    for (const auto& bg : tenant.break_glass_upns)
        if (!contains(compromised, bg)) p.scope.exclude_users.push_back(bg);
    p.scope.exclude_locations = tenant.ir_named_locations;
    if (request.scope == scope_kind::tenant && !request.confirm_tenant_wide)
        refused.reasons.push_back("a tenant-wide block needs an explicit confirm_tenant_wide: true");
    if (p.scope.exclude_users.empty()) {
        const std::string reason =
            tenant.break_glass_upns.empty()
                ? "no break-glass account is configured for tenant '" + tenant.name +
                      "': the block could lock the IR team out"
                : "every configured break-glass account is compromised: no uncompromised break-glass account would "
                  "stay excluded, so the block could lock the IR team out";
        // The guard holds back the block only (its step refuses until an operator overrides
        // it), never the resets: a compromised break-glass account is reset first all the same.
        if (request.options.override_lockout_guard)
            p.warnings.push_back("lockout guard overridden: " + reason);
        else
            p.warnings.push_back("lockout guard: " + reason +
                                 "; the block waits for an operator's override, the other steps go ahead");
    }
    if (!refused.reasons.empty()) return refused;

    p.delivery = request.options.delivery.value_or(
        request.accounts.size() > tenant.tap_threshold ? credential_delivery::tap : credential_delivery::password);
    // The block excludes the IR named locations: an attacker inside one is not blocked.
    for (const auto& ip : request.attacker_ips)
        if (ip_in_ranges(ip, tenant.ir_location_ranges))
            p.warnings.push_back("attacker IP " + ip +
                                 " lies inside an IR named location the block excludes: sign-ins from it will not "
                                 "be blocked; narrow the named location or take it out of the exclusion");
    for (const auto& a : p.accounts)
        if (a.synced)
            p.warnings.push_back(a.upn +
                                 " is synchronised from on-premises AD: a cloud-only reset can be undone by "
                                 "the next sync; reset it on-premises too");

    step_builder b(p.steps);
    int stage = 0;
    // resolve: who they are, and the evidence later steps destroy.
    for (const auto& a : p.accounts) b.add(phase::resolve, stage, step_kind::resolve_account, a.upn);
    for (const auto& a : p.accounts) b.add(phase::resolve, stage, step_kind::capture_account_evidence, a.upn);
    for (const auto& app : request.malicious_apps)
        b.add(phase::resolve, stage, step_kind::capture_app_evidence, app.app_id);
    // No separate policy-evidence step: the block step's own read of the policy is the snapshot
    // (a Conditional Access call is paced to 1/s per tenant, so a second read costs a second).

    const std::string policy = tenant.emergency_policy_id.empty() ? "new" : tenant.emergency_policy_id;
    const int block = b.add(phase::block, ++stage, step_kind::enable_emergency_policy, policy);
    // The read-back waits for the block only and holds back nothing (the scheduler runs it beside
    // the revocations): the containment time is when Graph accepted the PATCH.
    b.add(phase::block, stage, step_kind::confirm_block, policy, nlohmann::json::object(), block);

    ++stage;
    for (const auto& a : p.accounts) b.add(phase::revoke, stage, step_kind::revoke_sessions, a.upn);

    // credentials: one stage per tier group, each reset followed at once by a revocation.
    for (int group = 0; group <= 2; ++group) {
        bool any = false;
        for (const auto& a : p.accounts) any = any || tier_group(a.assigned_tier) == group;
        if (!any) continue;
        ++stage;
        for (const auto& a : p.accounts) {
            if (tier_group(a.assigned_tier) != group) continue;
            const int reset = b.add(phase::credentials, stage, step_kind::reset_password, a.upn,
                                    {{"tier", to_string(a.assigned_tier)}});
            b.add(phase::credentials, stage, step_kind::revoke_after_reset, a.upn, nlohmann::json::object(), reset);
        }
    }

    // Method cleanup. No TAP is issued here: it is issued at reveal, after this cleanup (which
    // would remove it) and when the user can use it.
    if (!p.accounts.empty()) {
        ++stage;
        for (std::size_t i = 0; i < p.accounts.size(); ++i) {
            auto& a = p.accounts[i];
            const auto& known = request.accounts[i].known_methods;
            const bool complete = a.cleanup == method_cleanup::complete;
            b.add(phase::methods, stage, step_kind::cleanup_methods, a.upn,
                  {{"mode", complete ? "complete" : "targeted"}, {"known_methods", known}});
            auto f = facts.find(a.upn);
            const bool passwordless = f != facts.end() && f->second.passwordless;
            a.tap = complete || p.delivery == credential_delivery::tap || passwordless;
        }
    }

    ++stage;
    for (const auto& app : request.malicious_apps) {
        b.add(phase::apps, stage, step_kind::remove_app_credentials, app.app_id);
        b.add(phase::apps, stage, step_kind::disable_service_principal, app.app_id);
        b.add(phase::apps, stage, step_kind::remove_app_grants, app.app_id);
        if (app.delete_application)
            b.add(phase::apps, stage, step_kind::delete_application, app.app_id, nlohmann::json::object(), std::nullopt,
                  true);
    }
    for (const auto& a : p.accounts) b.add(phase::apps, stage, step_kind::remove_inbox_rules, a.upn);
    if (!p.accounts.empty()) b.add(phase::apps, stage, step_kind::confirm_compromised, "identityProtection");

    std::vector<duration> offsets = tenant.verification_offsets;
    std::sort(offsets.begin(), offsets.end());
    for (const auto offset : offsets)
        b.add(phase::verify, ++stage, step_kind::verify_signins, check_label(offset),
              {{"offset_ms", std::chrono::duration_cast<milliseconds>(offset).count()}});

    std::set<std::string> permissions;
    for (const auto& s : p.steps)
        for (auto& perm : permissions_for(s.kind)) permissions.insert(perm);
    p.permissions.assign(permissions.begin(), permissions.end());
    return p;
}

nlohmann::json to_json(const plan& p) {
    nlohmann::json accounts = nlohmann::json::array();
    for (const auto& a : p.accounts)
        accounts.push_back({{"upn", a.upn},
                            {"tier", to_string(a.assigned_tier)},
                            {"tier_reason", a.tier_reason},
                            {"method_cleanup", to_string(a.cleanup)},
                            {"synced", a.synced},
                            {"tap", a.tap}});
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : p.steps) {
        nlohmann::json j = {{"seq", s.seq},       {"phase", to_string(s.step_phase)},
                            {"stage", s.stage},   {"kind", to_string(s.kind)},
                            {"target", s.target}, {"requires_approval", s.requires_approval},
                            {"params", s.params}, {"graph_calls", s.graph_calls}};
        j["depends_on"] = s.depends_on ? nlohmann::json(*s.depends_on) : nlohmann::json();
        steps.push_back(std::move(j));
    }
    return {{"accounts", accounts},
            {"scope",
             {{"all_users", p.scope.all_users},
              {"include_users", p.scope.include_users},
              {"exclude_users", p.scope.exclude_users},
              {"exclude_locations", p.scope.exclude_locations}}},
            {"delivery", to_string(p.delivery)},
            {"steps", steps},
            {"warnings", p.warnings},
            {"permissions", p.permissions}};
}

}  // namespace containd::incident
