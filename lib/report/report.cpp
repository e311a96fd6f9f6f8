// The final report as JSON: every fact the IR lead needs, derived from the snapshot alone.

#include <algorithm>
#include <map>
#include <set>

#include "core/text.hpp"
#include "core/time.hpp"
#include "report/detail.hpp"
#include "report/report.hpp"

namespace containd::report {

using detail::text_of;
using detail::time_or_null;
using incident::step_kind;
using nlohmann::json;
using store::step_status;

namespace {

bool unfinished(step_status s) {
    return s == step_status::pending || s == step_status::running || s == step_status::waiting_approval;
}

json string_array(const json& j, const char* key) {
    json out = json::array();
    if (j.is_object() && j.contains(key) && j[key].is_array())
        for (const auto& x : j[key])
            if (x.is_string()) out.push_back(x);
    return out;
}

// "password:ap.clerk@contoso.com" -> ("password", "ap.clerk@contoso.com").
std::pair<std::string, std::string> split_credential(const std::string& name) {
    const auto colon = name.find(':');
    if (colon == std::string::npos) return {"", name};
    return {name.substr(0, colon), name.substr(colon + 1)};
}

struct credential_fact {
    std::string name;
    std::string type;  // password | tap
    std::string upn;
    std::optional<time_point> sealed_at;
    std::optional<time_point> revealed_at;
    std::string revealed_by;
    bool revealed() const { return revealed_at && (!sealed_at || *revealed_at >= *sealed_at); }
};

// Everything derived once and shared by the sections.
struct facts {
    const snapshot& s;
    std::map<int, const store::step_record*> step_by_seq;
    std::set<std::string> upns;
    std::map<std::string, json> planned_account;         // upn -> the plan's account entry
    std::map<std::string, credential_fact> credentials;  // by name, in name order
    json verification;
    std::optional<time_point> released_at;

    explicit facts(const snapshot& snap) : s(snap) {
        for (const auto& st : s.steps) step_by_seq[st.seq] = &st;
        for (const auto& a : s.accounts) upns.insert(a.upn);
        if (s.incident.plan.is_object() && s.incident.plan.contains("accounts"))
            for (const auto& a : s.incident.plan["accounts"])
                if (a.is_object()) planned_account[text_of(a, "upn")] = a;
        for (const auto& name : s.credential_names) credential(name);
        for (const auto& e : s.events) {
            if (e.kind == "secret_stored") {
                auto& c = credential(text_of(e.data, "name"));
                c.sealed_at = e.at;
            } else if (e.kind == "secret_revealed") {
                auto& c = credential(text_of(e.data, "name"));
                c.revealed_at = e.at;
                c.revealed_by = text_of(e.data, "by");
            } else if (e.kind == "block_released") {
                released_at = e.at;
            }
        }
        verification = detail::verification_view(s.incident, s.steps);
    }

    credential_fact& credential(const std::string& name) {
        auto [it, inserted] = credentials.try_emplace(name);
        if (inserted) {
            it->second.name = name;
            std::tie(it->second.type, it->second.upn) = split_credential(name);
        }
        return it->second;
    }

    const store::step_record* step(std::optional<int> seq) const {
        if (!seq) return nullptr;
        const auto it = step_by_seq.find(*seq);
        return it == step_by_seq.end() ? nullptr : it->second;
    }

    // The last check that ran: its verdict is the incident's.
    const json* final_check() const {
        const json* last = nullptr;
        for (const auto& v : verification)
            if (v["verdict"] != "pending") last = &v;
        return last;
    }
    bool all_checks_ran() const {
        return std::all_of(verification.begin(), verification.end(),
                           [](const json& v) { return v["verdict"] != "pending"; });
    }
    std::set<std::string> causes() const {
        std::set<std::string> out;
        for (const auto& v : verification)
            for (const auto& c : v["causes"]) out.insert(c.get<std::string>());
        return out;
    }
};

// ------------------------------------------------------------------ header

json header(const facts& f) {
    const auto& r = f.s.incident;
    json apps = json::array();
    if (r.request.contains("malicious_apps") && r.request["malicious_apps"].is_array())
        apps = r.request["malicious_apps"];
    std::optional<time_point> as_of;
    if (!f.s.events.empty()) as_of = f.s.events.back().at;
    return {{"id", r.id},
            {"tenant", r.tenant},
            {"external_ref", r.external_ref ? json(*r.external_ref) : json()},
            {"title", text_of(r.request, "title")},
            {"status", store::to_string(r.status)},
            {"phase", incident::to_string(r.current_phase)},
            {"created_at", format_rfc3339(r.created_at)},
            {"updated_at", format_rfc3339(r.updated_at)},
            {"contained_at", time_or_null(r.contained_at)},
            {"released_at", time_or_null(f.released_at)},
            {"as_of", as_of ? json(format_rfc3339(*as_of)) : json(format_rfc3339(r.updated_at))},
            {"compromise_start", r.request.value("compromise_start", json())},
            {"scope", r.request.value("scope", "accounts")},
            {"credential_delivery", r.plan.value("delivery", json())},
            {"attacker_ips", string_array(r.request, "attacker_ips")},
            {"malicious_apps", apps},
            {"warnings", string_array(r.plan, "warnings")},
            {"attention", r.attention}};
}

// ------------------------------------------------------------------ timeline

std::string step_name(const store::step_record* st) {
    return st ? std::string(incident::to_string(st->kind)) : std::string("step");
}

std::string count_of(const json& d, const char* key) {
    return d.is_object() && d.contains(key) && d[key].is_array() ? std::to_string(d[key].size()) : std::string();
}

// The few facts of a step's result worth a glance on the timeline.
std::string outcome_detail(const store::step_record& st, const json& d) {
    if (!d.is_object()) return {};
    std::vector<std::string> parts;
    switch (st.kind) {
    case step_kind::resolve_account: {
        const auto roles = string_array(d, "admin_roles").get<std::vector<std::string>>();
        if (!roles.empty()) parts.push_back("roles: " + join(roles));
        if (d.value("on_premises_sync", false)) parts.push_back("synced from on-premises AD");
        break;
    }
    case step_kind::cleanup_methods:
        if (!text_of(d, "mode").empty()) parts.push_back(text_of(d, "mode"));
        if (!count_of(d, "removed").empty()) parts.push_back("removed " + count_of(d, "removed"));
        if (!count_of(d, "already_absent").empty() && count_of(d, "already_absent") != "0")
            parts.push_back("already gone " + count_of(d, "already_absent"));
        if (!count_of(d, "kept").empty()) parts.push_back("kept " + count_of(d, "kept"));
        break;
    case step_kind::remove_inbox_rules:
    case step_kind::remove_app_credentials:
        if (!count_of(d, "removed").empty()) parts.push_back("removed " + count_of(d, "removed"));
        break;
    case step_kind::enable_emergency_policy:
        if (!text_of(d, "state").empty()) parts.push_back("policy " + text_of(d, "state"));
        break;
    case step_kind::delete_application:
        if (!text_of(d, "outcome").empty()) parts.push_back(text_of(d, "outcome"));
        break;
    case step_kind::release_block:
        if (!text_of(d, "state").empty()) parts.push_back("policy " + text_of(d, "state"));
        if (!count_of(d, "released_users").empty()) parts.push_back("released " + count_of(d, "released_users"));
        break;
    default: break;
    }
    return parts.empty() ? std::string() : ": " + join(parts);
}

std::string summarise(const store::event_record& e, const store::step_record* st) {
    const json& d = e.data;
    const std::string k = e.kind;
    const std::string what = step_name(st);
    if (k == "accepted")
        return "incident accepted: " + d.value("accounts", json(0)).dump() + " accounts, " +
               d.value("steps", json(0)).dump() + " steps planned";
    if (k == "status_changed") return "status " + text_of(d, "from") + " -> " + text_of(d, "to");
    if (k == "phase_changed") return "phase " + text_of(d, "from") + " -> " + text_of(d, "to");
    if (k == "contained_at_recorded") return "emergency block in force; containment time " + text_of(d, "contained_at");
    if (k == "step_started") return what + " started (attempt " + d.value("attempt", json(0)).dump() + ")";
    if (k == "step_succeeded") {
        if (st && st->kind == step_kind::verify_signins)
            return "check " + st->target + ": " + (text_of(d, "verdict").empty() ? "done" : text_of(d, "verdict"));
        return what + " succeeded" + outcome_detail(*st, d);
    }
    if (k == "step_failed") return what + " failed: " + text_of(d, "error");
    if (k == "step_retry_scheduled")
        return what + " will retry at " + text_of(d, "not_before") + ": " + text_of(d, "error");
    if (k == "step_approved") return what + " approved by " + text_of(d, "by");
    if (k == "step_retry_requested") return what + " retry requested by " + text_of(d, "by");
    if (k == "step_cancelled") return what + " cancelled by " + text_of(d, "by");
    if (k == "plan_refined") return "plan refined from directory facts";
    if (k == "plan_refused")
        return "plan refused: " + join(string_array(d, "reasons").get<std::vector<std::string>>(), "; ");
    if (k == "evidence_captured") return "evidence captured: " + text_of(d, "kind") + " " + text_of(d, "target");
    if (k == "secret_stored") return "credential sealed in the vault: " + text_of(d, "name");
    if (k == "release_requested") return "release of the emergency block requested by " + text_of(d, "by");
    if (k == "block_released")
        return "emergency block released for " + count_of(d, "released_users") + " accounts; policy " +
               text_of(d, "state");
    if (k == "block_drift")
        return "the emergency policy was changed by someone else (found by the " + text_of(d, "found_by") +
               "): " + join(string_array(d, "differences").get<std::vector<std::string>>(), "; ");
    if (k == "secret_revealed") return "credential revealed once to " + text_of(d, "by") + ": " + text_of(d, "name");
    return k;
}

json timeline(const facts& f) {
    json out = json::array();
    for (const auto& e : f.s.events) {
        const store::step_record* st = f.step(e.step_seq);
        std::string target = st ? st->target : std::string();
        std::string account;
        if (st && f.upns.count(st->target)) account = st->target;
        if (target.empty()) target = text_of(e.data, "target");
        if (e.kind == "secret_stored" || e.kind == "secret_revealed") {
            target = text_of(e.data, "name");
            account = split_credential(target).second;
        }
        if (account.empty() && f.upns.count(target)) account = target;
        out.push_back({{"id", e.id},
                       {"at", format_rfc3339(e.at)},
                       {"kind", e.kind},
                       {"step", e.step_seq ? json(*e.step_seq) : json()},
                       {"step_kind", st ? json(incident::to_string(st->kind)) : json()},
                       {"phase", st ? json(incident::to_string(st->step_phase)) : json()},
                       {"target", target.empty() ? json() : json(target)},
                       {"account", account.empty() ? json() : json(account)},
                       {"summary", summarise(e, st)},
                       {"data", detail::redact(e.data)}});
    }
    return out;
}

// ------------------------------------------------------------------ accounts and apps

json step_brief(const store::step_record& st) {
    return {{"seq", st.seq},
            {"kind", incident::to_string(st.kind)},
            {"status", store::to_string(st.status)},
            {"finished_at", time_or_null(st.finished_at)},
            {"error", st.error.empty() ? json() : json(st.error)}};
}

std::string outcome_of(const std::vector<const store::step_record*>& steps) {
    bool open = false;
    for (const auto* st : steps) {
        if (st->status == step_status::failed) return "failed";
        if (unfinished(st->status)) open = true;
    }
    return open ? "in_progress" : "done";
}

json accounts(const facts& f) {
    json out = json::array();
    for (const auto& a : f.s.accounts) {
        std::vector<const store::step_record*> mine;
        for (const auto& st : f.s.steps)
            if (st.target == a.upn) mine.push_back(&st);
        json steps = json::array();
        json kept = json::array();
        json rules = json::array();
        for (const auto* st : mine) {
            steps.push_back(step_brief(*st));
            if (!st->result.is_object()) continue;
            if (st->kind == step_kind::cleanup_methods && st->result.contains("kept") && st->result["kept"].is_array())
                kept = st->result["kept"];
            if (st->kind == step_kind::remove_inbox_rules && st->result.contains("removed") &&
                st->result["removed"].is_array())
                rules = st->result["removed"];
        }
        json credentials = json::array();
        for (const auto& [name, c] : f.credentials) {
            if (c.upn != a.upn) continue;
            credentials.push_back({{"name", c.name},
                                   {"type", c.type},
                                   {"state", c.revealed() ? "revealed" : "sealed"},
                                   {"sealed_at", time_or_null(c.sealed_at)},
                                   {"revealed_at", c.revealed() ? time_or_null(c.revealed_at) : json()},
                                   {"revealed_by", c.revealed() ? json(c.revealed_by) : json()}});
        }
        const auto planned = f.planned_account.find(a.upn);
        out.push_back({{"upn", a.upn},
                       {"object_id", a.object_id ? json(*a.object_id) : json()},
                       {"tier", incident::to_string(a.assigned_tier)},
                       {"tier_reason", a.tier_reason},
                       {"synced", a.synced},
                       {"method_cleanup",
                        planned != f.planned_account.end() ? planned->second.value("method_cleanup", json()) : json()},
                       {"tap", gets_tap(f.s.incident, f.s.steps, a.upn)},
                       {"revoked_at", time_or_null(a.revoked_at)},
                       {"password_reset_at", time_or_null(a.password_reset_at)},
                       {"tap_issued_at", time_or_null(a.tap_issued_at)},
                       {"methods_removed", a.methods_removed},
                       {"methods_kept", kept},
                       {"inbox_rules_removed", rules},
                       {"credentials", credentials},
                       {"outcome", outcome_of(mine)},
                       {"steps", steps}});
    }
    return out;
}

json apps(const facts& f) {
    json out = json::array();
    const json& requested =
        f.s.incident.request.contains("malicious_apps") ? f.s.incident.request["malicious_apps"] : json::array();
    if (!requested.is_array()) return out;
    for (const auto& app : requested) {
        const std::string id = text_of(app, "app_id");
        std::vector<const store::step_record*> mine;
        json steps = json::array();
        for (const auto& st : f.s.steps)
            if (st.target == id) {
                mine.push_back(&st);
                steps.push_back(step_brief(st));
            }
        out.push_back({{"app_id", id},
                       {"delete_application", app.value("delete_application", false)},
                       {"outcome", outcome_of(mine)},
                       {"steps", steps}});
    }
    return out;
}

// ------------------------------------------------------------------ evidence

json evidence(const facts& f) {
    json out = json::array();
    for (const auto& ev : f.s.evidence) {
        json counts = json::object();
        json unavailable = json::object();
        const json& content = ev.contains("content") ? ev["content"] : json();
        if (content.is_array()) {
            counts["items"] = content.size();
        } else if (content.is_object()) {
            for (const auto& [key, value] : content.items()) {
                if (value.is_array())
                    counts[key] = value.size();
                else if (value.is_object() && value.contains("unavailable"))
                    unavailable[key] = value["unavailable"].is_string() ? value["unavailable"] : json("unavailable");
                else if (value.is_object() || value.is_string())
                    counts[key] = 1;
            }
        }
        out.push_back({{"step", ev.value("step", json())},
                       {"kind", ev.value("kind", "")},
                       {"target", ev.value("target", "")},
                       {"captured_at", ev.value("captured_at", json())},
                       {"sha256", ev.value("sha256", "")},
                       {"counts", counts},
                       {"unavailable", unavailable},
                       {"content", detail::redact(content)}});
    }
    return out;
}

// ------------------------------------------------------------------ what needs a human

json needs_human(const facts& f) {
    json out = json::array();
    std::set<std::string> seen;
    auto add = [&](const char* source, std::optional<int> step, const std::string& text) {
        if (text.empty() || !seen.insert(text).second) return;
        out.push_back({{"source", source}, {"step", step ? json(*step) : json()}, {"text", text}});
    };
    for (const auto& st : f.s.steps)
        if (st.status == step_status::failed)
            add("failed_step", st.seq,
                detail::describe_step(st) + " failed: " + (st.error.empty() ? "unknown error" : st.error));
    for (const auto& v : f.verification)
        if (v["verdict"] == "attention")
            for (const auto& d : v["diagnosis"]) add("diagnosis", v["seq"].get<int>(), d.get<std::string>());
    // Methods a targeted cleanup kept, to confirm with their users (from the latest check).
    if (const json* last = f.final_check())
        for (const auto& d : (*last)["confirm_with_user"])
            add("attention", (*last)["seq"].get<int>(), d.get<std::string>());
    // The engine's attention list repeats failures, approvals and diagnoses in its own words;
    // the exact duplicates are dropped above, the rest are kept as it wrote them.
    for (const auto& a : f.s.incident.attention) {
        bool about_approval = false;
        for (const auto& st : f.s.steps)
            if (st.status == step_status::waiting_approval && a == "step " + std::to_string(st.seq) + " (" +
                                                                       std::string(incident::to_string(st.kind)) +
                                                                       ") waits for an operator's approval")
                about_approval = true;
        if (!about_approval) add("attention", std::nullopt, a);
    }
    for (const auto& st : f.s.steps)
        if (st.status == step_status::waiting_approval)
            add("approval", st.seq,
                "step " + std::to_string(st.seq) + " (" + std::string(incident::to_string(st.kind)) +
                    ") waits for an operator's approval");
    return out;
}

// ------------------------------------------------------------------ recommendations

json recommendations(const facts& f) {
    json out = json::array();
    auto add = [&](const char* id, const std::string& text, const std::vector<std::string>& subjects = {}) {
        json r = {{"id", id}, {"text", text}};
        if (!subjects.empty()) r["subjects"] = subjects;
        out.push_back(std::move(r));
    };
    const auto& inc = f.s.incident;
    const auto causes = f.causes();

    if (causes.count("ir_lockout"))
        add("fix_ir_exclusion",
            "The IR team is blocked by the emergency policy: fix its exclusions (IR named location, uncompromised "
            "break-glass accounts) now, before anything else.");

    std::vector<std::string> failed;
    for (const auto& st : f.s.steps)
        if (st.status == step_status::failed) failed.push_back(std::to_string(st.seq));
    if (!failed.empty())
        add("retry_failed_steps",
            "Fix the cause of the failed step(s) " + join(failed) + " and retry each (POST /v1/incidents/" + inc.id +
                "/retry with {\"step\": <seq>}); nothing after a failed step runs.",
            failed);

    if (causes.count("scope_gap"))
        add("fix_policy_scope",
            "A compromised account signed in with Conditional Access not applied: the emergency policy's scope "
            "misses that user or app. Fix the scope and re-check.");
    if (causes.count("persistence") || causes.count("new_token_after_revocation") || causes.count("unknown_app") ||
        causes.count("unknown_account"))
        add("hunt_persistence",
            "The attacker obtained tokens where the block and revocation do not reach (after the revocation had "
            "propagated, by a service principal whose credentials were removed, or through an app or account the "
            "incident does not name): find the path (a second secret or certificate, another app, an app password, "
            "an excluded location, a federated path), remove it, add what is missing to the incident, and re-verify.");
    if (causes.count("excluded_location") || causes.count("attacker_ip_excluded"))
        add("narrow_ir_location",
            "The attacker signed in from, or is listed with an IP inside, the IR named location the emergency "
            "policy excludes: narrow that named location to the IR team's own addresses and re-check.");
    if (causes.count("legacy_protocol"))
        add("block_legacy_auth",
            "Tokens were issued over a legacy protocol (IMAP, POP, SMTP AUTH and the like): block legacy "
            "authentication tenant-wide and remove app passwords of the affected accounts.");

    std::vector<std::string> synced;
    for (const auto& a : f.s.accounts)
        if (a.synced) synced.push_back(a.upn);
    if (!synced.empty())
        add("reset_on_premises",
            "Reset the password in on-premises Active Directory too for " + join(synced) +
                ": the next directory sync can undo a cloud-only reset. Check for attacker changes on-premises.",
            synced);

    // In TAP mode the passwords were reset to cut the attacker's and are never phoned: the users
    // sign in with their TAP and set their own. A TAP is issued when it is revealed, so the
    // accounts owed one are the plan's (and any re-issued) whose TAP nobody has revealed yet.
    const bool tap_mode = f.s.incident.plan.is_object() && f.s.incident.plan.value("delivery", "password") == "tap";
    std::set<std::string> owed_tap;
    for (const auto& a : f.s.accounts)
        if (gets_tap(f.s.incident, f.s.steps, a.upn)) owed_tap.insert(a.upn);
    std::vector<std::string> passwords;
    for (const auto& [name, c] : f.credentials) {
        if (c.type == "tap") {
            if (c.revealed())
                owed_tap.erase(c.upn);
            else
                owed_tap.insert(c.upn);
        } else if (!c.revealed() && !tap_mode) {
            passwords.push_back(c.upn);
        }
    }
    const std::vector<std::string> taps(owed_tap.begin(), owed_tap.end());
    if (!taps.empty())
        add("deliver_taps",
            "Hand the Temporary Access Passes to " + join(taps) +
                " out of band (phone or in person, never email or chat): reveal each through the API while the user "
                "is on the line; it is issued then, for the lifetime chosen (within the tenant's TAP policy), and "
                "shown once. If one expires before it is used, issue a fresh one (POST .../credentials/{upn}/tap) and "
                "reveal that; supervise the registration of a phishing-resistant method." +
                (tap_mode ? std::string(" Their passwords were reset to random values that nobody is given: they "
                                        "set their own after signing in with the TAP.")
                          : std::string()),
            taps);
    if (!passwords.empty())
        add("deliver_passwords",
            "Hand the temporary passwords to " + join(passwords) +
                " out of band (phone or in person, never email or chat): reveal each once through the API; the user "
                "must change it at the next sign-in.",
            passwords);

    for (const auto& st : f.s.steps)
        if (st.kind == step_kind::delete_application && st.status == step_status::waiting_approval)
            add("approve_app_deletion",
                "Deletion of application " + st.target + " waits for approval (step " + std::to_string(st.seq) +
                    "). Deleting it destroys the portal's audit view: export what you need from the evidence first, "
                    "then approve or leave it disabled.",
                {st.target});

    std::vector<std::string> high_risk;
    for (const auto& a : f.s.accounts)
        if (a.assigned_tier != incident::tier::standard) high_risk.push_back(a.upn);
    if (!high_risk.empty())
        add("phishing_resistant_mfa",
            "Require phishing-resistant MFA (FIDO2 security keys, Windows Hello for Business or certificate-based) "
            "for " +
                join(high_risk) + " through an authentication-strength Conditional Access policy.",
            high_risk);

    if (!f.s.accounts.empty()) {
        std::vector<std::string> all;
        for (const auto& a : f.s.accounts) all.push_back(a.upn);
        add("review_mailboxes",
            "Review mailbox forwarding (ForwardingSmtpAddress), delegates, remaining inbox rules and sent items of " +
                join(all) +
                ": only rules forwarding outside the organisation were removed. Warn the people the attacker mailed.",
            all);
    }

    if (!f.s.evidence.empty())
        add("rotate_exposed",
            "Treat what the evidence shows as exposed: rotate any secret or certificate the malicious apps held "
            "that is used elsewhere, and any credential, key or data sent through the compromised mailboxes. The "
            "evidence is stored with SHA-256 hashes for the case file.");

    const auto attacker_ips = string_array(inc.request, "attacker_ips");
    if (!attacker_ips.empty())
        add("block_attacker_ips",
            "Hunt for other accounts signing in from " + join(attacker_ips.get<std::vector<std::string>>()) +
                " and block those addresses at the perimeter.",
            attacker_ips.get<std::vector<std::string>>());

    if (inc.request.contains("malicious_apps") && inc.request["malicious_apps"].is_array() &&
        !inc.request["malicious_apps"].empty())
        add("restrict_consent",
            "Restrict user consent to verified publishers and low-risk permissions, and review other consented "
            "apps for the same publisher or permissions.");

    // The block comes off last.
    const json* last = f.final_check();
    if (f.released_at) {
        add("release_done", "The emergency block was released at " + format_rfc3339(*f.released_at) + ".");
    } else if (last && f.all_checks_ran() && (*last)["verdict"] == "contained" && failed.empty()) {
        add("release_block", "Verification passed (" + (*last)["check"].get<std::string>() +
                                 ": contained). Release the emergency block (POST /v1/incidents/" + inc.id +
                                 "/release) once every user has their new credential; not before.");
    } else {
        add("keep_block",
            "Keep the emergency block on: release it only after every credential is reset and the final "
            "verification says contained.");
    }
    return out;
}

json summary(const facts& f) {
    json by_status = json::object();
    for (const auto& st : f.s.steps) {
        const std::string k(store::to_string(st.status));
        by_status[k] = by_status.value(k, 0) + 1;
    }
    int sealed = 0, revealed = 0;
    for (const auto& [name, c] : f.credentials) (c.revealed() ? revealed : sealed) += 1;
    const json* last = f.final_check();
    std::string verdict = "pending";
    if (last && f.all_checks_ran())
        verdict = (*last)["verdict"].get<std::string>();
    else if (last && ((*last)["verdict"] == "attention" || (*last)["verdict"] == "verifying"))
        verdict = (*last)["verdict"].get<std::string>();
    return {{"accounts", f.s.accounts.size()},  {"steps", f.s.steps.size()},
            {"steps_by_status", by_status},     {"events", f.s.events.size()},
            {"evidence", f.s.evidence.size()},  {"credentials_sealed", sealed},
            {"credentials_revealed", revealed}, {"verdict", verdict}};
}

}  // namespace

json build_report(const snapshot& s) {
    const facts f(s);
    json steps = json::array();
    for (const auto& st : s.steps) steps.push_back(detail::step_view(st));
    return {{"report_version", 1},
            {"incident", header(f)},
            {"summary", summary(f)},
            {"needs_human", needs_human(f)},
            {"recommendations", recommendations(f)},
            {"accounts", accounts(f)},
            {"apps", apps(f)},
            {"verification", f.verification},
            {"evidence", evidence(f)},
            {"steps", steps},
            {"timeline", timeline(f)}};
}

}  // namespace containd::report
