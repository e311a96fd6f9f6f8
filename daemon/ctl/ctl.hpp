#pragma once
// containctl's pure parts: URL parsing and percent-encoding, the server-sent-events frame parser,
// HTTP status -> exit code mapping, problem+json rendering, phase progress, and the text tables
// the commands print. No I/O and no Asio here, so all of it is unit-tested (daemon/ctl/ctl_test.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace containd::ctl {

// ---------------------------------------------------------------------------------------------
// Exit codes (also in `containctl --help`). Scripts rely on them; never renumber.
//   0  ok (watch: the incident is contained, or reached --until-status)
//   1  unexpected response (an HTTP status not listed below, or an unparsable body)
//   2  usage error, or 400/413: the request was invalid (every field error is printed)
//   3  401/403: no valid token, or the token lacks the role
//   4  404: no such incident (or credential)
//   5  409/410/422: conflict (wrong state, already revealed, idempotency key reused, plan refused)
//   6  cannot reach the daemon (connect, TLS, timeout) or a 5xx (also 429)
//   10 watch: the incident needs attention
//   11 watch: the incident was cancelled
// ---------------------------------------------------------------------------------------------
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int unexpected = 1;
inline constexpr int usage = 2;
inline constexpr int auth = 3;
inline constexpr int not_found = 4;
inline constexpr int conflict = 5;
inline constexpr int unavailable = 6;
inline constexpr int needs_attention = 10;
inline constexpr int cancelled = 11;
}  // namespace exit_code

// The exit code for a final HTTP status (2xx -> 0).
int exit_code_for_status(int http_status);

// The exit code `watch` ends with for an incident status, or nullopt while it is not final
// (running, waiting_approval, verifying). contained -> 0, needs_attention -> 10, cancelled -> 11.
std::optional<int> exit_code_for_incident_status(std::string_view status);

// ---------------------------------------------------------------------------------------------
// URLs

struct url {
    bool tls = false;        // https
    std::string host;        // without brackets for IPv6 literals
    std::uint16_t port = 0;  // explicit or the scheme's default
    std::string base_path;   // "" or "/prefix" (no trailing slash): prepended to every API path
};

// http://host[:port][/prefix] or https://...; nullopt (and *error set) for anything else
// (other schemes, user-info, query or fragment, a bad port).
std::optional<url> parse_url(std::string_view text, std::string* error = nullptr);

// "host:port" for the Host header (IPv6 in brackets; port omitted when it is the default).
std::string host_header(const url& u);

// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), so a UPN
// ('@', apostrophes, '+') or an id is one path segment, or one query value, whatever it holds.
std::string percent_encode(std::string_view s);

// Joins path segments: {"v1","incidents",id} -> "/v1/incidents/<encoded id>".
std::string path_of(const std::vector<std::string>& segments);

// "?k=v&k2=v2" for the non-empty values, encoded; "" when none.
std::string query_of(const std::vector<std::pair<std::string, std::string>>& params);

// ---------------------------------------------------------------------------------------------
// Server-sent events (WHATWG HTML "event stream interpretation"), fed arbitrary slices of the
// body as they arrive: frames may be split anywhere, lines end in LF, CRLF or CR.

struct sse_event {
    std::string id;     // the last id seen (empty if none yet)
    std::string event;  // "message" when the frame had no event field
    std::string data;   // data lines joined with '\n'
};

class sse_parser {
public:
    // Parses what it can; complete events are returned in order, the rest is kept.
    std::vector<sse_event> feed(std::string_view chunk);

    // The id to send as Last-Event-ID when reconnecting (empty: none seen).
    const std::string& last_event_id() const { return last_id_; }
    // Comment lines (":..."): the server's heartbeats.
    std::uint64_t comments() const { return comments_; }
    // The server's "retry:" advice in milliseconds, if it sent one.
    std::optional<std::int64_t> retry_ms() const { return retry_ms_; }
    // Forget a partial frame (the connection dropped); ids and counters are kept.
    void reset_partial();

private:
    void line(std::string_view l, std::vector<sse_event>& out);

    std::string pending_;  // an incomplete line
    bool last_was_cr_ = false;
    std::string data_, event_;
    bool has_data_ = false;
    std::string id_buffer_;  // the id field of the frame being read
    std::string last_id_;    // committed when a frame ends
    bool seen_any_ = false;  // for the optional BOM on the first line
    std::uint64_t comments_ = 0;
    std::optional<std::int64_t> retry_ms_;
};

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457)

// Readable text of an error response: "404 Not Found: No such incident." then one indented
// line per field error. Falls back to the raw body (trimmed) when it is not a problem document.
std::string render_problem(int http_status, std::string_view body);

// ---------------------------------------------------------------------------------------------
// Progress of an incident, from GET /v1/incidents/{id}

inline const std::vector<std::string>& phases() {
    static const std::vector<std::string> p = {"resolve", "block",  "revoke",  "credentials", "methods",
                                               "apps",    "verify", "release", "done"};
    return p;
}

struct phase_progress {
    std::string phase;
    int total = 0;
    int done = 0;  // succeeded or skipped
    int failed = 0;
    int running = 0;  // running or waiting_approval
};

struct progress {
    std::vector<phase_progress> by_phase;  // every phase of phases(), in order
    int total = 0, done = 0, failed = 0;
    int skipped = 0;  // a cancelled incident's skipped steps are not done (its bar never reads 100 %)
    std::string status, phase;
};

progress compute_progress(const nlohmann::json& incident);

// One line: "[resolve 4/4][block 1/1][*revoke 1/4]... [#####.....] 9/23 running". The current
// phase is marked with '*', a phase with a failed step with '!', one without steps shows '-'.
std::string render_progress(const progress& p, int bar_width = 20);

// ---------------------------------------------------------------------------------------------
// Text output

struct table {
    std::vector<std::string> headers;
    std::vector<std::vector<std::string>> rows;
};

// Left-aligned columns separated by two spaces; widths count UTF-8 code points; cells wider
// than max_cell are cut with "...". No trailing spaces.
std::string render_table(const table& t, std::size_t max_cell = 60);

// Server-supplied text made safe for a terminal: every control character (newline, ESC, ...)
// becomes a space, so a value cannot forge lines or drive the terminal.
std::string printable(std::string_view s);

// A JSON value as a cell: strings as-is, null/absent as "-", others dumped.
std::string cell(const nlohmann::json& obj, const char* key);

// "2026-03-18T10:15:02.123Z" -> "2026-03-18 10:15:02" ("-" when empty or null).
std::string short_time(const nlohmann::json& t);

std::string render_incident_list(const nlohmann::json& list);  // GET /v1/incidents
std::string render_incident(const nlohmann::json& incident);   // GET /v1/incidents/{id}
std::string render_plan(const nlohmann::json& plan);           // dry-run response

// One line for a live event: "10:15:02  step_succeeded  #5 revoke_sessions a@b.com  (k=v ...)".
// incident (may be null) supplies the step's kind and target.
std::string render_event_line(const nlohmann::json& event, const nlohmann::json& incident);

// ---------------------------------------------------------------------------------------------
// Submission from flags

struct submit_flags {
    std::string tenant, external_ref, title, compromise_start, scope, credential_delivery, method_cleanup;
    bool confirm_tenant_wide = false;
    std::vector<std::string> accounts;  // "UPN" or "UPN:tier"
    std::vector<std::string> attacker_ips;
    std::vector<std::string> apps;  // appId GUIDs
};

// Applies flags onto base (an object: a file's body, or {}): scalars replace, lists append.
// A tier after the last ':' must be one of break_glass, service, privileged, standard; errors
// are appended to *errors (the body is still returned).
nlohmann::json build_submission(nlohmann::json base, const submit_flags& f, std::vector<std::string>* errors);

}  // namespace containd::ctl
