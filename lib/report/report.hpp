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

// The GET /v1/incidents/{id} document: id, tenant, external_ref, status, phase, created_at,
// contained_at, accounts, steps, verification, attention (API.md "Read incidents").
nlohmann::json incident_view(const snapshot& s);
// One row of GET /v1/incidents: id, tenant, external_ref, title, status, phase, created_at,
// updated_at, contained_at, account count, attention.
nlohmann::json incident_summary(const store::incident_record& r);
// One audit event as the API serves it (id, at, kind, step, data; the chain hash too).
nlohmann::json event_view(const store::event_record& e);

// The final report: timeline of every action with exact timestamps, per-account outcome,
// evidence captured, verification results and diagnosis, what needs a human, recommendations.
nlohmann::json build_report(const snapshot& s);
std::string render_markdown(const nlohmann::json& report);
std::string render_html(const nlohmann::json& report);  // self-contained, escaped

}  // namespace containd::report
