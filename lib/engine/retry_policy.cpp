#include "engine/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/time.hpp"

namespace containd::engine {

bool is_retryable(int status) {
    switch (status) {
    case 0: case 408: case 429: case 500: case 502: case 503: case 504: return true;
    default: return false;
    }
}

std::optional<duration> parse_retry_after(std::string_view value, time_point now) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (value.front() >= '0' && value.front() <= '9') {
        // delta-seconds, or the decimal form: digits, an optional '.', digits. Nothing else.
        std::size_t dot = value.find('.');
        const std::string_view whole = value.substr(0, dot);
        const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : value.substr(dot + 1);
        if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
        std::int64_t secs = 0;
        auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
        if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
        std::int64_t millis = 0, scale = 100;
        for (const char c : fraction) {
            if (c < '0' || c > '9') return std::nullopt;
            millis += (c - '0') * scale;
            scale /= 10;
        }
        if (secs > 365LL * 24 * 3600) secs = 365LL * 24 * 3600;  // absurd values: capped later anyway
        return std::chrono::duration_cast<duration>(seconds(secs) + milliseconds(millis));
    }
    if (auto date = parse_http_date(value)) {
        if (*date <= now) return std::nullopt;
        return *date - now;
    }
    return std::nullopt;
}

retry_decision decide_retry(const retry_settings& s, int attempt, const attempt_failure& failure, time_point now,
                            time_point deadline, std::mt19937_64& rng) {
    if (!is_retryable(failure.http_status)) {
        return {false, {},
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
        const double ceiling_ms = std::min(
            static_cast<double>(std::chrono::duration_cast<milliseconds>(s.backoff_cap).count()),
            static_cast<double>(std::chrono::duration_cast<milliseconds>(s.backoff_base).count()) *
                std::ldexp(1.0, exponent));
        std::uniform_int_distribution<std::int64_t> jitter(0, static_cast<std::int64_t>(ceiling_ms));
        delay = std::chrono::duration_cast<duration>(milliseconds(jitter(rng)));
    }
    const time_point next = now + delay;
    if (next > deadline) {
        return {false, {},
                "the step deadline passed after " + std::to_string(attempt) + " attempt" + (attempt == 1 ? "" : "s") +
                    (failure.message.empty() ? "" : "; last error: " + failure.message)};
    }
    return {true, next, {}};
}

}  // namespace containd::engine
