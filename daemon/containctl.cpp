// containctl: the command-line client of containd's REST API (schema/openapi.yaml, API.md).
//
// Exit codes (scripts rely on them; the same list is in --help and in ctl/ctl.hpp):
//   0  ok (watch: the incident is contained, or reached --until-status)
//   1  unexpected response from the daemon
//   2  usage error, or 400/413 validation error (every field error is printed)
//   3  401/403: missing or invalid token, or the token lacks the role
//   4  404: no such incident (or credential)
//   5  409/410/422: conflict (wrong state, already revealed, key reused, plan refused)
//   6  cannot reach the daemon (connect, TLS, timeout), or a 5xx/429
//   10 watch: the incident needs attention
//   11 watch: the incident was cancelled
//
// The bearer token comes from --token-file (or CONTAIND_TOKEN_FILE) or CONTAIND_TOKEN; it is
// never printed. Revealed credentials go to stdout only, with a warning on stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/net.hpp"
#include "core/secret.hpp"
#include "core/time.hpp"
#include "ctl/ctl.hpp"
#include "ctl/http.hpp"

namespace {

using nlohmann::json;
using namespace containd::ctl;

const char* exit_codes_help =
    "Exit codes:\n"
    "  0   ok (watch: contained, or --until-status reached)\n"
    "  1   unexpected response from the daemon\n"
    "  2   usage error, or 400/413 validation error (each field error is printed)\n"
    "  3   401/403: missing or invalid token, or the token lacks the role\n"
    "  4   404: no such incident or credential\n"
    "  5   409/410/422: conflict (wrong state, already revealed, key reused, plan refused)\n"
    "  6   cannot reach the daemon (connect, TLS, timeout), or 5xx/429\n"
    "  10  watch: the incident needs attention\n"
    "  11  watch: the incident was cancelled\n"
    "\n"
    "Environment: CONTAIND_URL, CONTAIND_TOKEN (the bearer token itself), CONTAIND_TOKEN_FILE, CONTAIND_CACERT.";

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct globals {
    std::string url = "http://127.0.0.1:8080";
    std::string token_file;
    std::string output = "table";
    std::string cacert;
    int timeout_s = 30;
};

struct session {
    globals g;
    std::unique_ptr<http_client> client;
    bool json_out() const { return g.output == "json"; }
};

std::string read_all(std::istream& in) { return std::string(std::istreambuf_iterator<char>(in), {}); }

std::string read_file_or_stdin(const std::string& path) {
    if (path == "-") return read_all(std::cin);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw usage_error("cannot read '" + path + "'");
    return read_all(in);
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// The token: --token-file wins over CONTAIND_TOKEN. Only visible ASCII (no header injection).
containd::secret load_token(const globals& g) {
    std::string t;
    if (!g.token_file.empty()) {
        std::ifstream in(g.token_file, std::ios::binary);
        if (!in) throw usage_error("cannot read --token-file '" + g.token_file + "'");
        t = trim(read_all(in));
        if (t.empty()) throw usage_error("--token-file '" + g.token_file + "' is empty");
    } else if (const char* env = std::getenv("CONTAIND_TOKEN")) {
        t = trim(env);
    }
    for (unsigned char c : t)
        if (c < 0x21 || c > 0x7e) throw usage_error("the token has characters a bearer token cannot have");
    return containd::secret(std::move(t));
}

void print_json(const std::string& body) {
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded())
        std::cout << body << (body.empty() || body.back() == '\n' ? "" : "\n");
    else
        std::cout << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

// Prints the error response readably on stderr; returns its exit code.
int report_failure(const http_result& r) {
    std::cerr << "containctl: error: " << render_problem(r.status, r.body);
    if (r.status == 401) std::cerr << "  (give a token with --token-file, CONTAIND_TOKEN_FILE or CONTAIND_TOKEN)\n";
    if (r.status == 403) std::cerr << "  (the token is valid but lacks the role this command needs)\n";
    return exit_code_for_status(r.status);
}

bool ok(const http_result& r) { return r.status >= 200 && r.status < 300; }

json body_json(const http_result& r) { return json::parse(r.body, nullptr, false); }

std::string incident_path(const std::string& id, const std::vector<std::string>& rest = {}) {
    std::vector<std::string> segs = {"v1", "incidents", id};
    segs.insert(segs.end(), rest.begin(), rest.end());
    return path_of(segs);
}

// ---------------------------------------------------------------------------------------------
// submit

struct submit_args {
    std::string file;
    submit_flags flags;
    bool dry_run = false;
    bool quiet = false;
    std::string idempotency_key;
};

int cmd_submit(session& s, const submit_args& a) {
    json base = json::object();
    if (!a.file.empty()) {
        const std::string text = read_file_or_stdin(a.file);
        base = json::parse(text, nullptr, false);
        if (base.is_discarded()) throw usage_error("'" + a.file + "' is not valid JSON");
    }
    std::vector<std::string> errors;
    json body = build_submission(std::move(base), a.flags, &errors);
    if (!errors.empty()) {
        for (const auto& e : errors) std::cerr << "containctl: " << e << "\n";
        return exit_code::usage;
    }
    if (a.file.empty() && !body.contains("accounts"))
        throw usage_error("submit needs FILE (or '-') or at least one --account");
    std::vector<std::pair<std::string, std::string>> headers;
    if (!a.idempotency_key.empty()) headers.emplace_back("Idempotency-Key", a.idempotency_key);
    const std::string target = "/v1/incidents" + std::string(a.dry_run ? "?dry_run=true" : "");
    const auto r = s.client->request("POST", target, body.dump(), "application/json", headers);
    if (!ok(r)) return report_failure(r);
    if (s.json_out()) {
        print_json(r.body);
        return exit_code::ok;
    }
    const json doc = body_json(r);
    if (a.dry_run) {
        std::cout << render_plan(doc);
        return exit_code::ok;
    }
    if (a.quiet) {
        std::cout << cell(doc, "id") << "\n";
        return exit_code::ok;
    }
    if (r.status == 201)
        std::cout << "Created incident " << cell(doc, "id") << "\n\n";
    else
        std::cout << "Already submitted (same Idempotency-Key or external_ref): incident " << cell(doc, "id") << "\n\n";
    std::cout << render_incident(doc);
    return exit_code::ok;
}

// ---------------------------------------------------------------------------------------------
// list, show, report

int cmd_list(session& s, const std::string& status, const std::string& tenant, int limit) {
    constexpr int page_max = 200;  // the API's largest page
    json all = json::array();
    json next = nullptr;
    std::string cursor;
    for (;;) {
        const int want = limit > 0 ? std::min(page_max, limit - static_cast<int>(all.size())) : 0;
        const auto q = query_of({{"status", status},
                                 {"tenant", tenant},
                                 {"limit", want > 0 ? std::to_string(want) : std::string()},
                                 {"cursor", cursor}});
        const auto r = s.client->request("GET", "/v1/incidents" + q);
        if (!ok(r)) return report_failure(r);
        const json doc = body_json(r);
        if (!doc.is_object() || !doc.contains("incidents") || !doc["incidents"].is_array()) {
            std::cerr << "containctl: error: the daemon's list is not {\"incidents\": [...]}\n";
            return exit_code::unexpected;
        }
        for (const auto& i : doc["incidents"]) all.push_back(i);
        next = doc.value("next_cursor", json());
        // One page unless --limit asks for more than a page holds.
        if (limit <= 0 || static_cast<int>(all.size()) >= limit || !next.is_string() || doc["incidents"].empty()) break;
        cursor = next.get<std::string>();
    }
    if (s.json_out()) {
        std::cout << json{{"incidents", all}, {"next_cursor", next}}.dump(2, ' ', false, json::error_handler_t::replace)
                  << "\n";
        return exit_code::ok;
    }
    std::cout << render_incident_list(all);
    if (next.is_string()) std::cout << "(more incidents: raise --limit)\n";
    return exit_code::ok;
}

int cmd_show(session& s, const std::string& id) {
    const auto r = s.client->request("GET", incident_path(id));
    if (!ok(r)) return report_failure(r);
    if (s.json_out())
        print_json(r.body);
    else
        std::cout << render_incident(body_json(r));
    return exit_code::ok;
}

int cmd_report(session& s, const std::string& id, std::string format) {
    if (format.empty()) format = s.json_out() ? "json" : "md";
    const auto r = s.client->request("GET", incident_path(id, {"report"}) + query_of({{"format", format}}), {}, {},
                                     {{"Accept", format == "json" ? "application/json"
                                                 : format == "md" ? "text/markdown"
                                                                  : "text/html"}});
    if (!ok(r)) return report_failure(r);
    if (format == "json")
        print_json(r.body);
    else
        std::cout << r.body << (r.body.empty() || r.body.back() == '\n' ? "" : "\n");
    return exit_code::ok;
}

// ---------------------------------------------------------------------------------------------
// actions

int finish_action(session& s, const http_result& r, const std::string& what) {
    if (!ok(r)) return report_failure(r);
    if (s.json_out()) {
        print_json(r.body);
        return exit_code::ok;
    }
    const json doc = body_json(r);
    std::cout << what;
    if (doc.is_object() && doc.contains("status")) std::cout << "; status " << cell(doc, "status");
    if (doc.is_object() && doc.contains("phase")) std::cout << ", phase " << cell(doc, "phase");
    std::cout << "\n";
    return exit_code::ok;
}

int cmd_step_action(session& s, const char* action, const std::string& id, int step, const char* verb) {
    const auto r = s.client->request("POST", incident_path(id, {action}), json{{"step", step}}.dump());
    return finish_action(s, r, std::string(verb) + " step " + std::to_string(step) + " of incident " + id);
}

// An operator action with a body ({"reason": ...} and more).
int cmd_body_action(session& s, const std::string& id, const std::vector<std::string>& path, const json& body,
                    const std::string& query, const std::string& what) {
    const auto r = s.client->request("POST", incident_path(id, path) + query, body.dump(), "application/json");
    if (!ok(r)) return report_failure(r);
    if (s.json_out()) {
        print_json(r.body);
        return exit_code::ok;
    }
    const json doc = body_json(r);
    std::cout << what << " incident " << id;
    if (doc.is_object() && doc.contains("status")) std::cout << "; status " << cell(doc, "status");
    if (doc.is_object() && doc.contains("phase")) std::cout << ", phase " << cell(doc, "phase");
    std::cout << "\n";
    // Say plainly what happens to the block (cancel), and what was not added twice.
    if (doc.is_object() && doc.contains("block")) std::cout << "Emergency block: " << cell(doc, "block") << "\n";
    if (doc.is_object() && doc.contains("already_present") && doc["already_present"].is_array() &&
        !doc["already_present"].empty()) {
        std::cout << "Already part of the incident (not added again):";
        for (const auto& a : doc["already_present"])
            if (a.is_string()) std::cout << " " << printable(a.get<std::string>());
        std::cout << "\n";
    }
    return exit_code::ok;
}

// A TAP is issued when it is first revealed: the daemon answers 202 (Retry-After) while Graph
// issues it, and the reveal is asked again until it is there (at most a minute).
int cmd_reveal(session& s, const std::string& id, const std::string& upn, const std::string& kind,
               std::optional<int> tap_lifetime) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!kind.empty()) params.emplace_back("kind", kind);
    if (tap_lifetime) params.emplace_back("lifetime_minutes", std::to_string(*tap_lifetime));
    std::string target = incident_path(id, {"credentials", upn, "reveal"});
    if (!params.empty()) target += query_of(params);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    auto r = s.client->request("POST", target);
    while (r.status == 202 && std::chrono::steady_clock::now() < give_up) {
        if (!s.json_out()) std::cerr << "containctl: the Temporary Access Pass for " << upn << " is being issued...\n";
        using containd::duration;
        const duration wait = containd::parse_retry_after(r.header("retry-after"), std::chrono::system_clock::now())
                                  .value_or(std::chrono::seconds(1));
        std::this_thread::sleep_for(
            std::clamp<duration>(wait, std::chrono::milliseconds(100), std::chrono::seconds(5)));
        r = s.client->request("POST", target);
    }
    if (r.status == 202) {
        std::cerr << "containctl: error: the Temporary Access Pass is still being issued after a minute; see "
                     "'containctl show "
                  << id << "' and reveal again\n";
        return exit_code::unexpected;
    }
    if (!ok(r)) return report_failure(r);
    const json doc = body_json(r);
    if (!doc.is_object() || !doc.contains("value") || !doc["value"].is_string()) {
        std::cerr << "containctl: error: the daemon's answer has no credential value\n";
        return exit_code::unexpected;
    }
    std::cerr << "containctl: warning: this "
              << (doc.value("kind", "") == "tap" ? "Temporary Access Pass" : "temporary password") << " for "
              << cell(doc, "upn")
              << " is shown ONCE; the daemon has wiped it and a second reveal fails (410). Deliver it out of band.\n";
    if (s.json_out())
        print_json(r.body);
    else
        std::cout << doc["value"].get<std::string>() << "\n";
    return exit_code::ok;
}

// ---------------------------------------------------------------------------------------------
// watch

struct watch_view {
    bool tty = false;
    bool json_lines = false;
    std::string last_progress;
    bool progress_on_screen = false;

    void clear_progress() {
        if (tty && progress_on_screen) std::cout << "\r\033[K";
        progress_on_screen = false;
    }
    void line(const std::string& l) {
        clear_progress();
        std::cout << l << "\n";
    }
    void progress(const std::string& p) {
        if (json_lines) return;
        if (tty) {
            clear_progress();
            std::cout << p << std::flush;
            progress_on_screen = true;
        } else if (p != last_progress) {
            std::cout << "progress " << p << "\n" << std::flush;
        }
        last_progress = p;
    }
    void done() {
        if (tty && progress_on_screen) std::cout << "\n";
        progress_on_screen = false;
        std::cout << std::flush;
    }
};

// The verification checks still to run, confirmation checks the daemon appended marked as
// such: "+60m due 10:00:00, +70m (confirmation) due 10:10:00" (empty when none).
std::string pending_checks(const json& incident) {
    std::string out;
    for (const auto& v : incident.value("verification", json::array())) {
        if (!v.is_object() || v.value("verdict", "") != "pending") continue;
        const bool confirmation = v.contains("confirmation") && v["confirmation"] == true;
        out += (out.empty() ? "" : ", ") + cell(v, "check") + (confirmation ? " (confirmation)" : "") + " due " +
               short_time(v.contains("due_at") ? v["due_at"] : json());
    }
    return out;
}

// The exit code when the incident is final (or at --until-status), else nullopt.
std::optional<int> watch_outcome(const json& incident, const std::string& until) {
    const std::string st = incident.is_object() ? incident.value("status", "") : "";
    if (!until.empty() && st == until) return exit_code::ok;
    return exit_code_for_incident_status(st);
}

int cmd_watch(session& s, const std::string& id, const std::string& until, int idle_s) {
    watch_view view;
    view.tty = ::isatty(STDOUT_FILENO) == 1;
    view.json_lines = s.json_out();

    json incident;
    auto refresh = [&]() -> std::optional<int> {  // an exit code when the incident cannot be read
        const auto r = s.client->request("GET", incident_path(id));
        if (!ok(r)) {
            if (r.status == 429 || r.status >= 500) return std::nullopt;  // transient: keep the last view
            view.done();
            return report_failure(r);
        }
        const json doc = body_json(r);
        if (doc.is_object()) incident = doc;
        return std::nullopt;
    };
    if (auto fail = refresh()) return *fail;
    if (!incident.is_object()) {
        std::cerr << "containctl: error: the daemon's incident is not a JSON object\n";
        return exit_code::unexpected;
    }
    if (!view.json_lines)
        view.line("Watching incident " + cell(incident, "id") + " (" + cell(incident, "title") + "), status " +
                  cell(incident, "status") + ". Ctrl-C stops watching, not the containment.");
    // Pending checks, shown again whenever they change (a confirmation check appended).
    std::string shown_pending;
    auto show_pending = [&] {
        const std::string pending = pending_checks(incident);
        if (view.json_lines || pending == shown_pending) return;
        shown_pending = pending;
        if (!pending.empty()) view.line("pending checks: " + pending);
    };
    show_pending();

    sse_parser parser;
    std::optional<int> outcome;  // final (or --until-status) reached: its exit code
    std::optional<int> failure;  // the incident cannot be read any more (404, 401, ...)
    int failures = 0;            // consecutive attempts that did not reach the stream
    constexpr int max_failures = 10;
    std::uint64_t heartbeats = 0;

    auto on_events = [&](const std::vector<sse_event>& events) {
        if (!events.empty() || parser.comments() != heartbeats) {
            heartbeats = parser.comments();
            try {
                if (auto fail = refresh()) {
                    failure = fail;
                    return;
                }
            } catch (const transport_error&) {
                // The stream is alive; the next event refreshes again.
            }
        }
        for (const auto& e : events) {
            const json ev = json::parse(e.data, nullptr, false);
            if (view.json_lines) {
                std::cout << (ev.is_discarded() ? json{{"id", e.id}, {"event", e.event}, {"data", e.data}} : ev)
                                 .dump(-1, ' ', false, json::error_handler_t::replace)
                          << "\n"
                          << std::flush;
            } else if (ev.is_object()) {
                json shown = ev;
                if (!shown.contains("kind")) shown["kind"] = e.event;
                view.line(render_event_line(shown, incident));
            } else {
                view.line(printable(e.event + "  " + e.data.substr(0, 200)));
            }
        }
        show_pending();
        view.progress(render_progress(compute_progress(incident)));
        if (!outcome) outcome = watch_outcome(incident, until);
    };

    // Already final: print the trail from the paged JSON list instead of waiting on a stream.
    if (watch_outcome(incident, until)) {
        std::string after = "0";
        for (int pages = 0; pages < 1000; ++pages) {
            const auto r = s.client->request("GET", incident_path(id, {"events"}) + query_of({{"after", after}}));
            if (!ok(r)) return report_failure(r);
            const json doc = body_json(r);
            const json events = doc.is_object() ? doc.value("events", json::array()) : json::array();
            if (!events.is_array() || events.empty()) break;
            for (const auto& ev : events) {
                if (view.json_lines)
                    std::cout << ev.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
                else
                    view.line(render_event_line(ev, incident));
            }
            const json next = doc.value("next_after", json());
            if (!next.is_number_integer() || std::to_string(next.get<std::int64_t>()) == after) break;
            after = std::to_string(next.get<std::int64_t>());
        }
        outcome = watch_outcome(incident, until);
    }

    view.progress(render_progress(compute_progress(incident)));
    while (!outcome) {
        std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "text/event-stream"},
                                                                    {"Cache-Control", "no-cache"}};
        if (!parser.last_event_id().empty()) headers.emplace_back("Last-Event-ID", parser.last_event_id());
        http_result head;
        bool reached = false;
        std::string dropped;
        try {
            head = s.client->stream(
                incident_path(id, {"events"}), headers, [&](const http_result&) { reached = true; },
                [&](std::string_view chunk) {
                    on_events(parser.feed(chunk));
                    return !outcome && !failure;
                },
                std::chrono::seconds(idle_s));
            if (!outcome && reached) dropped = "the daemon ended the event stream";
        } catch (const transport_error& e) {
            dropped = e.what();
        }
        if (failure) return *failure;
        if (outcome) break;
        if (head.status != 0 && !ok(head) && head.status != 429 && head.status < 500) {
            view.done();
            return report_failure(head);
        }
        if (head.status != 0 && !ok(head)) dropped = "HTTP " + std::to_string(head.status);
        failures = reached ? 0 : failures + 1;
        if (failures >= max_failures) {
            view.done();
            std::cerr << "containctl: error: giving up after " << failures << " attempts: " << dropped << "\n";
            return exit_code::unavailable;
        }
        // Before reconnecting: maybe it finished while we were away (the refresh says so).
        try {
            if (auto fail = refresh()) return *fail;
            outcome = watch_outcome(incident, until);
            if (outcome) break;
        } catch (const transport_error&) {}
        const auto delay = parser.retry_ms()
                               ? std::chrono::milliseconds(*parser.retry_ms())
                               : std::chrono::milliseconds(std::min(10'000, 500 << std::min(failures, 5)));
        view.clear_progress();
        std::cerr << "containctl: " << dropped << "; reconnecting in " << delay.count() << " ms"
                  << (parser.last_event_id().empty() ? "" : " (Last-Event-ID " + parser.last_event_id() + ")") << "\n";
        parser.reset_partial();
        std::this_thread::sleep_for(delay);
    }
    view.progress(render_progress(compute_progress(incident)));
    view.done();
    if (!view.json_lines) {
        std::cout << "Incident " << cell(incident, "id") << " is " << cell(incident, "status") << "\n";
        for (const auto& a : incident.value("attention", json::array()))
            if (a.is_string()) std::cout << "  attention: " << printable(a.get<std::string>()) << "\n";
    }
    return *outcome;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "containctl: submit and follow containd incidents (containment of a compromised Microsoft 365 tenant)"};
    app.set_version_flag("--version", "containctl " CONTAIND_VERSION);
    app.footer(exit_codes_help);
    app.require_subcommand(1);
    app.fallthrough();
    globals g;
    app.add_option("--url", g.url, "containd's API base URL")->envname("CONTAIND_URL")->capture_default_str();
    app.add_option("--token-file", g.token_file, "File holding the bearer token (else CONTAIND_TOKEN); never echoed")
        ->envname("CONTAIND_TOKEN_FILE");
    app.add_option("--output,-o", g.output, "Output format")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    app.add_option("--cacert", g.cacert, "PEM CA certificate(s) to verify an https:// daemon (else the system store)")
        ->envname("CONTAIND_CACERT");
    app.add_option("--timeout", g.timeout_s, "Seconds allowed for each network step")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();

    submit_args sa;
    auto* submit = app.add_subcommand("submit", "Submit an incident from a JSON file ('-': stdin) and/or flags");
    submit->add_option("file", sa.file, "Incident JSON (API.md); flags override its fields and add to its lists");
    submit->add_option("--tenant", sa.flags.tenant, "Configured tenant name (optional with one tenant)");
    submit->add_option("--external-ref", sa.flags.external_ref, "The SIEM's incident id");
    submit->add_option("--title", sa.flags.title, "Title");
    submit->add_option("--compromise-start", sa.flags.compromise_start, "RFC 3339 time the compromise began");
    submit->add_option("--account", sa.flags.accounts,
                       "UPN[:tier] (tier: break_glass, service, privileged, standard); repeatable");
    submit->add_option("--attacker-ip", sa.flags.attacker_ips, "Attacker IP address; repeatable");
    submit->add_option("--app", sa.flags.apps, "Malicious application appId; repeatable");
    submit->add_option("--scope", sa.flags.scope, "accounts or tenant")->check(CLI::IsMember({"accounts", "tenant"}));
    submit->add_flag("--confirm-tenant-wide", sa.flags.confirm_tenant_wide, "Confirm a tenant-wide scope");
    submit->add_option("--credential-delivery", sa.flags.credential_delivery, "password or tap")
        ->check(CLI::IsMember({"password", "tap"}));
    submit->add_option("--method-cleanup", sa.flags.method_cleanup, "auto, complete or targeted")
        ->check(CLI::IsMember({"auto", "complete", "targeted"}));
    submit->add_flag("--dry-run", sa.dry_run, "Print the plan; change nothing");
    submit->add_option("--idempotency-key", sa.idempotency_key,
                       "Idempotency-Key header (a retry returns the first incident)");
    submit->add_flag("--quiet,-q", sa.quiet, "Print only the incident id");

    std::string status, tenant;
    int limit = 0;
    auto* list = app.add_subcommand("list", "List incidents, newest first");
    list->add_option("--status", status, "Only this status")
        ->check(
            CLI::IsMember({"running", "waiting_approval", "verifying", "contained", "needs_attention", "cancelled"}));
    list->add_option("--tenant", tenant, "Only this tenant");
    list->add_option("--limit", limit, "At most this many (pages are followed)")->check(CLI::Range(1, 100000));

    std::string id, upn, format, until;
    int step = 0, idle_s = 60;
    auto* show = app.add_subcommand("show", "Show an incident: accounts, steps, verification, attention");
    show->add_option("id", id, "Incident id")->required();

    auto* watch = app.add_subcommand(
        "watch", "Follow an incident live until contained (0), needs_attention (10) or cancelled (11)");
    watch->add_option("id", id, "Incident id")->required();
    watch->add_option("--until-status", until, "Also stop (exit 0) when the incident reaches this status")
        ->check(
            CLI::IsMember({"running", "waiting_approval", "verifying", "contained", "needs_attention", "cancelled"}));
    watch
        ->add_option("--idle-timeout", idle_s,
                     "Seconds without a byte (the daemon sends heartbeats) before reconnecting")
        ->check(CLI::Range(5, 3600))
        ->capture_default_str();

    auto* report = app.add_subcommand("report", "Print the incident report");
    report->add_option("id", id, "Incident id")->required();
    report->add_option("--format", format, "md, json or html (default md; json with --output json)")
        ->check(CLI::IsMember({"md", "json", "html"}));

    auto* reveal = app.add_subcommand("reveal", "Reveal an account's temporary password or TAP (once; audited)");
    reveal->add_option("id", id, "Incident id")->required();
    reveal->add_option("upn", upn, "Account UPN")->required();
    std::string reveal_kind;
    reveal->add_option("--kind", reveal_kind, "tap or password, when the account holds both (default: the TAP)")
        ->check(CLI::IsMember({"tap", "password"}));
    std::optional<int> tap_lifetime;
    const char* lifetime_help = "Minutes the TAP is valid (default 60; the tenant's TAP policy bounds it)";
    reveal->add_option("--lifetime", tap_lifetime, std::string(lifetime_help) + "; for a TAP issued by this reveal")
        ->check(CLI::Range(10, 43200));

    auto* issue_tap = app.add_subcommand(
        "issue-tap", "Re-issue an account's Temporary Access Pass now (the first is issued by 'reveal')");
    issue_tap->add_option("id", id, "Incident id")->required();
    issue_tap->add_option("upn", upn, "Account UPN")->required();
    issue_tap->add_option("--lifetime", tap_lifetime, lifetime_help)->check(CLI::Range(10, 43200));

    auto* approve = app.add_subcommand("approve", "Approve a step that waits for an operator");
    approve->add_option("id", id, "Incident id")->required();
    approve->add_option("step", step, "Step seq")->required()->check(CLI::Range(1, 100000));
    auto* retry = app.add_subcommand("retry", "Retry a failed step");
    retry->add_option("id", id, "Incident id")->required();
    retry->add_option("step", step, "Step seq")->required()->check(CLI::Range(1, 100000));
    std::string reason;
    bool cancel_release = false;
    auto* cancel =
        app.add_subcommand("cancel", "Cancel an incident's remaining steps (the block stays on unless --release)");
    cancel->add_option("id", id, "Incident id")->required();
    cancel->add_option("--reason", reason, "Why (kept in the audit trail)");
    cancel->add_flag("--release", cancel_release, "Also release the emergency block for the incident's accounts");
    auto* release = app.add_subcommand(
        "release", "Turn the emergency block off for the incident's accounts (any state after the block; audited)");
    release->add_option("id", id, "Incident id")->required();
    release->add_option("--reason", reason, "Why (required; kept in the audit trail)")->required();

    submit_flags add_flags;
    auto* add = app.add_subcommand("add", "Add accounts or apps to a running incident (planned in tier order)");
    add->add_option("id", id, "Incident id")->required();
    add->add_option("--account", add_flags.accounts, "UPN[:tier]; repeatable");
    add->add_option("--app", add_flags.apps, "Malicious application appId; repeatable");
    add->add_option("--reason", reason, "Why (required; kept in the audit trail)")->required();
    auto* verify = app.add_subcommand("verify", "Run a verification check now, besides the scheduled ones");
    verify->add_option("id", id, "Incident id")->required();
    verify->add_option("--reason", reason, "Why (required; kept in the audit trail)")->required();
    auto* override_guard = app.add_subcommand(
        "override-guard", "Accept the break-glass lockout risk: the block the guard refused may run (audited)");
    override_guard->add_option("id", id, "Incident id")->required();
    override_guard->add_option("--reason", reason, "Why (required; kept in the audit trail)")->required();
    issue_tap->add_option("--reason", reason, "Why (required; kept in the audit trail)")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? exit_code::ok : exit_code::usage;
    }

    session s;
    s.g = g;
    try {
        std::string why;
        auto base = parse_url(g.url, &why);
        if (!base) throw usage_error("--url '" + g.url + "': " + why);
        if (!base->tls && !g.cacert.empty()) std::cerr << "containctl: note: --cacert is ignored for an http:// URL\n";
        if (!base->tls && !containd::is_loopback_host(base->host))
            std::cerr << "containctl: warning: the bearer token goes to " << base->host
                      << " over plain http://: anyone on the path can read it and act with its role (use https://)\n";
        client_options o;
        o.base = *base;
        o.cacert_file = base->tls ? g.cacert : std::string();
        o.bearer = load_token(g);
        o.timeout = std::chrono::seconds(g.timeout_s);
        s.client = std::make_unique<http_client>(std::move(o));

        if (submit->parsed()) return cmd_submit(s, sa);
        if (list->parsed()) return cmd_list(s, status, tenant, limit);
        if (show->parsed()) return cmd_show(s, id);
        if (watch->parsed()) return cmd_watch(s, id, until, idle_s);
        if (report->parsed()) return cmd_report(s, id, format);
        if (reveal->parsed()) return cmd_reveal(s, id, upn, reveal_kind, tap_lifetime);
        if (approve->parsed()) return cmd_step_action(s, "approve", id, step, "Approved");
        if (retry->parsed()) return cmd_step_action(s, "retry", id, step, "Retry requested for");
        const json with_reason = reason.empty() ? json::object() : json{{"reason", reason}};
        if (cancel->parsed())
            return cmd_body_action(s, id, {"cancel"}, with_reason, cancel_release ? "?release=true" : "", "Cancelled");
        if (release->parsed()) return cmd_body_action(s, id, {"release"}, with_reason, "", "Release requested for");
        if (verify->parsed()) return cmd_body_action(s, id, {"verify"}, with_reason, "", "Verification scheduled for");
        if (override_guard->parsed())
            return cmd_body_action(s, id, {"override-guard"}, with_reason, "", "Break-glass guard overridden for");
        if (issue_tap->parsed())
            return cmd_body_action(
                s, id, {"credentials", upn, "tap"},
                tap_lifetime ? json{{"reason", reason}, {"lifetime_minutes", *tap_lifetime}} : json{{"reason", reason}},
                "", "TAP requested for " + upn + " in");
        if (add->parsed()) {
            std::vector<std::string> errors;
            json body = build_submission(json::object(), add_flags, &errors);
            for (const auto& e : errors) std::cerr << "containctl: " << e << "\n";
            if (!errors.empty()) return exit_code::usage;
            if (!body.contains("accounts") && !body.contains("malicious_apps"))
                throw usage_error("add needs at least one --account or --app");
            json out = {{"reason", reason}};
            if (body.contains("accounts")) out["accounts"] = body["accounts"];
            if (body.contains("malicious_apps")) out["malicious_apps"] = body["malicious_apps"];
            return cmd_body_action(s, id, {"accounts"}, out, "", "Added to");
        }
    } catch (const usage_error& e) {
        std::cerr << "containctl: " << e.what() << "\n";
        return exit_code::usage;
    } catch (const std::invalid_argument& e) {
        std::cerr << "containctl: " << e.what() << "\n";
        return exit_code::usage;
    } catch (const transport_error& e) {
        std::cerr << "containctl: error: " << e.what() << "\n";
        return exit_code::unavailable;
    } catch (const std::exception& e) {
        std::cerr << "containctl: error: " << e.what() << "\n";
        return exit_code::unexpected;
    }
    return exit_code::usage;
}
