#pragma once
// Bearer-token authentication and the role check. Only SHA-256 hashes of tokens are configured;
// the presented token is hashed and compared in constant time against every configured hash.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"
#include "config/config.hpp"

namespace containd::api::detail {

// The least role a route needs.
enum class access { none, viewer, submitter, operator_ };
std::string_view to_string(access a);

// viewer routes: every role; submitter routes: submitter and operator; operator routes: operator.
bool allows(access required, config::role granted);

// nullopt when the Authorization header is missing, not "Bearer <token>", the token is unknown,
// or its configured expiry is not after `now`.
std::optional<caller> authenticate(const std::vector<config::api_token>& tokens, const std::string* authorization,
                                   time_point now);

bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace containd::api::detail
