#include <gtest/gtest.h>

#include "core/time.hpp"
#include "engine/retry_policy.hpp"

using namespace containd;
using namespace containd::engine;

namespace {
const time_point now = *parse_rfc3339("2026-03-12T09:00:00Z");
const time_point far_deadline = now + std::chrono::hours(1);
}  // namespace

// The Retry-After forms themselves: tests/unit/core/time_test.cpp (RetryAfter.*).

TEST(RetryPolicy, honours_retry_after_exactly_and_caps_it) {
    retry_settings s;
    std::mt19937_64 rng(1);
    auto d = decide_retry(s, 1, {429, "7", "throttled"}, now, far_deadline, rng);
    ASSERT_TRUE(d.retry);
    EXPECT_EQ(d.not_before, now + seconds(7));
    d = decide_retry(s, 1, {503, "2.128", ""}, now, far_deadline, rng);
    EXPECT_EQ(d.not_before, now + milliseconds(2128));
    d = decide_retry(s, 1, {429, format_http_date(now + seconds(30)), ""}, now, far_deadline, rng);
    EXPECT_EQ(d.not_before, now + seconds(30));
    d = decide_retry(s, 1, {429, "86400", ""}, now, now + std::chrono::hours(48), rng);
    EXPECT_EQ(d.not_before, now + s.retry_after_cap);
}

TEST(RetryPolicy, backs_off_exponentially_with_full_jitter_when_not_advised) {
    retry_settings s;
    s.backoff_base = milliseconds(500);
    s.backoff_cap = seconds(60);
    std::mt19937_64 rng(2);
    for (int attempt = 1; attempt <= 12; ++attempt) {
        const auto ceiling = std::min<duration>(s.backoff_cap, s.backoff_base * (1LL << (attempt - 1)));
        duration largest{};
        for (int i = 0; i < 200; ++i) {
            auto d = decide_retry(s, attempt, {429, std::nullopt, ""}, now, far_deadline, rng);
            ASSERT_TRUE(d.retry);
            ASSERT_GE(d.not_before, now);
            ASSERT_LE(d.not_before - now, ceiling);
            largest = std::max(largest, d.not_before - now);
        }
        EXPECT_GT(largest, ceiling / 2) << "jitter spreads over the whole window, attempt " << attempt;
    }
    // Garbage Retry-After falls back to backoff rather than retrying at once forever.
    auto d = decide_retry(s, 3, {429, "soon", ""}, now, far_deadline, rng);
    EXPECT_TRUE(d.retry);
    EXPECT_LE(d.not_before - now, seconds(2));
}

TEST(RetryPolicy, retries_transient_failures_only) {
    retry_settings s;
    std::mt19937_64 rng(3);
    for (int status : {0, 408, 429, 500, 502, 503, 504})
        EXPECT_TRUE(decide_retry(s, 1, {status, std::nullopt, ""}, now, far_deadline, rng).retry) << status;
    for (int status : {400, 401, 403, 404, 409, 422}) {
        auto d = decide_retry(s, 1, {status, std::nullopt, "Authorization_RequestDenied"}, now, far_deadline, rng);
        EXPECT_FALSE(d.retry) << status;
        EXPECT_NE(d.reason.find("Authorization_RequestDenied"), std::string::npos);
    }
}

TEST(RetryPolicy, gives_up_when_the_next_attempt_would_pass_the_deadline) {
    retry_settings s;
    std::mt19937_64 rng(4);
    auto d = decide_retry(s, 5, {429, "120", "throttled"}, now, now + seconds(60), rng);
    EXPECT_FALSE(d.retry);
    EXPECT_NE(d.reason.find("deadline"), std::string::npos);
    EXPECT_NE(d.reason.find("5 attempts"), std::string::npos);
}
