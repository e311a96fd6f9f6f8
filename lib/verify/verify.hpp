#pragma once
// Sign-in verification (pure): what the logs say about the attacker since containment, and the
// verdict of DOMAIN.md step 7. No I/O: the runner reads the logs, this decides.
//
// What sign-in logs can and cannot show decides everything here:
//   - A sign-in record is a token being *issued*, not a token being used. A token issued before
//     the revocation keeps working until it expires (non-CAE) or until continuous access
//     evaluation cuts it (CAE, within about 15 min); the logs show neither. So the attacker's last
//     success before propagation opens a *residual exposure window* per account (or app), client
//     app and IP. It is observed to end only when that client comes back for a new token and is
//     refused (it no longer had a usable token); otherwise its end is bounded by the tenant's
//     maximum access-token lifetime (90 min by default, longer under a token-lifetime policy),
//     and stated as "at the latest", never as "it has expired since".
//   - Records arrive late: a check at `now` has settled the window only up to now minus the
//     ingestion allowance. "No success seen" in the unsettled tail is not evidence of anything;
//     a success seen there is.
//   - Any attacker success after propagation (the account's revocation + `propagation`, or for a
//     named malicious app the removal of its credentials) is a token newly issued to the attacker
//     through a path the block or the revocation misses: attention at once, with the path
//     diagnosed from what the record says (conditionalAccessStatus, an excluded IR location, a
//     legacy protocol, a service principal, an unknown app).
//   - An app or an account the incident does not name, seen from an attacker IP: attention at once.
//     An attacker IP inside an excluded IR named location: attention (the block cannot apply there).
//     The IR team blocked (53003 from an IR location or an uncompromised break-glass account):
//     the exclusion is wrong, attention at once.
//   - The verdict is "contained" only when the check has settled the window through
//     contained_at + horizon with no attacker success after propagation and every residual
//     window has ended; "attention" when anything above needs a human; otherwise "verifying",
//     with the time of the confirmation check that can decide (confirm_at).
// Duplicate records (Microsoft publishes some twice) are dropped by `id`, then by
// `correlationId` with the same time, subject, app and outcome.

#include <map>
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
    std::string id;              // the record's id (dedup)
    std::string correlation_id;  // dedup of republished records
    std::string upn;             // lower-case; empty for service-principal sign-ins
    std::string app_id;          // the client application's appId
    std::string app_name;
    std::string ip;
    std::string client_app;  // clientAppUsed: Browser, IMAP, ...
    int error_code = 0;      // 0 is success
    std::string ca_status;   // conditionalAccessStatus: success | failure | notApplied | ...
};

struct check_context {
    time_point contained_at;
    time_point now;                                // when the check read the logs
    duration offset{};                             // this check: +15m, +30m, +60m, or a confirmation
    duration horizon = minutes(60);                // "contained" needs the window settled through here
    duration allowance = minutes(10);              // ingestion allowance: the unsettled tail
    duration propagation = minutes(15);            // revocation + this: a new attacker token is a miss
    duration max_token_lifetime = minutes(90);     // the tenant's longest access-token lifetime
    std::vector<std::string> upns;                 // compromised accounts (lower-case)
    std::map<std::string, time_point> revoked_at;  // per compromised account: its last revocation
    std::vector<std::string> app_ids;              // malicious apps
    std::vector<std::string> attacker_ips;
    std::vector<std::string> ir_cidrs;            // the IR named locations' IP ranges (excluded from the block)
    std::vector<std::string> protected_upns;      // uncompromised break-glass accounts
    std::optional<time_point> apps_contained_at;  // when app credentials were removed (if done)
    std::vector<std::string> confirm_with_user;   // e.g. methods kept on standard accounts
};

struct finding {
    std::string subject;  // a UPN, or "app:<appId>"
    std::string ip;
    int successes = 0;
    int failures = 0;
    std::vector<std::string> fail_codes;  // distinct, sorted
    std::optional<time_point> last_success;
};

// The attacker's access that sign-in logs cannot see end: a token issued before propagation.
struct residual_window {
    std::string subject;  // a UPN, or "app:<appId>"
    std::string app_id, app_name, ip, client_app;
    time_point opened;   // the attacker's last token issuance before propagation
    time_point ends;     // refused_at, or opened + max_token_lifetime
    std::string basis;   // "refused" (observed) | "max_lifetime" (a bound)
    bool ended = false;  // ends <= now
    std::optional<time_point> refused_at;
    int refused_code = 0;
};

struct check_result {
    std::string verdict;  // "contained", "verifying" or "attention"
    time_point settled_through;
    int records = 0;            // after de-duplication
    int duplicates = 0;         // dropped
    int unsettled_records = 0;  // in (settled_through, now]
    int unsettled_attacker_successes = 0;
    std::vector<finding> findings;
    std::vector<residual_window> windows;
    std::optional<time_point> confirm_at;  // verdict "verifying": when to check again
    std::vector<std::string> attention;    // what needs a human now (most serious first)
    std::vector<std::string> diagnosis;    // attention, then what was observed
    std::vector<std::string> causes;       // machine tags (sorted)
    std::vector<std::string> confirm_with_user;
    std::vector<std::string> cannot_prove;  // plain statement of the logs' limits
};

check_result analyse(const check_context& context, const std::vector<signin>& signins);

// True for clientAppUsed values of legacy (basic-auth) protocols: IMAP, POP, SMTP, ActiveSync...
bool legacy_protocol(const std::string& client_app);

nlohmann::json to_json(const check_result& r);

}  // namespace containd::verify
