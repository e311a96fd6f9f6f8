// What the viewer role sees (issue 15): status, phases, timings, verdicts and counts, never the
// contents of evidence captured from the tenant (authentication methods with phone numbers and
// device names, inbox rules, sign-in records and what they say: IPs, places, apps, devices).
// Those need the operator role. The variants are computed from the full documents, so a field
// added to them later is kept or dropped here on purpose: everything below names what it drops.

#include "report/report.hpp"

namespace containd::report {

using nlohmann::json;

namespace {

// An array of evidence replaced by its length: "<key>" becomes [] and "<key>_count" the count.
void keep_count_only(json& obj, const char* key) {
    if (!obj.is_object() || !obj.contains(key)) return;
    const json& v = obj[key];
    obj[std::string(key) + "_count"] = v.is_array() ? v.size() : std::size_t{0};
    obj[key] = json::array();
}

// Verification checks: the verdict, its causes (codes) and the counts; not the findings (one per
// sign-in subject: IP, last success) nor the diagnosis text, which quotes them.
void redact_verification(json& checks) {
    if (!checks.is_array()) return;
    for (auto& c : checks) {
        keep_count_only(c, "findings");
        keep_count_only(c, "diagnosis");
    }
}

// The engine's attention lines: "step N (...) waits for an operator's approval" or "step N (...)
// failed: <error>" stay; the others are the last check's diagnosis, which quotes sign-in records,
// and become one generic line each (so a count of what needs a human stays true).
constexpr const char* finding_line = "a verification finding needs a human (details: operator role)";
void redact_attention(json& lines) {
    if (!lines.is_array()) return;
    for (auto& l : lines)
        if (!l.is_string() || l.get<std::string>().rfind("step ", 0) != 0) l = finding_line;
}

void redact_accounts(json& accounts) {
    if (!accounts.is_array()) return;
    for (auto& a : accounts) {
        keep_count_only(a, "methods_removed");
        keep_count_only(a, "methods_kept");
        keep_count_only(a, "inbox_rules_removed");
    }
}

}  // namespace

json viewer_incident_view(json view) {
    if (view.contains("attention")) redact_attention(view["attention"]);
    if (view.contains("accounts")) redact_accounts(view["accounts"]);
    if (view.contains("verification")) redact_verification(view["verification"]);
    view["redacted_for"] = "viewer";
    return view;
}

// A step's result in its event (step_succeeded, block_released) holds what the step read or did
// in the tenant: the methods with their phone numbers and device names, the inbox rules, the
// sign-in findings (and block_drift the accounts another writer took out of the block). Kept: numbers, booleans and the few words that are outcomes; a list becomes
// its count. Every other event (status and phase changes, approvals and who gave them, retries,
// failures, evidence_captured with its kind, target and hash) carries no evidence and stays.
json viewer_event_view(json event) {
    if (!event.is_object() || !event.contains("data") || !event["data"].is_object()) return event;
    const std::string kind = event.value("kind", "");
    if (kind != "step_succeeded" && kind != "block_released" && kind != "block_drift") return event;
    json kept = json::object();
    for (const auto& [key, value] : event["data"].items()) {
        if (value.is_number() || value.is_boolean())
            kept[key] = value;
        else if (value.is_array())
            kept[key + "_count"] = value.size();
        else if (value.is_string() && (key == "verdict" || key == "state" || key == "outcome" || key == "mode"))
            kept[key] = value;
    }
    event["data"] = std::move(kept);
    return event;
}

json viewer_report(json report) {
    redact_accounts(report["accounts"]);
    redact_verification(report["verification"]);
    if (report["incident"].is_object()) redact_attention(report["incident"]["attention"]);
    // What needs a human stays listed (where, which step), but a diagnosis line quotes sign-in
    // records: its text is for the operator.
    if (report["needs_human"].is_array())
        for (auto& n : report["needs_human"]) {
            const std::string source = n.value("source", "");
            const std::string text = n.value("text", "");
            if (source == "diagnosis" || (source == "attention" && text.rfind("step ", 0) != 0))
                n["text"] = finding_line;
        }
    if (report["evidence"].is_array())
        for (auto& e : report["evidence"]) e["content"] = nullptr;  // kind, target, time, hash, counts stay
    if (report["timeline"].is_array())
        for (auto& t : report["timeline"]) t = viewer_event_view(std::move(t));  // the summary stays (counts only)
    report["redacted_for"] = "viewer";
    return report;
}

}  // namespace containd::report
