#include "ctl/ctl.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace containd::ctl {

using nlohmann::json;

namespace {

constexpr std::size_t max_line = 4 * 1024 * 1024;  // a longer SSE line is dropped, not buffered

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

// The first `n` code points of s.
std::string_view first_code_points(std::string_view s, std::size_t n) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (seen == n) return s.substr(0, i);
            ++seen;
        }
    }
    return s;
}

// Server-supplied text reaches a terminal: control characters (newlines, ESC sequences) could
// forge lines or drive the terminal, so each becomes a space.
std::string sanitize(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
    return out;
}

std::string truncate(std::string_view s, std::size_t max) {
    if (max < 4 || code_points(s) <= max) return std::string(s);
    return std::string(first_code_points(s, max - 3)) + "...";
}

const json& member(const json& obj, const char* key) {
    static const json null_value;
    if (!obj.is_object()) return null_value;
    const auto it = obj.find(key);
    return it == obj.end() ? null_value : *it;
}

std::string text(const json& obj, const char* key) {
    const auto& v = member(obj, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string scalar_text(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return sanitize(v.get<std::string>());
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    if (v.is_array()) {
        std::string out;
        for (const auto& x : v) {
            if (!out.empty()) out += ",";
            out += x.is_string() ? sanitize(x.get<std::string>()) : sanitize(x.dump());
        }
        return out.empty() ? "-" : out;
    }
    return sanitize(v.dump());
}

const json& array_of(const json& obj, const char* key) {
    static const json empty = json::array();
    const auto& v = member(obj, key);
    return v.is_array() ? v : empty;
}

void key_values(std::ostringstream& out, const std::vector<std::pair<std::string, std::string>>& kv) {
    std::size_t w = 0;
    for (const auto& [k, v] : kv) w = std::max(w, code_points(k));
    for (const auto& [k, v] : kv) out << k << std::string(w - code_points(k) + 2, ' ') << v << "\n";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int exit_code_for_status(int s) {
    if (s >= 200 && s < 300) return exit_code::ok;
    if (s == 400 || s == 413 || s == 414 || s == 415 || s == 431) return exit_code::usage;
    if (s == 401 || s == 403) return exit_code::auth;
    if (s == 404) return exit_code::not_found;
    if (s == 409 || s == 410 || s == 422) return exit_code::conflict;
    if (s == 429 || (s >= 500 && s < 600)) return exit_code::unavailable;
    return exit_code::unexpected;
}

std::optional<int> exit_code_for_incident_status(std::string_view status) {
    if (status == "contained") return exit_code::ok;
    if (status == "needs_attention") return exit_code::needs_attention;
    if (status == "cancelled") return exit_code::cancelled;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------

std::optional<url> parse_url(std::string_view t, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<url> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    url u;
    if (t.rfind("https://", 0) == 0) {
        u.tls = true;
        u.port = 443;
        t.remove_prefix(8);
    } else if (t.rfind("http://", 0) == 0) {
        u.port = 80;
        t.remove_prefix(7);
    } else {
        return fail("the URL must start with http:// or https://");
    }
    const auto slash = t.find('/');
    std::string_view authority = t.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : t.substr(slash);
    if (path.find_first_of("?#") != std::string_view::npos || authority.find_first_of("?#") != std::string_view::npos)
        return fail("the URL must not have a query or fragment");
    if (authority.find('@') != std::string_view::npos) return fail("the URL must not carry user information");
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return fail("unterminated IPv6 literal");
        u.host = std::string(authority.substr(1, close - 1));
        const auto rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail("unexpected text after the IPv6 literal");
            port_text = rest.substr(1);
            if (port_text.empty()) return fail("empty port");
        }
    } else {
        const auto colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return fail("empty port");
        }
    }
    if (u.host.empty()) return fail("the URL has no host");
    for (unsigned char c : u.host)
        if (c <= 0x20 || c == 0x7f) return fail("the host has a control character or space");
    if (!port_text.empty()) {
        unsigned v = 0;
        const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
        if (ec != std::errc() || p != port_text.data() + port_text.size() || v == 0 || v > 65535)
            return fail("bad port '" + std::string(port_text) + "'");
        u.port = static_cast<std::uint16_t>(v);
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    for (unsigned char c : path)
        if (c <= 0x20 || c == 0x7f) return fail("the path has a control character or space");
    u.base_path = std::string(path);
    return u;
}

std::string host_header(const url& u) {
    std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    if (u.port != (u.tls ? 443 : 80)) h += ":" + std::to_string(u.port);
    return h;
}

std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (is_unreserved(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
    return out;
}

std::string path_of(const std::vector<std::string>& segments) {
    std::string out;
    for (const auto& s : segments) out += "/" + percent_encode(s);
    return out;
}

std::string query_of(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [k, v] : params) {
        if (v.empty()) continue;
        out += out.empty() ? "?" : "&";
        out += percent_encode(k) + "=" + percent_encode(v);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

std::vector<sse_event> sse_parser::feed(std::string_view chunk) {
    std::vector<sse_event> out;
    std::size_t i = 0;
    if (last_was_cr_ && !chunk.empty() && chunk.front() == '\n') i = 1;  // the LF of a CRLF split across reads
    last_was_cr_ = false;
    while (i < chunk.size()) {
        const auto end = chunk.find_first_of("\r\n", i);
        if (end == std::string_view::npos) {
            if (pending_.size() + (chunk.size() - i) <= max_line)
                pending_.append(chunk.substr(i));
            else
                pending_.clear();  // an absurd line: drop it rather than grow without bound
            break;
        }
        std::string_view piece = chunk.substr(i, end - i);
        if (pending_.empty()) {
            line(piece, out);
        } else {
            pending_.append(piece);
            const std::string whole = std::move(pending_);
            pending_.clear();
            line(whole, out);
        }
        if (chunk[end] == '\r') {
            if (end + 1 < chunk.size()) {
                i = chunk[end + 1] == '\n' ? end + 2 : end + 1;
            } else {
                last_was_cr_ = true;
                i = end + 1;
            }
        } else {
            i = end + 1;
        }
    }
    return out;
}

void sse_parser::line(std::string_view l, std::vector<sse_event>& out) {
    // A UTF-8 BOM may open the stream.
    if (l.size() >= 3 && static_cast<unsigned char>(l[0]) == 0xEF && static_cast<unsigned char>(l[1]) == 0xBB &&
        static_cast<unsigned char>(l[2]) == 0xBF && !seen_any_)
        l.remove_prefix(3);
    seen_any_ = true;
    if (l.empty()) {
        // Dispatch. The id takes effect even for a frame without data.
        last_id_ = id_buffer_;
        if (has_data_) {
            if (!data_.empty() && data_.back() == '\n') data_.pop_back();
            out.push_back({last_id_, event_.empty() ? "message" : event_, std::move(data_)});
        }
        data_.clear();
        event_.clear();
        has_data_ = false;
        return;
    }
    if (l.front() == ':') {
        ++comments_;
        return;
    }
    std::string_view field = l, value;
    if (const auto colon = l.find(':'); colon != std::string_view::npos) {
        field = l.substr(0, colon);
        value = l.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
        event_ = std::string(value);
    } else if (field == "data") {
        data_.append(value);
        data_ += '\n';
        has_data_ = true;
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) id_buffer_ = std::string(value);
    } else if (field == "retry") {
        std::int64_t v = 0;
        const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec == std::errc() && p == value.data() + value.size() && !value.empty() && v >= 0) retry_ms_ = v;
    }
    // Other fields are ignored, as the standard says.
}

void sse_parser::reset_partial() {
    pending_.clear();
    last_was_cr_ = false;
    data_.clear();
    event_.clear();
    has_data_ = false;
    id_buffer_ = last_id_;
}

// ---------------------------------------------------------------------------------------------

std::string render_problem(int http_status, std::string_view body) {
    std::ostringstream out;
    const json doc = json::parse(body, nullptr, false);
    if (doc.is_object() && (doc.contains("title") || doc.contains("detail"))) {
        const std::string title = text(doc, "title");
        const std::string detail = text(doc, "detail");
        out << http_status;
        if (!title.empty()) out << " " << sanitize(title);
        if (!detail.empty()) out << ": " << sanitize(detail);
        out << "\n";
        for (const auto& e : array_of(doc, "errors")) {
            const std::string field = text(e, "field");
            out << "  " << (field.empty() ? "(body)" : sanitize(field)) << ": " << sanitize(text(e, "message")) << "\n";
        }
        for (const auto& r : array_of(doc, "reasons"))
            if (r.is_string()) out << "  - " << sanitize(r.get<std::string>()) << "\n";
        return out.str();
    }
    std::string raw = sanitize(truncate(body, 500));
    while (!raw.empty() && raw.back() == ' ') raw.pop_back();
    out << "HTTP " << http_status;
    if (!raw.empty()) out << ": " << raw;
    out << "\n";
    return out.str();
}

// ---------------------------------------------------------------------------------------------

progress compute_progress(const json& incident) {
    progress p;
    for (const auto& name : phases()) p.by_phase.push_back({name, 0, 0, 0, 0});
    p.status = text(incident, "status");
    p.phase = text(incident, "phase");
    for (const auto& s : array_of(incident, "steps")) {
        const std::string ph = text(s, "phase");
        const std::string st = text(s, "status");
        auto it =
            std::find_if(p.by_phase.begin(), p.by_phase.end(), [&](const phase_progress& x) { return x.phase == ph; });
        ++p.total;
        // A cancelled incident's skipped steps were not done: they do not fill its bar.
        const bool skipped = st == "skipped";
        const bool done = st == "succeeded" || (skipped && p.status != "cancelled");
        const bool failed = st == "failed";
        if (skipped) ++p.skipped;
        if (done) ++p.done;
        if (failed) ++p.failed;
        if (it == p.by_phase.end()) continue;  // a phase this CLI does not know: counted overall only
        ++it->total;
        if (done) ++it->done;
        if (failed) ++it->failed;
        if (st == "running" || st == "waiting_approval") ++it->running;
    }
    return p;
}

std::string render_progress(const progress& p, int bar_width) {
    std::string out;
    for (const auto& ph : p.by_phase) {
        if (ph.phase == "release" && ph.total == 0) continue;  // only after an operator's release
        out += "[";
        if (ph.phase == p.phase) out += "*";
        out += ph.phase;
        if (ph.phase != "done") {
            out += " ";
            out += ph.total == 0 ? std::string("-") : std::to_string(ph.done) + "/" + std::to_string(ph.total);
        }
        if (ph.failed > 0) out += "!";
        out += "]";
    }
    const int width = std::max(bar_width, 1);
    const int filled = p.total > 0 ? p.done * width / p.total : (p.status == "contained" ? width : 0);
    out += " [" + std::string(static_cast<std::size_t>(filled), '#') +
           std::string(static_cast<std::size_t>(width - filled), '.') + "] ";
    out += std::to_string(p.done) + "/" + std::to_string(p.total);
    if (!p.status.empty()) out += " " + sanitize(p.status);
    if (p.status == "cancelled" && p.skipped > 0) out += " (" + std::to_string(p.skipped) + " skipped)";
    return out;
}

// ---------------------------------------------------------------------------------------------

std::string render_table(const table& t, std::size_t max_cell) {
    const std::size_t cols = t.headers.size();
    std::vector<std::vector<std::string>> cells;
    cells.reserve(t.rows.size() + 1);
    cells.push_back(t.headers);
    for (const auto& r : t.rows) {
        std::vector<std::string> row(cols);
        for (std::size_t c = 0; c < cols && c < r.size(); ++c) row[c] = truncate(sanitize(r[c]), max_cell);
        cells.push_back(std::move(row));
    }
    std::vector<std::size_t> widths(cols, 0);
    for (const auto& r : cells)
        for (std::size_t c = 0; c < cols; ++c) widths[c] = std::max(widths[c], code_points(r[c]));
    std::string out;
    for (const auto& r : cells) {
        std::string line;
        for (std::size_t c = 0; c < cols; ++c) {
            line += r[c];
            if (c + 1 < cols) line += std::string(widths[c] - code_points(r[c]) + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string printable(std::string_view s) { return sanitize(s); }

std::string cell(const json& obj, const char* key) { return scalar_text(member(obj, key)); }

std::string short_time(const json& t) {
    if (!t.is_string()) return "-";
    std::string s = sanitize(t.get<std::string>());
    if (s.empty()) return "-";
    if (s.size() >= 19 && s[10] == 'T') {
        s[10] = ' ';
        return s.substr(0, 19);
    }
    return s;
}

std::string render_incident_list(const json& list) {
    const json& items = list.is_array() ? list : array_of(list, "incidents");
    table t{{"ID", "TENANT", "REF", "STATUS", "PHASE", "CREATED"}, {}};
    for (const auto& i : items)
        t.rows.push_back({cell(i, "id"), cell(i, "tenant"), cell(i, "external_ref"), cell(i, "status"),
                          cell(i, "phase"), short_time(member(i, "created_at"))});
    if (t.rows.empty()) return "No incidents.\n";
    return render_table(t);
}

std::string render_incident(const json& inc) {
    std::ostringstream out;
    const auto p = compute_progress(inc);
    key_values(out, {{"Incident", cell(inc, "id")},
                     {"Title", cell(inc, "title")},
                     {"Tenant", cell(inc, "tenant")},
                     {"Reference", cell(inc, "external_ref")},
                     {"Status", cell(inc, "status")},
                     {"Phase", cell(inc, "phase")},
                     {"Created", short_time(member(inc, "created_at"))},
                     {"Updated", short_time(member(inc, "updated_at"))},
                     {"Contained", short_time(member(inc, "contained_at"))},
                     {"Progress", render_progress(p)}});

    const auto& accounts = array_of(inc, "accounts");
    if (!accounts.empty()) {
        table t{{"UPN", "TIER", "TIER REASON", "REVOKED", "PASSWORD RESET", "METHODS REMOVED", "TAP ISSUED"}, {}};
        for (const auto& a : accounts) {
            const auto& removed = member(a, "methods_removed");
            t.rows.push_back({cell(a, "upn"), cell(a, "tier"), cell(a, "tier_reason"),
                              short_time(member(a, "revoked_at")), short_time(member(a, "password_reset_at")),
                              removed.is_array() ? std::to_string(removed.size()) : std::string("-"),
                              short_time(member(a, "tap_issued_at"))});
        }
        out << "\nAccounts\n" << render_table(t);
    }

    const auto& steps = array_of(inc, "steps");
    if (!steps.empty()) {
        table t{{"SEQ", "PHASE", "KIND", "TARGET", "STATUS", "ATTEMPTS", "FINISHED", "ERROR"}, {}};
        for (const auto& s : steps) {
            std::string status = cell(s, "status");
            if (member(s, "requires_approval").is_boolean() && member(s, "requires_approval").get<bool>() &&
                status == "waiting_approval")
                status += " (approve " + cell(s, "seq") + ")";
            t.rows.push_back({cell(s, "seq"), cell(s, "phase"), cell(s, "kind"), cell(s, "target"), status,
                              cell(s, "attempts"), short_time(member(s, "finished_at")),
                              member(s, "error").is_null() ? std::string() : cell(s, "error")});
        }
        out << "\nSteps\n" << render_table(t, 80);
    }

    const auto& checks = array_of(inc, "verification");
    if (!checks.empty()) {
        table t{{"CHECK", "DUE", "RAN", "VERDICT", "FINDINGS"}, {}};
        std::vector<std::string> notes;
        for (const auto& v : checks) {
            const auto& findings = array_of(v, "findings");
            t.rows.push_back({cell(v, "check"), short_time(member(v, "due_at")), short_time(member(v, "ran_at")),
                              cell(v, "verdict"), std::to_string(findings.size())});
            for (const auto& f : findings) {
                std::string who = text(f, "upn");
                if (who.empty()) who = text(f, "app_id");
                if (who.empty()) who = text(f, "subject");
                notes.push_back(
                    cell(v, "check") + " finding: " + sanitize(who) + " from " + cell(f, "ip") + ": " +
                    cell(f, "successes") + " success(es), " + cell(f, "failures") + " failure(s)" +
                    (array_of(f, "fail_codes").empty() ? std::string() : " codes " + cell(f, "fail_codes")));
            }
            for (const auto& d : array_of(v, "diagnosis"))
                if (d.is_string()) notes.push_back(cell(v, "check") + " diagnosis: " + sanitize(d.get<std::string>()));
        }
        out << "\nVerification\n" << render_table(t);
        for (const auto& n : notes) out << "  " << n << "\n";
    }

    const auto& attention = array_of(inc, "attention");
    if (!attention.empty()) {
        out << "\nAttention\n";
        for (const auto& a : attention)
            out << "  - " << (a.is_string() ? sanitize(a.get<std::string>()) : sanitize(a.dump())) << "\n";
    }
    return out.str();
}

std::string render_plan(const json& plan) {
    std::ostringstream out;
    out << "Dry run: nothing was stored or changed.\n";
    const auto& scope = member(plan, "scope");
    const bool all_users = member(scope, "all_users").is_boolean() && member(scope, "all_users").get<bool>();
    key_values(out, {{"Delivery", cell(plan, "delivery")},
                     {"Scope", all_users ? std::string("tenant-wide") : "accounts: " + cell(scope, "include_users")},
                     {"Excluded", cell(scope, "exclude_users")},
                     {"IR locations", cell(scope, "exclude_locations")}});
    const auto& accounts = array_of(plan, "accounts");
    if (!accounts.empty()) {
        table t{{"UPN", "TIER", "TIER REASON", "METHOD CLEANUP", "SYNCED"}, {}};
        for (const auto& a : accounts)
            t.rows.push_back({cell(a, "upn"), cell(a, "tier"), cell(a, "tier_reason"), cell(a, "method_cleanup"),
                              cell(a, "synced")});
        out << "\nAccounts\n" << render_table(t);
    }
    const auto& steps = array_of(plan, "steps");
    if (!steps.empty()) {
        table t{{"SEQ", "STAGE", "PHASE", "KIND", "TARGET", "AFTER", "APPROVAL", "GRAPH CALLS"}, {}};
        for (const auto& s : steps) {
            const bool approval =
                member(s, "requires_approval").is_boolean() && member(s, "requires_approval").get<bool>();
            t.rows.push_back({cell(s, "seq"), cell(s, "stage"), cell(s, "phase"), cell(s, "kind"), cell(s, "target"),
                              member(s, "depends_on").is_null() ? std::string() : cell(s, "depends_on"),
                              approval ? "required" : "", cell(s, "graph_calls")});
        }
        out << "\nSteps\n" << render_table(t, 80);
    }
    const auto& warnings = array_of(plan, "warnings");
    if (!warnings.empty()) {
        out << "\nWarnings\n";
        for (const auto& w : warnings) out << "  - " << scalar_text(w) << "\n";
    }
    const auto& perms = array_of(plan, "permissions");
    if (!perms.empty()) out << "\nGraph permissions needed: " << scalar_text(perms) << "\n";
    return out.str();
}

std::string render_event_line(const json& ev, const json& incident) {
    std::string at = text(ev, "at");
    std::string line = at.size() >= 19 ? at.substr(11, 8) : (at.empty() ? std::string("--:--:--") : sanitize(at));
    line += "  " + sanitize(text(ev, "kind"));
    const auto& step = member(ev, "step");
    if (step.is_number_integer()) {
        const auto seq = step.get<std::int64_t>();
        line += "  #" + std::to_string(seq);
        for (const auto& s : array_of(incident, "steps")) {
            const auto& sq = member(s, "seq");
            if (sq.is_number_integer() && sq.get<std::int64_t>() == seq) {
                line += " " + sanitize(text(s, "kind"));
                if (!text(s, "target").empty()) line += " " + sanitize(text(s, "target"));
                break;
            }
        }
    }
    const auto& data = member(ev, "data");
    if (data.is_object() && !data.empty()) {
        std::string details;
        int shown = 0;
        for (const auto& [k, v] : data.items()) {
            if (v.is_structured() && !(v.is_array() && v.size() <= 3)) continue;
            if (shown == 4) {
                details += " ...";
                break;
            }
            if (!details.empty()) details += " ";
            details += sanitize(k) + "=" + truncate(scalar_text(v), 80);
            ++shown;
        }
        if (!details.empty()) line += "  (" + details + ")";
    }
    return line;
}

// ---------------------------------------------------------------------------------------------

json build_submission(json base, const submit_flags& f, std::vector<std::string>* errors) {
    if (!base.is_object()) {
        if (errors) errors->push_back("the incident body must be a JSON object");
        base = json::object();
    }
    auto set = [&](const char* key, const std::string& v) {
        if (!v.empty()) base[key] = v;
    };
    set("tenant", f.tenant);
    set("external_ref", f.external_ref);
    set("title", f.title);
    set("compromise_start", f.compromise_start);
    set("scope", f.scope);
    if (f.confirm_tenant_wide) base["confirm_tenant_wide"] = true;
    if (!f.credential_delivery.empty() || !f.method_cleanup.empty()) {
        if (!base.contains("options") || !base["options"].is_object()) base["options"] = json::object();
        if (!f.credential_delivery.empty()) base["options"]["credential_delivery"] = f.credential_delivery;
        if (!f.method_cleanup.empty()) base["options"]["method_cleanup"] = f.method_cleanup;
    }
    auto list = [&](const char* key) -> json& {
        if (!base.contains(key) || !base[key].is_array()) base[key] = json::array();
        return base[key];
    };
    static const std::vector<std::string> tiers = {"break_glass", "service", "privileged", "standard"};
    if (!f.accounts.empty()) {
        auto& accounts = list("accounts");
        for (const auto& a : f.accounts) {
            json acct = json::object();
            const auto colon = a.rfind(':');
            if (colon == std::string::npos) {
                acct["upn"] = a;
            } else {
                const std::string tier = a.substr(colon + 1);
                if (std::find(tiers.begin(), tiers.end(), tier) == tiers.end() && errors)
                    errors->push_back("--account '" + a +
                                      "': tier must be break_glass, service, privileged or standard");
                acct["upn"] = a.substr(0, colon);
                acct["tier"] = tier;
            }
            accounts.push_back(std::move(acct));
        }
    }
    if (!f.attacker_ips.empty()) {
        auto& ips = list("attacker_ips");
        for (const auto& ip : f.attacker_ips) ips.push_back(ip);
    }
    if (!f.apps.empty()) {
        auto& apps = list("malicious_apps");
        for (const auto& id : f.apps) apps.push_back({{"app_id", id}});
    }
    return base;
}

}  // namespace containd::ctl
