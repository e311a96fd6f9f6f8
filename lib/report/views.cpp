// The API's documents (API.md "Read incidents"), computed from a snapshot.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iterator>

#include "core/text.hpp"
#include "core/time.hpp"
#include "report/detail.hpp"
#include "report/report.hpp"

namespace containd::report {

using nlohmann::json;

namespace detail {

json time_or_null(const std::optional<time_point>& t) { return t ? json(format_rfc3339(*t)) : json(); }

std::string text_of(const json& j, const char* key) {
    if (!j.is_object()) return {};
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json step_view(const store::step_record& s) {
    return {{"seq", s.seq},
            {"phase", incident::to_string(s.step_phase)},
            {"stage", s.stage},
            {"kind", incident::to_string(s.kind)},
            {"target", s.target},
            {"status", store::to_string(s.status)},
            {"attempts", s.attempt},
            {"depends_on", s.depends_on ? json(*s.depends_on) : json()},
            {"requires_approval", s.requires_approval},
            {"approved_by", s.approved_by ? json(*s.approved_by) : json()},
            {"not_before", time_or_null(s.not_before)},
            {"started_at", time_or_null(s.started_at)},
            {"finished_at", time_or_null(s.finished_at)},
            {"error", s.error.empty() ? json() : json(s.error)}};
}

namespace {

std::int64_t offset_ms_of(const store::step_record& s) {
    if (s.params.is_object() && s.params.contains("offset_ms") && s.params["offset_ms"].is_number_integer())
        return s.params["offset_ms"].get<std::int64_t>();
    return 0;
}

json strings_of(const json& j, const char* key) {
    json out = json::array();
    if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return out;
    for (const auto& x : j[key])
        if (x.is_string()) out.push_back(x);
    return out;
}

int int_of(const json& j, const char* key) {
    if (j.is_object() && j.contains(key) && j[key].is_number_integer()) return j[key].get<int>();
    return 0;
}

json finding_view(const json& f) {
    const std::string subject = text_of(f, "subject");
    json out = {{"subject", subject}};
    const std::string upn = text_of(f, "upn");
    out["upn"] = upn.empty() ? json() : json(upn);
    if (subject.rfind("app:", 0) == 0) out["app_id"] = subject.substr(4);
    out["ip"] = text_of(f, "ip");
    out["successes"] = int_of(f, "successes");
    out["failures"] = int_of(f, "failures");
    out["fail_codes"] = strings_of(f, "fail_codes");
    const std::string last = text_of(f, "last_success");
    out["last_success"] = last.empty() ? json() : json(last);
    return out;
}

}  // namespace

json verification_view(const store::incident_record& incident, const std::vector<store::step_record>& steps) {
    json out = json::array();
    for (const auto& s : steps) {
        if (s.kind != incident::step_kind::verify_signins) continue;
        const std::int64_t offset = offset_ms_of(s);
        const bool ran = s.status == store::step_status::succeeded && s.result.is_object();
        std::string verdict = ran ? text_of(s.result, "verdict") : std::string();
        if (verdict != "contained" && verdict != "attention" && verdict != "verifying") verdict = "pending";
        json findings = json::array();
        if (ran && s.result.contains("findings") && s.result["findings"].is_array())
            for (const auto& f : s.result["findings"]) findings.push_back(finding_view(f));
        json v = {{"seq", s.seq},
                  {"check", s.target},
                  {"offset_ms", offset},
                  {"due_at", incident.contained_at ? json(format_rfc3339(*incident.contained_at + milliseconds(offset)))
                                                   : json()},
                  {"ran_at", time_or_null(s.finished_at)},
                  {"status", store::to_string(s.status)},
                  {"verdict", verdict},
                  {"final", ran && s.result.value("final", false)},
                  {"findings", std::move(findings)},
                  {"diagnosis", ran ? strings_of(s.result, "diagnosis") : json::array()},
                  {"causes", ran ? strings_of(s.result, "causes") : json::array()},
                  {"error", s.error.empty() ? json() : json(s.error)}};
        if (ran && s.result.contains("sign_ins_read") && s.result["sign_ins_read"].is_number_integer())
            v["sign_ins_read"] = s.result["sign_ins_read"];
        // What the check could and could not see (DOMAIN.md step 7): the window it settled, the
        // unsettled tail, the residual exposure windows, when it asked to look again.
        v["confirmation"] = s.params.value("confirmation", false);
        v["settled_through"] = ran && s.result.contains("settled_through") ? s.result["settled_through"] : json();
        v["unsettled"] = ran && s.result.contains("unsettled") ? s.result["unsettled"] : json();
        v["residual_windows"] = ran && s.result.contains("residual_windows") && s.result["residual_windows"].is_array()
                                    ? s.result["residual_windows"]
                                    : json::array();
        v["confirm_at"] = ran && s.result.contains("confirm_at") ? s.result["confirm_at"] : json();
        v["cannot_prove"] = ran ? strings_of(s.result, "cannot_prove") : json::array();
        v["confirm_with_user"] = ran ? strings_of(s.result, "confirm_with_user") : json::array();
        out.push_back(std::move(v));
    }
    return out;
}

json redact(const json& j) {
    static const char* const secret_keys[] = {
        "temporaryaccesspass", "secrettext",   "password",      "newpassword", "plaintext",
        "client_secret",       "access_token", "refresh_token", "id_token",    "privatekey"};
    if (j.is_array()) {
        json out = json::array();
        for (const auto& x : j) out.push_back(redact(x));
        return out;
    }
    if (!j.is_object()) return j;
    json out = json::object();
    for (const auto& [k, v] : j.items()) {
        const std::string key = lower(k);
        const bool secret =
            std::any_of(std::begin(secret_keys), std::end(secret_keys), [&](const char* s) { return key == s; });
        out[k] = secret && (v.is_string() || v.is_object() || v.is_array()) &&
                         !(v.is_string() && v.get<std::string>().empty())
                     ? json("[redacted]")
                     : redact(v);
    }
    return out;
}

std::string describe_step(const store::step_record& s) {
    std::string out = "step " + std::to_string(s.seq) + " (" + std::string(incident::to_string(s.kind));
    if (!s.target.empty()) out += " " + s.target;
    return out + ")";
}

}  // namespace detail

std::optional<snapshot> load_view_snapshot(store::store& db, const std::string& incident_id) {
    auto incident = db.get_incident(incident_id);
    if (!incident) return std::nullopt;
    snapshot s;
    s.incident = std::move(*incident);
    s.accounts = db.accounts(incident_id);
    s.steps = db.steps(incident_id);
    return s;
}

std::optional<snapshot> load_snapshot(store::store& db, const std::string& incident_id) {
    auto view = load_view_snapshot(db, incident_id);
    if (!view) return std::nullopt;
    snapshot s = std::move(*view);
    constexpr std::size_t page = 1000;
    for (std::int64_t after = 0;;) {
        auto batch = db.events(incident_id, after, page);
        const bool more = batch.size() == page;
        if (!batch.empty()) after = batch.back().id;
        for (auto& e : batch) s.events.push_back(std::move(e));
        if (!more) break;
    }
    s.evidence = db.evidence(incident_id);
    s.credential_names = db.secret_names(incident_id);
    return s;
}

namespace {
// The fields the incident document and its list row share.
json incident_header(const store::incident_record& r) {
    return {{"id", r.id},
            {"tenant", r.tenant},
            {"external_ref", r.external_ref ? json(*r.external_ref) : json()},
            {"title", detail::text_of(r.request, "title")},
            {"status", store::to_string(r.status)},
            {"phase", incident::to_string(r.current_phase)},
            {"created_at", format_rfc3339(r.created_at)},
            {"updated_at", format_rfc3339(r.updated_at)},
            {"contained_at", detail::time_or_null(r.contained_at)},
            {"attention", r.attention}};
}
}  // namespace

bool gets_tap(const store::incident_record& incident, const std::vector<store::step_record>& steps,
              const std::string& upn) {
    if (incident.plan.is_object()) {
        for (const auto& a : incident.plan.value("accounts", json::array()))
            if (a.is_object() && a.value("upn", "") == upn) return a.value("tap", false);
        if (incident.plan.value("delivery", "password") == "tap") return true;
    }
    for (const auto& s : steps)
        if (s.kind == incident::step_kind::cleanup_methods && s.target == upn && s.params.is_object() &&
            s.params.value("mode", "") == "complete")
            return true;
    return false;
}

json incident_view(const snapshot& s) {
    const auto& r = s.incident;
    json accounts = json::array();
    for (const auto& a : s.accounts)
        accounts.push_back({{"upn", a.upn},
                            {"object_id", a.object_id ? json(*a.object_id) : json()},
                            {"tier", incident::to_string(a.assigned_tier)},
                            {"tier_reason", a.tier_reason},
                            {"synced", a.synced},
                            {"tap", gets_tap(r, s.steps, a.upn)},
                            {"revoked_at", detail::time_or_null(a.revoked_at)},
                            {"password_reset_at", detail::time_or_null(a.password_reset_at)},
                            {"methods_removed", a.methods_removed},
                            {"tap_issued_at", detail::time_or_null(a.tap_issued_at)}});
    json steps = json::array();
    for (const auto& st : s.steps) steps.push_back(detail::step_view(st));
    json view = incident_header(r);
    view["accounts"] = std::move(accounts);
    view["steps"] = std::move(steps);
    view["verification"] = detail::verification_view(r, s.steps);
    return view;
}

json incident_summary(const store::incident_record& r) {
    std::size_t accounts = 0;
    if (r.plan.is_object() && r.plan.contains("accounts") && r.plan["accounts"].is_array())
        accounts = r.plan["accounts"].size();
    else if (r.request.is_object() && r.request.contains("accounts") && r.request["accounts"].is_array())
        accounts = r.request["accounts"].size();
    // The submitted accounts' UPNs, so a list can be searched by account (the dashboard's search).
    json upns = json::array();
    if (r.request.is_object() && r.request.contains("accounts") && r.request["accounts"].is_array())
        for (const auto& a : r.request["accounts"]) {
            const std::string upn = detail::text_of(a, "upn");
            if (!upn.empty()) upns.push_back(upn);
        }
    json summary = incident_header(r);
    summary["account_count"] = accounts;
    summary["upns"] = std::move(upns);
    return summary;
}

json event_view(const store::event_record& e) {
    return {{"id", e.id},
            {"at", format_rfc3339(e.at)},
            {"kind", e.kind},
            {"step", e.step_seq ? json(*e.step_seq) : json()},
            {"data", detail::redact(e.data)},
            {"prev_hash", e.prev_hash},
            {"hash", e.hash}};
}

}  // namespace containd::report
