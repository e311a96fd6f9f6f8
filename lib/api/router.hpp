#pragma once
// The table-driven router: one table of (method, path template, role, handler) that dispatch()
// matches against, that route_table() publishes, and whose templates label logs and metrics.

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

struct route {
    std::string_view method;
    std::string_view path;  // OpenAPI template
    access role;
    handler_fn handler;
};

const std::vector<route>& routes();

struct match_result {
    const route* matched = nullptr;
    path_params params;
    std::vector<std::string> allowed;  // the methods the path has, when the method did not match
    bool bad_encoding = false;         // a malformed %-escape in the path
};
match_result match(std::string_view method, std::string_view path);

struct dispatched {
    response res;
    std::string route = "unmatched";  // the template, for logs and metrics
    std::string who;                  // the caller's token name, if authenticated
};
// Routing, authentication, role check, content type, the handler, and the mapping of storage
// failures to 503 and anything unexpected to a bare 500.
dispatched dispatch(api_state& st, const request& req);

}  // namespace containd::api::detail
