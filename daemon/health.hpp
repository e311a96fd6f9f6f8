#pragma once
// Tenant health: at start-up and every few minutes, per tenant, a preflight of what an incident
// will need, so a broken credential shows before an incident stalls on it:
//
//   token      a fresh access token (expired or wrong secret, revoked certificate, untrusted or
//              unreachable login endpoint: the gap names which)
//   roles      the token's `roles` claim against the Graph application permissions any plan
//              can need (a dry-run plan of an incident that uses every step kind lists them);
//              an opaque (non-JWT) token cannot be read and is reported, not counted as a gap
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
#include "graph/token_source.hpp"

namespace containd::daemon {

struct tenant_check_row {
    std::string check;   // "token", "roles"
    bool ok = true;
    std::string detail;  // never a secret or a token
};

struct tenant_check {
    std::string tenant;
    bool healthy = true;
    std::vector<std::string> gaps;  // "token: ...", "permission: ..."
    std::vector<tenant_check_row> rows;
    time_point checked_at{};
    bool token_failed = false;

    nlohmann::json to_json() const;
    std::string table() const;  // for --check-tenant
};

// The Graph application permissions a plan of this tenant can need (every step kind).
std::set<std::string> required_permissions(const incident::tenant_settings& tenant);
// The `roles` claim of a JWT access token; nullopt when the token is not a readable JWT.
std::optional<std::vector<std::string>> token_roles(std::string_view token);

// One preflight. Forces a fresh token (the cached one may predate a revoked credential).
boost::asio::awaitable<tenant_check> check_tenant(graph::token_source& tokens, const config::tenant_config& tenant,
                                                  const clock_source& clock);

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
};

}  // namespace containd::daemon
