#include "verify/verify.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/net.hpp"
#include "core/time.hpp"

namespace containd::verify {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// "+12m", "+12m30s", "-20m": a time relative to containment.
std::string minutes_after(time_point t, time_point contained_at) {
    auto m = std::chrono::duration_cast<std::chrono::seconds>(t - contained_at).count();
    const char* sign = m < 0 ? "-" : "+";
    if (m < 0) m = -m;
    return sign + std::to_string(m / 60) + "m" + (m % 60 ? std::to_string(m % 60) + "s" : "");
}

}  // namespace

bool legacy_protocol(const std::string& client_app) {
    std::string c = client_app;
    std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (const char* k : {"imap", "pop", "smtp", "activesync", "mapi", "other clients", "autodiscover",
                          "exchange web services", "offline address book", "exchange online powershell"})
        if (c.find(k) != std::string::npos) return true;
    return false;
}

check_result analyse(const check_context& ctx, const std::vector<signin>& input) {
    check_result r;
    r.settled_through = ctx.now - ctx.allowance;

    // Microsoft publishes some records twice (risk re-publication, CA split, publish retries).
    std::vector<const signin*> logs;
    std::set<std::string> ids;
    std::set<std::tuple<std::string, std::int64_t, std::string, std::string, int>> republished;
    for (const auto& s : input) {
        if (!s.id.empty() && !ids.insert(s.id).second) {
            ++r.duplicates;
            continue;
        }
        if (!s.correlation_id.empty() &&
            !republished.insert({s.correlation_id, to_unix_ms(s.at), s.upn, s.app_id, s.error_code}).second) {
            ++r.duplicates;
            continue;
        }
        logs.push_back(&s);
    }
    std::stable_sort(logs.begin(), logs.end(), [](const signin* a, const signin* b) { return a->at < b->at; });

    std::set<std::string> causes;
    std::vector<std::string> serious, observed;
    std::map<std::pair<std::string, std::string>, finding> by_subject_ip;

    // One attacker client: subject (UPN or app:<id>), app, IP.
    using client_key = std::tuple<std::string, std::string, std::string>;
    struct client_trace {
        std::string app_name, client_app;
        std::optional<time_point> opener;   // last token issued before propagation
        std::optional<time_point> refused;  // first refusal after it
        int refused_code = 0;
    };
    std::map<client_key, client_trace> clients;
    // Successes after propagation: tokens newly issued through a path the block misses.
    struct miss {
        std::string app_name, client_app, ca_status;
        bool is_app = false;
        int count = 0;
        time_point first{}, last{};
    };
    std::map<client_key, miss> misses;
    // Apps and accounts the incident does not name, seen from an attacker IP.
    struct stranger {
        std::string name;
        int successes = 0, failures = 0;
        time_point last{};
        std::set<std::string> ips;
    };
    std::map<std::string, stranger> unknown_apps, unknown_accounts;
    std::map<std::pair<std::string, std::string>, time_point> ir_lockouts;  // (who, ip) -> first

    for (const signin* p : logs) {
        const signin& s = *p;
        const bool is_app = s.source == signin_source::service_principal;
        const bool compromised = !is_app && contains(ctx.upns, s.upn);
        const bool malicious_app = is_app && contains(ctx.app_ids, s.app_id);
        const bool from_attacker = contains(ctx.attacker_ips, s.ip);
        const bool success = s.error_code == 0;
        const std::string subject = is_app ? "app:" + s.app_id : s.upn;
        const client_key key{subject, s.app_id, s.ip};

        if (s.at < ctx.contained_at) {
            // Before containment only the attacker's token issuances matter: the last one opens
            // a residual window.
            if (success && (compromised || malicious_app)) {
                auto& c = clients[key];
                c.app_name = s.app_name;
                c.client_app = s.client_app;
                c.opener = s.at;
            }
            continue;
        }
        const bool unsettled = s.at > r.settled_through;
        if (unsettled) ++r.unsettled_records;

        if (!is_app && !success && s.error_code == 53003 && !compromised &&
            (ip_in_ranges(s.ip, ctx.ir_cidrs) || contains(ctx.protected_upns, s.upn))) {
            ir_lockouts.emplace(std::pair{s.upn.empty() ? s.ip : s.upn, s.ip}, s.at);
            continue;
        }
        if (!compromised && !malicious_app) {
            if (!from_attacker) continue;
            auto& sf = by_subject_ip[{subject, s.ip}];  // shown with the incident's own subjects
            sf.subject = subject;
            sf.ip = s.ip;
            if (success) {
                ++sf.successes;
                if (!sf.last_success || s.at > *sf.last_success) sf.last_success = s.at;
            } else {
                ++sf.failures;
                if (!contains(sf.fail_codes, std::to_string(s.error_code)))
                    sf.fail_codes.push_back(std::to_string(s.error_code));
            }
            auto& u = is_app ? unknown_apps[s.app_id] : unknown_accounts[s.upn];
            u.name = s.app_name;
            success ? ++u.successes : ++u.failures;
            if (s.at > u.last) u.last = s.at;
            u.ips.insert(s.ip);
            continue;
        }

        auto& f = by_subject_ip[{subject, s.ip}];
        f.subject = subject;
        f.ip = s.ip;
        if (!success) {
            ++f.failures;
            const std::string code = std::to_string(s.error_code);
            if (!contains(f.fail_codes, code)) f.fail_codes.push_back(code);
            if (s.error_code == 53003 && from_attacker) causes.insert("block_works");
            // The client came back for a new token and got none: it no longer held a usable one.
            auto it = clients.find(key);
            if (it != clients.end() && it->second.opener && s.at > *it->second.opener && !it->second.refused) {
                it->second.refused = s.at;
                it->second.refused_code = s.error_code;
            }
            continue;
        }
        ++f.successes;
        if (!f.last_success || s.at > *f.last_success) f.last_success = s.at;
        if (unsettled) ++r.unsettled_attacker_successes;

        std::optional<time_point> propagated;
        if (is_app) {
            propagated = ctx.apps_contained_at;
        } else {
            const auto rev = ctx.revoked_at.find(s.upn);
            propagated = (rev != ctx.revoked_at.end() ? rev->second : ctx.contained_at) + ctx.propagation;
        }
        const bool not_covered = !is_app && s.ca_status == "notApplied";
        if ((propagated && s.at > *propagated) || not_covered) {
            auto& m = misses[key];
            if (m.count == 0) m.first = s.at;
            ++m.count;
            m.last = s.at;
            m.app_name = s.app_name;
            m.client_app = s.client_app;
            m.ca_status = s.ca_status;
            m.is_app = is_app;
            continue;
        }
        // Issued before the block and revocation took hold: a new residual window from here.
        auto& c = clients[key];
        c.app_name = s.app_name;
        c.client_app = s.client_app;
        c.opener = s.at;
        c.refused.reset();
    }

    // ---- what needs a human, most serious first
    for (const auto& ip : ctx.attacker_ips)
        if (ip_in_ranges(ip, ctx.ir_cidrs)) {
            causes.insert("attacker_ip_excluded");
            serious.push_back("attacker IP " + ip +
                              " lies inside the IR named location the block excludes: sign-ins from it are not "
                              "blocked; narrow the named location or take it out of the exclusion");
        }
    for (const auto& [key, m] : misses) {
        const auto& [subject, app_id, ip] = key;
        std::vector<std::string> path;
        if (m.is_app) {
            causes.insert("persistence");
            path.push_back(
                "a service principal signing in after its credentials were removed holds a credential we "
                "did not remove (a second secret or certificate)");
        } else {
            if (ip_in_ranges(ip, ctx.ir_cidrs)) {
                causes.insert("excluded_location");
                path.push_back(
                    "the IP lies inside the IR named location the block excludes (unless this was the IR "
                    "team with the user)");
            }
            if (m.ca_status == "notApplied") {
                causes.insert("scope_gap");
                path.push_back(
                    "conditionalAccessStatus notApplied: the emergency policy did not apply to this sign-in");
            } else if (m.ca_status == "success") {
                causes.insert("scope_gap");
                path.push_back("conditionalAccessStatus success: a policy applied and did not block");
            }
            if (legacy_protocol(m.client_app)) {
                causes.insert("legacy_protocol");
                path.push_back("a legacy protocol (" + m.client_app + ")");
            }
            causes.insert("new_token_after_revocation");
        }
        if (!contains(ctx.attacker_ips, ip)) path.push_back(ip + " is not one of the incident's attacker IPs");
        std::string why;
        for (const auto& x : path) why += (why.empty() ? "" : "; ") + x;
        const std::string label = m.is_app ? "service principal " + app_id + " (" + m.app_name + ")" : subject;
        const std::string after = m.is_app
                                      ? "after its credentials were removed"
                                      : (m.ca_status == "notApplied" && m.first <= ctx.contained_at + ctx.propagation
                                             ? "after containment"
                                             : "after the revocation had propagated");
        serious.push_back(
            (m.is_app ? "persistence: " : "new token after containment: ") + label + " obtained " +
            std::to_string(m.count) + " token(s) " + after + " (" + minutes_after(m.first, ctx.contained_at) +
            (m.count > 1 ? " to " + minutes_after(m.last, ctx.contained_at) : "") + ", last at " +
            format_rfc3339(m.last) + ") for " + m.app_name + (m.client_app.empty() ? "" : " via " + m.client_app) +
            " from " + ip + ": the block or the revocation misses this path" + (why.empty() ? "" : ": " + why));
    }
    for (const auto& [app_id, u] : unknown_apps) {
        std::string ips;
        for (const auto& ip : u.ips) ips += (ips.empty() ? "" : ", ") + ip;
        causes.insert("unknown_app");
        if (u.successes) causes.insert("persistence");
        serious.push_back(
            (u.successes ? "persistence: " : "") + std::string("service principal ") + app_id + " (" + u.name +
            "), not named in the incident, was seen from attacker IP " + ips + " since containment (" +
            std::to_string(u.successes) + " success(es), " + std::to_string(u.failures) + " failure(s), last at " +
            format_rfc3339(u.last) +
            "): the attacker holds an app or a secret we were not told about; add it to the malicious apps");
    }
    for (const auto& [upn, u] : unknown_accounts) {
        std::string ips;
        for (const auto& ip : u.ips) ips += (ips.empty() ? "" : ", ") + ip;
        causes.insert("unknown_account");
        serious.push_back("account " + upn + ", not named in the incident, was seen from attacker IP " + ips +
                          " since containment (" + std::to_string(u.successes) + " success(es), " +
                          std::to_string(u.failures) + " failure(s), last at " + format_rfc3339(u.last) +
                          "): the attacker may hold it too; add it to the incident");
    }
    for (const auto& [who_ip, at] : ir_lockouts) {
        causes.insert("ir_lockout");
        serious.push_back("the IR team is blocked: " + who_ip.first + " from " + who_ip.second +
                          " failed with 53003 at " + format_rfc3339(at) +
                          "; the policy's exclusions are wrong, fix them now");
    }

    // ---- residual exposure windows
    for (const auto& [key, c] : clients) {
        if (!c.opener) continue;
        const auto& [subject, app_id, ip] = key;
        residual_window w;
        w.subject = subject;
        w.app_id = app_id;
        w.app_name = c.app_name;
        w.ip = ip;
        w.client_app = c.client_app;
        w.opened = *c.opener;
        if (c.refused) {
            w.basis = "refused";
            w.ends = *c.refused;
            w.refused_at = c.refused;
            w.refused_code = c.refused_code;
            w.ended = true;
        } else {
            w.basis = "max_lifetime";
            w.ends = w.opened + ctx.max_token_lifetime;
            if (w.ends <= ctx.contained_at) continue;  // expired before containment at the latest
            w.ended = w.ends <= ctx.now;
        }
        const std::string head = subject + ": the attacker's last token before propagation was issued at " +
                                 minutes_after(w.opened, ctx.contained_at) + " for " + w.app_name +
                                 (w.client_app.empty() ? "" : " via " + w.client_app) + " from " + ip;
        const auto lifetime =
            std::to_string(std::chrono::duration_cast<std::chrono::minutes>(ctx.max_token_lifetime).count());
        if (w.basis == "refused")
            observed.push_back(head + "; that client came back for a new token at " +
                               minutes_after(w.ends, ctx.contained_at) + " and was refused (" +
                               std::to_string(w.refused_code) + "): it no longer held a usable token by then");
        else if (!w.ended)
            observed.push_back(head + "; no refusal seen since: that token may be used until " +
                               format_rfc3339(w.ends) + " (" + minutes_after(w.ends, ctx.contained_at) +
                               ") at the latest (maximum access-token lifetime " + lifetime +
                               " min); sign-in logs cannot show its use");
        else
            observed.push_back(head + "; that token could be used until " + minutes_after(w.ends, ctx.contained_at) +
                               " at the latest (maximum access-token lifetime " + lifetime + " min), which has passed");
        causes.insert("residual_window");
        r.windows.push_back(std::move(w));
    }
    if (causes.count("block_works"))
        observed.push_back("the attacker's sign-ins from known IPs fail with 53003: the block works");

    // ---- the verdict
    const time_point horizon = ctx.contained_at + ctx.horizon;
    const bool settled = r.settled_through >= horizon;
    std::optional<time_point> open_until;
    for (const auto& w : r.windows)
        if (!w.ended && (!open_until || w.ends > *open_until)) open_until = w.ends;
    if (!serious.empty()) {
        r.verdict = "attention";
    } else if (settled && !open_until) {
        r.verdict = "contained";
    } else {
        r.verdict = "verifying";
        time_point at = std::max(horizon + ctx.allowance, open_until.value_or(horizon + ctx.allowance));
        if (at <= ctx.now) at = ctx.now + ctx.allowance;
        // On a whole minute after containment (a readable check label; whole seconds for
        // sub-minute schedules), never earlier.
        const auto after = ctx.allowance >= minutes(1)
                               ? duration(std::chrono::ceil<std::chrono::minutes>(at - ctx.contained_at))
                               : duration(std::chrono::ceil<std::chrono::seconds>(at - ctx.contained_at));
        r.confirm_at = ctx.contained_at + after;
    }

    const auto allowance_s = std::chrono::duration_cast<std::chrono::seconds>(ctx.allowance).count();
    const std::string allowance_text =
        allowance_s % 60 == 0 ? std::to_string(allowance_s / 60) + " min" : std::to_string(allowance_s) + " s";
    r.cannot_prove = {
        "Sign-in logs record tokens being issued, not tokens being used: they cannot show whether a token issued "
        "before the revocation is still in use. The residual windows are bounds from the last issuance, not "
        "observations of use.",
        "Records arrive late (minutes; MFA-related ones up to hours): this check has settled the window only through " +
            format_rfc3339(r.settled_through) + " (" + allowance_text +
            " allowance). No success seen after that is not evidence that none happened.",
        "They do not show what the attacker already did or took with access held before (mail read, files "
        "downloaded, rules or consents created): that needs the mailbox and audit logs."};

    for (auto& [_, f] : by_subject_ip) {
        std::sort(f.fail_codes.begin(), f.fail_codes.end());
        r.findings.push_back(f);
    }
    r.records = static_cast<int>(logs.size());
    r.attention = serious;
    r.diagnosis = serious;
    r.diagnosis.insert(r.diagnosis.end(), observed.begin(), observed.end());
    r.causes.assign(causes.begin(), causes.end());
    r.confirm_with_user = ctx.confirm_with_user;
    return r;
}

nlohmann::json to_json(const check_result& r) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : r.findings) {
        nlohmann::json j = {{"subject", f.subject},
                            {"ip", f.ip},
                            {"successes", f.successes},
                            {"failures", f.failures},
                            {"fail_codes", f.fail_codes}};
        if (f.subject.rfind("app:", 0) != 0) j["upn"] = f.subject;
        if (f.last_success) j["last_success"] = format_rfc3339(*f.last_success);
        findings.push_back(std::move(j));
    }
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& w : r.windows) {
        nlohmann::json j = {{"subject", w.subject},
                            {"app_id", w.app_id},
                            {"app_name", w.app_name},
                            {"ip", w.ip},
                            {"client_app", w.client_app},
                            {"opened_at", format_rfc3339(w.opened)},
                            {"ends_at", format_rfc3339(w.ends)},
                            {"basis", w.basis},
                            {"ended", w.ended}};
        if (w.refused_at) {
            j["refused_at"] = format_rfc3339(*w.refused_at);
            j["refused_code"] = w.refused_code;
        }
        windows.push_back(std::move(j));
    }
    nlohmann::json out = {
        {"verdict", r.verdict},
        {"settled_through", format_rfc3339(r.settled_through)},
        {"records", r.records},
        {"duplicates", r.duplicates},
        {"unsettled", {{"records", r.unsettled_records}, {"attacker_successes", r.unsettled_attacker_successes}}},
        {"findings", findings},
        {"residual_windows", windows},
        {"attention", r.attention},
        {"diagnosis", r.diagnosis},
        {"causes", r.causes},
        {"confirm_with_user", r.confirm_with_user},
        {"cannot_prove", r.cannot_prove}};
    if (r.confirm_at) out["confirm_at"] = format_rfc3339(*r.confirm_at);
    return out;
}

}  // namespace containd::verify
