// The emergency Conditional Access block: snapshot the policy, scope and enable it, read it back;
// and, on an operator's release, take this incident's accounts out of it again.

#include <algorithm>
#include <optional>
#include <set>

#include "core/time.hpp"
#include "incident/planner.hpp"
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

std::vector<std::string> sorted(std::vector<std::string> list) {
    std::sort(list.begin(), list.end());
    return list;
}

std::string policy_name(const engine::step_context& ctx) {
    return "containd emergency block (" + ctx.incident.tenant + ")";
}

bool blocks_all_users(const store::incident_record& rec) {
    return rec.plan.is_object() && rec.plan.value("scope", json::object()).value("all_users", false);
}

// The object ids an incident put into the policy: its resolved accounts.
std::vector<std::string> blocked_ids(store::store& db, const std::string& incident_id) {
    std::vector<std::string> out;
    for (const auto& a : db.accounts(incident_id))
        if (a.object_id) out.push_back(*a.object_id);
    return out;
}

// What stays blocked when this incident lets go: the accounts of every other incident whose
// block is still on (one account can be in two incidents), or everyone if one of them is
// tenant-wide.
struct held_scope {
    bool all_users = false;
    std::set<std::string> ids;
};

held_scope held_by_others(const engine::step_context& ctx) {
    held_scope held;
    for (const auto& other : ctx.db.incidents_holding_block(ctx.incident.tenant, ctx.incident.id)) {
        const auto rec = ctx.db.get_incident(other);
        if (rec && blocks_all_users(*rec)) held.all_users = true;
        for (auto& id : blocked_ids(ctx.db, other)) held.ids.insert(std::move(id));
    }
    return held;
}

// The policy as it was before this incident touched it (the evidence snapshot), if taken.
std::optional<json> policy_snapshot(const engine::step_context& ctx) {
    return ctx.db.first_evidence(ctx.incident.id, "conditional_access_policy");
}

std::string enabled_policy_id(const engine::step_context& ctx) {
    for (const auto& s : ctx.db.steps(ctx.incident.id))
        if (s.kind == incident::step_kind::enable_emergency_policy && s.status == store::step_status::succeeded)
            return s.result.value("policy_id", "");
    return {};
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
    for (const auto& upn : scope.value("include_users", std::vector<std::string>{}))
        include.push_back(object_id_of(ctx, upn));
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
        if (got.call.status == 404)
            co_return step_outcome::give_up("the configured emergency policy " + policy_id + " does not exist");
        if (!got.ok()) co_return failure(got.call, "reading the emergency policy");
        current = got.value;
    }
    // The evidence of the policy before this incident changed it: the first read (a re-run after
    // a crash may read our own change, which must not replace the original snapshot).
    if (!policy_id.empty() && !policy_snapshot(ctx))
        ctx.db.add_evidence(ctx.incident.id, ctx.step.seq, "conditional_access_policy", policy_id, current);

    // Another incident may already hold the policy enabled: block the union, never fewer.
    if (!all_users && current.value("state", "") == "enabled")
        for (const auto& id : strings_at(current, {"conditions", "users", "includeUsers"}))
            if (!contains(include, id) && id != "None") include.push_back(id);
    std::vector<std::string> kept_exclusions;
    for (const auto& id : exclude)
        if (!contains(include, id)) kept_exclusions.push_back(id);
    if (kept_exclusions.empty() && !ctx.request.options.override_lockout_guard)
        co_return step_outcome::give_up(
            std::string(incident::lockout_guard_refusal) +
            ": no uncompromised break-glass account would stay excluded, so the block could lock the IR team out. "
            "The other steps go ahead; to accept the risk, POST /v1/incidents/" +
            ctx.incident.id + "/override-guard with a reason");

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
    if (!contains(strings_at(p, {"grantControls", "builtInControls"}), "block"))
        problems.push_back("grant is not block");
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

task<step_outcome> release_block(const engine::step_context& ctx, graph::client& c, const runner_settings&) {
    const std::string policy_id = enabled_policy_id(ctx);
    if (policy_id.empty()) co_return step_outcome::give_up("the incident has no enabled emergency policy to release");
    auto got = co_await graph::get_ca_policy(c, policy_id);
    if (got.call.status == 404)
        co_return step_outcome::success({{"policy_id", policy_id}, {"outcome", "policy no longer exists"}});
    if (!got.ok()) co_return failure(got.call, "reading the emergency policy");
    const json& current = got.value;

    // Take out only what this incident added and nobody else still needs; keep anything else
    // (another incident's accounts, or entries an administrator added by hand).
    const held_scope held = held_by_others(ctx);
    const auto ours = blocked_ids(ctx.db, ctx.incident.id);
    const bool ours_all = blocks_all_users(ctx.incident);
    // released: what this incident lets go of, whatever the policy holds now (an earlier attempt
    // may have sent the same change already).
    std::vector<std::string> include, released;
    if (!held.all_users) {
        if (ours_all) released.push_back("All");
        for (const auto& id : ours)
            if (!held.ids.count(id)) released.push_back(id);
    }
    if (held.all_users) {
        include = {"All"};
    } else {
        for (const auto& id : strings_at(current, {"conditions", "users", "includeUsers"}))
            if (id != "None" && !contains(released, id)) include.push_back(id);
        if (ours_all)  // a tenant-wide block becomes the other incidents' accounts
            for (const auto& id : held.ids)
                if (!contains(include, id)) include.push_back(id);
    }
    json users = current.contains("conditions") && current["conditions"].is_object()
                     ? current["conditions"].value("users", json::object())
                     : json::object();
    json changes = json::object();
    // A policy that blocks nobody goes back to its snapshot from before the incident (DOMAIN.md
    // §9): its name and its exclusions, which the block replaced (its own name; only the
    // break-glass accounts not compromised), and its state: report-only if it was that, else
    // disabled. "None" because Graph requires a users condition.
    std::string state = current.value("state", "");
    json restored = json::object();  // what the snapshot gave back, checked on the read-back
    if (include.empty()) {
        include = {"None"};
        const auto snapshot = policy_snapshot(ctx);
        const std::string before = snapshot ? snapshot->value("state", "") : std::string();
        state = before == "enabledForReportingButNotEnforced" ? before : "disabled";
        if (snapshot && snapshot->is_object()) {
            if (const auto name = snapshot->find("displayName"); name != snapshot->end() && name->is_string())
                restored["displayName"] = *name;
            const json conditions = snapshot->value("conditions", json::object());
            const json before_users = conditions.is_object() ? conditions.value("users", json::object()) : json();
            for (const char* key : {"excludeUsers", "excludeGroups", "excludeRoles"})
                if (before_users.is_object() && before_users.contains(key) && before_users[key].is_array())
                    users[key] = restored[key] = before_users[key];
            const json locations = conditions.is_object() ? conditions.value("locations", json::object()) : json();
            if (locations.is_object() && locations.contains("excludeLocations") &&
                locations["excludeLocations"].is_array()) {
                restored["excludeLocations"] = locations["excludeLocations"];
                changes["conditions"]["locations"] = locations;
            }
        }
        if (restored.contains("displayName")) changes["displayName"] = restored["displayName"];
    }
    users["includeUsers"] = include;
    changes["state"] = state;
    changes["conditions"]["users"] = users;
    ctx.db.record_intent(ctx.incident.id, ctx.step.seq, {{"policy_id", policy_id}, {"changes", changes}});
    auto patched = co_await graph::patch_ca_policy(c, policy_id, changes);
    if (!patched.ok()) co_return failure(patched.call, "releasing the emergency policy");

    auto back = co_await graph::get_ca_policy(c, policy_id);
    if (!back.ok()) co_return failure(back.call, "reading the emergency policy back");
    const auto got_include = strings_at(back.value, {"conditions", "users", "includeUsers"});
    std::vector<std::string> problems;
    if (back.value.value("state", "") != state) problems.push_back("state is " + back.value.value("state", "?"));
    for (const auto& id : released)
        if (contains(got_include, id)) problems.push_back("user " + id + " is still included");
    if (restored.contains("displayName") && back.value.value("displayName", "") != restored.value("displayName", ""))
        problems.push_back("the name is " + back.value.value("displayName", "?"));
    for (const char* key : {"excludeUsers", "excludeGroups", "excludeRoles"})
        if (restored.contains(key) &&
            sorted(strings_at(back.value, {"conditions", "users", key})) != sorted(strings_at(restored, {key})))
            problems.push_back(std::string(key) + " is not what it was before the incident");
    if (restored.contains("excludeLocations") &&
        sorted(strings_at(back.value, {"conditions", "locations", "excludeLocations"})) !=
            sorted(strings_at(restored, {"excludeLocations"})))
        problems.push_back("excludeLocations is not what it was before the incident");
    if (!problems.empty()) {
        std::string text;
        for (const auto& x : problems) text += (text.empty() ? "" : "; ") + x;
        co_return step_outcome::failed(503, "the policy read back differs from the release: " + text);
    }
    json result = {{"policy_id", policy_id},
                   {"state", state},
                   {"released_users", released},
                   {"still_blocked", include == std::vector<std::string>{"None"} ? json::array() : json(include)}};
    if (!restored.empty()) result["restored"] = restored;
    ctx.db.append_event(ctx.incident.id, "block_released", ctx.step.seq, result);
    co_return step_outcome::success(result);
}

}  // namespace containd::runners::detail
