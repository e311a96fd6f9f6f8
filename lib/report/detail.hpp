#pragma once
// Shared by the report's translation units (not a public header of the module).

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace containd::report::detail {

// An RFC 3339 string, or JSON null when the moment has not happened.
nlohmann::json time_or_null(const std::optional<time_point>& t);

// A string field of a JSON object, or "" when absent or not a string.
std::string text_of(const nlohmann::json& j, const char* key);

// The API's view of one step (API.md "steps").
nlohmann::json step_view(const store::step_record& s);

// The verification entries (API.md "verification"), one per verify_signins step in plan order.
nlohmann::json verification_view(const store::incident_record& incident, const std::vector<store::step_record>& steps);

// A copy with the values of secret-bearing keys (temporaryAccessPass, secretText, password, tokens)
// replaced by "[redacted]". Defence in depth: runners never store a secret in a result, an event
// or evidence, but Graph objects captured as evidence are not ours to trust.
nlohmann::json redact(const nlohmann::json& j);

// "step 7 (reset_password ap.clerk@contoso.com)": how a step is named to a human.
std::string describe_step(const store::step_record& s);

}  // namespace containd::report::detail
