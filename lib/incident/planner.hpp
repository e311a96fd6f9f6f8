#pragma once
// The planner: incident + tenant settings + directory facts -> the ordered plan of steps.
// Pure (no I/O): the same inputs always give the same plan, so it can be printed (dry run),
// stored, and re-derived after the resolve phase has learned the directory facts.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "incident/model.hpp"

namespace containd::incident {

// What the daemon's configuration says about one tenant.
struct tenant_settings {
    std::string name;
    std::string emergency_policy_id;              // empty: the block step creates the policy
    std::vector<std::string> ir_named_locations;  // named-location ids excluded from the block
    // Not configured: the IP ranges of those named locations as the tenant's last health check
    // read them (empty until it has). An attacker IP inside one is a plan warning.
    std::vector<std::string> ir_location_ranges;
    std::vector<std::string> break_glass_upns;  // lower-case
    std::vector<duration> verification_offsets = {minutes(15), minutes(30), minutes(60)};
    std::size_t tap_threshold = 10;  // more accounts than this: TAP delivery
    // Verification (DOMAIN.md step 7): a check at T has settled the sign-in window only up to
    // T - ingestion_allowance; an attacker token issued after revocation + propagation is a miss;
    // a token issued before it may be used up to max_token_lifetime (90 min by default, longer
    // under a token-lifetime policy).
    duration ingestion_allowance = minutes(10);
    duration revocation_propagation = minutes(15);
    duration max_token_lifetime = minutes(90);
};

// What the resolve phase learned about one account (absent before it has run).
struct directory_facts {
    std::string object_id;
    std::vector<std::string> admin_roles;  // display names of directory roles held
    bool on_premises_sync = false;
    bool passwordless = false;  // no password-based sign-in in use
};

struct planned_account {
    std::string upn;
    tier assigned_tier = tier::standard;
    std::string tier_reason;  // "declared by the SOC", "holds Exchange Administrator", "configured break-glass account"
    method_cleanup cleanup = method_cleanup::targeted;  // resolved: complete or targeted
    bool synced = false;
    // Gets a Temporary Access Pass (complete cleanup, TAP delivery, passwordless): issued when an
    // operator reveals it (or re-issues it), not at containment, so it is fresh when the user has
    // it (DOMAIN.md, "Temporary Access Pass workflow").
    bool tap = false;
};

// One idempotent unit of work. Steps run by stage: a step may start once every step of a lower
// stage has succeeded and its depends_on step (if any) has succeeded. Stages never decrease
// with seq. Verification steps carry their offset in params.offset_ms.
struct planned_step {
    int seq = 0;  // 1-based, plan order
    phase step_phase = phase::resolve;
    int stage = 0;
    step_kind kind = step_kind::resolve_account;
    std::string target;              // a UPN, an app id, a policy id, or "+15m" for a check
    std::optional<int> depends_on;   // seq of a step that must succeed first (revoke after reset)
    bool requires_approval = false;  // waits for an operator; does not hold back later stages
    nlohmann::json params = nlohmann::json::object();
    std::vector<std::string> graph_calls;  // what it will send, for the dry run ("PATCH /users/{id}")
};

struct policy_scope {
    bool all_users = false;                  // tenant-wide incident
    std::vector<std::string> include_users;  // compromised accounts (UPNs; ids once resolved)
    std::vector<std::string> exclude_users;  // uncompromised break-glass accounts
    std::vector<std::string> exclude_locations;
};

struct plan {
    std::vector<planned_account> accounts;
    policy_scope scope;
    credential_delivery delivery = credential_delivery::password;
    std::vector<planned_step> steps;
    std::vector<std::string> warnings;     // synced accounts, guard overridden, ...
    std::vector<std::string> permissions;  // Graph application permissions the plan needs
};

struct refusal {
    std::vector<std::string> reasons;
};

using plan_result = std::variant<plan, refusal>;

// How the block step's error begins when the break-glass lockout guard refused it (no
// uncompromised break-glass account would stay excluded, and nobody overrode the guard). The
// guard holds back only the block, never the resets (DOMAIN.md §9): the scheduler lets the rest
// of the plan run past such a failure, and an operator's override runs the block again.
inline constexpr std::string_view lockout_guard_refusal = "the break-glass lockout guard refused the block";

// facts: keyed by lower-case UPN; accounts without facts are planned from what was declared.
plan_result make_plan(const incident_request& request, const tenant_settings& tenant,
                      const std::map<std::string, directory_facts>& facts);

nlohmann::json to_json(const plan& p);

}  // namespace containd::incident
