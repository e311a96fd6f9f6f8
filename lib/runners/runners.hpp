#pragma once
// The real step runners: each step kind of the plan done through Microsoft Graph. Every runner is
// idempotent and reconciles on re-run (it reads upstream state when it cannot be sure, and takes
// "already gone" answers as success), so the engine may run a step again after a crash.

#include <functional>
#include <memory>
#include <string>

#include "engine/runner.hpp"

namespace containd::graph {
class client;
}

namespace containd::runners {

class policy_keeper;

// The Graph client of a configured tenant, by tenant name; nullptr for an unknown tenant.
using graph_lookup = std::function<graph::client*(const std::string& tenant)>;

struct runner_settings {
    int tap_lifetime_minutes = 60;
    std::size_t evidence_sign_in_accounts = 20;  // above this many accounts, skip per-account sign-in evidence
    // Sign-in logs are read at 5 requests per 10 s per app and the block waits for the evidence:
    // per account, only the newest page (up to 1,000 sign-ins) is captured before containment.
    // The logs themselves stay in Entra ID; the report says when the capture was truncated.
    std::size_t evidence_sign_in_pages = 1;
    int evidence_retry_attempts = 3;  // evidence never blocks containment for long
    // The emergency policies' standing snapshots, shared by every runner (and the daemon's tenant
    // check, which refreshes them). make_graph_runners makes one when none is given.
    std::shared_ptr<policy_keeper> policies;
};

engine::runner_table make_graph_runners(graph_lookup lookup, runner_settings settings = {});

}  // namespace containd::runners
