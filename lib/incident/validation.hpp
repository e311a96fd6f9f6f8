#pragma once
// Turns a submission body into a typed incident_request, or into every offending field at once.

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "incident/model.hpp"

namespace containd::incident {

struct field_error {
    std::string field;    // JSON path as callers write it: "accounts[2].upn", "options.method_cleanup"
    std::string message;  // says what is wrong and what is accepted; never echoes more than 64 chars of input
    bool operator==(const field_error&) const = default;
};

using parse_result = std::variant<incident_request, std::vector<field_error>>;

// Validates a submission (API.md). Collects every error, never stops at the first. Rejects:
// unknown fields (at every level) and server-owned fields (id, status, phase, steps, created_at,
// contained_at, verification, attention, ...) by name; malformed UPNs (RFC 5321-ish local@domain,
// ASCII, at most 113 + 1 + 255 characters, no control characters), GUIDs, IPv4/IPv6 addresses,
// RFC 3339 timestamps; scope "tenant" without "confirm_tenant_wide": true; duplicate accounts
// (case-insensitive UPN) and duplicate app ids; an empty account list (unless scope is tenant);
// wrong JSON types; a compromise_start in the future relative to `now`.
parse_result parse_submission(const nlohmann::json& body, time_point now);

// Field-level validators, shared with the OData escaper and the API's path parameters.
bool is_valid_upn(std::string_view upn);
bool is_valid_ip(std::string_view ip);

}  // namespace containd::incident
