#include "runners/policy_keeper.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/time.hpp"
#include "graph/api.hpp"
#include "graph/client.hpp"
#include "runners/common.hpp"
#include "store/store.hpp"

namespace containd::runners {
namespace {

using detail::contains;
using detail::strings_at;
using nlohmann::json;

// `expected` with `patch` merged in (a PATCH changes only the properties it names).
json merged(json expected, const json& patch) {
    expected.merge_patch(patch);
    return expected;
}

}  // namespace

std::string emergency_policy_name(const std::string& tenant) { return "containd emergency block (" + tenant + ")"; }

std::vector<std::string> policy_differences(const json& expected, const json& actual) {
    std::vector<std::string> out;
    const std::string want_state = expected.value("state", "");
    if (!want_state.empty() && actual.value("state", "") != want_state)
        out.push_back("state is " + actual.value("state", "?") + ", not " + want_state);
    const auto got_include = strings_at(actual, {"conditions", "users", "includeUsers"});
    for (const auto& id : strings_at(expected, {"conditions", "users", "includeUsers"}))
        if (!contains(got_include, id) && !contains(got_include, "All"))
            out.push_back("user " + id + " is not included");
    const auto got_exclude = strings_at(actual, {"conditions", "users", "excludeUsers"});
    const auto want_exclude = strings_at(expected, {"conditions", "users", "excludeUsers"});
    for (const auto& id : got_exclude)
        if (!contains(want_exclude, id)) out.push_back("user " + id + " is excluded");
    for (const auto& id : want_exclude)
        if (!contains(got_exclude, id)) out.push_back("user " + id + " is no longer excluded");
    const auto got_locations = strings_at(actual, {"conditions", "locations", "excludeLocations"});
    for (const auto& id : strings_at(expected, {"conditions", "locations", "excludeLocations"}))
        if (!contains(got_locations, id)) out.push_back("named location " + id + " is not excluded");
    const auto want_grant = strings_at(expected, {"grantControls", "builtInControls"});
    const auto got_grant = strings_at(actual, {"grantControls", "builtInControls"});
    for (const auto& control : want_grant)
        if (!contains(got_grant, control)) out.push_back("grant control " + control + " is missing");
    return out;
}

std::optional<policy_keeper::snapshot> policy_keeper::standing(const std::string& tenant) const {
    auto it = policies_.find(tenant);
    if (it == policies_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> policy_keeper::remember_read(const std::string& tenant, snapshot read) {
    std::vector<std::string> drift;
    if (auto it = policies_.find(tenant); it != policies_.end() && it->second.policy_id == read.policy_id)
        drift = policy_differences(it->second.policy, read.policy);
    policies_[tenant] = std::move(read);
    return drift;
}

void policy_keeper::remember_write(const std::string& tenant, const std::string& policy_id, const json& written,
                                   time_point at) {
    auto& s = policies_[tenant];
    s.policy = s.policy_id == policy_id ? merged(s.policy, written) : written;
    s.policy_id = policy_id;
    s.read_at = at;
}

std::optional<std::string> policy_keeper::break_glass_id(const std::string& tenant, const std::string& upn) const {
    auto it = break_glass_.find({tenant, upn});
    if (it == break_glass_.end()) return std::nullopt;
    return it->second;
}

void policy_keeper::remember_break_glass(const std::string& tenant, const std::string& upn,
                                         const std::string& object_id) {
    break_glass_[{tenant, upn}] = object_id;
}

boost::asio::awaitable<policy_refresh> refresh_policy(policy_keeper& keeper, graph::client& graph,
                                                      const incident::tenant_settings& tenant, store::store& db,
                                                      const clock_source& clock) {
    policy_refresh out;
    // The break-glass accounts' ids, for the block's exclusions (not Conditional Access: no pacing).
    for (const auto& upn : tenant.break_glass_upns) {
        if (keeper.break_glass_id(tenant.name, upn)) continue;
        auto user = co_await graph::get_user(graph, upn);
        if (user.ok()) keeper.remember_break_glass(tenant.name, upn, user.value.id);
    }
    policy_keeper::snapshot read;
    if (!tenant.emergency_policy_id.empty()) {
        auto got = co_await graph::get_ca_policy(graph, tenant.emergency_policy_id);
        if (!got.ok()) {
            out.failed = std::move(got.call);
            co_return out;
        }
        read.policy_id = tenant.emergency_policy_id;
        read.policy = std::move(got.value);
    } else {
        auto all = co_await graph::list_ca_policies(graph);
        if (!all.ok()) {
            out.failed = std::move(all.call);
            co_return out;
        }
        for (auto& p : all.items)
            if (p.value("displayName", "") == emergency_policy_name(tenant.name)) {
                read.policy_id = p.value("id", "");
                read.policy = std::move(p);
            }
    }
    read.read_at = clock.now();
    const std::string policy_id = read.policy_id;
    out.drift = keeper.remember_read(tenant.name, std::move(read));
    if (!out.drift.empty()) {
        log_event(spdlog::level::warn, "emergency_policy_drift",
                  {{"tenant", tenant.name}, {"policy_id", policy_id}, {"differences", out.drift}});
        for (const auto& id : db.incidents_holding_block(tenant.name, ""))
            db.append_event(id, "block_drift", std::nullopt,
                            {{"policy_id", policy_id}, {"differences", out.drift}, {"found_by", "scheduled read"}});
    }
    co_return out;
}

}  // namespace containd::runners
