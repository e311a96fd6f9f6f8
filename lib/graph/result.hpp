#pragma once
// What every Graph call returns: enough for the engine's retry policy to classify the attempt
// (status, transport error kind, raw Retry-After) and for the record (Graph or AADSTS error code
// and message), plus the parsed JSON body.
//
// The client makes ONE attempt per call (plus one token refresh and resend on a 401, and pacing
// waits for throttled endpoint classes). It never sleeps and retries 429/5xx itself: the engine
// persists attempts and not_before and re-runs the whole idempotent step.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/time.hpp"
#include "graph/http.hpp"

namespace containd::graph {

struct call_result {
    // HTTP status of the final response; 0 when none arrived (see `transport`). For a failure
    // of the token request (token_failure) it is the token endpoint's status.
    int status = 0;
    transport_error transport = transport_error::none;
    std::string transport_detail;            // diagnostic text for a transport failure
    std::optional<std::string> retry_after;  // the raw Retry-After header (or $batch item header)
    // Graph: error.code / error.message. Token endpoint: `error` / first line of
    // `error_description` ("AADSTS7000215: Invalid client secret provided. ...").
    // Local failures use codes starting with "containd." (see below).
    std::string error_code;
    std::string error_message;
    std::vector<std::int64_t> aadsts_codes;  // token endpoint `error_codes`
    bool token_failure = false;              // the access token could not be obtained: Graph was not called
    bool sent = true;                        // false: refused locally before anything was sent (invalid input,
                                             // local pacing limit); status is then 400 or 429 respectively
    bool malformed = false;                  // 2xx, but the body was not what the call expects (not retryable)
    bool refreshed_token = false;            // a 401 made the client refresh the token and send once more
    nlohmann::json body;                     // parsed JSON body; null when empty or not JSON. Never holds a
                                             // secret: access tokens and TAPs are removed before it is stored.
    std::string request_id;                  // the `request-id` response header, for support cases
    std::optional<std::string> location;     // the Location header, if any

    // A usable success: 2xx and not malformed.
    bool ok() const { return status >= 200 && status < 300 && !malformed; }
    bool is_transport_failure() const { return status == 0; }
};

// Local error codes (error_code of results that were not produced by Microsoft):
inline constexpr std::string_view err_invalid_value = "containd.invalid_value";          // status 400, sent=false
inline constexpr std::string_view err_local_pacing = "containd.local_pacing";            // status 429, sent=false
inline constexpr std::string_view err_unexpected_body = "containd.unexpected_body";      // malformed 2xx
inline constexpr std::string_view err_foreign_next_link = "containd.foreign_next_link";  // malformed 2xx
inline constexpr std::string_view err_page_limit = "containd.page_limit";                // see list_result

// A one-line description safe for logs and the step record: status, codes and the Graph message,
// never bodies, headers or tokens. E.g. "HTTP 403 Authorization_RequestDenied: Insufficient
// privileges to complete the operation." or "transport timeout: The socket was closed due to a
// timeout" or "token endpoint HTTP 401 invalid_client [7000215]: AADSTS7000215: ...".
std::string describe(const call_result& r);

// Fills error_code/error_message (and aadsts_codes) from a parsed body: Graph's
// {"error":{"code","message"}} or the token endpoint's {"error","error_description","error_codes"}.
// Leaves them untouched when the body has neither shape.
void parse_error_body(call_result& r);

// Builders for local results.
call_result local_failure(int status, std::string_view code, std::string message);

// A typed reply: `value` is meaningful only when call.ok().
template <class T = void>
struct reply {
    call_result call;
    T value{};
    bool ok() const { return call.ok(); }
};

template <>
struct reply<void> {
    call_result call;
    bool ok() const { return call.ok(); }
};

// Deletes and credential removals distinguish "removed now" from "was already gone"
// (404 on DELETE; an unknown keyId on removePassword): both are success for an idempotent step.
enum class removal { removed, already_absent, failed };
std::string_view to_string(removal r);

struct removal_reply {
    call_result call;
    removal outcome = removal::failed;
    bool ok() const { return outcome != removal::failed; }
};

// Interprets a DELETE-style result: 2xx -> removed, 404 -> already_absent, else failed.
removal_reply interpret_delete(call_result r);

// Retry-After: containd::parse_retry_after (core/time.hpp), shared with the engine's retries.

}  // namespace containd::graph
