#pragma once
// The incident as the SOC submits it (validated), and the vocabulary of plans: tiers, phases,
// step kinds. Pure data: no I/O, no Asio, no SQL.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace containd::incident {

// Credential-reset order: break_glass and service accounts first, then privileged, then standard.
enum class tier { break_glass, service, privileged, standard };

enum class scope_kind { accounts, tenant };
enum class credential_delivery { password, tap };
enum class method_cleanup { automatic, complete, targeted };  // "auto" on the wire

// Phases run strictly in this order. `release` exists only once an operator released the block
// of a contained incident (POST /release); it is appended to the plan then, never planned.
enum class phase { resolve, block, revoke, credentials, methods, apps, verify, release, done };

enum class step_kind {
    resolve_account,            // object id, directory roles, onPremisesSyncEnabled
    capture_account_evidence,   // methods, grants, inbox rules, recent sign-ins (read-only)
    capture_app_evidence,       // application + service principal credentials, grants, assignments
    capture_policy_evidence,    // the policy's JSON; only in plans made before the block step kept it
    enable_emergency_policy,    // one PATCH (the standing snapshot is the evidence); sets contained_at
    revoke_sessions,            // revokeSignInSessions, timestamp per account
    reset_password,             // passwordProfile PATCH with a per-account CSPRNG password
    revoke_after_reset,         // revokeSignInSessions again, right after the reset
    cleanup_methods,            // complete or targeted authentication-method removal
    issue_tap,                  // Temporary Access Pass (single use, 60 minutes)
    remove_app_credentials,     // every secret and certificate, on the application and its SP
    disable_service_principal,  // accountEnabled=false on the SP
    remove_app_grants,          // delegated OAuth2 grants and app role assignments
    delete_application,         // optional, gated by operator approval
    remove_inbox_rules,         // rules forwarding/redirecting outside the organisation
    confirm_compromised,        // Identity Protection; a 403 there is a warning
    verify_signins,             // a timed check at contained_at + offset
    release_block,              // operator's release: this incident's accounts out of the policy
    confirm_block,              // the block read back beside the revocations; repairs another writer's change
};

std::string_view to_string(tier t);
std::string_view to_string(phase p);
std::string_view to_string(step_kind k);
std::string_view to_string(credential_delivery d);
std::string_view to_string(method_cleanup m);
std::optional<tier> tier_from_string(std::string_view s);
std::optional<phase> phase_from_string(std::string_view s);
std::optional<step_kind> step_kind_from_string(std::string_view s);

struct account_request {
    std::string upn;                         // lower-cased on parse
    std::optional<tier> declared_tier;       // what the SOC said, if anything
    std::vector<std::string> known_methods;  // method ids the user confirmed as their own
};

struct app_request {
    std::string app_id;  // the application (client) id GUID, lower-cased
    bool delete_application = false;
};

struct incident_options {
    std::optional<credential_delivery> delivery;  // unset: tap above 10 accounts, else password
    method_cleanup cleanup = method_cleanup::automatic;
    bool override_lockout_guard = false;  // the operator accepts the break-glass risk explicitly
};

// A validated submission (API.md "Submit an incident").
struct incident_request {
    std::string tenant;  // empty when the caller relies on the single configured tenant
    std::optional<std::string> external_ref;
    std::string title;
    time_point compromise_start;
    scope_kind scope = scope_kind::accounts;
    bool confirm_tenant_wide = false;
    std::vector<account_request> accounts;
    std::vector<std::string> attacker_ips;
    std::vector<app_request> malicious_apps;
    incident_options options;
};

// The canonical JSON of a request (the wire format of API.md); parse_submission(to_json(r)) == r.
nlohmann::json to_json(const incident_request& r);

}  // namespace containd::incident
