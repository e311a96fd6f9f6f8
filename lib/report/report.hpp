#pragma once
// Views of an incident for callers: the document GET /v1/incidents/{id} returns (API.md), the
// short form used in lists, and the final report (JSON, Markdown, HTML).
//
// Pure: everything is computed from a snapshot read out of the store in one go, so the API, the
// CLI and the tests see the same shape. Secrets are never part of a snapshot (only the names of
// sealed credentials and whether they were revealed, which the event log says).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.hpp"

namespace containd::report {

// Everything known about one incident, read from the store.
struct snapshot {
    store::incident_record incident;
    std::vector<store::account_record> accounts;
    std::vector<store::step_record> steps;
    std::vector<store::event_record> events;
    std::vector<nlohmann::json> evidence;
    std::vector<std::string> credential_names;  // "password:<upn>", "tap:<upn>"
};

// Reads the snapshot; nullopt when the incident does not exist. Must run on the store's thread.
std::optional<snapshot> load_snapshot(store::store& db, const std::string& incident_id);
// Only what incident_view reads (the incident, its accounts and steps): the API's hot path,
// without the events and the evidence (hundreds of kilobytes of JSON per incident).
std::optional<snapshot> load_view_snapshot(store::store& db, const std::string& incident_id);

// Whether the account gets a Temporary Access Pass, issued at its first reveal (DOMAIN.md): the
// plan says so (complete cleanup, TAP delivery, passwordless); an account added later is not in
// the plan's list, so the delivery and its cleanup mode decide.
bool gets_tap(const store::incident_record& incident, const std::vector<store::step_record>& steps,
              const std::string& upn);

// The GET /v1/incidents/{id} document: id, tenant, external_ref, status, phase, created_at,
// contained_at, accounts, steps, verification, attention (API.md "Read incidents").
nlohmann::json incident_view(const snapshot& s);
// One row of GET /v1/incidents: id, tenant, external_ref, title, status, phase, created_at,
// updated_at, contained_at, account count, the accounts' UPNs, attention.
nlohmann::json incident_summary(const store::incident_record& r);
// One audit event as the API serves it (id, at, kind, step, data; the chain hash too).
nlohmann::json event_view(const store::event_record& e);

// The final report: timeline of every action with exact timestamps, per-account outcome,
// evidence captured, verification results and diagnosis, what needs a human, recommendations.
//
// Top-level keys (times are RFC 3339 UTC with milliseconds, or null when not yet):
//   report_version   1
//   incident         id, tenant, external_ref, title, status, phase, created_at, updated_at,
//                    contained_at, released_at, as_of (the last event), compromise_start, scope,
//                    credential_delivery, attacker_ips, malicious_apps, warnings, attention
//   summary          counts (accounts, steps, steps_by_status, events, evidence,
//                    credentials_sealed / _revealed) and verdict: contained | verifying | attention | pending
//   needs_human      [{source: failed_step | diagnosis | attention | approval, step, text}], no
//                    duplicates: the engine's attention lines are attributed to their step
//   recommendations  [{id, text, subjects?}] derived from the facts; the block's release is last
//   accounts         [{upn, object_id, tier, tier_reason, synced, method_cleanup, tap, revoked_at,
//                    password_reset_at, tap_issued_at, methods_removed, methods_kept,
//                    inbox_rules_removed, credentials: [{name, type, state: sealed | revealed,
//                    sealed_at, revealed_at, revealed_by}], outcome: done | in_progress | failed,
//                    steps}]
//   apps             [{app_id, delete_application, outcome, steps}]
//   verification     as in incident_view
//   evidence         [{step, kind, target, captured_at, sha256, counts, unavailable, content}]
//   steps            as in incident_view
//   timeline         [{id, at, kind, step, step_kind, phase, target, account, summary, data}],
//                    every event in order
// Secret-bearing fields that might hide in captured Graph objects are redacted.
nlohmann::json build_report(const snapshot& s);

// The variants for the viewer role (viewer.cpp): the same documents without evidence contents.
// Lists of evidence (accounts' methods_removed / methods_kept / inbox_rules_removed, checks'
// findings and diagnosis) become [] beside a "<key>_count"; attention lines other than the
// engine's "step N (...)" ones (the diagnosis) become one generic line each; evidence[].content is
// null; the data of a step's result event (step_succeeded, block_released) keeps numbers,
// booleans and outcome words, lists become counts (other events, e.g. who approved, stay whole).
// Documents carry "redacted_for": "viewer". Markdown and HTML render the variant as given.
nlohmann::json viewer_incident_view(nlohmann::json view);
nlohmann::json viewer_report(nlohmann::json report);
nlohmann::json viewer_event_view(nlohmann::json event);

std::string render_markdown(const nlohmann::json& report);
std::string render_html(const nlohmann::json& report);  // self-contained, escaped

}  // namespace containd::report
