#pragma once
// application/problem+json (RFC 9457) responses: type, title, status, detail, and for
// validation errors an `errors` array of {field, message}.

#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"
#include "incident/validation.hpp"

namespace containd::api::detail {

// type is "urn:containd:problem:<slug>". detail must not echo secrets or tokens.
response problem(int status, std::string_view slug, std::string_view title, std::string_view detail,
                 const std::vector<incident::field_error>& errors = {});

// The common ones.
response bad_request(std::string_view detail, const std::vector<incident::field_error>& errors = {});
response not_found(std::string_view detail = "No such resource.");
response conflict(std::string_view detail);

// A JSON body (application/json, no-store).
response json_response(int status, const nlohmann::json& body);

}  // namespace containd::api::detail
