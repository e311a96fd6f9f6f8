// The report for people: Markdown (for the ticket and the terminal) and self-contained HTML.
// Both are rendered from one document model built from the report JSON, so they say the same
// things; every piece of text is escaped by the backend that writes it.

#include <cctype>
#include <string>
#include <vector>

#include "report/report.hpp"

namespace containd::report {

using nlohmann::json;

namespace {

// ------------------------------------------------------------------ the document model

struct table {
    std::vector<std::string> head;
    std::vector<std::vector<std::string>> rows;
};

struct block {
    enum class kind { heading, subheading, paragraph, facts, bullets, numbered, table } k;
    std::string text;                                        // heading, subheading, paragraph
    std::vector<std::pair<std::string, std::string>> pairs;  // facts
    std::vector<std::string> items;                          // bullets, numbered
    struct table grid;                                       // table
    std::string tone;                                        // html class: ok, warn, bad
};

struct document {
    std::string title;
    std::string status;
    std::vector<block> blocks;

    void heading(std::string t) { blocks.push_back({block::kind::heading, std::move(t), {}, {}, {}, {}}); }
    void subheading(std::string t, std::string tone = {}) {
        blocks.push_back({block::kind::subheading, std::move(t), {}, {}, {}, std::move(tone)});
    }
    void paragraph(std::string t, std::string tone = {}) {
        blocks.push_back({block::kind::paragraph, std::move(t), {}, {}, {}, std::move(tone)});
    }
    void facts(std::vector<std::pair<std::string, std::string>> p) {
        blocks.push_back({block::kind::facts, {}, std::move(p), {}, {}, {}});
    }
    void list(std::vector<std::string> items, bool numbered, std::string tone = {}) {
        blocks.push_back(
            {numbered ? block::kind::numbered : block::kind::bullets, {}, {}, std::move(items), {}, std::move(tone)});
    }
    void grid(table t) { blocks.push_back({block::kind::table, {}, {}, {}, std::move(t), {}}); }
};

// ------------------------------------------------------------------ reading the report JSON

std::string str(const json& j, const char* key, const std::string& absent = "—") {
    if (!j.is_object() || !j.contains(key)) return absent;
    const json& v = j[key];
    if (v.is_null()) return absent;
    if (v.is_string()) return v.get<std::string>().empty() ? absent : v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

std::string joined(const json& arr, const std::string& sep = ", ", const std::string& absent = "—") {
    if (!arr.is_array() || arr.empty()) return absent;
    std::string out;
    for (const auto& x : arr) out += (out.empty() ? "" : sep) + (x.is_string() ? x.get<std::string>() : x.dump());
    return out;
}

const json& member(const json& j, const char* key) {
    static const json empty_array = json::array();
    if (j.is_object() && j.contains(key)) return j[key];
    return empty_array;
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string tone_of_status(const std::string& status) {
    if (status == "contained") return "ok";
    if (status == "needs_attention") return "bad";
    return "warn";
}

std::string tone_of_verdict(const std::string& verdict) {
    if (verdict == "contained") return "ok";
    if (verdict == "attention") return "bad";
    return "warn";
}

document build_document(const json& r) {
    document d;
    const json& inc = member(r, "incident");
    const json& sum = member(r, "summary");
    const std::string title = str(inc, "title", "(untitled incident)");
    d.title = "Containment report: " + title;
    d.status = str(inc, "status");

    d.heading(d.title);
    d.paragraph("Status: " + upper(d.status) + " (phase " + str(inc, "phase") + "), verification verdict " +
                    str(sum, "verdict", "pending"),
                tone_of_status(d.status));
    d.facts({{"Incident", str(inc, "id")},
             {"Tenant", str(inc, "tenant")},
             {"External reference", str(inc, "external_ref")},
             {"Compromise start", str(inc, "compromise_start")},
             {"Created", str(inc, "created_at")},
             {"Contained (block in force)", str(inc, "contained_at", "not yet")},
             {"Block released", str(inc, "released_at", "no")},
             {"Report as of", str(inc, "as_of")},
             {"Scope", str(inc, "scope")},
             {"Credential delivery", str(inc, "credential_delivery")},
             {"Attacker IPs", joined(member(inc, "attacker_ips"))},
             {"Accounts", str(sum, "accounts")},
             {"Credentials", str(sum, "credentials_sealed", "0") + " sealed, " + str(sum, "credentials_revealed", "0") +
                                 " revealed"}});

    // What the reader at 3 a.m. needs first.
    const json& needs = member(r, "needs_human");
    d.subheading("Needs a human (" + std::to_string(needs.size()) + ")", needs.empty() ? "ok" : "bad");
    if (needs.empty()) {
        d.paragraph("Nothing needs a human right now.", "ok");
    } else {
        std::vector<std::string> items;
        for (const auto& n : needs) {
            const std::string source = str(n, "source", "");
            std::string label = source == "failed_step" ? "Failed"
                                : source == "approval"  ? "Approval"
                                : source == "diagnosis" ? "Diagnosis"
                                                        : "Attention";
            items.push_back(label + ": " + str(n, "text", ""));
        }
        d.list(std::move(items), false, "bad");
    }

    const json& warnings = member(inc, "warnings");
    if (!warnings.empty()) {
        d.subheading("Plan warnings", "warn");
        std::vector<std::string> items;
        for (const auto& w : warnings) items.push_back(w.is_string() ? w.get<std::string>() : w.dump());
        d.list(std::move(items), false, "warn");
    }

    const json& recs = member(r, "recommendations");
    d.subheading("Recommendations");
    {
        std::vector<std::string> items;
        for (const auto& x : recs) items.push_back(str(x, "text", ""));
        if (items.empty())
            d.paragraph("None.");
        else
            d.list(std::move(items), true);
    }

    const json& accounts = member(r, "accounts");
    d.subheading("Accounts (" + std::to_string(accounts.size()) + ")");
    {
        table t{{"Account", "Tier (why)", "Synced", "Sessions revoked", "Password reset", "TAP issued",
                 "Methods removed", "Credential", "Outcome"},
                {}};
        for (const auto& a : accounts) {
            std::string creds;
            for (const auto& c : member(a, "credentials")) {
                std::string one = str(c, "type", "") + " " + str(c, "state", "");
                if (str(c, "state", "") == "revealed")
                    one += " at " + str(c, "revealed_at") + " to " + str(c, "revealed_by");
                else
                    one += " since " + str(c, "sealed_at");
                creds += (creds.empty() ? "" : "; ") + one;
            }
            const json& removed = member(a, "methods_removed");
            std::string methods = removed.empty() ? "none" : std::to_string(removed.size()) + ": " + joined(removed);
            const json& kept = member(a, "methods_kept");
            if (!kept.empty()) methods += " (kept " + std::to_string(kept.size()) + ")";
            t.rows.push_back({str(a, "upn"), str(a, "tier") + " (" + str(a, "tier_reason") + ")", str(a, "synced"),
                              str(a, "revoked_at"), str(a, "password_reset_at"), str(a, "tap_issued_at"), methods,
                              creds.empty() ? "—" : creds, str(a, "outcome")});
        }
        d.grid(std::move(t));
    }

    const json& apps = member(r, "apps");
    if (!apps.empty()) {
        d.subheading("Applications (" + std::to_string(apps.size()) + ")");
        table t{{"App id", "Delete requested", "Steps", "Outcome"}, {}};
        for (const auto& a : apps) {
            std::string steps;
            for (const auto& st : member(a, "steps"))
                steps += (steps.empty() ? "" : "; ") + str(st, "kind", "") + " " + str(st, "status", "");
            t.rows.push_back(
                {str(a, "app_id"), str(a, "delete_application"), steps.empty() ? "—" : steps, str(a, "outcome")});
        }
        d.grid(std::move(t));
    }

    const json& checks = member(r, "verification");
    d.subheading("Verification (" + std::to_string(checks.size()) + " checks)");
    if (checks.empty()) {
        d.paragraph("No verification checks are planned.");
    } else {
        table t{{"Check", "Due", "Ran", "Settled through", "Verdict", "Sign-ins read"}, {}};
        for (const auto& v : checks)
            t.rows.push_back({str(v, "check") + (member(v, "confirmation") == true ? " (confirmation)" : ""),
                              str(v, "due_at"), str(v, "ran_at", "not yet"), str(v, "settled_through", "-"),
                              str(v, "verdict"), str(v, "sign_ins_read")});
        d.grid(std::move(t));
        const json* last_ran = nullptr;
        for (const auto& v : checks) {
            if (str(v, "verdict", "pending") == "pending" && member(v, "error").is_null()) continue;
            if (str(v, "verdict", "pending") != "pending") last_ran = &v;
            d.subheading("Check " + str(v, "check") + ": " + str(v, "verdict"), tone_of_verdict(str(v, "verdict")));
            if (!member(v, "error").is_null()) d.paragraph("The check failed: " + str(v, "error"), "bad");
            if (!member(v, "settled_through").is_null()) {
                const json& tail = member(v, "unsettled");
                d.paragraph("Settled through " + str(v, "settled_through") +
                            "; in the unsettled tail after it: " + str(tail, "records", "0") + " record(s), " +
                            str(tail, "attacker_successes", "0") + " attacker success(es)." +
                            (member(v, "confirm_at").is_null()
                                 ? std::string()
                                 : " A confirmation check follows at " + str(v, "confirm_at") + "."));
            }
            const json& windows = member(v, "residual_windows");
            if (!windows.empty()) {
                table w{{"Residual exposure", "App", "IP", "Client", "Last token issued", "Ends", "Basis", "Ended"},
                        {}};
                for (const auto& x : windows)
                    w.rows.push_back({str(x, "subject"), str(x, "app_name"), str(x, "ip"), str(x, "client_app"),
                                      str(x, "opened_at"), str(x, "ends_at"),
                                      str(x, "basis") == "refused"
                                          ? "refused at " + str(x, "refused_at") + " (observed)"
                                          : "maximum token lifetime (at the latest)",
                                      member(x, "ended") == true ? "yes" : "no"});
                d.grid(std::move(w));
            }
            const json& findings = member(v, "findings");
            if (!findings.empty()) {
                table f{{"Account or app", "IP", "Successes", "Failures", "Failure codes", "Last success"}, {}};
                for (const auto& x : findings)
                    f.rows.push_back({str(x, "subject"), str(x, "ip"), str(x, "successes"), str(x, "failures"),
                                      joined(member(x, "fail_codes")), str(x, "last_success")});
                d.grid(std::move(f));
            } else if (str(v, "verdict", "pending") != "pending") {
                d.paragraph("No sign-ins by the compromised accounts or apps since containment.");
            }
            std::vector<std::string> diagnosis;
            for (const auto& x : member(v, "diagnosis"))
                diagnosis.push_back(x.is_string() ? x.get<std::string>() : x.dump());
            if (!diagnosis.empty()) d.list(std::move(diagnosis), false, tone_of_verdict(str(v, "verdict")));
            std::vector<std::string> confirm;
            for (const auto& x : member(v, "confirm_with_user"))
                confirm.push_back(x.is_string() ? x.get<std::string>() : x.dump());
            if (!confirm.empty()) d.list(std::move(confirm), false, "warn");
        }
        if (last_ran && !member(*last_ran, "cannot_prove").empty()) {
            d.subheading("What sign-in logs cannot prove");
            std::vector<std::string> limits;
            for (const auto& x : member(*last_ran, "cannot_prove"))
                limits.push_back(x.is_string() ? x.get<std::string>() : x.dump());
            d.list(std::move(limits), false);
        }
    }

    const json& evidence = member(r, "evidence");
    d.subheading("Evidence captured (" + std::to_string(evidence.size()) + ")");
    if (evidence.empty()) {
        d.paragraph("No evidence captured yet.");
    } else {
        table t{{"Kind", "Target", "Captured", "Contents", "SHA-256"}, {}};
        for (const auto& e : evidence) {
            std::string contents;
            for (const auto& [key, n] : member(e, "counts").items())
                contents += (contents.empty() ? "" : ", ") + key + ": " + n.dump();
            for (const auto& [key, why] : member(e, "unavailable").items())
                contents += (contents.empty() ? "" : ", ") + key + ": unavailable (" +
                            (why.is_string() ? why.get<std::string>() : why.dump()) + ")";
            t.rows.push_back({str(e, "kind"), str(e, "target"), str(e, "captured_at"),
                              contents.empty() ? "—" : contents, str(e, "sha256")});
        }
        d.grid(std::move(t));
        d.paragraph("The full evidence is in the JSON report (format=json).");
    }

    const json& steps = member(r, "steps");
    d.subheading("Steps (" + std::to_string(steps.size()) + ")");
    {
        table t{{"#", "Phase", "Step", "Target", "Status", "Attempts", "Started", "Finished", "Error"}, {}};
        for (const auto& st : steps)
            t.rows.push_back({str(st, "seq"), str(st, "phase"), str(st, "kind"), str(st, "target"), str(st, "status"),
                              str(st, "attempts"), str(st, "started_at"), str(st, "finished_at"), str(st, "error")});
        d.grid(std::move(t));
    }

    const json& events = member(r, "timeline");
    d.subheading("Timeline (" + std::to_string(events.size()) + " events, UTC)");
    {
        table t{{"Time", "Event", "Step", "Account / target", "Detail"}, {}};
        for (const auto& e : events) {
            std::string who = str(e, "account", "");
            if (who.empty()) who = str(e, "target");
            t.rows.push_back({str(e, "at"), str(e, "kind"), str(e, "step"), who, str(e, "summary")});
        }
        d.grid(std::move(t));
    }
    return d;
}

// ------------------------------------------------------------------ Markdown

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// "12. " or "3) " at the very start would open an ordered list: true for its '.' or ')'.
bool ordered_marker_end(const std::string& s, std::size_t i) {
    std::size_t start = 0;
    while (start < s.size() && s[start] == ' ') ++start;
    if (i == start || i + 1 > s.size()) return false;
    for (std::size_t k = start; k < i; ++k)
        if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    return i + 1 == s.size() || s[i + 1] == ' ';
}

// Backslash-escapes what Markdown would read as markup or raw HTML; a newline would end a table
// row, so it becomes a space. Underscores inside a word (enable_emergency_policy) cannot start
// emphasis and stay as they are, so the raw text stays readable.
std::string md(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 8);
    bool line_start = true;  // only leading spaces so far: '#', '+', '-' would start a block there
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const char prev = i > 0 ? s[i - 1] : ' ';
        const char next = i + 1 < s.size() ? s[i + 1] : ' ';
        bool escape = false;
        switch (c) {
        case '\\':
        case '`':
        case '*':
        case '[':
        case ']':
        case '<':
        case '>':
        case '|':
        case '~': escape = true; break;
        case '_': escape = !(word_char(prev) && word_char(next)); break;
        case '&': escape = std::isalpha(static_cast<unsigned char>(next)) != 0 || next == '#'; break;
        // At the start of the text these open a heading, a list or a setext underline, but only
        // when a space (or the same character) follows: "+15m" is plain text.
        case '#':
        case '+':
        case '-':
        case '=': escape = line_start && (next == ' ' || next == c || i + 1 == s.size()); break;
        case '.':
        case ')': escape = ordered_marker_end(s, i); break;
        default: break;
        }
        if (c == '\r' || c == '\n' || c == '\t') {
            out += ' ';
            continue;
        }
        if (escape) out += '\\';
        out += c;
        if (c != ' ') line_start = false;
    }
    return out;
}

std::string render_md(const document& d) {
    std::string out;
    for (const auto& b : d.blocks) {
        switch (b.k) {
        case block::kind::heading: out += "# " + md(b.text) + "\n\n"; break;
        case block::kind::subheading: out += "## " + md(b.text) + "\n\n"; break;
        case block::kind::paragraph:
            out += (b.tone == "bad" || b.tone == "warn" || b.tone == "ok" ? "**" + md(b.text) + "**" : md(b.text)) +
                   "\n\n";
            break;
        case block::kind::facts:
            for (const auto& [k, v] : b.pairs) out += "- **" + md(k) + ":** " + md(v) + "\n";
            out += "\n";
            break;
        case block::kind::bullets:
            for (const auto& i : b.items) out += "- " + md(i) + "\n";
            out += "\n";
            break;
        case block::kind::numbered: {
            int n = 0;
            for (const auto& i : b.items) out += std::to_string(++n) + ". " + md(i) + "\n";
            out += "\n";
            break;
        }
        case block::kind::table: {
            out += "|";
            for (const auto& h : b.grid.head) out += " " + md(h) + " |";
            out += "\n|";
            for (std::size_t i = 0; i < b.grid.head.size(); ++i) out += " --- |";
            out += "\n";
            for (const auto& row : b.grid.rows) {
                out += "|";
                for (const auto& c : row) out += " " + md(c) + " |";
                out += "\n";
            }
            out += "\n";
            break;
        }
        }
    }
    return out;
}

// ------------------------------------------------------------------ HTML

std::string h(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string tone_class(const std::string& tone) { return tone.empty() ? "" : " class=\"" + tone + "\""; }

const char* const css =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1200px;"
    "padding:0 1em;color:#1b1f23;background:#fff}"
    "h1{font-size:1.6em;margin-bottom:.3em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d0d7de;"
    "padding-bottom:.2em}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0 1em;font-size:13px}"
    "th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-word}"
    "th{background:#f6f8fa}tr:nth-child(even) td{background:#fbfcfd}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}dd{margin:0}"
    ".ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e}"
    "p.ok,p.warn,p.bad{font-weight:600}ul.bad li,ul.warn li{font-weight:500}"
    "@media print{body{margin:0;max-width:none}}";

std::string render_html_doc(const document& d) {
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>" +
        h(d.title) + "</title>\n<style>" + css + "</style>\n</head>\n<body>\n";
    for (const auto& b : d.blocks) {
        switch (b.k) {
        case block::kind::heading: out += "<h1>" + h(b.text) + "</h1>\n"; break;
        case block::kind::subheading: out += "<h2" + tone_class(b.tone) + ">" + h(b.text) + "</h2>\n"; break;
        case block::kind::paragraph: out += "<p" + tone_class(b.tone) + ">" + h(b.text) + "</p>\n"; break;
        case block::kind::facts:
            out += "<dl>\n";
            for (const auto& [k, v] : b.pairs) out += "<dt>" + h(k) + "</dt><dd>" + h(v) + "</dd>\n";
            out += "</dl>\n";
            break;
        case block::kind::bullets:
        case block::kind::numbered: {
            const char* tag = b.k == block::kind::numbered ? "ol" : "ul";
            out += std::string("<") + tag + tone_class(b.tone) + ">\n";
            for (const auto& i : b.items) out += "<li>" + h(i) + "</li>\n";
            out += std::string("</") + tag + ">\n";
            break;
        }
        case block::kind::table:
            out += "<table>\n<thead><tr>";
            for (const auto& c : b.grid.head) out += "<th>" + h(c) + "</th>";
            out += "</tr></thead>\n<tbody>\n";
            for (const auto& row : b.grid.rows) {
                out += "<tr>";
                for (const auto& c : row) out += "<td>" + h(c) + "</td>";
                out += "</tr>\n";
            }
            out += "</tbody>\n</table>\n";
            break;
        }
    }
    out += "</body>\n</html>\n";
    return out;
}

}  // namespace

std::string render_markdown(const nlohmann::json& report) { return render_md(build_document(report)); }

std::string render_html(const nlohmann::json& report) { return render_html_doc(build_document(report)); }

}  // namespace containd::report
