// Runners for application persistence: evidence, secrets and certificates on the application
// AND its service principal, disabling the service principal, grants and app role assignments,
// and the approval-gated delete.

#include "core/time.hpp"
#include "runners/common.hpp"

namespace containd::runners::detail {
namespace {

using engine::step_outcome;

nlohmann::json credential_summary(const std::vector<graph::password_credential>& secrets,
                                  const std::vector<graph::key_credential>& keys) {
    nlohmann::json out = {{"secrets", nlohmann::json::array()}, {"certificates", nlohmann::json::array()}};
    for (const auto& s : secrets)
        out["secrets"].push_back({{"keyId", s.key_id}, {"displayName", s.display_name}, {"hint", s.hint}});
    for (const auto& k : keys)
        out["certificates"].push_back({{"keyId", k.key_id}, {"displayName", k.display_name}, {"type", k.type}});
    return out;
}

}  // namespace

task<step_outcome> capture_app_evidence(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& app_id = ctx.step.target;
    auto app = co_await graph::find_application(c, app_id);
    if (!app.ok()) co_return failure(app.call, "finding the application");
    auto sp = co_await graph::find_service_principal(c, app_id);
    if (!sp.ok()) co_return failure(sp.call, "finding the service principal");
    nlohmann::json content = {{"app_id", app_id}};
    if (app.value) content["application"] = app.value->raw;
    if (sp.value) {
        content["service_principal"] = sp.value->raw;
        auto grants = co_await graph::list_permission_grants(c, sp.value->id);
        if (!grants.ok()) co_return failure(grants.call, "listing delegated grants");
        auto roles = co_await graph::list_app_role_assignments(c, sp.value->id);
        if (!roles.ok()) co_return failure(roles.call, "listing app role assignments");
        content["oauth2_permission_grants"] = nlohmann::json::array();
        for (const auto& g : grants.items) content["oauth2_permission_grants"].push_back(g.raw);
        content["app_role_assignments"] = nlohmann::json::array();
        for (const auto& r : roles.items) content["app_role_assignments"].push_back(r.raw);
    }
    ctx.db.add_evidence(ctx.incident.id, ctx.step.seq, "application", app_id, content);
    co_return step_outcome::success(
        {{"application_found", app.value.has_value()}, {"service_principal_found", sp.value.has_value()}});
}

task<step_outcome> remove_app_credentials(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string& app_id = ctx.step.target;
    nlohmann::json removed = {{"application", nlohmann::json::array()}, {"service_principal", nlohmann::json::array()}};

    auto app = co_await graph::find_application(c, app_id);
    if (!app.ok()) co_return failure(app.call, "finding the application");
    if (app.value) {
        for (const auto& s : app.value->password_credentials) {
            auto r = co_await graph::remove_application_password(c, app.value->id, s.key_id);
            if (!r.ok()) co_return failure(r.call, "removing application secret " + s.key_id);
            removed["application"].push_back(
                {{"keyId", s.key_id}, {"kind", "secret"}, {"outcome", graph::to_string(r.outcome)}});
        }
        if (!app.value->key_credentials.empty()) {
            std::vector<graph::key_credential> keep_none;  // named: see the GCC 12 note in graph/api.cpp
            auto r = co_await graph::set_application_key_credentials(c, app.value->id, std::move(keep_none));
            if (!r.ok()) co_return failure(r.call, "removing application certificates");
            for (const auto& k : app.value->key_credentials)
                removed["application"].push_back(
                    {{"keyId", k.key_id}, {"kind", "certificate"}, {"outcome", "removed"}});
        }
    }
    auto sp = co_await graph::find_service_principal(c, app_id);
    if (!sp.ok()) co_return failure(sp.call, "finding the service principal");
    if (sp.value) {
        for (const auto& s : sp.value->password_credentials) {
            auto r = co_await graph::remove_service_principal_password(c, sp.value->id, s.key_id);
            if (!r.ok()) co_return failure(r.call, "removing service principal secret " + s.key_id);
            removed["service_principal"].push_back(
                {{"keyId", s.key_id}, {"kind", "secret"}, {"outcome", graph::to_string(r.outcome)}});
        }
        if (!sp.value->key_credentials.empty()) {
            std::vector<graph::key_credential> keep_none;
            auto r = co_await graph::set_service_principal_key_credentials(c, sp.value->id, std::move(keep_none));
            if (!r.ok()) co_return failure(r.call, "removing service principal certificates");
            for (const auto& k : sp.value->key_credentials)
                removed["service_principal"].push_back(
                    {{"keyId", k.key_id}, {"kind", "certificate"}, {"outcome", "removed"}});
        }
    }

    // Read back: nothing may remain on either object (I2: done only when upstream confirms).
    auto app_after = co_await graph::find_application(c, app_id);
    auto sp_after = co_await graph::find_service_principal(c, app_id);
    if (!app_after.ok()) co_return failure(app_after.call, "reading the application back");
    if (!sp_after.ok()) co_return failure(sp_after.call, "reading the service principal back");
    const bool app_clean =
        !app_after.value || (app_after.value->password_credentials.empty() && app_after.value->key_credentials.empty());
    const bool sp_clean =
        !sp_after.value || (sp_after.value->password_credentials.empty() && sp_after.value->key_credentials.empty());
    if (!app_clean || !sp_clean) {
        nlohmann::json left = {
            {"application", app_after.value ? credential_summary(app_after.value->password_credentials,
                                                                 app_after.value->key_credentials)
                                            : nlohmann::json()},
            {"service_principal",
             sp_after.value ? credential_summary(sp_after.value->password_credentials, sp_after.value->key_credentials)
                            : nlohmann::json()}};
        co_return step_outcome::failed(503, "credentials remain after removal (replication?): " + left.dump());
    }
    co_return step_outcome::success({{"removed", removed},
                                     {"application_found", app.value.has_value()},
                                     {"service_principal_found", sp.value.has_value()}});
}

task<step_outcome> disable_service_principal(const engine::step_context& ctx, graph::client& c,
                                             const runner_settings&) {
    auto sp = co_await graph::find_service_principal(c, ctx.step.target);
    if (!sp.ok()) co_return failure(sp.call, "finding the service principal");
    if (!sp.value) co_return step_outcome::success({{"service_principal_found", false}});
    if (sp.value->account_enabled.value_or(true)) {
        auto r = co_await graph::set_service_principal_enabled(c, sp.value->id, false);
        if (!r.ok()) co_return failure(r.call, "disabling the service principal");
    }
    co_return step_outcome::success({{"service_principal_id", sp.value->id}, {"account_enabled", false}});
}

task<step_outcome> remove_app_grants(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    auto sp = co_await graph::find_service_principal(c, ctx.step.target);
    if (!sp.ok()) co_return failure(sp.call, "finding the service principal");
    if (!sp.value) co_return step_outcome::success({{"service_principal_found", false}});
    nlohmann::json grants_removed = nlohmann::json::array(), roles_removed = nlohmann::json::array();
    auto grants = co_await graph::list_permission_grants(c, sp.value->id);
    if (!grants.ok()) co_return failure(grants.call, "listing delegated grants");
    for (const auto& g : grants.items) {
        auto r = co_await graph::delete_permission_grant(c, g.id);
        if (!r.ok()) co_return failure(r.call, "deleting delegated grant " + g.id);
        grants_removed.push_back({{"id", g.id}, {"scope", g.scope}, {"consentType", g.consent_type}});
    }
    auto roles = co_await graph::list_app_role_assignments(c, sp.value->id);
    if (!roles.ok()) co_return failure(roles.call, "listing app role assignments");
    for (const auto& a : roles.items) {
        auto r = co_await graph::delete_app_role_assignment(c, sp.value->id, a.id);
        if (!r.ok()) co_return failure(r.call, "deleting app role assignment " + a.id);
        roles_removed.push_back({{"id", a.id}, {"appRoleId", a.app_role_id}, {"resource", a.resource_display_name}});
    }
    co_return step_outcome::success(
        {{"grants_removed", grants_removed}, {"app_role_assignments_removed", roles_removed}});
}

task<step_outcome> delete_application(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    auto app = co_await graph::find_application(c, ctx.step.target);
    if (!app.ok()) co_return failure(app.call, "finding the application");
    if (!app.value) co_return step_outcome::success({{"outcome", "already_absent"}});
    auto r = co_await graph::delete_application(c, app.value->id);
    if (!r.ok()) co_return failure(r.call, "deleting the application");
    co_return step_outcome::success({{"outcome", graph::to_string(r.outcome)},
                                     {"object_id", app.value->id},
                                     {"approved_by", ctx.step.approved_by.value_or("")}});
}

}  // namespace containd::runners::detail
