#pragma once
// The operations dashboard (issue 14): the static files under ui/, compiled into the binary at
// build time (lib/api/embed_ui.cmake) and served at /ui/ without a token. Everything the page
// shows it reads from the /v1 routes with the caller's own bearer token, so the API's roles
// stay the only access control.

#include <string_view>
#include <vector>

#include "api/http_types.hpp"
#include "api/router.hpp"
#include "api/state.hpp"

namespace containd::api::detail {

struct ui_file {
    std::string_view name;          // "index.html", "app.js"
    std::string_view content_type;  // with charset for text
    std::string_view etag;          // "\"<sha256>\""
    std::string_view body;
};

// Generated (embed_ui.cmake): every file of ui/, in name order.
const std::vector<ui_file>& ui_files();

// GET /ui/ (index.html) and GET /ui/{asset}: the file with a strict Content-Security-Policy
// (same-origin scripts, styles and fetches only; no inline script or style; no framing),
// nosniff, no referrer, and an ETag (304 on If-None-Match). 404 for any other name.
response handle_ui(api_state&, const request&, const caller&, const path_params&);

// The Content-Security-Policy of every /ui/ response.
extern const std::string_view ui_content_security_policy;

}  // namespace containd::api::detail
