#pragma once
// The retry policy: pure, deterministic given its random source. Attempt and outcome in,
// "retry at" or "give up" out. The engine persists the answer (not_before) before it waits, so
// a restart never shortens a wait.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/time.hpp"

namespace containd::engine {

struct retry_settings {
    duration backoff_base = milliseconds(500);  // first backoff ceiling; doubles per attempt
    duration backoff_cap = minutes(2);          // exponential backoff never exceeds this
    duration retry_after_cap = minutes(10);     // a longer Retry-After is clamped to this
    duration attempt_timeout = seconds(60);     // one attempt (one runner invocation)
    duration step_deadline = minutes(30);       // from the step's first attempt
};

// What happened to one attempt, as far as retrying is concerned.
struct attempt_failure {
    int http_status = 0;                     // 0: transport error or timeout (the outcome is unknown)
    std::optional<std::string> retry_after;  // the raw Retry-After header, if any
    std::string message;                     // for the record; never holds a secret
};

struct retry_decision {
    bool retry = false;
    time_point not_before{};  // when retry: the earliest next attempt
    std::string reason;       // when not: why ("HTTP 403 is not retried", "step deadline passed")
};

// True for failures worth another attempt: transport errors and timeouts, 408, 429, 500, 502,
// 503, 504. 400, 401 (after the client's one token refresh), 403, 404 and 409 are final.
bool is_retryable(int http_status);

// Retry-After is read by containd::parse_retry_after (core/time.hpp), the project's one parser.

// Decides the next attempt. attempt: the number of attempts made so far (>= 1). Retry-After,
// when present and valid, is honoured (clamped to retry_after_cap); otherwise full-jitter
// exponential backoff: uniform in [0, min(cap, base * 2^(attempt-1))]. Gives up when the
// failure is not retryable or the next attempt would start after the step deadline.
retry_decision decide_retry(const retry_settings& settings, int attempt, const attempt_failure& failure, time_point now,
                            time_point deadline, std::mt19937_64& rng);

}  // namespace containd::engine
