#pragma once
// Sign-in verification (pure): what the logs say since containment, summarised by account and
// IP, and the diagnosis of DOMAIN.md step 7. No I/O: the runner reads the logs, this decides.
//
// The rules, for sign-ins at or after the containment time by a compromised account or a
// malicious app (a "subject"):
//   - a success by a service principal after its credentials were removed and it was disabled:
//     persistence that revocation does not affect (attention);
//   - a success by the service principal of an app NOT named in the incident from an attacker
//     IP: persistence (an unreported app or a second secret) (attention), one line per app;
//   - a user success with conditionalAccessStatus "notApplied": the policy's scope misses that
//     user or app (attention);
//   - a user success within 15 minutes of containment and none later: CAE (or the block) cut the
//     sessions;
//   - a user success between +15 and +60 and none later: a non-CAE application held an unexpired
//     token until it expired;
//   - a user success after +60: persistence (a second secret, an unknown app) (attention);
//   - failures with 53003 from attacker IPs: the block works;
//   - a 53003 failure of the IR team (an IR named-location IP or an uncompromised break-glass
//     account): the exclusion is wrong; alert at once (attention).
// The final check's verdict is the incident's: "contained" or "attention".

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace containd::verify {

enum class signin_source { interactive, non_interactive, service_principal };

struct signin {
    time_point at;
    signin_source source = signin_source::interactive;
    std::string upn;           // lower-case; empty for service-principal sign-ins
    std::string app_id;        // the client application's appId
    std::string app_name;
    std::string ip;
    int error_code = 0;        // 0 is success
    std::string ca_status;     // conditionalAccessStatus: success | failure | notApplied | ...
};

struct check_context {
    time_point contained_at;
    duration offset{};                      // this check: +15m, +30m, +60m
    bool final_check = false;
    std::vector<std::string> upns;          // compromised accounts (lower-case)
    std::vector<std::string> app_ids;       // malicious apps
    std::vector<std::string> attacker_ips;
    std::vector<std::string> ir_cidrs;      // the IR named locations' IP ranges
    std::vector<std::string> protected_upns;  // uncompromised break-glass accounts
    std::optional<time_point> apps_contained_at;  // when app credentials were removed (if done)
};

struct finding {
    std::string subject;  // a UPN, or "app:<appId>"
    std::string ip;
    int successes = 0;
    int failures = 0;
    std::vector<std::string> fail_codes;  // distinct, sorted
    std::optional<time_point> last_success;
};

struct check_result {
    std::string verdict;  // "contained" or "attention"
    std::vector<finding> findings;
    std::vector<std::string> diagnosis;  // human sentences, most serious first
    std::vector<std::string> causes;     // machine tags: cae, non_cae_token, persistence, scope_gap, ir_lockout, block_works
};

check_result analyse(const check_context& context, const std::vector<signin>& signins);

// True when ip falls in any of the CIDR ranges (IPv4 and IPv6).
bool ip_in_ranges(const std::string& ip, const std::vector<std::string>& cidrs);

nlohmann::json to_json(const check_result& r);

}  // namespace containd::verify
