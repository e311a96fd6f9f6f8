// The emergency Conditional Access block: snapshot the policy, scope and enable it, read it back;
// and, on an operator's release, take this incident's accounts out of it again.

#include <algorithm>
#include <optional>
#include <set>
#include <variant>

#include "core/log.hpp"
#include "core/time.hpp"
#include "incident/planner.hpp"
#include "runners/common.hpp"
#include "runners/policy_keeper.hpp"

namespace containd::runners::detail {
namespace {

using engine::step_outcome;
using nlohmann::json;

std::vector<std::string> sorted(std::vector<std::string> list) {
    std::sort(list.begin(), list.end());
    return list;
}

std::string policy_name(const engine::step_context& ctx) { return emergency_policy_name(ctx.incident.tenant); }

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

// What the block sets: the policy it changes (and its standing snapshot, the evidence from
// before the change) and the whole policy it writes.
struct block_target {
    policy_keeper::snapshot before;
    std::vector<std::string> include, exclude, exclude_locations;
    bool all_users = false;
    json desired;
};

// The block the incident needs, from containd's own knowledge: its plan's scope (object ids from
// the resolve steps), every other incident holding the block (the store), the users the standing
// snapshot already blocked, and the break-glass exclusions. The policy is read only when there is
// no standing snapshot yet (the first block after start-up, before the tenant check read it).
// A failure comes back as the step's outcome.
task<std::variant<block_target, step_outcome>> target_block(const engine::step_context& ctx, graph::client& c,
                                                            policy_keeper& keeper) {
    block_target t;
    auto before = keeper.standing(ctx.incident.tenant);
    if (!before) {
        const auto read = co_await refresh_policy(keeper, c, ctx.tenant, ctx.db, ctx.clock);
        if (read.failed && read.failed->status == 404 && !ctx.tenant.emergency_policy_id.empty())
            co_return step_outcome::give_up("the configured emergency policy " + ctx.tenant.emergency_policy_id +
                                            " does not exist");
        if (read.failed) co_return failure(*read.failed, "reading the emergency policy");
        before = keeper.standing(ctx.incident.tenant);
    }
    t.before = std::move(*before);

    const json scope = ctx.incident.plan.value("scope", json::object());
    t.all_users = scope.value("all_users", false);
    std::map<std::string, std::string> ids;  // upn -> object id (read once: 1,000 accounts)
    for (const auto& a : ctx.db.accounts(ctx.incident.id))
        if (a.object_id) ids[a.upn] = *a.object_id;
    for (const auto& upn : scope.value("include_users", std::vector<std::string>{})) {
        auto it = ids.find(upn);
        t.include.push_back(it == ids.end() ? upn : it->second);
    }
    for (const auto& upn : scope.value("exclude_users", std::vector<std::string>{})) {
        auto id = keeper.break_glass_id(ctx.incident.tenant, upn);
        if (!id) {
            auto user = co_await graph::get_user(c, upn);
            if (!user.ok()) co_return failure(user.call, "resolving break-glass account " + upn);
            keeper.remember_break_glass(ctx.incident.tenant, upn, user.value.id);
            id = user.value.id;
        }
        t.exclude.push_back(*id);
    }
    t.exclude_locations = scope.value("exclude_locations", std::vector<std::string>{});

    // Block the union, never fewer: other incidents' accounts, and whoever the policy already
    // blocked when last read (another daemon's or an administrator's entries).
    if (!t.all_users) {
        const held_scope held = held_by_others(ctx);
        for (const auto& id : held.ids)
            if (!contains(t.include, id)) t.include.push_back(id);
        if (t.before.policy.value("state", "") == "enabled")
            for (const auto& id : strings_at(t.before.policy, {"conditions", "users", "includeUsers"}))
                if (!contains(t.include, id) && id != "None" && id != "All") t.include.push_back(id);
    }
    std::erase_if(t.exclude, [&](const std::string& id) { return contains(t.include, id); });
    if (t.exclude.empty() && !ctx.request.options.override_lockout_guard)
        co_return step_outcome::give_up(
            std::string(incident::lockout_guard_refusal) +
            ": no uncompromised break-glass account would stay excluded, so the block could lock the IR team out. "
            "The other steps go ahead; to accept the risk, POST /v1/incidents/" +
            ctx.incident.id + "/override-guard with a reason");

    const json users = {{"includeUsers", t.all_users ? json::array({"All"}) : json(t.include)},
                        {"excludeUsers", t.exclude},
                        {"includeGroups", json::array()},
                        {"excludeGroups", json::array()}};
    t.desired = {{"displayName", policy_name(ctx)},
                 {"state", "enabled"},
                 {"conditions",
                  {{"users", users},
                   {"applications", {{"includeApplications", {"All"}}, {"excludeApplications", json::array()}}},
                   {"clientAppTypes", {"all"}},
                   {"platforms", {{"includePlatforms", {"all"}}, {"excludePlatforms", json::array()}}},
                   {"locations", {{"includeLocations", {"All"}}, {"excludeLocations", t.exclude_locations}}}}},
                 {"grantControls", {{"operator", "OR"}, {"builtInControls", {"block"}}}}};
    co_return t;
}

// Sends the block: PATCH (POST when containd has no policy yet). The policy's id, or the failure.
task<std::variant<std::string, step_outcome>> send_block(const engine::step_context& ctx, graph::client& c,
                                                         policy_keeper& keeper, block_target t) {
    std::string policy_id = t.before.policy_id;
    if (policy_id.empty()) {
        auto created = co_await graph::create_ca_policy(c, t.desired);
        if (!created.ok()) co_return failure(created.call, "creating the emergency policy");
        policy_id = created.value.value("id", "");
    } else {
        auto patched = co_await graph::patch_ca_policy(c, policy_id, t.desired);
        if (!patched.ok()) co_return failure(patched.call, "enabling the emergency policy");
    }
    keeper.remember_write(ctx.incident.tenant, policy_id, t.desired, ctx.clock.now());
    co_return policy_id;
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

// The critical path's block: one PATCH. The containment time is when Graph accepted it; the
// read-back (confirm_block) follows off the critical path.
task<step_outcome> enable_emergency_policy(const engine::step_context& ctx, graph::client& c,
                                           const runner_settings& settings) {
    policy_keeper& keeper = *settings.policies;
    auto targeted = co_await target_block(ctx, c, keeper);
    if (auto* failed = std::get_if<step_outcome>(&targeted)) co_return std::move(*failed);
    const auto* target = &std::get<block_target>(targeted);
    // The evidence of the policy before this incident changed it: the standing snapshot, kept
    // once (a re-run after a crash must not replace it with our own change).
    if (!target->before.policy_id.empty() && !policy_snapshot(ctx))
        ctx.db.add_evidence(ctx.incident.id, ctx.step.seq, "conditional_access_policy", target->before.policy_id,
                            target->before.policy);
    ctx.db.record_intent(ctx.incident.id, ctx.step.seq,
                         {{"policy", target->desired}, {"policy_id", target->before.policy_id}});
    auto sent = co_await send_block(ctx, c, keeper, *target);
    if (auto* failed = std::get_if<step_outcome>(&sent)) co_return std::move(*failed);
    const auto* policy_id = &std::get<std::string>(sent);
    const time_point at = ctx.clock.now();
    ctx.db.set_contained_at(ctx.incident.id, at);
    co_return step_outcome::success(
        {{"policy_id", *policy_id},
         {"state", "enabled"},
         {"include_users", target->all_users ? json::array({"All"}) : json(target->include)},
         {"exclude_users", target->exclude},
         {"exclude_locations", target->exclude_locations},
         {"snapshot_read_at", format_rfc3339(target->before.read_at)},
         {"contained_at", format_rfc3339(at)}});
}

// The block's read-back, beside the revocations: Graph shows the policy enabled with this
// incident's scope, or someone changed it since (another daemon, an administrator) and the block
// is sent again; the next attempt reads it back again.
task<step_outcome> confirm_block(const engine::step_context& ctx, graph::client& c, const runner_settings& settings) {
    policy_keeper& keeper = *settings.policies;
    for (const auto& s : ctx.db.steps(ctx.incident.id))
        if (s.kind == incident::step_kind::release_block && s.status == store::step_status::succeeded)
            co_return step_outcome::success({{"outcome", "released before the read-back"}});
    const std::string policy_id = enabled_policy_id(ctx);
    if (policy_id.empty()) co_return step_outcome::give_up("the incident has no enabled emergency policy to read back");
    auto back = co_await graph::get_ca_policy(c, policy_id);
    if (!back.ok()) co_return failure(back.call, "reading the emergency policy back");
    keeper.remember_read(ctx.incident.tenant, {policy_id, back.value, ctx.clock.now()});

    auto targeted = co_await target_block(ctx, c, keeper);
    if (auto* failed = std::get_if<step_outcome>(&targeted)) co_return std::move(*failed);
    auto& target = std::get<block_target>(targeted);
    const auto differences = policy_differences(target.desired, back.value);
    if (differences.empty())
        co_return step_outcome::success({{"policy_id", policy_id}, {"confirmed_at", format_rfc3339(ctx.clock.now())}});

    // Someone else wrote the policy after our PATCH: put the block back, and read it again.
    ctx.db.append_event(ctx.incident.id, "block_drift", ctx.step.seq,
                        {{"policy_id", policy_id}, {"differences", differences}, {"found_by", "read-back"}});
    log_event(spdlog::level::warn, "emergency_policy_drift",
              {{"tenant", ctx.incident.tenant}, {"incident", ctx.incident.id}, {"differences", differences}});
    target.before.policy_id = policy_id;
    auto resent = co_await send_block(ctx, c, keeper, std::move(target));
    if (auto* failed = std::get_if<step_outcome>(&resent)) co_return std::move(*failed);
    std::string text;
    for (const auto& x : differences) text += (text.empty() ? "" : "; ") + x;
    co_return step_outcome::failed(503, "the policy read back differed from the block (" + text +
                                            "): the block was sent again and will be read back again");
}

task<step_outcome> release_block(const engine::step_context& ctx, graph::client& c, const runner_settings& settings) {
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
    settings.policies->remember_read(ctx.incident.tenant, {policy_id, back.value, ctx.clock.now()});
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
