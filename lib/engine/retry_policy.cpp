#include "engine/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/time.hpp"

namespace containd::engine {

bool is_retryable(int status) {
    switch (status) {
    case 0:
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504: return true;
    default: return false;
    }
}

retry_decision decide_retry(const retry_settings& s, int attempt, const attempt_failure& failure, time_point now,
                            time_point deadline, std::mt19937_64& rng) {
    if (!is_retryable(failure.http_status)) {
        return {false,
                {},
                "HTTP " + std::to_string(failure.http_status) + " is not retried" +
                    (failure.message.empty() ? "" : ": " + failure.message)};
    }
    duration delay{};
    std::optional<duration> advised;
    if (failure.retry_after) advised = parse_retry_after(*failure.retry_after, now);
    if (advised) {
        delay = std::min(*advised, s.retry_after_cap);
    } else {
        const int exponent = std::clamp(attempt - 1, 0, 30);
        const double ceiling_ms =
            std::min(static_cast<double>(std::chrono::duration_cast<milliseconds>(s.backoff_cap).count()),
                     static_cast<double>(std::chrono::duration_cast<milliseconds>(s.backoff_base).count()) *
                         std::ldexp(1.0, exponent));
        std::uniform_int_distribution<std::int64_t> jitter(0, static_cast<std::int64_t>(ceiling_ms));
        delay = std::chrono::duration_cast<duration>(milliseconds(jitter(rng)));
    }
    const time_point next = now + delay;
    if (next > deadline) {
        return {false,
                {},
                "the step deadline passed after " + std::to_string(attempt) + " attempt" + (attempt == 1 ? "" : "s") +
                    (failure.message.empty() ? "" : "; last error: " + failure.message)};
    }
    return {true, next, {}};
}

}  // namespace containd::engine
