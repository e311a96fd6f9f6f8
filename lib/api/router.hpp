#pragma once
// The table-driven router: one table of (method, path template, role, handler) that dispatch()
// matches against, that route_table() publishes, and whose templates label logs and metrics.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.hpp"
#include "api/http_types.hpp"
#include "api/state.hpp"

namespace containd::api::detail {

// Path parameters in template order ("{id}", "{upn}"), percent-decoded.
using path_params = std::vector<std::string>;
using handler_fn = response (*)(api_state&, const request&, const caller&, const path_params&);
// Answers from memory on the network thread when it can (a cached incident view); nullopt: the
// handler runs on the work executor.
using fast_fn = std::optional<response> (*)(api_state&, const request&, const caller&, const path_params&);

struct route {
    std::string_view method;
    std::string_view path;  // OpenAPI template
    access role;
    handler_fn handler;
    fast_fn fast = nullptr;
};

const std::vector<route>& routes();

struct match_result {
    const route* matched = nullptr;
    path_params params;
    std::vector<std::string> allowed;  // the methods the path has, when the method did not match
    bool bad_encoding = false;         // a malformed %-escape in the path
};
match_result match(std::string_view method, std::string_view path);

// A request after routing, authentication, the role check and the content-type check: either
// answered already (404, 405, 401, 403, 415) or ready for its route's handler. Touches neither
// the store nor the engine, so it runs on the network thread.
struct prepared {
    std::optional<response> answered;
    const route* matched = nullptr;
    path_params params;
    caller who;
    std::string route_template = "unmatched";  // for logs and metrics
};
prepared prepare(const api_state& st, const request& req);

// The route's handler, with storage failures mapped to 503 and anything unexpected to a bare
// 500. On the work executor.
response run_handler(api_state& st, const request& req, const prepared& p);

}  // namespace containd::api::detail
