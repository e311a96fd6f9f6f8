#include "api/ui.hpp"

#include "api/problem.hpp"

namespace containd::api::detail {

const std::string_view ui_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

namespace {

const ui_file* find_file(std::string_view name) {
    for (const auto& f : ui_files())
        if (f.name == name) return &f;
    return nullptr;
}

// Whether an If-None-Match list names this ETag (or is "*").
bool etag_matches(const std::string& header, std::string_view etag) {
    std::string_view rest = header;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view one = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (one.rfind("W/", 0) == 0) one.remove_prefix(2);
        if (one == "*" || one == etag) return true;
    }
    return false;
}

}  // namespace

response handle_ui(api_state&, const request& req, const caller&, const path_params& p) {
    const std::string_view name = p.empty() ? std::string_view("index.html") : std::string_view(p.at(0));
    const ui_file* f = find_file(name);
    if (!f) return not_found("No such file in the dashboard.");
    response r;
    r.header("Content-Security-Policy", std::string(ui_content_security_policy));
    r.header("X-Content-Type-Options", "nosniff");
    r.header("Referrer-Policy", "no-referrer");
    r.header("Cross-Origin-Opener-Policy", "same-origin");
    // Revalidated on every load, so a new binary's files are never mixed with an old cache.
    r.header("Cache-Control", "no-cache");
    r.header("ETag", std::string(f->etag));
    if (const auto* inm = req.header("if-none-match"); inm && etag_matches(*inm, f->etag)) {
        r.status = 304;
        return r;
    }
    r.header("Content-Type", std::string(f->content_type));
    r.body = std::string(f->body);
    return r;
}

}  // namespace containd::api::detail
