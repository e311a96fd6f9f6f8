#pragma once
// Tenant health: at start-up and every few minutes, per tenant, a preflight of what an incident
// will need, so a broken credential shows before an incident stalls on it:
//
//   token      a fresh access token (expired or wrong secret, revoked certificate, untrusted or
//              unreachable login endpoint: the gap names which)
//   roles      the token's `roles` claim against the Graph application permissions any plan
//              can need (a dry-run plan of an incident that uses every step kind lists them);
//              an opaque (non-JWT) token cannot be read and is reported, not counted as a gap
//   directory role
//              the directory roles of the app's service principal: resetting a password in
//              app-only mode needs one (graph-api.md §3.2), and only Privileged Authentication
//              Administrator or Global Administrator may reset accounts that hold an admin role;
//              without either, a gap
//   credential the endDateTime of the secret or certificate containd presents, from its
//              application object: a gap once expired, a warning (not a gap) within 30 days
//   IR named locations
//              the named locations the block excludes (ir_named_locations): one that does not
//              exist is a gap (Graph refuses a policy that names it); the IP ranges of the others
//              go to the engine, whose plans warn of an attacker IP inside one
//
// A read that Graph refuses (or that fails) is a warning row saying the check did not run, never
// a crash and never a silent pass.
//
// Results go to /readyz (per tenant), /metrics, the notifier (a change is a tenant_health
// webhook) and `containd --check-tenant NAME` (a table; non-zero exit on a gap).
//
// Threading: the daemon's io thread (the token sources' executor).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "graph/api.hpp"
#include "graph/token_source.hpp"
#include "tenants.hpp"

namespace containd::daemon {

struct tenant_check_row {
    std::string check;     // "token", "roles", "directory role", "credential", "IR named locations"
    bool ok = true;        // false: a gap, or a check that could not run for lack of a token
    bool warning = false;  // ok, but a human should look (expiring soon, could not be checked)
    std::string detail;    // never a secret or a token
};

struct tenant_check {
    std::string tenant;
    bool healthy = true;
    std::vector<std::string> gaps;      // "token: ...", "permission: ...", "directory role: ...", "credential: ..."
    std::vector<std::string> warnings;  // reported; the tenant stays ready
    std::vector<tenant_check_row> rows;
    time_point checked_at{};
    bool token_failed = false;
    std::optional<time_point> credential_expires;                // endDateTime of the credential containd presents
    std::optional<std::vector<std::string>> ir_location_ranges;  // when the IR named locations were read

    nlohmann::json to_json() const;
    std::string table() const;  // for --check-tenant
};

// The Graph application permissions a plan of this tenant can need (every step kind).
std::set<std::string> required_permissions(const incident::tenant_settings& tenant);
// The `roles` claim of a JWT access token; nullopt when the token is not a readable JWT.
std::optional<std::vector<std::string>> token_roles(std::string_view token);

// One finding of the Graph-read checks: its row, and what it adds to the gaps or warnings.
struct preflight_finding {
    tenant_check_row row;
    std::optional<std::string> gap;
    std::optional<std::string> warning;
    std::optional<time_point> credential_expires;
    std::optional<std::vector<std::string>> ir_location_ranges;
};
// From the directory roles of the app's service principal (or the failed read).
preflight_finding directory_role_finding(const graph::list_reply<graph::directory_role>& read);
// Closer than this to its endDateTime, the credential is a warning.
inline constexpr duration credential_warning_window = std::chrono::hours(24 * 30);
// From the app's application object (or the failed read; nullopt: no application object in this
// tenant): the credential containd presents (own), else the soonest of that kind.
preflight_finding credential_finding(const graph::reply<std::optional<graph::application_info>>& read,
                                     const credential_identity& own, time_point now);

// From the tenant's named locations (or the failed read): whether each configured IR named
// location exists, and their IP ranges (CIDR).
preflight_finding named_locations_finding(const graph::list_reply<nlohmann::json>& read,
                                          const std::vector<std::string>& configured);

// One preflight. Forces a fresh token (the cached one may predate a revoked credential), then
// reads through `graph` (whose token source it is).
boost::asio::awaitable<tenant_check> check_tenant(graph::client& graph, credential_identity own,
                                                  const config::tenant_config& tenant, const clock_source& clock);

// The latest check of every tenant, and counters for /metrics.
class tenant_health {
public:
    void record(const tenant_check& c);
    std::optional<tenant_check> find(const std::string& tenant) const;
    bool all_healthy() const;  // tenants not checked yet count as healthy
    nlohmann::json to_json() const;
    std::string metrics() const;

private:
    std::map<std::string, tenant_check> latest_;
    std::map<std::string, std::uint64_t> token_failures_, checks_;
    std::map<std::string, time_point> credential_expires_;  // the last one read (a failed read keeps it)
};

}  // namespace containd::daemon
