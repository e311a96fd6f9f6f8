#pragma once
// The standing snapshot of each tenant's emergency Conditional Access policy, which containd
// owns. It is read at start-up and on the tenant check's schedule (refresh_policy), and after
// each change (the block's read-back), and it is the block's pre-change evidence: so the block
// on the critical path is one PATCH, with no read-modify-write behind Conditional Access's
// 1 request/s. A read that differs from what containd last saw or wrote is drift (someone else
// edited the policy): refresh_policy logs it and records it on the incidents holding the block;
// the block's read-back (confirm_block) repairs what its incident needs.
//
// It also keeps the break-glass accounts' object ids (the block's exclusions), which do not
// change during an incident. Threading: the engine's executor (one thread), like the runners.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "graph/result.hpp"
#include "incident/planner.hpp"

namespace containd::graph {
class client;
}
namespace containd::store {
class store;
}

namespace containd::runners {

// What containd sets and checks in the emergency policy: state, grant, the users it includes
// and excludes, the locations it excludes. The differences of `actual` from `expected`, one line
// each, empty when it has everything: extra included users are fine (another incident's, or an
// administrator's), a missing one is not.
std::vector<std::string> policy_differences(const nlohmann::json& expected, const nlohmann::json& actual);

class policy_keeper {
public:
    struct snapshot {
        std::string policy_id;  // empty: no emergency policy exists yet (the block creates it)
        nlohmann::json policy;  // as Graph returned it (or as containd last wrote it)
        time_point read_at{};   // when it was read or written
    };

    std::optional<snapshot> standing(const std::string& tenant) const;
    // Keeps a fresh read as the standing snapshot. Returns its differences from the one before
    // (drift: containd's own writes update the snapshot, so what differs was someone else).
    std::vector<std::string> remember_read(const std::string& tenant, snapshot read);
    // Containd's PATCH or POST was accepted: the policy now has what it wrote.
    void remember_write(const std::string& tenant, const std::string& policy_id, const nlohmann::json& written,
                        time_point at);

    std::optional<std::string> break_glass_id(const std::string& tenant, const std::string& upn) const;
    void remember_break_glass(const std::string& tenant, const std::string& upn, const std::string& object_id);

private:
    std::map<std::string, snapshot> policies_;
    std::map<std::pair<std::string, std::string>, std::string> break_glass_;
};

// What a refresh found: the drift (empty when none), or the failed read (which changes nothing;
// the next schedule tries again).
struct policy_refresh {
    std::vector<std::string> drift;
    std::optional<graph::call_result> failed;
};

// Reads the tenant's emergency policy (the configured one, or the one containd created, found
// by name) and keeps it as the standing snapshot; resolves the break-glass accounts not known yet.
// Drift is logged and recorded as a "block_drift" event on every incident holding the block.
boost::asio::awaitable<policy_refresh> refresh_policy(policy_keeper& keeper, graph::client& graph,
                                                      const incident::tenant_settings& tenant, store::store& db,
                                                      const clock_source& clock);

// The name of the policy containd creates when none is configured.
std::string emergency_policy_name(const std::string& tenant);

}  // namespace containd::runners
