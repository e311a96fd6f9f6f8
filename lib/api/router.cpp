#include "api/router.hpp"

#include <cctype>
#include <exception>

#include <spdlog/common.h>

#include "api/handlers.hpp"
#include "api/notify_handlers.hpp"
#include "api/problem.hpp"
#include "api/ui.hpp"
#include "core/log.hpp"
#include "store/sqlite.hpp"

namespace containd::api {
namespace detail {

const std::vector<route>& routes() {
    static const std::vector<route> table = {
        {"GET", "/healthz", access::none, handle_healthz},
        {"GET", "/readyz", access::none, handle_readyz},
        {"GET", "/metrics", access::none, handle_metrics},
        {"POST", "/v1/incidents", access::submitter, handle_submit},
        {"GET", "/v1/incidents", access::viewer, handle_list},
        {"GET", "/v1/incidents/{id}", access::viewer, handle_get, cached_get},
        {"GET", "/v1/incidents/{id}/events", access::viewer, handle_events},
        {"GET", "/v1/incidents/{id}/report", access::viewer, handle_report},
        {"POST", "/v1/incidents/{id}/approve", access::operator_, handle_approve},
        {"POST", "/v1/incidents/{id}/cancel", access::operator_, handle_cancel},
        {"POST", "/v1/incidents/{id}/retry", access::operator_, handle_retry},
        {"POST", "/v1/incidents/{id}/release", access::operator_, handle_release},
        {"POST", "/v1/incidents/{id}/accounts", access::operator_, handle_extend},
        {"POST", "/v1/incidents/{id}/verify", access::operator_, handle_reverify},
        {"POST", "/v1/incidents/{id}/override-guard", access::operator_, handle_override_guard},
        {"POST", "/v1/incidents/{id}/credentials/{upn}/reveal", access::operator_, handle_reveal},
        {"POST", "/v1/incidents/{id}/credentials/{upn}/tap", access::operator_, handle_issue_tap},
        {"GET", "/v1/notifications", access::viewer, handle_notifications},
        {"GET", "/ui/", access::none, handle_ui},  // the dashboard (api/ui.hpp); no token: static files only
        {"GET", "/ui/{asset}", access::none, handle_ui},
    };
    return table;
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size()) return std::nullopt;
            const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view query) {
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!key || !value) return std::nullopt;
        out[*key] = std::move(*value);
    }
    return out;
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') return out;
    path.remove_prefix(1);
    for (;;) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

// Matches one template; on success fills params (decoded). bad is set for a malformed escape.
bool match_template(std::string_view tmpl, const std::vector<std::string_view>& segments, path_params& params,
                    bool& bad) {
    const auto parts = split_path(tmpl);
    if (parts.size() != segments.size()) return false;
    path_params found;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (parts[i].size() > 2 && parts[i].front() == '{' && parts[i].back() == '}') {
            if (segments[i].empty()) return false;
            auto decoded = percent_decode(segments[i], false);
            if (!decoded) {
                bad = true;
                return false;
            }
            found.push_back(std::move(*decoded));
        } else if (parts[i] != segments[i]) {
            return false;
        }
    }
    params = std::move(found);
    return true;
}

bool is_json_media_type(const std::string* content_type) {
    if (!content_type) return false;
    std::string_view v = *content_type;
    const auto semi = v.find(';');
    v = v.substr(0, semi);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    constexpr std::string_view want = "application/json";
    if (v.size() != want.size()) return false;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(v[i])) != want[i]) return false;
    return true;
}

}  // namespace

match_result match(std::string_view method, std::string_view path) {
    match_result out;
    const auto segments = split_path(path);
    for (const auto& r : routes()) {
        path_params params;
        if (!match_template(r.path, segments, params, out.bad_encoding)) continue;
        if (r.method == method) {
            out.matched = &r;
            out.params = std::move(params);
            out.allowed.clear();
            return out;
        }
        out.allowed.emplace_back(r.method);
    }
    return out;
}

prepared prepare(const api_state& st, const request& req) {
    prepared p;
    auto m = match(req.method, req.path);
    if (!m.matched) {
        if (!m.allowed.empty()) {
            std::string allow;
            for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
            p.answered = problem(405, "method-not-allowed", "Method Not Allowed",
                                 "This resource does not support " + req.method.substr(0, 16) + ".");
            p.answered->header("Allow", allow);
        } else if (m.bad_encoding) {
            p.answered = bad_request("The path has a malformed percent-escape.");
        } else {
            p.answered = not_found("No such route.");
        }
        return p;
    }
    const route& r = *m.matched;
    p.route_template = std::string(r.path);
    if (r.role != access::none) {
        auto authenticated = authenticate(*st.tokens.current(), req.header("authorization"), st.ctx.clock.now());
        if (!authenticated) {
            p.answered = problem(401, "unauthorized", "Unauthorized", "A valid bearer token is required.");
            p.answered->header("WWW-Authenticate", "Bearer realm=\"containd\"");
            return p;
        }
        p.who = std::move(*authenticated);
        if (!allows(r.role, p.who.granted)) {
            p.answered = problem(403, "forbidden", "Forbidden",
                                 "This route needs the " + std::string(to_string(r.role)) + " role.");
            return p;
        }
    }
    if (req.method == "POST" && !req.body.empty() && !is_json_media_type(req.header("content-type"))) {
        p.answered =
            problem(415, "unsupported-media-type", "Unsupported Media Type", "The body must be application/json.");
        return p;
    }
    p.matched = &r;
    p.params = std::move(m.params);
    return p;
}

response run_handler(api_state& st, const request& req, const prepared& p) {
    try {
        return p.matched->handler(st, req, p.who, p.params);
    } catch (const store::storage_error& e) {
        log_event(spdlog::level::err, "api_storage_error", {{"route", p.route_template}, {"error", e.what()}});
        response res =
            problem(503, "storage-unavailable", "Service Unavailable",
                    "The database is unavailable; retry later (a repeat with the same Idempotency-Key is safe).");
        res.header("Retry-After", "5");
        return res;
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "api_handler_error", {{"route", p.route_template}, {"error", e.what()}});
        return problem(500, "internal", "Internal Server Error", "The request could not be processed.");
    }
}

}  // namespace detail

const std::vector<route_info>& route_table() {
    static const std::vector<route_info> table = [] {
        std::vector<route_info> out;
        for (const auto& r : detail::routes())
            out.push_back({std::string(r.method), std::string(r.path), std::string(detail::to_string(r.role))});
        return out;
    }();
    return table;
}

}  // namespace containd::api
