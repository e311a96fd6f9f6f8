#include "api/problem.hpp"

#include <nlohmann/json.hpp>

namespace containd::api::detail {

response problem(int status, std::string_view slug, std::string_view title, std::string_view detail,
                 const std::vector<incident::field_error>& errors) {
    nlohmann::json body = {{"type", "urn:containd:problem:" + std::string(slug)},
                           {"title", std::string(title)},
                           {"status", status},
                           {"detail", std::string(detail)}};
    if (!errors.empty()) {
        auto& list = body["errors"] = nlohmann::json::array();
        for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    }
    response r;
    r.status = status;
    r.header("Content-Type", "application/problem+json");
    r.header("Cache-Control", "no-store");
    // Replacement keeps a malformed byte in the caller's input from turning into a 500.
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

response bad_request(std::string_view detail, const std::vector<incident::field_error>& errors) {
    return problem(400, errors.empty() ? "bad-request" : "validation", "Bad Request", detail, errors);
}

response not_found(std::string_view detail) { return problem(404, "not-found", "Not Found", detail); }

response conflict(std::string_view detail) { return problem(409, "conflict", "Conflict", detail); }

response json_response(int status, const nlohmann::json& body) {
    response r;
    r.status = status;
    r.header("Content-Type", "application/json");
    r.header("Cache-Control", "no-store");
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

}  // namespace containd::api::detail
