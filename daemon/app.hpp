#pragma once
// The daemon's wiring: configuration in, a running containd out. One io_context on one thread
// runs the API, the engine and every Graph call (the store is single-threaded by design).
//
// Start-up order matters: the store is opened (and migrated) and unfinished incidents are
// recovered before the API accepts a request, so /readyz turns 200 only when the engine is
// carrying every incident it owns. Shutdown is the reverse: stop accepting, drain in-flight
// requests, stop the engine (in-flight attempts are re-run after the next start), close.

#include <functional>
#include <string>

#include "config/config.hpp"

namespace containd::daemon {

// What the daemon prints once it listens (one JSON line on stdout; scripts wait for it).
struct ready_info {
    std::string api_url;
    std::string simulator_url;  // empty unless the embedded simulated tenant runs
    std::size_t recovered = 0;  // unfinished incidents resumed at start-up
};

// Runs until SIGTERM or SIGINT. Returns the process exit code. Throws std::runtime_error for a
// start-up failure whose message is safe to print (never a secret).
int run(const config::daemon_config& config, const std::function<void(const ready_info&)>& on_ready);

// `containd --check-tenant NAME`: one preflight of the tenant (daemon/health.hpp), printed as a
// table on stdout. Returns 0 when healthy, 3 on a gap, 2 for an unknown tenant.
int check_tenant(const config::daemon_config& config, const std::string& tenant);

}  // namespace containd::daemon
