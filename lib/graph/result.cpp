#include "graph/result.hpp"

#include <cctype>

#include "core/time.hpp"

namespace containd::graph {
namespace {

std::string first_line(std::string_view text, std::size_t max = 300) {
    const auto end = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, end);
    if (line.size() > max) return std::string(line.substr(0, max)) + "...";
    return std::string(line);
}

}  // namespace

std::string_view to_string(transport_error e) {
    switch (e) {
    case transport_error::none: return "none";
    case transport_error::invalid_request: return "invalid_request";
    case transport_error::resolve: return "resolve";
    case transport_error::connect: return "connect";
    case transport_error::tls: return "tls";
    case transport_error::timeout: return "timeout";
    case transport_error::reset: return "reset";
    case transport_error::body_limit: return "body_limit";
    case transport_error::protocol: return "protocol";
    }
    return "unknown";
}

std::string_view to_string(removal r) {
    switch (r) {
    case removal::removed: return "removed";
    case removal::already_absent: return "already_absent";
    case removal::failed: return "failed";
    }
    return "unknown";
}

std::optional<std::string> find_header(const header_list& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (k.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < k.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
        if (same) return v;
    }
    return std::nullopt;
}

void parse_error_body(call_result& r) {
    const auto& b = r.body;
    if (!b.is_object()) return;
    const auto it = b.find("error");
    if (it == b.end()) return;
    if (it->is_object()) {  // Graph
        // The code is one line too: describe() promises a single line (a CR/LF in a code was
        // found by tests/fuzz).
        if (auto c = it->find("code"); c != it->end() && c->is_string())
            r.error_code = first_line(c->get<std::string>(), 100);
        if (auto m = it->find("message"); m != it->end() && m->is_string())
            r.error_message = first_line(m->get<std::string>());
    } else if (it->is_string()) {  // OAuth2 token endpoint
        r.error_code = first_line(it->get<std::string>(), 100);
        if (auto d = b.find("error_description"); d != b.end() && d->is_string())
            r.error_message = first_line(d->get<std::string>());
        if (auto codes = b.find("error_codes"); codes != b.end() && codes->is_array()) {
            r.aadsts_codes.clear();
            for (const auto& c : *codes)
                if (c.is_number_integer()) r.aadsts_codes.push_back(c.get<std::int64_t>());
        }
    }
}

std::string describe(const call_result& r) {
    std::string out;
    if (!r.sent) out = "not sent: ";
    if (r.token_failure) out += "token endpoint ";
    if (r.status == 0) {
        out += "transport ";
        out += to_string(r.transport);
        if (!r.transport_detail.empty()) out += ": " + r.transport_detail;
        return out;
    }
    out += "HTTP " + std::to_string(r.status);
    if (!r.error_code.empty()) out += " " + r.error_code;
    if (!r.aadsts_codes.empty()) {
        out += " [";
        for (std::size_t i = 0; i < r.aadsts_codes.size(); ++i)
            out += (i ? "," : "") + std::to_string(r.aadsts_codes[i]);
        out += "]";
    }
    if (!r.error_message.empty()) out += ": " + r.error_message;
    if (r.retry_after) out += " (Retry-After: " + first_line(*r.retry_after, 40) + ")";
    return out;
}

call_result local_failure(int status, std::string_view code, std::string message) {
    call_result r;
    r.status = status;
    r.sent = false;
    r.error_code = std::string(code);
    r.error_message = std::move(message);
    return r;
}

removal_reply interpret_delete(call_result r) {
    removal_reply out;
    if (r.status >= 200 && r.status < 300) {
        out.outcome = removal::removed;
    } else if (r.status == 404 && r.sent && !r.token_failure) {
        out.outcome = removal::already_absent;
    }
    out.call = std::move(r);
    return out;
}

}  // namespace containd::graph
