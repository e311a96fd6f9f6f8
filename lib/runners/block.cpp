// The emergency Conditional Access block: snapshot the policy, scope and enable it, read it back.

#include <algorithm>
#include <set>

#include "core/time.hpp"
#include "runners/common.hpp"

namespace containd::runners::detail {
namespace {

using engine::step_outcome;
using nlohmann::json;

std::vector<std::string> strings_at(const json& j, std::initializer_list<const char*> path) {
    const json* cur = &j;
    for (const char* key : path) {
        if (!cur->is_object() || !cur->contains(key)) return {};
        cur = &(*cur)[key];
    }
    std::vector<std::string> out;
    if (cur->is_array())
        for (const auto& v : *cur)
            if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string policy_name(const engine::step_context& ctx) {
    return "containd emergency block (" + ctx.incident.tenant + ")";
}

}  // namespace

task<step_outcome> capture_policy_evidence(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    if (ctx.tenant.emergency_policy_id.empty()) co_return step_outcome::success({{"policy", "none configured"}});
    auto policy = co_await graph::get_ca_policy(c, ctx.tenant.emergency_policy_id);
    if (policy.call.status == 404)
        co_return step_outcome::give_up("the configured emergency policy " + ctx.tenant.emergency_policy_id +
                                        " does not exist");
    if (!policy.ok()) co_return failure(policy.call, "reading the emergency policy");
    ctx.db.add_evidence(ctx.incident.id, ctx.step.seq, "conditional_access_policy", ctx.tenant.emergency_policy_id,
                        policy.value);
    co_return step_outcome::success({{"state", policy.value.value("state", "")}});
}

task<step_outcome> enable_emergency_policy(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    // Who is blocked and who stays out, from the plan (UPNs), mapped to object ids.
    const json scope = ctx.incident.plan.value("scope", json::object());
    const bool all_users = scope.value("all_users", false);
    std::vector<std::string> include, exclude;
    for (const auto& upn : scope.value("include_users", std::vector<std::string>{})) include.push_back(object_id_of(ctx, upn));
    for (const auto& upn : scope.value("exclude_users", std::vector<std::string>{})) {
        auto user = co_await graph::get_user(c, upn);
        if (!user.ok()) co_return failure(user.call, "resolving break-glass account " + upn);
        exclude.push_back(user.value.id);
    }
    const auto exclude_locations = scope.value("exclude_locations", std::vector<std::string>{});

    // Find the policy: the configured one, or the one an earlier attempt created.
    std::string policy_id = ctx.tenant.emergency_policy_id;
    json current;
    if (policy_id.empty()) {
        auto policies = co_await graph::list_ca_policies(c);
        if (!policies.ok()) co_return failure(policies.call, "listing Conditional Access policies");
        for (const auto& p : policies.items)
            if (p.value("displayName", "") == policy_name(ctx)) {
                policy_id = p.value("id", "");
                current = p;
            }
    } else {
        auto got = co_await graph::get_ca_policy(c, policy_id);
        if (!got.ok()) co_return failure(got.call, "reading the emergency policy");
        current = got.value;
    }

    // Another incident may already hold the policy enabled: block the union, never fewer.
    if (!all_users && current.value("state", "") == "enabled")
        for (const auto& id : strings_at(current, {"conditions", "users", "includeUsers"}))
            if (!contains(include, id) && id != "None") include.push_back(id);
    std::vector<std::string> kept_exclusions;
    for (const auto& id : exclude)
        if (!contains(include, id)) kept_exclusions.push_back(id);
    if (kept_exclusions.empty() && !ctx.request.options.override_lockout_guard)
        co_return step_outcome::give_up(
            "refusing to enable the block: no uncompromised break-glass account would stay excluded");

    const json users = {{"includeUsers", all_users ? json::array({"All"}) : json(include)},
                        {"excludeUsers", kept_exclusions},
                        {"includeGroups", json::array()},
                        {"excludeGroups", json::array()}};
    const json desired = {
        {"displayName", policy_name(ctx)},
        {"state", "enabled"},
        {"conditions",
         {{"users", users},
          {"applications", {{"includeApplications", {"All"}}, {"excludeApplications", json::array()}}},
          {"clientAppTypes", {"all"}},
          {"platforms", {{"includePlatforms", {"all"}}, {"excludePlatforms", json::array()}}},
          {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", exclude_locations}}}}},
        {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
    ctx.db.record_intent(ctx.incident.id, ctx.step.seq, {{"policy", desired}, {"policy_id", policy_id}});

    if (policy_id.empty()) {
        auto created = co_await graph::create_ca_policy(c, desired);
        if (!created.ok()) co_return failure(created.call, "creating the emergency policy");
        policy_id = created.value.value("id", "");
    } else {
        auto patched = co_await graph::patch_ca_policy(c, policy_id, desired);
        if (!patched.ok()) co_return failure(patched.call, "enabling the emergency policy");
    }

    // Read back: the containment time is when Graph shows the policy enabled with our scope.
    auto back = co_await graph::get_ca_policy(c, policy_id);
    if (!back.ok()) co_return failure(back.call, "reading the emergency policy back");
    const json& p = back.value;
    const auto got_include = strings_at(p, {"conditions", "users", "includeUsers"});
    const auto got_exclude = strings_at(p, {"conditions", "users", "excludeUsers"});
    const auto got_locations = strings_at(p, {"conditions", "locations", "excludeLocations"});
    std::vector<std::string> problems;
    if (p.value("state", "") != "enabled") problems.push_back("state is " + p.value("state", "?"));
    for (const auto& id : include)
        if (!all_users && !contains(got_include, id)) problems.push_back("user " + id + " is not included");
    for (const auto& id : got_exclude)
        if (contains(include, id)) problems.push_back("compromised user " + id + " is excluded");
    for (const auto& id : exclude_locations)
        if (!contains(got_locations, id)) problems.push_back("named location " + id + " is not excluded");
    if (!contains(strings_at(p, {"grantControls", "builtInControls"}), "block")) problems.push_back("grant is not block");
    if (!problems.empty()) {
        std::string text;
        for (const auto& x : problems) text += (text.empty() ? "" : "; ") + x;
        co_return step_outcome::failed(503, "the policy read back differs from what was set: " + text);
    }
    const time_point at = ctx.clock.now();
    ctx.db.set_contained_at(ctx.incident.id, at);
    co_return step_outcome::success({{"policy_id", policy_id},
                                     {"state", "enabled"},
                                     {"include_users", all_users ? json::array({"All"}) : json(include)},
                                     {"exclude_users", kept_exclusions},
                                     {"exclude_locations", exclude_locations},
                                     {"contained_at", format_rfc3339(at)}});
}

}  // namespace containd::runners::detail
